#include <mlctl/build/dockerfile.hpp>

#include <algorithm>
#include <iterator>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace mlctl::build {

namespace {

std::string json_string(std::string_view text) { return nlohmann::json(text).dump(); }

// One COPY per folder into `destination`, sources and destination in the JSON form so that any
// name is safe.
void copy_lines(std::string& out, const std::vector<std::string>& paths, std::string_view destination) {
  std::map<std::string, std::vector<std::string>> by_folder;
  for (const auto& path : paths) {
    auto slash = path.rfind('/');
    by_folder[slash == std::string::npos ? "" : path.substr(0, slash + 1)].push_back(path);
  }
  for (const auto& [folder, files] : by_folder) {
    std::vector<std::string> parts;
    for (const auto& file : files) parts.push_back(json_string(file));
    parts.push_back(json_string(fmt::format("{}/{}", destination, folder)));
    out += fmt::format("COPY [{}]\n", fmt::join(parts, ", "));
  }
}

void copy_lines(std::string& out, const std::vector<ContextEntry>& entries) {
  std::vector<std::string> paths;
  for (const auto& entry : entries) paths.push_back(entry.path);
  copy_lines(out, paths, k_app_dir);
}

// The serve and model layers: files that are not in the project, as `mlctl model pull` and the
// server's templates would put them beside it.
void serve_copy_lines(std::string& out, const ServePlan& serve) {
  std::string model = serve.model ? fmt::format(
                                        " and the model ({}: mlctl model pull {}@{} {})",
                                        serve.model->directory ? "model/" : k_model_file, serve.model->name,
                                        serve.model->version, serve.model->directory ? "model" : k_model_file)
                                  : "";
  out += fmt::format("# Not in the project: the model server (mlctl's templates/serve/){}.\n", model);
  std::vector<std::string> server;
  for (const auto& file : serve.server) server.push_back(file.path);
  copy_lines(out, server, k_serve_dir);
  if (serve.predict) copy_lines(out, {"predict.py"}, k_serve_dir);
  if (serve.model)
    out += fmt::format("COPY [{}, {}]\n", json_string(serve.model->directory ? "model/" : k_model_file),
                       json_string(fmt::format("{}/", k_model_dir)));
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
                              std::vector<std::pair<std::string, std::string>> labels,
                              const std::optional<ServePlan>& serve) {
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
  if (serve) serve_copy_lines(out, *serve);
  if (!image.env.empty()) out += env_line(image.env);
  if (serve) {
    out += env_line(serve_env(*serve));
    out += fmt::format("EXPOSE {}/tcp\n", serve->port);
    std::ranges::move(serve_labels(*serve), std::back_inserter(labels));
  }
  if (!labels.empty()) {
    std::vector<std::string> parts;
    for (const auto& [key, value] : labels) parts.push_back(fmt::format("{}={}", key, json_string(value)));
    out += fmt::format("LABEL {}\n", fmt::join(parts, " "));
  }
  if (serve) {
    // The server replaces mlctl.yaml's user, entrypoint and command; a new ENTRYPOINT clears CMD.
    out += fmt::format("USER {}\n", serve->uid);
    out += fmt::format("ENTRYPOINT {}\n", nlohmann::json(serve_entrypoint()).dump());
    return out;
  }
  if (!image.user.empty()) out += fmt::format("USER {}\n", image.user);
  if (!image.entrypoint.empty()) out += fmt::format("ENTRYPOINT {}\n", nlohmann::json(image.entrypoint).dump());
  if (!image.cmd.empty()) out += fmt::format("CMD {}\n", nlohmann::json(image.cmd).dump());
  return out;
}

}  // namespace mlctl::build
