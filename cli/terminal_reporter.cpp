#include "terminal_reporter.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace mlctl::cli {

namespace {
constexpr int k_bar_width = 24;
}

ProgressMode progress_mode(const std::string& option, bool is_terminal) {
  if (option == "none") return ProgressMode::none;
  if (option == "plain") return ProgressMode::plain;
  return is_terminal ? ProgressMode::bar : ProgressMode::plain;
}

std::string human_bytes(std::uint64_t bytes) {
  constexpr const char* k_units[] = {"B", "kB", "MB", "GB", "TB"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1000 && unit + 1 < std::size(k_units)) {
    value /= 1000;
    ++unit;
  }
  if (unit == 0) return fmt::format("{} B", bytes);
  return fmt::format("{:.1f} {}", value, k_units[unit]);
}

TerminalReporter::TerminalReporter(std::ostream& out, ProgressMode mode, Verbosity verbosity)
    : out_(out), mode_(mode), verbosity_(verbosity) {}

void TerminalReporter::clear_bar() {
  if (!bar_shown_) return;
  out_ << "\r\033[K";
  bar_shown_ = false;
}

void TerminalReporter::step(std::string_view message) {
  if (verbosity_ == Verbosity::quiet) return;
  clear_bar();
  out_ << message << '\n' << std::flush;
}

void TerminalReporter::debug(std::string_view message) {
  if (verbosity_ != Verbosity::verbose) return;
  clear_bar();
  out_ << "debug: " << message << '\n' << std::flush;
}

void TerminalReporter::draw(const Task& task) {
  if (task.total == 0) {
    out_ << fmt::format("\r\033[K{} {}", task.label, human_bytes(task.done)) << std::flush;
  } else {
    auto filled = static_cast<int>(std::min<std::uint64_t>(task.done, task.total) * k_bar_width / task.total);
    out_ << fmt::format("\r\033[K{} [{}{}] {:3}% {}/{}", task.label, std::string(filled, '#'),
                        std::string(k_bar_width - filled, ' '), task.done * 100 / task.total,
                        human_bytes(task.done), human_bytes(task.total))
         << std::flush;
  }
  bar_shown_ = true;
}

void TerminalReporter::begin(std::string_view id, std::string_view label, std::uint64_t total) {
  auto& task = tasks_[std::string(id)];
  task = {std::string(label), total, 0};
  if (mode_ == ProgressMode::none || verbosity_ == Verbosity::quiet) return;
  if (mode_ == ProgressMode::plain) {
    out_ << label << ": started" << (total ? fmt::format(" ({})", human_bytes(total)) : "") << '\n' << std::flush;
    return;
  }
  draw(task);
}

void TerminalReporter::advance(std::string_view id, std::uint64_t done) {
  auto it = tasks_.find(id);
  if (it == tasks_.end()) return;
  it->second.done = done;
  if (mode_ == ProgressMode::bar && verbosity_ != Verbosity::quiet) draw(it->second);
}

void TerminalReporter::end(std::string_view id) {
  if (auto task = finish(id))
    out_ << task->label << ": done" << (task->done ? fmt::format(" ({})", human_bytes(task->done)) : "") << '\n'
         << std::flush;
}

void TerminalReporter::fail(std::string_view id, std::string_view why) {
  if (auto task = finish(id))
    out_ << task->label << ": failed after " << human_bytes(task->done) << ": " << why << '\n' << std::flush;
}

std::optional<TerminalReporter::Task> TerminalReporter::finish(std::string_view id) {
  auto it = tasks_.find(id);
  if (it == tasks_.end()) return std::nullopt;
  Task task = std::move(it->second);
  tasks_.erase(it);
  if (mode_ == ProgressMode::none || verbosity_ == Verbosity::quiet) return std::nullopt;
  clear_bar();
  return task;
}

}  // namespace mlctl::cli
