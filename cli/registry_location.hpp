#pragma once

#include "context.hpp"

#include <mlctl/models/artifact_store.hpp>
#include <mlctl/models/registry.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace mlctl::cli {

// Where the project's SQLite database (models, aliases, audit, pipeline runs) and its artifact
// store are, so that `mlctl model` and `mlctl pipeline` always agree.
struct RegistryPlace {
  std::optional<core::Project> project;  // the mlctl.yaml here or above (or --config), if any
  std::filesystem::path database;
  std::filesystem::path project_root;    // the project's folder; without one, the fallback folder
  std::string artifacts;                 // empty: the local store under the project
  std::string model;                     // mlctl.yaml's model.name (the project name), if any
  std::string flavor = "generic";
};

struct RegistryFlags {
  std::string database;   // --registry-db
  std::string artifacts;  // --artifact-store
};

// The database is --registry-db, else MLCTL_REGISTRY_DB, else mlctl.yaml's registry.database,
// else .mlctl/registry.db in the project. Without a project it is .mlctl/registry.db in
// `fallback_root` when one is given (a pipeline file's folder; not created here), else the
// command fails (not_found).
// The artifact store is --artifact-store, else MLCTL_ARTIFACT_STORE, else registry.artifacts,
// else the local store (next to the database when there is no project).
RegistryPlace locate_registry(const Context& context, const RegistryFlags& flags,
                              const std::filesystem::path& fallback_root = {});

// Opens (creating it and its folder when needed) the registry database.
models::Registry open_registry(const RegistryPlace& place);

// The store that holds `artifact`: the one it was stored in for s3:// and oci:// URIs, else the
// place's store (a local path).
std::unique_ptr<models::ArtifactStore> artifact_store_for(const RegistryPlace& place,
                                                          const models::StoredArtifact& artifact);

// Adds --registry-db to a command that reads or writes the database.
void add_registry_db_option(CLI::App* command, std::string& database);

}  // namespace mlctl::cli
