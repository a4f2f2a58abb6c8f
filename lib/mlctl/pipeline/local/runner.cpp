#include <mlctl/pipeline/local/runner.hpp>

#include <mlctl/pipeline/dag.hpp>
#include <mlctl/pipeline/local/run_setup.hpp>
#include <mlctl/pipeline/local/run_store.hpp>
#include <mlctl/pipeline/local/scheduler.hpp>
#include <mlctl/pipeline/local/step_cache.hpp>
#include <mlctl/models/time.hpp>

#include <thread>

#include <fmt/format.h>

namespace mlctl::pipeline {

namespace fs = std::filesystem;

namespace {

// Everything a run needs before its first step starts; failures here fail the call, not a step.
struct Prepared {
  RunRecord record;
  std::optional<RunStore> store;
  std::optional<RunRecord> resumed;
  std::map<std::string, std::string> params;
  fs::path run_dir;
};

Result<Prepared> prepare(const Pipeline& pipeline, const RunOptions& options) {
  if (auto order = topological_order(build_dag(pipeline)); !order) return std::unexpected(order.error());
  Prepared run;
  if (!options.registry.database.empty()) {
    auto store = RunStore::open(options.registry.database);
    if (!store) return std::unexpected(store.error());
    run.store.emplace(std::move(*store));
  }
  if (!options.resume.empty()) {
    if (!run.store)
      return fail(Errc::precondition, "--resume needs the project's database, where runs are recorded");
    auto resumed = run.store->get(options.resume);
    if (!resumed) return std::unexpected(resumed.error());
    if (resumed->pipeline != pipeline.name.value)
      return fail(Errc::precondition,
                  fmt::format("run {} is of pipeline {}, not {}", options.resume, resumed->pipeline, pipeline.name.value));
    run.resumed = std::move(*resumed);
  }
  auto params = run_params(pipeline, run.resumed ? &*run.resumed : nullptr, options.params);
  if (!params) return std::unexpected(params.error());
  run.params = std::move(*params);

  RunRecord& record = run.record;
  record.id = options.run_id.empty() ? new_run_id() : options.run_id;
  record.pipeline = pipeline.name.value;
  if (!pipeline.file.empty()) record.pipeline_file = fs::absolute(pipeline.file).lexically_normal();
  record.started_at = models::now_text();
  for (const auto& [name, value] : run.params) record.params[name] = value;
  record.git_commit = git_commit(options.project_root.empty() ? fs::current_path() : options.project_root);
  record.resumed_from = options.resume;
  for (const auto& step : pipeline.steps) record.steps.push_back({.name = step.name.value});

  // Absolute, since steps run in the project root and get these paths in their commands.
  run.run_dir = fs::absolute(run_directory(options.state_dir, record.id)).lexically_normal();
  std::error_code ec;
  fs::create_directories(run.run_dir.parent_path(), ec);
  if (ec || !fs::create_directory(run.run_dir, ec))
    return fail(ec ? Errc::failed : Errc::precondition,
                fmt::format("cannot create the run folder {}: {}", run.run_dir.string(),
                            ec ? ec.message() : "it exists already"));
  return run;
}

RunStatus final_status(const RunRecord& record, bool cancelled) {
  if (cancelled) return RunStatus::cancelled;
  for (const auto& step : record.steps)
    if (!made_outputs(step.status)) return RunStatus::failed;
  return RunStatus::succeeded;
}

}  // namespace

fs::path run_directory(const fs::path& state_dir, std::string_view run_id) { return state_dir / "runs" / run_id; }

Result<RunRecord> run_pipeline(const Pipeline& pipeline, const RunOptions& options, RunObserver& observer) {
  auto prepared = prepare(pipeline, options);
  if (!prepared) return std::unexpected(prepared.error());
  RunRecord& record = prepared->record;
  if (prepared->store)
    if (auto begun = prepared->store->begin(record); !begun) return std::unexpected(begun.error());
  observer.run_started(record);

  int jobs = options.jobs > 0 ? options.jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  StepCache cache(options.state_dir / "cache");
  Scheduler scheduler(pipeline, options, observer,
                      {.run_id = record.id,
                       .run_dir = prepared->run_dir,
                       .params = prepared->params,
                       .resumed = prepared->resumed ? &*prepared->resumed : nullptr,
                       .jobs = jobs,
                       .cache = &cache,
                       .records = &record.steps});
  bool cancelled = scheduler.run();

  record.status = final_status(record, cancelled);
  record.finished_at = models::now_text();
  if (prepared->store)
    if (auto finished = prepared->store->finish(record); !finished) return std::unexpected(finished.error());
  return record;
}

}  // namespace mlctl::pipeline
