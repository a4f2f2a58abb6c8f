#include <mlctl/pipeline/local/run_store.hpp>

#include <fmt/format.h>

namespace mlctl::pipeline {

namespace {

using models::SqlValue;
using models::Statement;

constexpr std::string_view k_run_columns =
    "id, pipeline, pipeline_file, status, started_at, finished_at, params, git_commit, resumed_from";

SqlValue optional_text(const std::string& text) { return text.empty() ? SqlValue(nullptr) : SqlValue(text); }

nlohmann::json json_column(const Statement& row, int column) {
  auto parsed = nlohmann::json::parse(row.text(column), nullptr, false);
  return parsed.is_discarded() ? nlohmann::json::object() : parsed;
}

Result<RunRecord> run_from_row(const Statement& row) {
  auto status = parse_run_status(row.text(3));
  if (!status) return std::unexpected(status.error());
  return RunRecord{.id = row.text(0),
                   .pipeline = row.text(1),
                   .pipeline_file = row.text(2),
                   .status = *status,
                   .started_at = row.text(4),
                   .finished_at = row.optional_text(5).value_or(""),
                   .params = json_column(row, 6),
                   .git_commit = row.optional_text(7).value_or(""),
                   .resumed_from = row.optional_text(8).value_or("")};
}

Result<StepRecord> step_from_row(const Statement& row) {
  auto status = parse_step_status(row.text(1));
  if (!status) return std::unexpected(status.error());
  std::optional<int> exit_code;
  if (auto code = row.optional_integer(4)) exit_code = static_cast<int>(*code);
  return StepRecord{.name = row.text(0),
                    .status = *status,
                    .duration_s = row.real(2),
                    .cache_hit = row.integer(3) != 0,
                    .exit_code = exit_code,
                    .attempts = static_cast<int>(row.integer(5)),
                    .cache_key = row.text(6),
                    .metrics = json_column(row, 7),
                    .message = row.text(8)};
}

Result<void> insert_steps(models::Database& db, const RunRecord& run) {
  for (size_t i = 0; i < run.steps.size(); ++i) {
    const StepRecord& step = run.steps[i];
    // Statement has no reset, and preparing this insert costs microseconds next to the step.
    auto insert = db.prepare(
        "INSERT INTO run_steps(run_id, position, name, status, duration_s, cache_hit, exit_code, attempts, "
        "cache_key, metrics, message) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!insert) return std::unexpected(insert.error());
    SqlValue exit_code = nullptr;
    if (step.exit_code) exit_code = std::int64_t{*step.exit_code};
    insert->bind_all({run.id, static_cast<std::int64_t>(i), step.name, std::string(status_name(step.status)),
                      step.duration_s, std::int64_t{step.cache_hit}, exit_code, std::int64_t{step.attempts},
                      step.cache_key, step.metrics.dump(), step.message});
    if (auto ran = insert->run(); !ran) return ran;
  }
  return {};
}

}  // namespace

Result<RunStore> RunStore::open(const std::filesystem::path& database) {
  std::error_code ec;
  if (database.has_parent_path()) std::filesystem::create_directories(database.parent_path(), ec);
  auto registry = models::Registry::open(database, models::OpenMode::create);
  if (!registry) return std::unexpected(registry.error());
  return RunStore(std::move(*registry));
}

Result<void> RunStore::begin(const RunRecord& run) {
  auto& db = registry_.database();
  auto insert = db.prepare(fmt::format("INSERT INTO runs({}) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)", k_run_columns));
  if (!insert) return std::unexpected(insert.error());
  insert->bind_all({run.id, run.pipeline, run.pipeline_file.string(), std::string(status_name(run.status)),
                    run.started_at, optional_text(run.finished_at), run.params.dump(), optional_text(run.git_commit),
                    optional_text(run.resumed_from)});
  auto ran = insert->run();
  if (!ran) return std::unexpected(ran.error().context(fmt::format("recording run {}", run.id)));
  return {};
}

Result<void> RunStore::finish(const RunRecord& run) {
  auto& db = registry_.database();
  auto transaction = models::WriteTransaction::begin(db);
  if (!transaction) return std::unexpected(transaction.error());
  auto update = db.prepare("UPDATE runs SET status = ?, finished_at = ? WHERE id = ?");
  if (!update) return std::unexpected(update.error());
  update->bind_all({std::string(status_name(run.status)), optional_text(run.finished_at), run.id});
  if (auto ran = update->run(); !ran) return ran;
  auto clear = db.prepare("DELETE FROM run_steps WHERE run_id = ?");
  if (!clear) return std::unexpected(clear.error());
  if (auto ran = clear->bind(1, run.id).run(); !ran) return ran;
  if (auto inserted = insert_steps(db, run); !inserted)
    return std::unexpected(inserted.error().context(fmt::format("recording the steps of run {}", run.id)));
  return transaction->commit();
}

Result<std::vector<StepRecord>> RunStore::steps_of(const std::string& run_id) {
  auto query = registry_.database().prepare(
      "SELECT name, status, duration_s, cache_hit, exit_code, attempts, cache_key, metrics, message "
      "FROM run_steps WHERE run_id = ? ORDER BY position");
  if (!query) return std::unexpected(query.error());
  query->bind(1, run_id);
  std::vector<StepRecord> steps;
  while (true) {
    auto row = query->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return steps;
    auto step = step_from_row(*query);
    if (!step) return std::unexpected(step.error());
    steps.push_back(std::move(*step));
  }
}

Result<std::vector<RunRecord>> RunStore::list(const RunQuery& query) {
  auto select = registry_.database().prepare(
      fmt::format("SELECT {} FROM runs WHERE (?1 = '' OR pipeline = ?1) ORDER BY started_at DESC, id DESC LIMIT ?2",
                  k_run_columns));
  if (!select) return std::unexpected(select.error());
  select->bind(1, query.pipeline).bind(2, query.limit);
  std::vector<RunRecord> runs;
  while (true) {
    auto row = select->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    auto run = run_from_row(*select);
    if (!run) return std::unexpected(run.error());
    runs.push_back(std::move(*run));
  }
  for (auto& run : runs) {
    auto steps = steps_of(run.id);
    if (!steps) return std::unexpected(steps.error());
    run.steps = std::move(*steps);
  }
  return runs;
}

Result<RunRecord> RunStore::get(std::string_view run_id) {
  auto select = registry_.database().prepare(fmt::format("SELECT {} FROM runs WHERE id = ?", k_run_columns));
  if (!select) return std::unexpected(select.error());
  auto row = select->bind(1, std::string(run_id)).step();
  if (!row) return std::unexpected(row.error());
  if (!*row)
    return fail(Errc::not_found, fmt::format("no run '{}'", run_id), "list the runs with: mlctl pipeline runs");
  auto run = run_from_row(*select);
  if (!run) return std::unexpected(run.error());
  auto steps = steps_of(run->id);
  if (!steps) return std::unexpected(steps.error());
  run->steps = std::move(*steps);
  return run;
}

}  // namespace mlctl::pipeline
