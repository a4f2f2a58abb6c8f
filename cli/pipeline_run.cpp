// `mlctl pipeline run|runs|show|action`: the local runner and the runs it recorded.
#include "pipeline_commands.hpp"

#include <mlctl/core/fs.hpp>
#include <mlctl/pipeline/load.hpp>
#include <mlctl/pipeline/local/register_action.hpp>
#include <mlctl/pipeline/local/run_store.hpp>
#include <mlctl/pipeline/local/runner.hpp>

#include <csignal>
#include <iostream>

#include <fmt/format.h>

namespace mlctl::cli {

namespace {

namespace fs = std::filesystem;
using pipeline::RunRecord;
using pipeline::RunStatus;
using pipeline::StepRecord;
using pipeline::StepStatus;

// The exit code of a cancelled run, as a shell reports a command ended by SIGINT.
constexpr int k_cancelled_exit = 130;

// Routes SIGINT and SIGTERM to a CancelSignal while a run is going, then puts back what was there.
class CancelOnSignals {
public:
  explicit CancelOnSignals(pipeline::CancelSignal& signal) {
    target_ = &signal;
    struct sigaction action {};
    action.sa_handler = [](int) { target_.load()->cancel(); };
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, &old_int_);
    ::sigaction(SIGTERM, &action, &old_term_);
  }
  ~CancelOnSignals() {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
    target_ = nullptr;
  }
  CancelOnSignals(const CancelOnSignals&) = delete;
  CancelOnSignals& operator=(const CancelOnSignals&) = delete;

private:
  static inline std::atomic<pipeline::CancelSignal*> target_{nullptr};
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

std::string seconds_text(double seconds) {
  return seconds < 10 ? fmt::format("{:.2f}s", seconds) : fmt::format("{:.1f}s", seconds);
}

// Prints what a run does as it happens: each step's output prefixed with its name (on stdout,
// or on stderr when stdout carries -o json), and a line on stderr when a step ends.
class StepConsole final : public pipeline::RunObserver {
public:
  StepConsole(const Context& context, const pipeline::Pipeline& pipeline)
      : logs_(context.json() ? std::cerr : std::cout), quiet_(context.globals().quiet), color_(context.color_stderr()) {
    for (const auto& step : pipeline.steps) width_ = std::max(width_, step.name.value.size());
  }

  void run_started(const RunRecord& run) override {
    if (!quiet_) std::cerr << fmt::format("run {} of {} ({} steps)\n", run.id, run.pipeline, run.steps.size());
  }
  void step_started(std::string_view step, int attempt) override {
    if (attempt > 1 && !quiet_) std::cerr << fmt::format("{:<{}} | retrying: attempt {}\n", step, width_, attempt);
  }
  void step_output(std::string_view step, std::string_view line) override {
    if (!quiet_) logs_ << fmt::format("{:<{}} | {}\n", step, width_, line);
  }
  void step_finished(const StepRecord& step) override {
    if (quiet_) return;
    logs_.flush();
    std::string detail = step.status == StepStatus::succeeded ? seconds_text(step.duration_s) : step.message;
    if (step.status == StepStatus::cached && !step.message.empty()) detail = step.message;
    std::cerr << fmt::format("{:<{}} | {}{}\n", step.name, width_, paint(step.status),
                             detail.empty() ? "" : ": " + detail);
  }

private:
  std::string paint(StepStatus status) const {
    std::string_view name = pipeline::status_name(status);
    if (!color_) return std::string(name);
    std::string_view code = status == StepStatus::succeeded ? "32"
                            : status == StepStatus::cached  ? "36"
                            : status == StepStatus::failed  ? "31"
                                                            : "33";
    return fmt::format("\x1b[{}m{}\x1b[0m", code, name);
  }

  std::ostream& logs_;
  bool quiet_;
  bool color_;
  size_t width_ = 0;
};

int count(const RunRecord& run, StepStatus status) {
  return static_cast<int>(std::ranges::count(run.steps, status, &StepRecord::status));
}

std::string counts_text(const RunRecord& run) {
  std::vector<std::string> parts;
  for (StepStatus status : {StepStatus::succeeded, StepStatus::cached, StepStatus::failed, StepStatus::skipped,
                            StepStatus::cancelled}) {
    if (int n = count(run, status)) parts.push_back(fmt::format("{} {}", n, pipeline::status_name(status)));
  }
  return parts.empty() ? "no steps" : fmt::format("{}", fmt::join(parts, ", "));
}

// Ends the command with the run's outcome as the exit code: 0, 1 when it failed, 130 cancelled.
void exit_with(const RunRecord& run) {
  if (run.status == RunStatus::failed) throw Exit{static_cast<int>(Errc::failed)};
  if (run.status == RunStatus::cancelled) throw Exit{k_cancelled_exit};
}

void run_run(Context& context, const PipelineFlags& flags) {
  LocalRun local = run_locally(context, pipeline_file(context, flags.pipeline), flags, "");
  nlohmann::json document = local.run.to_json();
  document["directory"] = local.directory.string();
  context.print(document, fmt::format("run {} {} in {}: {}\nits files: {}", local.run.id,
                                      pipeline::status_name(local.run.status), seconds_text(local.seconds),
                                      counts_text(local.run), core::display_path(local.directory)));
  exit_with(local.run);
}

// The database a read of runs uses; not_found when no run was ever recorded.
fs::path recorded_runs(const Context& context, const PipelineFlags& flags) {
  auto database = runs_database(context, flags);
  if (!database)
    throw Fatal{Error(Errc::not_found, "no runs recorded here: there is no registry database yet",
                      "run a pipeline first: mlctl pipeline run NAME")};
  return *database;
}

void run_runs(Context& context, const PipelineFlags& flags) {
  auto store = unwrap(pipeline::RunStore::open(recorded_runs(context, flags)));
  auto runs = unwrap(store.list({.pipeline = flags.pipeline, .limit = flags.limit}));
  nlohmann::json document = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows = {{"RUN", "PIPELINE", "STATUS", "STARTED", "STEPS"}};
  for (const auto& run : runs) {
    nlohmann::json entry = run.to_json();
    entry.erase("steps");
    entry["counts"] = counts_text(run);
    document.push_back(std::move(entry));
    rows.push_back({run.id, run.pipeline, std::string(pipeline::status_name(run.status)), run.started_at,
                    counts_text(run)});
  }
  context.print(document, runs.empty() ? "no runs" : format_table(rows));
}

std::string metrics_text(const nlohmann::json& metrics) {
  std::vector<std::string> parts;
  for (const auto& [key, value] : metrics.items()) parts.push_back(fmt::format("{}={}", key, value.dump()));
  return fmt::format("{}", fmt::join(parts, " "));
}

void run_show(Context& context, const PipelineFlags& flags) {
  auto store = unwrap(pipeline::RunStore::open(recorded_runs(context, flags)));
  RunRecord run = unwrap(store.get(flags.pipeline));
  std::vector<std::vector<std::string>> rows = {{"STEP", "STATUS", "DURATION", "METRICS", "MESSAGE"}};
  for (const auto& step : run.steps)
    rows.push_back({step.name, std::string(pipeline::status_name(step.status)), seconds_text(step.duration_s),
                    metrics_text(step.metrics), step.message});
  std::string header = fmt::format("run {} of {}: {}\nstarted {}{}\n", run.id, run.pipeline,
                                   pipeline::status_name(run.status), run.started_at,
                                   run.finished_at.empty() ? "" : ", finished " + run.finished_at);
  if (!run.git_commit.empty()) header += fmt::format("git commit {}\n", run.git_commit);
  if (!run.params.empty()) header += fmt::format("params {}\n", metrics_text(run.params));
  context.print(run.to_json(), header + "\n" + format_table(rows));
}

// A built-in `uses:` action as a compiled pipeline runs it in a cluster step.
void run_action(Context& context, const PipelineFlags& flags) {
  if (flags.action != "register")
    throw Fatal{Error(Errc::invalid, fmt::format("unknown action '{}'", flags.action), "the built-in actions: register")};
  // Staging needs no database (a pod of a cluster run has none), only a folder to start from.
  RegistryPlace place = locate_registry(context, flags.registry, flags.stage.empty() ? fs::path() : fs::current_path());
  pipeline::RegisterRequest request{.artifact = flags.artifact,
                                    .metrics = flags.metrics,
                                    .model = flags.model,
                                    .pipeline = flags.pipeline_name,
                                    .run_id = flags.run_id,
                                    .git_commit = flags.git_commit,
                                    .project_root = place.project_root};
  pipeline::RegistryLocation location{
      .database = place.database, .artifacts = place.artifacts, .model = place.model, .flavor = place.flavor, .image = {}};
  if (!flags.stage.empty()) {
    nlohmann::json staged = unwrap(pipeline::stage_model(request, location));
    unwrap(core::write_file_atomic(flags.stage, staged.dump() + "\n"));
    context.print(staged, fmt::format("stored {} for {} ({}); its registration is in {}", flags.artifact,
                                      staged["model"].get<std::string>(),
                                      staged["artifact"]["digest"].get<std::string>(), flags.stage));
    return;
  }
  auto version = unwrap(pipeline::register_model(request, location));
  context.print(version.to_json(), fmt::format("registered {} version {} ({})", version.name, version.version,
                                               version.artifact.digest));
}

}  // namespace

LocalRun run_locally(Context& context, const fs::path& file, const PipelineFlags& flags,
                     const std::string& served_image) {
  auto loaded = unwrap(pipeline::load_pipeline(file));
  RegistryPlace place = locate_registry(context, flags.registry, fs::absolute(file).parent_path());
  pipeline::CancelSignal cancel;
  pipeline::RunOptions options{
      .project_root = place.project_root,
      .state_dir = unwrap(core::ensure_state_dir(place.project_root)),
      .params = parse_params(flags.params),
      .jobs = flags.jobs,
      .cache = flags.no_cache ? pipeline::UseCache::no : pipeline::UseCache::yes,
      .resume = flags.resume,
      .isolation = flags.container ? pipeline::Isolation::container : pipeline::Isolation::host,
      .container = {.engine = {flags.engine}, .self_image = flags.image},
      .registry = {.database = place.database, .artifacts = place.artifacts, .model = place.model,
                   .flavor = place.flavor, .image = served_image},
      .cancel = &cancel};
  StepConsole observer(context, loaded);
  auto started = std::chrono::steady_clock::now();
  RunRecord run = [&] {
    CancelOnSignals signals(cancel);
    return unwrap(pipeline::run_pipeline(loaded, options, observer));
  }();
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  fs::path folder = pipeline::run_directory(options.state_dir, run.id);
  return {.run = std::move(run), .directory = std::move(folder), .seconds = elapsed};
}

void add_pipeline_local_commands(CLI::App* group, const std::shared_ptr<PipelineFlags>& flags) {
  CLI::App* run = group->add_subcommand("run", "Run a pipeline on this machine, re-using the cached steps");
  run->add_option("pipeline", flags->pipeline, "NAME or FILE")->required();
  run->add_option("--param", flags->params, "Override a param, NAME=VALUE (repeatable)")->option_text("K=V");
  run->add_option("-j,--jobs", flags->jobs, "Steps at once (default: the number of cores)")
      ->check(CLI::Range(1, 1024))
      ->option_text("N");
  run->add_flag("--no-cache", flags->no_cache, "Run every step, even those whose outputs are cached");
  run->add_option("--resume", flags->resume, "Re-use the succeeded steps of an earlier run")->option_text("RUN");
  run->add_flag("--container", flags->container, "Run each step in its image with the container engine");
  run->add_option("--engine", flags->engine, "The container engine for --container (default podman)")
      ->option_text("podman|docker");
  run->add_option("--image", flags->image, "The project image that 'image: self' means, with --container")
      ->option_text("REF");
  add_registry_db_option(run, flags->registry.database);
  run->add_option("--artifact-store", flags->registry.artifacts, "Where 'uses: register' stores artifacts")
      ->option_text("LOCATION");
  on_run(run, [flags](Context& context) { run_run(context, *flags); });

  CLI::App* runs = group->add_subcommand("runs", "List recorded runs, newest first");
  runs->add_option("pipeline", flags->pipeline, "Only the runs of this pipeline (its name)");
  runs->add_option("--limit", flags->limit, "At most N runs (default 20)")->check(CLI::Range(1, 100000))->option_text("N");
  add_registry_db_option(runs, flags->registry.database);
  on_run(runs, [flags](Context& context) { run_runs(context, *flags); });

  CLI::App* show = group->add_subcommand("show", "Show a run: each step's status, duration, metrics");
  show->add_option("run", flags->pipeline, "The run id")->required();
  add_registry_db_option(show, flags->registry.database);
  on_run(show, [flags](Context& context) { run_show(context, *flags); });

  CLI::App* action = group->add_subcommand("action", "Run a built-in action ('uses:'), as a compiled step does");
  action->add_option("action", flags->action, "The action: register")->required();
  action->add_option("--run-id", flags->run_id, "The run it belongs to")->required()->option_text("ID");
  action->add_option("--pipeline", flags->pipeline_name, "The pipeline's name")->required()->option_text("NAME");
  action->add_option("--git-commit", flags->git_commit, "The commit the pipeline was compiled from")->option_text("SHA");
  action->add_option("--artifact", flags->artifact, "register: the model file or folder")->required()->option_text("PATH");
  action->add_option("--metrics", flags->metrics, "register: a JSON object of metrics")->option_text("FILE");
  action->add_option("--model", flags->model, "register: the model (default: mlctl.yaml model.name)")->option_text("NAME");
  add_registry_db_option(action, flags->registry.database);
  action->add_option("--artifact-store", flags->registry.artifacts, "Where the artifact goes")->option_text("LOCATION");
  action->add_option("--stage", flags->stage,
                     "register: store the artifact, write the version it would register to FILE and register nothing "
                     "(a release's training on a cluster registers it)")
      ->option_text("FILE");
  on_run(action, [flags](Context& context) { run_action(context, *flags); });
}

}  // namespace mlctl::cli
