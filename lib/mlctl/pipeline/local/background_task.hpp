#pragma once

#include <mlctl/core/error.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace mlctl::pipeline {

// In-process work (a built-in action) on a thread of its own, so that the runner's poll() keeps
// serving the other steps meanwhile; done_fd() becomes readable when the work is over.
class BackgroundTask {
public:
  using Work = std::function<Result<std::string>()>;

  static Result<std::unique_ptr<BackgroundTask>> start(Work work);
  ~BackgroundTask();  // waits for the work
  BackgroundTask(const BackgroundTask&) = delete;
  BackgroundTask& operator=(const BackgroundTask&) = delete;

  int done_fd() const { return read_; }
  // Waits for the work and returns its result; once.
  Result<std::string> join();

private:
  BackgroundTask(int read, int write) : read_(read), write_(write) {}

  int read_ = -1;
  int write_ = -1;
  std::thread thread_;
  std::optional<Result<std::string>> result_;
};

}  // namespace mlctl::pipeline
