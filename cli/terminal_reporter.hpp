#pragma once

#include <mlctl/core/reporter.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>

namespace mlctl::cli {

enum class ProgressMode {
  bar,    // a live bar redrawn in place: for a terminal
  plain,  // one line when a unit of work starts and one when it ends: for CI logs
  none,   // no progress lines at all
};

// Chooses the mode for --progress auto|plain|none; auto is a bar only on a terminal.
ProgressMode progress_mode(const std::string& option, bool is_terminal);

enum class Verbosity { quiet, normal, verbose };

// Renders library progress on stderr, so stdout stays clean for -o json.
class TerminalReporter final : public core::Reporter {
public:
  TerminalReporter(std::ostream& out, ProgressMode mode, Verbosity verbosity);

  void step(std::string_view message) override;
  void debug(std::string_view message) override;
  void begin(std::string_view id, std::string_view label, std::uint64_t total) override;
  void advance(std::string_view id, std::uint64_t done) override;
  void end(std::string_view id) override;
  void fail(std::string_view id, std::string_view why) override;

private:
  struct Task {
    std::string label;
    std::uint64_t total = 0;
    std::uint64_t done = 0;
  };
  void draw(const Task& task);
  // Forgets a task; the task when its last line is to be printed (the bar already cleared).
  std::optional<Task> finish(std::string_view id);
  void clear_bar();

  std::ostream& out_;
  ProgressMode mode_;
  Verbosity verbosity_;
  std::map<std::string, Task, std::less<>> tasks_;
  bool bar_shown_ = false;
};

// "1.5 MB", "512 B": sizes for people.
std::string human_bytes(std::uint64_t bytes);

}  // namespace mlctl::cli
