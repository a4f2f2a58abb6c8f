// Aliases, promotions with their gate, archiving, and the audit history.
#include <mlctl/models/registry.hpp>

#include <mlctl/models/time.hpp>

#include <fmt/format.h>

namespace mlctl::models {

namespace {

std::optional<std::string> as_text(std::optional<std::int64_t> version) {
  if (!version) return std::nullopt;
  return std::to_string(*version);
}

// The value of `field` for one version, as text for messages ("0.91", or "missing").
Result<std::optional<std::string>> field_value(Database& db, std::int64_t model, std::int64_t version,
                                               const std::string& field) {
  auto sql = field_sql(field);
  if (!sql) return std::unexpected(sql.error());
  auto statement = db.prepare(fmt::format("SELECT {} FROM versions v WHERE v.model_id = ? AND v.version = ?", sql->sql));
  if (!statement) return std::unexpected(statement.error());
  statement->bind_all(sql->values).bind(static_cast<int>(sql->values.size()) + 1, model);
  statement->bind(static_cast<int>(sql->values.size()) + 2, version);
  auto row = statement->step();
  if (!row) return std::unexpected(row.error());
  if (!*row || statement->is_null(0)) return std::nullopt;
  return statement->text(0);
}

Result<bool> holds(Database& db, std::int64_t model, std::int64_t version, const std::vector<Condition>& conditions) {
  auto filter = compile_filter(conditions);
  if (!filter) return std::unexpected(filter.error());
  auto statement =
      db.prepare(fmt::format("SELECT 1 FROM versions v WHERE v.model_id = ? AND v.version = ? AND {}", filter->sql));
  if (!statement) return std::unexpected(statement.error());
  statement->bind(1, model).bind(2, version).bind_all(filter->values, 3);
  return statement->step();
}

// Whether `field` of `candidate` is larger than that of `champion`, compared in SQL so that
// numbers keep their full precision.
Result<bool> is_better(Database& db, std::int64_t model, std::int64_t candidate, std::int64_t champion,
                       const std::string& field) {
  auto sql = field_sql(field);
  if (!sql) return std::unexpected(sql.error());
  std::string one = fmt::format("(SELECT {} FROM versions v WHERE v.model_id = ? AND v.version = ?)", sql->sql);
  auto statement = db.prepare(fmt::format("SELECT coalesce({} > {}, 0)", one, one));
  if (!statement) return std::unexpected(statement.error());
  int at = 1;
  for (std::int64_t version : {candidate, champion}) {
    statement->bind_all(sql->values, at);
    at += static_cast<int>(sql->values.size());
    statement->bind(at, model).bind(at + 1, version);
    at += 2;
  }
  auto row = statement->step();
  if (!row) return std::unexpected(row.error());
  return statement->integer(0) != 0;
}

}  // namespace

Result<void> Registry::check_version_exists(std::int64_t model, std::string_view name, std::int64_t version) {
  auto statement = db_.prepare("SELECT archived FROM versions WHERE model_id = ? AND version = ?");
  if (!statement) return std::unexpected(statement.error());
  auto row = statement->bind(1, model).bind(2, version).step();
  if (!row) return std::unexpected(row.error());
  if (!*row)
    return fail(Errc::not_found, fmt::format("model '{}' has no version {}", name, version),
                fmt::format("run 'mlctl model list {}' to see its versions", name));
  if (statement->integer(0) != 0)
    return fail(Errc::precondition, fmt::format("{}@{} is archived and cannot be aliased", name, version),
                fmt::format("run 'mlctl model restore {} {}' first", name, version));
  return {};
}

Result<std::optional<std::int64_t>> Registry::alias_target(std::int64_t model, std::string_view alias) {
  auto statement = db_.prepare("SELECT version FROM aliases WHERE model_id = ? AND alias = ?");
  if (!statement) return std::unexpected(statement.error());
  auto row = statement->bind(1, model).bind(2, std::string(alias)).step();
  if (!row) return std::unexpected(row.error());
  if (!*row) return std::optional<std::int64_t>();
  return std::optional<std::int64_t>(statement->integer(0));
}

Result<AliasChange> Registry::write_alias(std::int64_t model, std::string_view alias,
                                          std::optional<std::int64_t> version, const Change& change) {
  auto old = alias_target(model, alias);
  if (!old) return std::unexpected(old.error());
  AliasChange result{.alias = std::string(alias), .old_version = *old, .new_version = version};
  if (*old == version) return result;
  auto statement = version ? db_.prepare("INSERT INTO aliases(model_id, alias, version) VALUES(?, ?, ?) "
                                         "ON CONFLICT(model_id, alias) DO UPDATE SET version = excluded.version")
                           : db_.prepare("DELETE FROM aliases WHERE model_id = ? AND alias = ?");
  if (!statement) return std::unexpected(statement.error());
  statement->bind(1, model).bind(2, std::string(alias));
  if (version) statement->bind(3, *version);
  if (auto ran = statement->run(); !ran) return std::unexpected(ran.error());
  std::string action = !version ? "alias.unset" : *old ? "alias.move" : "alias.set";
  AuditEntry entry{.time = now_text(), .actor = change.actor, .action = action, .alias = std::string(alias),
                   .version = version ? version : *old, .old_value = as_text(*old), .new_value = as_text(version),
                   .reason = change.reason};
  if (auto written = audit(model, entry); !written) return std::unexpected(written.error());
  return result;
}

Result<AliasChange> Registry::set_alias(std::string_view name, std::string_view alias, std::int64_t version,
                                        const Change& change) {
  return promote(name, version, alias, Gate{}, change);
}

Result<AliasChange> Registry::unset_alias(std::string_view name, std::string_view alias, const Change& change) {
  if (auto checked = check_alias(alias); !checked) return std::unexpected(checked.error());
  auto transaction = WriteTransaction::begin(db_);
  if (!transaction) return std::unexpected(transaction.error());
  auto model = model_id(name);
  if (!model) return std::unexpected(model.error());
  auto old = alias_target(*model, alias);
  if (!old) return std::unexpected(old.error());
  if (!*old) return fail(Errc::not_found, fmt::format("model '{}' has no alias '{}'", name, alias));
  auto changed = write_alias(*model, alias, std::nullopt, change);
  if (!changed) return changed;
  if (auto committed = transaction->commit(); !committed) return std::unexpected(committed.error());
  return changed;
}

Result<AliasChange> Registry::promote(std::string_view name, std::int64_t version, std::string_view alias,
                                      const Gate& gate, const Change& change) {
  if (auto checked = check_alias(alias); !checked) return std::unexpected(checked.error());
  auto transaction = WriteTransaction::begin(db_);
  if (!transaction) return std::unexpected(transaction.error());
  auto model = model_id(name);
  if (!model) return std::unexpected(model.error());
  if (auto exists = check_version_exists(*model, name, version); !exists) return std::unexpected(exists.error());
  auto refuse = [&](const std::string& why) {
    return fail(Errc::precondition, fmt::format("not promoting {}@{} to {}: {}", name, version, alias, why));
  };
  for (const auto& condition : gate.require) {
    auto ok = holds(db_, *model, version, {condition});
    if (!ok) return std::unexpected(ok.error());
    if (!*ok) {
      auto actual = field_value(db_, *model, version, condition.field);
      if (!actual) return std::unexpected(actual.error());
      return refuse(fmt::format("{} does not hold ({} is {})", condition.str(), condition.field,
                                actual->value_or("missing")));
    }
  }
  if (!gate.better_than.empty()) {
    auto champion = alias_target(*model, gate.better_than);
    if (!champion) return std::unexpected(champion.error());
    if (*champion) {
      auto mine = field_value(db_, *model, version, gate.on);
      auto theirs = field_value(db_, *model, **champion, gate.on);
      if (!mine || !theirs) return std::unexpected(!mine ? mine.error() : theirs.error());
      if (!*mine) return refuse(fmt::format("it has no {}", gate.on));
      if (!*theirs) return refuse(fmt::format("{} (version {}) has no {}", gate.better_than, **champion, gate.on));
      auto better = is_better(db_, *model, version, **champion, gate.on);
      if (!better) return std::unexpected(better.error());
      if (!*better)
        return refuse(fmt::format("{} {} is not better than {}'s (version {}) {}", gate.on, **mine, gate.better_than,
                                  **champion, **theirs));
    }
  }
  auto changed = write_alias(*model, alias, version, change);
  if (!changed) return changed;
  if (auto committed = transaction->commit(); !committed) return std::unexpected(committed.error());
  return changed;
}

Result<void> Registry::set_archived(std::string_view name, std::int64_t version, bool archived, const Change& change) {
  auto transaction = WriteTransaction::begin(db_);
  if (!transaction) return std::unexpected(transaction.error());
  auto model = model_id(name);
  if (!model) return std::unexpected(model.error());
  auto current = db_.prepare("SELECT archived FROM versions WHERE model_id = ? AND version = ?");
  if (!current) return std::unexpected(current.error());
  auto row = current->bind(1, *model).bind(2, version).step();
  if (!row) return std::unexpected(row.error());
  if (!*row) return fail(Errc::not_found, fmt::format("model '{}' has no version {}", name, version));
  if ((current->integer(0) != 0) == archived) return {};
  if (archived) {
    auto aliases = aliases_of(*model, version);
    if (!aliases) return std::unexpected(aliases.error());
    if (!aliases->empty())
      return fail(Errc::precondition,
                  fmt::format("{}@{} is aliased as {}; an archived version cannot be aliased", name, version,
                              fmt::join(*aliases, ", ")),
                  "move or unset the alias first");
  }
  auto update = db_.prepare("UPDATE versions SET archived = ? WHERE model_id = ? AND version = ?");
  if (!update) return std::unexpected(update.error());
  update->bind_all({static_cast<std::int64_t>(archived ? 1 : 0), *model, version});
  if (auto ran = update->run(); !ran) return std::unexpected(ran.error());
  AuditEntry entry{.time = now_text(), .actor = change.actor, .action = archived ? "archive" : "restore",
                   .version = version, .reason = change.reason};
  if (auto written = audit(*model, entry); !written) return std::unexpected(written.error());
  return transaction->commit();
}

Result<std::vector<AuditEntry>> Registry::history(std::string_view name, const std::optional<std::string>& alias) {
  auto model = model_id(name);
  if (!model) return std::unexpected(model.error());
  auto statement = db_.prepare(
      "SELECT time, actor, action, alias, version, old_value, new_value, reason FROM audit "
      "WHERE model_id = ? AND (?2 IS NULL OR alias = ?2) ORDER BY id");
  if (!statement) return std::unexpected(statement.error());
  statement->bind(1, *model).bind(2, alias ? SqlValue(*alias) : SqlValue(nullptr));
  std::vector<AuditEntry> entries;
  while (true) {
    auto row = statement->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return entries;
    entries.push_back({.name = std::string(name),
                       .time = statement->text(0),
                       .actor = statement->text(1),
                       .action = statement->text(2),
                       .alias = statement->optional_text(3),
                       .version = statement->optional_integer(4),
                       .old_value = statement->optional_text(5),
                       .new_value = statement->optional_text(6),
                       .reason = statement->text(7)});
  }
}

Result<std::map<std::string, std::optional<std::int64_t>>> Registry::aliases_at(
    std::string_view name, const std::string& time, const std::optional<std::string>& alias) {
  auto model = model_id(name);
  if (!model) return std::unexpected(model.error());
  // The last alias change at or before `time` says where the alias pointed then.
  auto statement = db_.prepare(
      "SELECT a.alias, (SELECT b.new_value FROM audit b WHERE b.model_id = a.model_id AND b.alias = a.alias "
      "  AND b.time <= ?2 ORDER BY b.time DESC, b.id DESC LIMIT 1) "
      "FROM (SELECT DISTINCT model_id, alias FROM audit WHERE model_id = ?1 AND alias IS NOT NULL "
      "  AND (?3 IS NULL OR alias = ?3)) a ORDER BY a.alias");
  if (!statement) return std::unexpected(statement.error());
  statement->bind(1, *model).bind(2, time).bind(3, alias ? SqlValue(*alias) : SqlValue(nullptr));
  std::map<std::string, std::optional<std::int64_t>> result;
  if (alias) result[*alias] = std::nullopt;
  while (true) {
    auto row = statement->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return result;
    auto value = statement->optional_text(1);
    result[statement->text(0)] = value ? std::optional<std::int64_t>(std::stoll(*value)) : std::nullopt;
  }
}

}  // namespace mlctl::models
