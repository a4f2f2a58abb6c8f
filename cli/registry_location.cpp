#include "registry_location.hpp"

#include <mlctl/core/fs.hpp>

#include <cstdlib>

namespace mlctl::cli {

namespace fs = std::filesystem;

namespace {

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

std::optional<core::Project> find_project(const Context& context) {
  std::optional<fs::path> explicit_file;
  if (!context.globals().config.empty()) explicit_file = context.globals().config;
  auto file = core::locate_project_file(fs::current_path(), explicit_file);
  if (!file) {
    if (explicit_file) throw Fatal{file.error()};
    return std::nullopt;
  }
  return unwrap(core::load_project(*file, core::process_env()));
}

}  // namespace

RegistryPlace locate_registry(const Context& context, const RegistryFlags& flags, const fs::path& fallback_root) {
  RegistryPlace place;
  place.project = find_project(context);
  const core::Project* project = place.project ? &*place.project : nullptr;
  if (project) {
    place.project_root = project->root;
    place.artifacts = project->registry.artifacts;
    place.model = project->model.name;
    place.flavor = project->model.flavor;
  } else if (!fallback_root.empty()) {
    place.project_root = fs::absolute(fallback_root);
  }
  std::string env_db = environment("MLCTL_REGISTRY_DB");
  if (!flags.database.empty()) place.database = fs::absolute(flags.database);
  else if (!env_db.empty()) place.database = fs::absolute(env_db);
  else if (project && !project->registry.database.empty()) place.database = project->root / project->registry.database;
  else if (project) place.database = unwrap(core::ensure_state_dir(project->root)) / "registry.db";
  else if (!place.project_root.empty()) place.database = place.project_root / ".mlctl" / "registry.db";
  else
    throw Fatal{Error(Errc::not_found, "no registry database: no mlctl.yaml here or above, and none named",
                      "pass --registry-db PATH, set MLCTL_REGISTRY_DB, or run in a project")};
  if (std::string env_store = environment("MLCTL_ARTIFACT_STORE"); !env_store.empty()) place.artifacts = env_store;
  if (!flags.artifacts.empty()) place.artifacts = flags.artifacts;
  // Without a project, local artifacts sit next to the database.
  if (!project && place.artifacts.empty()) place.artifacts = (place.database.parent_path() / "artifacts").string();
  if (place.project_root.empty()) place.project_root = place.database.parent_path();
  return place;
}

models::Registry open_registry(const RegistryPlace& place) {
  std::error_code ec;
  fs::create_directories(place.database.parent_path(), ec);
  return unwrap(models::Registry::open(place.database, models::OpenMode::create));
}

void add_registry_db_option(CLI::App* command, std::string& database) {
  command->add_option("--registry-db", database,
                      "The registry database (default: MLCTL_REGISTRY_DB, mlctl.yaml registry.database, "
                      ".mlctl/registry.db)")
      ->option_text("PATH");
}

std::unique_ptr<models::ArtifactStore> artifact_store_for(const RegistryPlace& place,
                                                          const models::StoredArtifact& artifact) {
  std::string location = place.artifacts;
  if (artifact.uri.starts_with("s3://")) location = artifact.uri;
  if (artifact.uri.starts_with("oci://")) location = artifact.uri.substr(0, artifact.uri.find('@'));  // the repository
  return unwrap(models::open_artifact_store(
      location, {.project_root = place.project_root, .transport = nullptr, .credentials = nullptr, .insecure = false}));
}

}  // namespace mlctl::cli
