#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/pipeline/dag.hpp>
#include <mlctl/pipeline/local/background_task.hpp>
#include <mlctl/pipeline/local/invocation.hpp>
#include <mlctl/pipeline/local/runner.hpp>
#include <mlctl/pipeline/local/step_cache.hpp>
#include <mlctl/pipeline/local/step_process.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <vector>

namespace mlctl::pipeline {

// What run_pipeline prepared for the scheduler.
struct SchedulerSetup {
  std::string run_id{};
  std::filesystem::path run_dir{};
  std::map<std::string, std::string> params{};
  const RunRecord* resumed = nullptr;
  int jobs = 1;
  StepCache* cache = nullptr;
  std::vector<StepRecord>* records = nullptr;  // one per step, in file order; filled in as steps end
};

// The event loop of a run, on the calling thread: starts ready steps (earliest in the file first)
// while fewer than `jobs` run, and waits in one poll() for their output, their exits, built-in
// actions, the cancel signal and the nearest deadline, so nothing sleeps or polls on an interval.
// Cached steps are restored inline and take no job slot.
class Scheduler {
public:
  Scheduler(const Pipeline& pipeline, const RunOptions& options, RunObserver& observer, SchedulerSetup setup);
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Runs every step to a final status; true when the run was cancelled.
  bool run();

private:
  enum class Phase { waiting, ready, running, done };
  struct State {
    Phase phase = Phase::waiting;
    size_t unmet = 0;  // needs not yet done
    Clock::time_point started{};
    std::filesystem::path dir{};
    Invocation invocation{};  // with this run's paths
    std::map<std::string, std::string> digests{};  // output name -> digest, once made
    std::unique_ptr<StepProcess> process{};
    std::unique_ptr<BackgroundTask> action{};
    std::string container{};  // the container's name, in container mode
    bool container_killed = false;
  };

  // scheduler.cpp: the loop and the statuses.
  void start_ready();
  void wait_for_events();
  int poll_timeout_ms() const;
  void cancel_all();
  void kill_container(State& state);
  void finish(size_t step, StepStatus status, std::string message = {});
  void skip_dependants(size_t failed);
  StepRecord& record(size_t step) { return (*setup_.records)[step]; }

  // scheduler_steps.cpp: one step from its key to its outcome.
  void start(size_t step);
  Scope scope_for(size_t step) const;
  Result<std::string> key_of(size_t step);
  void add_dependencies(size_t step, nlohmann::json& material) const;
  Result<std::string> image_for(const Invocation& invocation);
  bool reuse(size_t step);
  void begin_attempt(size_t step);
  Result<void> launch_process(size_t step);
  // The program resolved on PATH once per run, so later starts spawn it by path.
  const std::string& program_path(const std::string& program);
  Result<void> launch_action(size_t step);
  void on_exit(size_t step, core::ExitStatus status);
  void on_action_done(size_t step);
  void attempt_failed(size_t step, std::string message);
  Result<void> collect(size_t step);
  void append_log(size_t step, std::string_view line);

  const Pipeline& pipeline_;
  const RunOptions& options_;
  RunObserver& observer_;
  SchedulerSetup setup_;
  Dag dag_;
  std::map<std::string, size_t> index_;
  std::vector<State> states_;
  std::priority_queue<size_t, std::vector<size_t>, std::greater<>> ready_;
  int running_ = 0;
  bool cancelled_ = false;
  std::map<std::string, std::string> image_ids_;  // image -> id, looked up once per run
  std::map<std::string, std::string> programs_;   // a command's program -> its path on PATH
};

}  // namespace mlctl::pipeline
