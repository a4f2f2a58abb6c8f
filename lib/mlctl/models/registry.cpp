#include <mlctl/models/registry.hpp>

#include <mlctl/core/text.hpp>
#include <mlctl/models/registry_rows.hpp>
#include <mlctl/models/schema.hpp>
#include <mlctl/models/time.hpp>

#include <charconv>

#include <fmt/format.h>

namespace mlctl::models {

namespace {

Result<std::int64_t> user_version(Database& db) {
  auto statement = db.prepare("PRAGMA user_version");
  if (!statement) return std::unexpected(statement.error());
  auto row = statement->step();
  if (!row) return std::unexpected(row.error());
  return statement->integer(0);
}

Result<void> migrate(Database& db) {
  auto schema = migrations();
  auto current = user_version(db);
  if (!current) return std::unexpected(current.error());
  if (*current == static_cast<std::int64_t>(schema.size())) return {};
  // Another process may be migrating too: take the write lock, then look again.
  auto transaction = WriteTransaction::begin(db);
  if (!transaction) return std::unexpected(transaction.error());
  current = user_version(db);
  if (!current) return std::unexpected(current.error());
  if (*current > static_cast<std::int64_t>(schema.size()))
    return fail(Errc::failed,
                fmt::format("registry database {} has schema version {}; this mlctl knows up to {}",
                            db.path().string(), *current, schema.size()),
                "upgrade mlctl");
  for (auto at = static_cast<std::size_t>(*current); at < schema.size(); ++at) {
    if (auto applied = db.exec(schema[at]); !applied) return std::unexpected(applied.error());
  }
  if (auto set = db.exec(fmt::format("PRAGMA user_version = {}", schema.size())); !set)
    return std::unexpected(set.error());
  return transaction->commit();
}


}  // namespace

std::string Ref::str() const {
  if (version) return fmt::format("{}@{}", name, *version);
  if (alias) return fmt::format("{}@{}", name, *alias);
  return name;
}

Result<void> check_model_name(std::string_view name) {
  if (auto checked = core::check_dns1123_label(name); !checked)
    return fail(Errc::invalid, fmt::format("invalid model name: {}", checked.error().message()),
                "a model name is a DNS-1123 label: lowercase letters, digits and '-', at most 63");
  return {};
}

Result<void> check_alias(std::string_view alias) {
  if (auto checked = core::check_dns1123_label(alias); !checked)
    return fail(Errc::invalid, fmt::format("invalid alias: {}", checked.error().message()),
                "an alias is a DNS-1123 label: lowercase letters, digits and '-', at most 63");
  return {};
}

Result<Ref> parse_ref(std::string_view text) {
  Ref ref;
  auto at = text.find('@');
  ref.name = std::string(text.substr(0, at));
  if (auto checked = check_model_name(ref.name); !checked) return std::unexpected(checked.error());
  if (at == std::string_view::npos) return ref;
  std::string_view rest = text.substr(at + 1);
  std::int64_t number = 0;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), number);
  if (!rest.empty() && ec == std::errc{} && end == rest.data() + rest.size()) {
    if (number < 1) return fail(Errc::invalid, fmt::format("'{}': versions start at 1", text));
    ref.version = number;
    return ref;
  }
  if (auto checked = check_alias(rest); !checked) return std::unexpected(checked.error());
  ref.alias = std::string(rest);
  return ref;
}

Result<Registry> Registry::open(const std::filesystem::path& path, OpenMode mode) {
  auto db = Database::open(path, mode);
  if (!db) return std::unexpected(db.error());
  if (auto migrated = migrate(*db); !migrated) return std::unexpected(migrated.error());
  return Registry(std::move(*db));
}

Result<VersionRecord> Registry::register_version(const NewVersion& version, const Change& change) {
  if (auto checked = check_model_name(version.name); !checked) return std::unexpected(checked.error());
  auto transaction = WriteTransaction::begin(db_);
  if (!transaction) return std::unexpected(transaction.error());
  std::string now = now_text();
  auto insert_model = db_.prepare("INSERT INTO models(name, created_at) VALUES(?, ?) ON CONFLICT(name) DO NOTHING");
  if (!insert_model) return std::unexpected(insert_model.error());
  if (auto ran = insert_model->bind(1, version.name).bind(2, now).run(); !ran) return std::unexpected(ran.error());
  auto model = model_id(version.name);
  if (!model) return std::unexpected(model.error());
  auto next = db_.prepare("SELECT coalesce(max(version), 0) + 1 FROM versions WHERE model_id = ?");
  if (!next) return std::unexpected(next.error());
  if (auto row = next->bind(1, *model).step(); !row) return std::unexpected(row.error());
  VersionRecord record{.name = version.name,
                       .version = next->integer(0),
                       .artifact = version.artifact,
                       .flavor = version.flavor,
                       .params = version.params,
                       .metrics = version.metrics,
                       .tags = version.tags,
                       .description = version.description,
                       .created_at = now,
                       .created_by = change.actor,
                       .lineage = version.lineage};
  if (auto inserted = insert_version(db_, *model, record); !inserted) return std::unexpected(inserted.error());
  AuditEntry entry{.time = now, .actor = change.actor, .action = "register", .version = record.version,
                   .new_value = std::to_string(record.version), .reason = change.reason};
  if (auto written = audit(*model, entry); !written) return std::unexpected(written.error());
  if (auto committed = transaction->commit(); !committed) return std::unexpected(committed.error());
  return record;
}

Result<std::int64_t> Registry::model_id(std::string_view name) {
  auto statement = db_.prepare("SELECT id FROM models WHERE name = ?");
  if (!statement) return std::unexpected(statement.error());
  auto row = statement->bind(1, std::string(name)).step();
  if (!row) return std::unexpected(row.error());
  if (!*row)
    return fail(Errc::not_found, fmt::format("no model '{}' in the registry", name),
                "run 'mlctl model list' to see the models");
  return statement->integer(0);
}

Result<std::vector<std::string>> Registry::aliases_of(std::int64_t model, std::int64_t version) {
  auto statement = db_.prepare("SELECT alias FROM aliases WHERE model_id = ? AND version = ? ORDER BY alias");
  if (!statement) return std::unexpected(statement.error());
  statement->bind(1, model).bind(2, version);
  std::vector<std::string> aliases;
  while (true) {
    auto row = statement->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return aliases;
    aliases.push_back(statement->text(0));
  }
}

Result<std::vector<ModelSummary>> Registry::list_models() {
  auto statement = db_.prepare(
      "SELECT m.name FROM models m ORDER BY m.name");
  if (!statement) return std::unexpected(statement.error());
  std::vector<ModelSummary> models;
  while (true) {
    auto row = statement->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return models;
    auto summary = model(statement->text(0));
    if (!summary) return std::unexpected(summary.error());
    models.push_back(std::move(*summary));
  }
}

Result<ModelSummary> Registry::model(std::string_view name) {
  auto statement = db_.prepare(
      "SELECT m.id, m.name, m.description, m.tags, m.created_at, "
      "(SELECT count(*) FROM versions WHERE model_id = m.id), (SELECT max(version) FROM versions WHERE model_id = m.id) "
      "FROM models m WHERE m.name = ?");
  if (!statement) return std::unexpected(statement.error());
  auto row = statement->bind(1, std::string(name)).step();
  if (!row) return std::unexpected(row.error());
  if (!*row) return std::unexpected(model_id(name).error());
  ModelSummary summary{.name = statement->text(1),
                       .description = statement->text(2),
                       .tags = nlohmann::json::parse(statement->text(3), nullptr, false),
                       .created_at = statement->text(4),
                       .versions = statement->integer(5),
                       .latest = statement->optional_integer(6)};
  auto aliases = aliases_of_model(statement->integer(0));
  if (!aliases) return std::unexpected(aliases.error());
  summary.aliases = std::move(*aliases);
  return summary;
}

Result<std::map<std::string, std::int64_t>> Registry::aliases_of_model(std::int64_t model) {
  auto statement = db_.prepare("SELECT alias, version FROM aliases WHERE model_id = ? ORDER BY alias");
  if (!statement) return std::unexpected(statement.error());
  statement->bind(1, model);
  std::map<std::string, std::int64_t> aliases;
  while (true) {
    auto row = statement->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return aliases;
    aliases[statement->text(0)] = statement->integer(1);
  }
}

Result<ModelSummary> Registry::update_model(std::string_view name, const ModelUpdate& update, const Change& change) {
  auto transaction = WriteTransaction::begin(db_);
  if (!transaction) return std::unexpected(transaction.error());
  auto before = model(name);
  if (!before) return std::unexpected(before.error());
  ModelSummary after = *before;
  if (update.description) after.description = *update.description;
  for (const auto& [key, value] : update.set_tags.items()) after.tags[key] = value;
  for (const auto& key : update.remove_tags) after.tags.erase(key);
  if (after.description == before->description && after.tags == before->tags) return after;

  auto statement = db_.prepare("UPDATE models SET description = ?, tags = ? WHERE name = ?");
  if (!statement) return std::unexpected(statement.error());
  statement->bind_all({after.description, after.tags.dump(), std::string(name)});
  if (auto ran = statement->run(); !ran) return std::unexpected(ran.error());
  auto state = [](const ModelSummary& summary) {
    return nlohmann::json{{"description", summary.description}, {"tags", summary.tags}}.dump();
  };
  auto id = model_id(name);
  if (!id) return std::unexpected(id.error());
  AuditEntry entry{.time = now_text(), .actor = change.actor, .action = "model.update",
                   .old_value = state(*before), .new_value = state(after), .reason = change.reason};
  if (auto written = audit(*id, entry); !written) return std::unexpected(written.error());
  if (auto committed = transaction->commit(); !committed) return std::unexpected(committed.error());
  return after;
}

Result<VersionRecord> Registry::version(const Ref& ref) {
  auto model = model_id(ref.name);
  if (!model) return std::unexpected(model.error());
  std::string sql = std::string(k_version_select) + " WHERE v.model_id = ? AND v.version = ";
  if (ref.version) sql += "?";
  else if (ref.alias) sql += "(SELECT version FROM aliases WHERE model_id = v.model_id AND alias = ?)";
  else sql += "(SELECT max(version) FROM versions WHERE model_id = v.model_id)";
  auto statement = db_.prepare(sql);
  if (!statement) return std::unexpected(statement.error());
  statement->bind(1, *model);
  if (ref.version) statement->bind(2, *ref.version);
  if (ref.alias) statement->bind(2, *ref.alias);
  auto row = statement->step();
  if (!row) return std::unexpected(row.error());
  if (!*row) {
    if (ref.alias)
      return fail(Errc::not_found, fmt::format("model '{}' has no alias '{}'", ref.name, *ref.alias),
                  fmt::format("run 'mlctl model show {}' to see its aliases", ref.name));
    return fail(Errc::not_found, fmt::format("model '{}' has no version {}", ref.name, ref.version.value_or(0)),
                fmt::format("run 'mlctl model list {}' to see its versions", ref.name));
  }
  VersionRecord record = read_version(*statement);
  auto aliases = aliases_of(*model, record.version);
  if (!aliases) return std::unexpected(aliases.error());
  record.aliases = std::move(*aliases);
  return record;
}

Result<std::vector<VersionRecord>> Registry::list_versions(const ListQuery& query) {
  auto model = model_id(query.name);
  if (!model) return std::unexpected(model.error());
  std::vector<Condition> conditions = query.where;
  for (const auto& [key, value] : query.tags) conditions.push_back({"tags." + key, "==", value});
  auto filter = compile_filter(conditions);
  if (!filter) return std::unexpected(filter.error());
  auto order = field_sql(query.sort.empty() ? "version" : query.sort);
  if (!order) return std::unexpected(order.error());
  const char* direction = query.ascending ? "ASC" : "DESC";
  std::string sql = fmt::format("{} WHERE v.model_id = ? AND {} ORDER BY {} {}, v.version {} LIMIT ? OFFSET ?",
                                k_version_select, filter->sql, order->sql, direction, direction);
  auto statement = db_.prepare(sql);
  if (!statement) return std::unexpected(statement.error());
  statement->bind(1, *model).bind_all(filter->values, 2);
  int next = 2 + static_cast<int>(filter->values.size());
  statement->bind_all(order->values, next);
  next += static_cast<int>(order->values.size());
  statement->bind(next, query.limit).bind(next + 1, query.offset);
  std::vector<VersionRecord> versions;
  while (true) {
    auto row = statement->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    versions.push_back(read_version(*statement));
  }
  // One query for the model's aliases (a handful) rather than one per listed version.
  auto aliases = aliases_of_model(*model);
  if (!aliases) return std::unexpected(aliases.error());
  for (auto& record : versions)
    for (const auto& [alias, version] : *aliases)
      if (version == record.version) record.aliases.push_back(alias);
  return versions;
}

Result<void> Registry::audit(std::int64_t model, const AuditEntry& entry) {
  auto statement = db_.prepare(
      "INSERT INTO audit(model_id, time, actor, action, alias, version, old_value, new_value, reason) "
      "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!statement) return std::unexpected(statement.error());
  auto optional = [](const auto& value) -> SqlValue {
    if (!value) return nullptr;
    return SqlValue(*value);
  };
  statement->bind_all({model, entry.time, entry.actor, entry.action, optional(entry.alias), optional(entry.version),
                       optional(entry.old_value), optional(entry.new_value), entry.reason});
  return statement->run();
}

nlohmann::json VersionRecord::to_json() const {
  return {{"name", name},
          {"version", version},
          {"artifact_uri", artifact.uri},
          {"artifact_digest", artifact.digest},
          {"artifact_size", artifact.size},
          {"artifact_directory", artifact.directory},
          {"flavor", flavor},
          {"params", params},
          {"metrics", metrics},
          {"tags", tags},
          {"description", description},
          {"created_at", created_at},
          {"created_by", created_by},
          {"lineage", lineage},
          {"archived", archived},
          {"aliases", aliases}};
}

nlohmann::json ModelSummary::to_json() const {
  return {{"name", name},       {"description", description}, {"tags", tags},      {"created_at", created_at},
          {"versions", versions}, {"latest", latest ? nlohmann::json(*latest) : nlohmann::json(nullptr)},
          {"aliases", aliases}};
}

nlohmann::json AuditEntry::to_json() const {
  auto optional = [](const auto& value) { return value ? nlohmann::json(*value) : nlohmann::json(nullptr); };
  return {{"name", name},           {"time", time},           {"actor", actor},
          {"action", action},       {"alias", optional(alias)}, {"version", optional(version)},
          {"old_value", optional(old_value)}, {"new_value", optional(new_value)}, {"reason", reason}};
}

}  // namespace mlctl::models
