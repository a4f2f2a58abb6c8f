#include <mlctl/pipeline/local/background_task.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace mlctl::pipeline {

Result<std::unique_ptr<BackgroundTask>> BackgroundTask::start(Work work) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return fail(Errc::failed, fmt::format("cannot create a pipe: {}", std::strerror(errno)));
  std::unique_ptr<BackgroundTask> task(new BackgroundTask(fds[0], fds[1]));
  BackgroundTask* self = task.get();
  task->thread_ = std::thread([self, work = std::move(work)] {
    self->result_ = work();
    char byte = 1;
    [[maybe_unused]] auto written = ::write(self->write_, &byte, 1);
  });
  return task;
}

BackgroundTask::~BackgroundTask() {
  if (thread_.joinable()) thread_.join();
  ::close(read_);
  ::close(write_);
}

Result<std::string> BackgroundTask::join() {
  if (thread_.joinable()) thread_.join();
  if (!result_) return fail(Errc::failed, "the task gave no result");
  return *result_;
}

}  // namespace mlctl::pipeline
