#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/pipeline/local/cancel.hpp>
#include <mlctl/pipeline/local/container.hpp>
#include <mlctl/pipeline/local/register_action.hpp>
#include <mlctl/pipeline/local/run_record.hpp>
#include <mlctl/pipeline/spec.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

namespace mlctl::pipeline {

enum class UseCache {
  yes,  // a step whose key has an entry is restored, not run
  no,   // every step runs (what it makes is still stored, for later runs)
};

enum class Isolation {
  host,       // steps run on this machine, in the project root
  container,  // steps run in their images with the container engine
};

struct RunOptions {
  std::filesystem::path project_root{};  // host steps run here; its git commit is recorded
  std::filesystem::path state_dir{};     // runs/<run-id>/<step>/ and cache/ go here (.mlctl)
  std::map<std::string, std::string> params{};  // overrides of the pipeline's params
  int jobs = 0;                          // steps running at once; 0: the number of cores
  UseCache cache = UseCache::yes;
  // An earlier run of the same pipeline: its params are this run's defaults, and each of its
  // succeeded steps whose key is unchanged is restored instead of run, even with UseCache::no
  // (from the cache, which keeps what every succeeded step made).
  std::string resume{};
  std::string run_id{};                  // empty: a new one (YYYYMMDD-HHMMSS-<6 hex>)
  Isolation isolation = Isolation::host;
  ContainerOptions container{};
  RegistryLocation registry{};           // where runs are recorded and models registered
  const CancelSignal* cancel = nullptr;  // cancel() ends the run: see run_pipeline
  std::chrono::milliseconds kill_grace{5000};  // between SIGTERM and SIGKILL of a step
};

// What the runner tells its caller while it works (the CLI prints it; lib never does). All calls
// come from the thread that called run_pipeline.
class RunObserver {
public:
  virtual ~RunObserver() = default;
  virtual void run_started(const RunRecord& run) { (void)run; }
  // A step's process starts; attempt 2 and up are retries.
  virtual void step_started(std::string_view step, int attempt) {
    (void)step;
    (void)attempt;
  }
  // One line of a step's stdout or stderr (merged), without its newline.
  virtual void step_output(std::string_view step, std::string_view line) {
    (void)step;
    (void)line;
  }
  // A step reached its final status (skipped and cancelled steps too).
  virtual void step_finished(const StepRecord& step) { (void)step; }
};

// Runs a (valid) pipeline: steps in dependency order, up to `jobs` at once, each in its folder
// <state>/runs/<run-id>/<step>/, which holds its outputs by name and its log (step.log, made
// when the step first prints); a step whose key is in the cache has its outputs restored instead. A failing step (after its retries; a timeout
// kills its process group) fails the run and skips what needs it, while independent steps go on.
// Cancelling kills every running step's process group and marks the run and its unfinished
// steps cancelled. The run is recorded in the registry database when one is given.
// Fails (not the run, the call) on an unknown param, an unknown or foreign --resume run, a run
// folder that exists, or a database that cannot be written.
Result<RunRecord> run_pipeline(const Pipeline& pipeline, const RunOptions& options, RunObserver& observer);

// Where a run's files are: <state>/runs/<run-id>.
std::filesystem::path run_directory(const std::filesystem::path& state_dir, std::string_view run_id);

// The name of the log file in a step's folder: its stdout and stderr as they came, and the
// runner's notes on retries. A step that printed nothing has none.
inline constexpr std::string_view k_step_log = "step.log";

}  // namespace mlctl::pipeline
