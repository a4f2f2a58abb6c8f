#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/core/process.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace mlctl::pipeline {

using Clock = std::chrono::steady_clock;

// Receives a step's output one line at a time, without its newline.
using LineSink = std::function<void(std::string_view line)>;

// One attempt of a step's command: the child (its own process group, stdout and stderr merged
// into one pipe), its log file, and its output split into lines. It does not block: the runner
// polls output_fd() and exit_fd() of every running step in one poll() and calls back here.
class StepProcess {
public:
  struct Options {
    core::Command command{};
    std::filesystem::path log_file{};             // appended to (made at the first output)
    std::optional<Clock::time_point> deadline{};  // the step's timeout
    std::chrono::milliseconds kill_grace{5000};   // between SIGTERM and SIGKILL
  };

  static Result<std::unique_ptr<StepProcess>> start(Options options, LineSink sink);
  ~StepProcess();
  StepProcess(const StepProcess&) = delete;
  StepProcess& operator=(const StepProcess&) = delete;

  int output_fd() const { return child_.stdout_fd(); }
  int exit_fd() const { return child_.exit_fd(); }

  // Reads what is available on the output pipe.
  void read_output();
  // Once the process has exited: kills whatever it left running in its group (a step ends with its
  // main process, as a container does), reads the rest of its output and closes the log.
  std::optional<core::ExitStatus> reap();
  // SIGTERM to the group now, SIGKILL once the grace period is over.
  void terminate(Clock::time_point now);
  // Applies the deadline and the SIGKILL escalation; call after every wake-up.
  void on_time(Clock::time_point now);
  // When on_time() has something to do next, if ever.
  std::optional<Clock::time_point> next_wakeup() const;
  bool timed_out() const { return timed_out_; }

private:
  StepProcess(core::Child child, Options options, LineSink sink);
  bool read_chunk();
  void write_log(std::string_view data);

  core::Child child_;
  int log_ = -1;
  bool log_failed_ = false;  // a log that cannot be written loses lines, not the step
  Options options_;
  LineSink sink_;
  std::string partial_;  // the last line, until its newline arrives
  std::optional<Clock::time_point> kill_at_{};
  bool timed_out_ = false;
};

}  // namespace mlctl::pipeline
