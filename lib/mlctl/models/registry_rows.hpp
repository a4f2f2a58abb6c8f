#pragma once

// Row mapping shared by the registry's source files (not part of its interface).

#include <mlctl/models/registry.hpp>

namespace mlctl::models {

// Columns read_version expects, from `versions v JOIN models m`.
inline constexpr std::string_view k_version_select =
    "SELECT m.name, v.version, v.artifact_uri, v.artifact_digest, v.artifact_size, v.artifact_directory, v.flavor, "
    "v.params, v.metrics, v.tags, v.description, v.created_at, v.created_by, v.lineage, v.archived "
    "FROM versions v JOIN models m ON m.id = v.model_id";

VersionRecord read_version(const Statement& statement);
Result<void> insert_version(Database& db, std::int64_t model, const VersionRecord& record);

}  // namespace mlctl::models
