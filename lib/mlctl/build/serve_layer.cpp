#include <mlctl/build/serve_layer.hpp>

#include <mlctl/build/image_build.hpp>
#include <mlctl/core/digest.hpp>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

namespace mlctl::build {

namespace fs = std::filesystem;

namespace {

// A path in the image as a tar path (relative to /).
std::string tar_path(std::string_view dir, std::string_view name) { return fmt::format("{}/{}", dir.substr(1), name); }

// A fresh folder beside the published ones, on the same file system so the rename is atomic.
Result<fs::path> make_temp_dir(const fs::path& parent) {
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) return fail(Errc::failed, fmt::format("cannot create {}: {}", parent.string(), ec.message()));
  std::string name = (parent / ".fetch-XXXXXX").string();
  if (!::mkdtemp(name.data()))
    return fail(Errc::failed, fmt::format("cannot create a folder in {}: {}", parent.string(), std::strerror(errno)));
  return fs::path(name);
}

}  // namespace

std::optional<fs::path> find_predict_hook(const fs::path& root) {
  fs::path hook = root / "predict.py";
  std::error_code ec;
  if (fs::is_regular_file(fs::symlink_status(hook, ec))) return hook;
  return std::nullopt;
}

std::vector<oci::TarEntry> serve_entries(const ServePlan& plan) {
  std::vector<oci::TarEntry> entries;
  for (const auto& file : plan.server)
    entries.push_back({.path = tar_path(k_serve_dir, file.path), .content = std::string(file.content)});
  if (plan.predict) entries.push_back({.path = tar_path(k_serve_dir, "predict.py"), .source = *plan.predict});
  return entries;
}

Result<std::vector<oci::TarEntry>> model_entries(const ServedModel& model) {
  if (model.artifact.empty())
    return fail(Errc::precondition, fmt::format("the artifact of {}@{} was not fetched", model.name, model.version));
  if (model.directory) return tree_entries(model.artifact, k_model_dir);
  auto entry = oci::entry_from_disk(model.artifact, tar_path(k_model_dir, k_model_file));
  if (!entry) return std::unexpected(entry.error());
  return std::vector<oci::TarEntry>{std::move(*entry)};
}

std::string served_model_path(const std::optional<ServedModel>& model) {
  if (model && !model->directory) return fmt::format("{}/{}", k_model_dir, k_model_file);
  return std::string(k_model_dir);
}

std::vector<std::pair<std::string, std::string>> serve_env(const ServePlan& plan) {
  // Bytecode could not be written on the pods' read-only root file system anyway.
  std::vector<std::pair<std::string, std::string>> env{{"PYTHONDONTWRITEBYTECODE", "1"},
                                                       {"MLCTL_PORT", std::to_string(plan.port)},
                                                       {"MLCTL_MODEL_PATH", served_model_path(plan.model)}};
  if (plan.model) {
    env.emplace_back("MLCTL_MODEL_NAME", plan.model->name);
    env.emplace_back("MLCTL_MODEL_VERSION", std::to_string(plan.model->version));
    env.emplace_back("MLCTL_FLAVOR", plan.model->flavor);
  }
  return env;
}

std::vector<std::pair<std::string, std::string>> serve_labels(const ServePlan& plan) {
  std::vector<std::pair<std::string, std::string>> labels{{"dev.mlctl.serve", std::string(k_serve_protocol)}};
  if (plan.model) labels.emplace_back("dev.mlctl.model", fmt::format("{}@{}", plan.model->name, plan.model->version));
  return labels;
}

std::vector<std::string> serve_entrypoint() { return {"python3", fmt::format("{}/server.py", k_serve_dir)}; }

void apply_serve_config(const ServePlan& plan, oci::ContainerConfig& config) {
  for (const auto& [key, value] : serve_env(plan)) set_env(config.env, key, value);
  for (const auto& [key, value] : serve_labels(plan)) config.labels[key] = value;
  config.exposed_ports.insert(fmt::format("{}/tcp", plan.port));
  config.user = std::to_string(plan.uid);
  config.entrypoint = serve_entrypoint();
  config.cmd = std::nullopt;
}

Result<fs::path> cached_model_artifact(const LayerCache& cache, const ServedModel& model, const FetchArtifact& fetch) {
  if (auto checked = core::check_sha256_digest(model.digest); !checked)
    return std::unexpected(checked.error().context(fmt::format("the artifact of {}@{}", model.name, model.version)));
  const fs::path models = cache.root() / "models";
  const fs::path published = models / fmt::format("sha256-{}", model.digest.substr(7));
  const fs::path name = model.directory ? fs::path("model") : fs::path(k_model_file);
  std::error_code ec;
  if (fs::exists(published / name, ec)) return published / name;

  auto temp = make_temp_dir(models);
  if (!temp) return std::unexpected(temp.error());
  auto fetched = fetch(*temp / name);
  if (fetched && ::rename(temp->c_str(), published.c_str()) == 0) return published / name;
  int error = errno;
  fs::remove_all(*temp, ec);
  if (!fetched) return std::unexpected(fetched.error());
  // Another build published the same artifact first.
  if ((error == ENOTEMPTY || error == EEXIST) && fs::exists(published / name, ec)) return published / name;
  return fail(Errc::failed,
              fmt::format("cannot move the artifact into {}: {}", published.string(), std::strerror(error)));
}

}  // namespace mlctl::build
