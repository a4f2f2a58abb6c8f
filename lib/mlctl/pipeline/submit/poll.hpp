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

// Reads a remote state with `read` until `done` says it is final, and returns that state (a
// failed run is a result, not an error); `on_poll` hears every state seen. Fails when a read
// fails, and (failed) when the state is still not final after options.timeout, with the message
// and hint `timed_out` makes of the last state seen.
template <typename State>
Result<State> wait_for_final(const std::function<Result<State>()>& read, const std::function<bool(const State&)>& done,
                             const std::function<void(const State&)>& on_poll, const WaitOptions& options, Clock& clock,
                             const std::function<Error(const State&)>& timed_out) {
  State last{};
  auto polled = poll_until_done(
      [&]() -> Result<bool> {
        auto state = read();
        if (!state) return std::unexpected(state.error());
        last = std::move(*state);
        if (on_poll) on_poll(last);
        return done(last);
      },
      options, clock);
  if (!polled) return std::unexpected(polled.error());
  if (*polled == Polled::timed_out) return std::unexpected(timed_out(last));
  return last;
}

// "1h", "90s", "1500ms": a duration for messages, in the largest unit that divides it.
std::string describe_duration(std::chrono::milliseconds duration);

}  // namespace mlctl::pipeline
