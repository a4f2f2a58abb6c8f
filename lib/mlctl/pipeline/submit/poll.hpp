#pragma once

#include <mlctl/core/error.hpp>

#include <chrono>
#include <functional>
#include <string>

namespace mlctl::pipeline {

// Time as the waiting loops see it, so that a test waits an hour in microseconds.
class Clock {
public:
  virtual ~Clock() = default;
  virtual std::chrono::steady_clock::time_point now() = 0;
  virtual void sleep(std::chrono::milliseconds duration) = 0;
};

// std::chrono::steady_clock and a real sleep.
Clock& steady_clock();

// How a wait polls: first after `interval`, then twice as long each time up to `max_interval`
// (a long run is not polled every two seconds for an hour), and for at most `timeout` in all.
struct WaitOptions {
  std::chrono::milliseconds interval{2000};
  std::chrono::milliseconds max_interval{30000};
  std::chrono::milliseconds timeout{std::chrono::hours(1)};
};

enum class Polled { done, timed_out };

// Calls `poll` until it returns true, fails (its error is returned), or `timeout` has passed:
// the last sleep is cut short so that the last poll happens at the deadline. Fails (invalid)
// when the interval is not positive.
Result<Polled> poll_until_done(const std::function<Result<bool>()>& poll, const WaitOptions& options, Clock& clock);

// "1h", "90s", "1500ms": a duration for messages, in the largest unit that divides it.
std::string describe_duration(std::chrono::milliseconds duration);

}  // namespace mlctl::pipeline
