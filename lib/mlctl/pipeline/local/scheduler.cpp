#include <mlctl/pipeline/local/scheduler.hpp>

#include <mlctl/core/process.hpp>

#include <poll.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

namespace mlctl::pipeline {

Scheduler::Scheduler(const Pipeline& pipeline, const RunOptions& options, RunObserver& observer, SchedulerSetup setup)
    : pipeline_(pipeline), options_(options), observer_(observer), setup_(std::move(setup)), dag_(build_dag(pipeline)),
      states_(pipeline.steps.size()) {
  for (size_t i = 0; i < dag_.names.size(); ++i) index_.emplace(dag_.names[i], i);
}

bool Scheduler::run() {
  for (size_t i = 0; i < states_.size(); ++i) {
    states_[i].unmet = dag_.needs[i].size();
    if (states_[i].unmet == 0) {
      states_[i].phase = Phase::ready;
      ready_.push(i);
    }
  }
  while (true) {
    if (!cancelled_ && options_.cancel && options_.cancel->cancelled()) cancel_all();
    start_ready();
    if (running_ == 0) break;
    wait_for_events();
  }
  return cancelled_;
}

void Scheduler::start_ready() {
  while (!cancelled_ && running_ < setup_.jobs && !ready_.empty()) {
    if (options_.cancel && options_.cancel->cancelled()) return cancel_all();
    size_t step = ready_.top();
    ready_.pop();
    if (states_[step].phase == Phase::ready) start(step);
  }
}

int Scheduler::poll_timeout_ms() const {
  std::optional<Clock::time_point> next;
  for (const auto& state : states_)
    if (state.process)
      if (auto wakeup = state.process->next_wakeup(); wakeup && (!next || *wakeup < *next)) next = wakeup;
  if (!next) return -1;
  auto left = std::chrono::ceil<std::chrono::milliseconds>(*next - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 24LL * 3600 * 1000));
}

void Scheduler::wait_for_events() {
  enum class Source { output, exit, action, cancel };
  std::vector<pollfd> fds;
  std::vector<std::pair<Source, size_t>> sources;
  auto watch = [&](int fd, Source source, size_t step) {
    fds.push_back({fd, POLLIN, 0});
    sources.emplace_back(source, step);
  };
  if (!cancelled_ && options_.cancel && options_.cancel->fd() >= 0) watch(options_.cancel->fd(), Source::cancel, 0);
  for (size_t i = 0; i < states_.size(); ++i) {
    const State& state = states_[i];
    if (state.process && state.process->output_fd() >= 0) watch(state.process->output_fd(), Source::output, i);
    if (state.process) watch(state.process->exit_fd(), Source::exit, i);
    if (state.action) watch(state.action->done_fd(), Source::action, i);
  }
  int ready = ::poll(fds.data(), fds.size(), poll_timeout_ms());
  if (ready < 0 && errno == EINTR) return;
  // Output first, so a step's last lines come before its end; exits may start retries, so the
  // list of what to handle is taken before any of it is handled.
  std::vector<std::pair<Source, size_t>> events;
  for (size_t k = 0; ready > 0 && k < fds.size(); ++k)
    if (fds[k].revents) events.push_back(sources[k]);
  for (const auto& [source, step] : events)
    if (source == Source::output && states_[step].process) states_[step].process->read_output();
  for (const auto& [source, step] : events) {
    State& state = states_[step];
    if (source == Source::exit && state.process)
      if (auto status = state.process->reap()) on_exit(step, *status);
    if (source == Source::action && state.action) on_action_done(step);
  }
  auto now = Clock::now();
  for (auto& state : states_) {
    if (!state.process) continue;
    state.process->on_time(now);
    if (state.process->timed_out()) kill_container(state);
  }
}

// The engine's client forwards SIGTERM, but a shell as the container's PID 1 ignores it, and a
// SIGKILLed client leaves its container running.
void Scheduler::kill_container(State& state) {
  if (state.container.empty() || state.container_killed) return;
  state.container_killed = true;
  (void)core::run({.argv = container_kill_argv(options_.container, state.container)});
}

void Scheduler::cancel_all() {
  cancelled_ = true;
  auto now = Clock::now();
  for (size_t i = 0; i < states_.size(); ++i) {
    State& state = states_[i];
    if (state.phase == Phase::waiting || state.phase == Phase::ready) {
      finish(i, StepStatus::cancelled, "the run was cancelled before it started");
      continue;
    }
    if (!state.process) continue;
    state.process->terminate(now);
    kill_container(state);
  }
}

void Scheduler::finish(size_t step, StepStatus status, std::string message) {
  State& state = states_[step];
  StepRecord& result = record(step);
  if (state.phase == Phase::running) --running_;
  bool started = state.phase == Phase::running || state.started != Clock::time_point{};
  state.phase = Phase::done;
  state.process.reset();
  state.action.reset();
  state.invocation = {};
  result.status = status;
  result.cache_hit = status == StepStatus::cached;
  result.message = std::move(message);
  if (started) result.duration_s = std::chrono::duration<double>(Clock::now() - state.started).count();
  observer_.step_finished(result);
  if (!made_outputs(status)) {
    if (status == StepStatus::failed) skip_dependants(step);
    return;
  }
  for (size_t next : dag_.dependants[step]) {
    State& dependant = states_[next];
    if (--dependant.unmet == 0 && dependant.phase == Phase::waiting) {
      dependant.phase = Phase::ready;
      ready_.push(next);
    }
  }
}

void Scheduler::skip_dependants(size_t failed) {
  for (size_t next : transitive_dependants(dag_, failed)) {
    Phase phase = states_[next].phase;
    if (phase == Phase::waiting || phase == Phase::ready)
      finish(next, StepStatus::skipped, fmt::format("{} failed", dag_.names[failed]));
  }
}

}  // namespace mlctl::pipeline
