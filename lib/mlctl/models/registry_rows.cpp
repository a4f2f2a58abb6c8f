#include <mlctl/models/registry_rows.hpp>

namespace mlctl::models {

namespace {

// The JSON columns are written only by mlctl; a damaged one reads as null rather than throwing.
nlohmann::json parse_column(const std::string& text) {
  auto value = nlohmann::json::parse(text, nullptr, false);
  return value.is_discarded() ? nlohmann::json(nullptr) : value;
}

}  // namespace

VersionRecord read_version(const Statement& statement) {
  return VersionRecord{.name = statement.text(0),
                       .version = statement.integer(1),
                       .artifact = {.uri = statement.text(2),
                                    .digest = statement.text(3),
                                    .size = static_cast<std::uint64_t>(statement.integer(4)),
                                    .directory = statement.integer(5) != 0},
                       .flavor = statement.text(6),
                       .params = parse_column(statement.text(7)),
                       .metrics = parse_column(statement.text(8)),
                       .tags = parse_column(statement.text(9)),
                       .description = statement.text(10),
                       .created_at = statement.text(11),
                       .created_by = statement.text(12),
                       .lineage = parse_column(statement.text(13)),
                       .archived = statement.integer(14) != 0};
}

Result<void> insert_version(Database& db, std::int64_t model, const VersionRecord& record) {
  auto statement = db.prepare(
      "INSERT INTO versions(model_id, version, artifact_uri, artifact_digest, artifact_size, artifact_directory, "
      "flavor, params, metrics, tags, description, created_at, created_by, lineage, archived) "
      "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!statement) return std::unexpected(statement.error());
  statement->bind_all({model, record.version, record.artifact.uri, record.artifact.digest,
                       static_cast<std::int64_t>(record.artifact.size),
                       static_cast<std::int64_t>(record.artifact.directory ? 1 : 0), record.flavor,
                       record.params.dump(), record.metrics.dump(), record.tags.dump(), record.description,
                       record.created_at, record.created_by, record.lineage.dump(),
                       static_cast<std::int64_t>(record.archived ? 1 : 0)});
  return statement->run();
}

}  // namespace mlctl::models
