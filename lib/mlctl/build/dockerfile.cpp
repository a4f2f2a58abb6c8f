#include <mlctl/build/dockerfile.hpp>

#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace mlctl::build {

namespace {

std::string json_string(std::string_view text) { return nlohmann::json(text).dump(); }

// One COPY per folder, sources and destination in the JSON form so that any name is safe.
void copy_lines(std::string& out, const std::vector<ContextEntry>& entries) {
  std::map<std::string, std::vector<std::string>> by_folder;
  for (const auto& entry : entries) {
    auto slash = entry.path.rfind('/');
    by_folder[slash == std::string::npos ? "" : entry.path.substr(0, slash + 1)].push_back(entry.path);
  }
  for (const auto& [folder, files] : by_folder) {
    std::vector<std::string> parts;
    for (const auto& file : files) parts.push_back(json_string(file));
    parts.push_back(json_string(fmt::format("{}/{}", k_app_dir, folder)));
    out += fmt::format("COPY [{}]\n", fmt::join(parts, ", "));
  }
}

std::string system_packages_run(const std::vector<std::string>& packages) {
  return fmt::format("RUN apt-get update && apt-get install -y --no-install-recommends {} && "
                     "rm -rf /var/lib/apt/lists/*\n",
                     fmt::join(packages, " "));
}

std::string env_line(const std::vector<std::pair<std::string, std::string>>& env) {
  std::vector<std::string> parts;
  for (const auto& [key, value] : env) parts.push_back(fmt::format("{}={}", key, json_string(value)));
  return fmt::format("ENV {}\n", fmt::join(parts, " "));
}

}  // namespace

std::string system_packages_dockerfile(std::string_view base, const std::vector<std::string>& packages) {
  return fmt::format("FROM {}\n{}", base, system_packages_run(packages));
}

std::string render_dockerfile(const core::ImageConfig& image, const BuildContext& context,
                              const std::vector<std::pair<std::string, std::string>>& labels) {
  std::string out = "# The Dockerfile equivalent to `mlctl build`; mlctl itself needs neither it nor a daemon.\n";
  out += fmt::format("FROM {}\n", image.base);
  if (!image.system_packages.empty()) out += system_packages_run(image.system_packages);
  out += fmt::format("WORKDIR {}\n", k_app_dir);
  if (!image.python_requirements.value.empty()) {
    out += fmt::format("COPY [{}, \"/tmp/mlctl/requirements.txt\"]\n", json_string(image.python_requirements.value));
    out += fmt::format("RUN python3 -m pip install --no-cache-dir --no-compile --target {} "
                       "-r /tmp/mlctl/requirements.txt && rm -rf /tmp/mlctl\n",
                       k_deps_dir);
    out += fmt::format("ENV PYTHONPATH={}\n", k_deps_dir);
  }
  copy_lines(out, context.large);
  copy_lines(out, context.code);
  if (!image.env.empty()) out += env_line(image.env);
  if (!labels.empty()) {
    std::vector<std::string> parts;
    for (const auto& [key, value] : labels) parts.push_back(fmt::format("{}={}", key, json_string(value)));
    out += fmt::format("LABEL {}\n", fmt::join(parts, " "));
  }
  if (!image.user.empty()) out += fmt::format("USER {}\n", image.user);
  if (!image.entrypoint.empty()) out += fmt::format("ENTRYPOINT {}\n", nlohmann::json(image.entrypoint).dump());
  if (!image.cmd.empty()) out += fmt::format("CMD {}\n", nlohmann::json(image.cmd).dump());
  return out;
}

}  // namespace mlctl::build
