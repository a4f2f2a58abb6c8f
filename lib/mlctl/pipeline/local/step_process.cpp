#include <mlctl/pipeline/local/step_process.hpp>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace mlctl::pipeline {

Result<std::unique_ptr<StepProcess>> StepProcess::start(Options options, LineSink sink) {
  auto child = core::Child::spawn(options.command, core::Stderr::merged);
  if (!child) return std::unexpected(child.error());
  if (child->exit_fd() < 0)
    return fail(Errc::failed, "cannot watch the step's process: pidfd_open needs Linux 5.3 or later");
  // Reads after the process exits must not wait for what it left behind.
  ::fcntl(child->stdout_fd(), F_SETFL, ::fcntl(child->stdout_fd(), F_GETFL) | O_NONBLOCK);
  return std::unique_ptr<StepProcess>(new StepProcess(std::move(*child), std::move(options), std::move(sink)));
}

StepProcess::StepProcess(core::Child child, Options options, LineSink sink)
    : child_(std::move(child)), options_(std::move(options)), sink_(std::move(sink)) {}

StepProcess::~StepProcess() {
  if (log_ >= 0) ::close(log_);
}

// The log is opened at the first output: most small steps print nothing, and a file fewer per
// step is a tenth of what the runner spends on one.
void StepProcess::write_log(std::string_view data) {
  if (log_ < 0 && !log_failed_) {
    log_ = ::open(options_.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    log_failed_ = log_ < 0;
  }
  while (!data.empty() && log_ >= 0) {
    ssize_t n = ::write(log_, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return;  // a full disk loses log lines, not the step
    data.remove_prefix(static_cast<size_t>(n));
  }
}

bool StepProcess::read_chunk() {
  std::array<char, 65536> buffer;
  ssize_t n = ::read(child_.stdout_fd(), buffer.data(), buffer.size());
  if (n < 0 && errno == EINTR) return true;
  if (n < 0 && errno == EAGAIN) return false;
  if (n <= 0) {
    child_.close_stdout();
    return false;
  }
  std::string_view data(buffer.data(), static_cast<size_t>(n));
  write_log(data);
  while (!data.empty()) {
    auto newline = data.find('\n');
    if (newline == std::string_view::npos) {
      partial_.append(data);
      break;
    }
    partial_.append(data.substr(0, newline));
    sink_(partial_);
    partial_.clear();
    data.remove_prefix(newline + 1);
  }
  return true;
}

void StepProcess::read_output() {
  if (child_.stdout_fd() >= 0) read_chunk();
}

std::optional<core::ExitStatus> StepProcess::reap() {
  auto status = child_.try_wait();
  if (!status) return std::nullopt;
  child_.signal_group(SIGKILL);
  while (child_.stdout_fd() >= 0 && read_chunk()) {
  }
  child_.close_stdout();
  if (!partial_.empty()) {
    sink_(partial_);
    partial_.clear();
  }
  if (log_ >= 0) ::close(log_);
  log_ = -1;
  return status;
}

void StepProcess::terminate(Clock::time_point now) {
  if (kill_at_) return;
  child_.signal_group(SIGTERM);
  kill_at_ = now + options_.kill_grace;
}

void StepProcess::on_time(Clock::time_point now) {
  if (options_.deadline && !kill_at_ && now >= *options_.deadline) {
    timed_out_ = true;
    terminate(now);
  }
  if (kill_at_ && now >= *kill_at_) {
    child_.signal_group(SIGKILL);
    kill_at_ = Clock::time_point::max();
  }
}

std::optional<Clock::time_point> StepProcess::next_wakeup() const {
  if (kill_at_) {
    if (*kill_at_ == Clock::time_point::max()) return std::nullopt;
    return kill_at_;
  }
  return options_.deadline;
}

}  // namespace mlctl::pipeline
