// Export to and import from JSON Lines.
#include <mlctl/models/registry.hpp>

#include <mlctl/models/registry_rows.hpp>

#include <fmt/format.h>

namespace mlctl::models {

namespace {

using nlohmann::json;


json version_line(const VersionRecord& record) {
  return {{"kind", "version"},
          {"name", record.name},
          {"version", record.version},
          {"artifact", {{"uri", record.artifact.uri}, {"digest", record.artifact.digest},
                        {"size", record.artifact.size}, {"directory", record.artifact.directory}}},
          {"flavor", record.flavor},
          {"params", record.params},
          {"metrics", record.metrics},
          {"tags", record.tags},
          {"description", record.description},
          {"created_at", record.created_at},
          {"created_by", record.created_by},
          {"lineage", record.lineage},
          {"archived", record.archived}};
}

template <typename T>
std::optional<T> optional_field(const json& line, const char* key) {
  if (!line.contains(key) || line.at(key).is_null()) return std::nullopt;
  return line.at(key).get<T>();
}

}  // namespace

Result<std::string> Registry::export_jsonl(const std::optional<std::string>& name) {
  std::vector<std::string> names;
  if (name) {
    if (auto model = model_id(*name); !model) return std::unexpected(model.error());
    names.push_back(*name);
  } else {
    auto models = list_models();
    if (!models) return std::unexpected(models.error());
    for (const auto& model : *models) names.push_back(model.name);
  }
  std::string out;
  auto emit = [&](const json& line) { out += line.dump() + "\n"; };
  for (const auto& model_name : names) {
    auto model = this->model(model_name);
    if (!model) return std::unexpected(model.error());
    emit({{"kind", "model"}, {"name", model->name}, {"description", model->description}, {"tags", model->tags},
          {"created_at", model->created_at}});
    auto id = model_id(model_name);
    if (!id) return std::unexpected(id.error());
    auto versions = db_.prepare(std::string(k_version_select) + " WHERE v.model_id = ? ORDER BY v.version");
    if (!versions) return std::unexpected(versions.error());
    versions->bind(1, *id);
    while (true) {
      auto row = versions->step();
      if (!row) return std::unexpected(row.error());
      if (!*row) break;
      emit(version_line(read_version(*versions)));
    }
    for (const auto& [alias, version] : model->aliases)
      emit({{"kind", "alias"}, {"name", model->name}, {"alias", alias}, {"version", version}});
    auto rollouts = this->rollouts(model_name);
    if (!rollouts) return std::unexpected(rollouts.error());
    for (const auto& rollout : *rollouts) {
      json line = rollout.to_json();
      line["kind"] = "rollout";
      emit(line);
    }
    auto entries = history(model_name, std::nullopt);
    if (!entries) return std::unexpected(entries.error());
    for (const auto& entry : *entries) {
      json line = entry.to_json();
      line["kind"] = "audit";
      emit(line);
    }
  }
  return out;
}

Result<std::size_t> Registry::import_jsonl(std::string_view text) {
  auto transaction = WriteTransaction::begin(db_);
  if (!transaction) return std::unexpected(transaction.error());
  std::size_t count = 0;
  std::size_t line_number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view raw = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (raw.empty()) continue;
    auto where = [&](const Error& error) {
      return fail(error.code(), fmt::format("line {}: {}", line_number, error.message()), error.hint());
    };
    try {
      json line = json::parse(raw);
      std::string kind = line.at("kind").get<std::string>();
      std::string name = line.at("name").get<std::string>();
      if (auto checked = check_model_name(name); !checked) return where(checked.error());
      if (kind == "model") {
        if (model_id(name))
          return fail(Errc::precondition, fmt::format("line {}: model '{}' already exists", line_number, name),
                      "import into a registry that does not have it");
        auto insert = db_.prepare("INSERT INTO models(name, description, tags, created_at) VALUES(?, ?, ?, ?)");
        if (!insert) return std::unexpected(insert.error());
        insert->bind_all({name, line.at("description").get<std::string>(), line.at("tags").dump(),
                          line.at("created_at").get<std::string>()});
        if (auto ran = insert->run(); !ran) return where(ran.error());
      } else {
        auto model = model_id(name);
        if (!model) return where(model.error());
        if (kind == "version") {
          const json& artifact = line.at("artifact");
          VersionRecord record{.name = name,
                               .version = line.at("version").get<std::int64_t>(),
                               .artifact = {.uri = artifact.at("uri").get<std::string>(),
                                            .digest = artifact.at("digest").get<std::string>(),
                                            .size = artifact.at("size").get<std::uint64_t>(),
                                            .directory = artifact.at("directory").get<bool>()},
                               .flavor = line.at("flavor").get<std::string>(),
                               .params = line.at("params"),
                               .metrics = line.at("metrics"),
                               .tags = line.at("tags"),
                               .description = line.at("description").get<std::string>(),
                               .created_at = line.at("created_at").get<std::string>(),
                               .created_by = line.at("created_by").get<std::string>(),
                               .lineage = line.at("lineage"),
                               .archived = line.at("archived").get<bool>()};
          if (auto inserted = insert_version(db_, *model, record); !inserted) return where(inserted.error());
        } else if (kind == "alias") {
          std::string alias = line.at("alias").get<std::string>();
          if (auto checked = check_alias(alias); !checked) return where(checked.error());
          auto insert = db_.prepare("INSERT INTO aliases(model_id, alias, version) VALUES(?, ?, ?)");
          if (!insert) return std::unexpected(insert.error());
          insert->bind_all({*model, alias, line.at("version").get<std::int64_t>()});
          if (auto ran = insert->run(); !ran) return where(ran.error());
        } else if (kind == "rollout") {
          auto insert = db_.prepare(
              "INSERT INTO rollouts(model_id, environment, strategy, stable, candidate, weight, updated_at) "
              "VALUES(?, ?, ?, ?, ?, ?, ?)");
          if (!insert) return std::unexpected(insert.error());
          auto candidate = optional_field<std::int64_t>(line, "candidate");
          insert->bind_all({*model, line.at("environment").get<std::string>(), line.at("strategy").get<std::string>(),
                            line.at("stable").get<std::int64_t>(),
                            candidate ? SqlValue(*candidate) : SqlValue(nullptr),
                            std::int64_t{line.at("weight").get<int>()}, line.at("updated_at").get<std::string>()});
          if (auto ran = insert->run(); !ran) return where(ran.error());
        } else if (kind == "audit") {
          AuditEntry entry{.name = name,
                           .time = line.at("time").get<std::string>(),
                           .actor = line.at("actor").get<std::string>(),
                           .action = line.at("action").get<std::string>(),
                           .alias = optional_field<std::string>(line, "alias"),
                           .version = optional_field<std::int64_t>(line, "version"),
                           .old_value = optional_field<std::string>(line, "old_value"),
                           .new_value = optional_field<std::string>(line, "new_value"),
                           .reason = line.at("reason").get<std::string>()};
          if (auto written = audit(*model, entry); !written) return where(written.error());
        } else {
          return fail(Errc::invalid, fmt::format("line {}: unknown kind '{}'", line_number, kind));
        }
      }
    } catch (const json::exception& e) {
      return fail(Errc::invalid, fmt::format("line {}: {}", line_number, e.what()),
                  "the file should be the output of 'mlctl model export'");
    }
    ++count;
  }
  if (auto committed = transaction->commit(); !committed) return std::unexpected(committed.error());
  return count;
}

}  // namespace mlctl::models
