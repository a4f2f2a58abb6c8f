#pragma once

#include <atomic>

namespace mlctl::pipeline {

// Asks a run to stop. cancel() may be called from any thread or from a signal handler (SIGINT,
// SIGTERM): it only stores to a lock-free atomic and writes one byte to a non-blocking pipe,
// both async-signal-safe. The runner polls fd() next to its steps, so it wakes at once.
class CancelSignal {
public:
  CancelSignal();
  ~CancelSignal();
  CancelSignal(const CancelSignal&) = delete;
  CancelSignal& operator=(const CancelSignal&) = delete;

  void cancel() noexcept;
  bool cancelled() const noexcept { return cancelled_.load(std::memory_order_acquire); }
  // Readable once cancelled; -1 if the pipe could not be made (then only cancelled() tells).
  int fd() const noexcept { return read_; }

private:
  std::atomic<bool> cancelled_{false};
  int read_ = -1;
  int write_ = -1;
};

}  // namespace mlctl::pipeline
