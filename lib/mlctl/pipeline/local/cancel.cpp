#include <mlctl/pipeline/local/cancel.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace mlctl::pipeline {

static_assert(std::atomic<bool>::is_always_lock_free, "cancel() must be async-signal-safe");

CancelSignal::CancelSignal() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0) {
    read_ = fds[0];
    write_ = fds[1];
  }
}

CancelSignal::~CancelSignal() {
  if (read_ >= 0) ::close(read_);
  if (write_ >= 0) ::close(write_);
}

void CancelSignal::cancel() noexcept {
  int saved = errno;  // a signal handler must leave errno as it found it
  cancelled_.store(true, std::memory_order_release);
  if (write_ >= 0) {
    char byte = 1;
    // A full pipe already wakes the runner, so a failed write loses nothing.
    [[maybe_unused]] auto written = ::write(write_, &byte, 1);
  }
  errno = saved;
}

}  // namespace mlctl::pipeline
