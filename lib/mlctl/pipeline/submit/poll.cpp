#include <mlctl/pipeline/submit/poll.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <thread>

namespace mlctl::pipeline {

namespace {

class SteadyClock final : public Clock {
public:
  std::chrono::steady_clock::time_point now() override { return std::chrono::steady_clock::now(); }
  void sleep(std::chrono::milliseconds duration) override { std::this_thread::sleep_for(duration); }
};

}  // namespace

Clock& steady_clock() {
  static SteadyClock clock;
  return clock;
}

Result<Polled> poll_until_done(const std::function<Result<bool>()>& poll, const WaitOptions& options, Clock& clock) {
  using std::chrono::milliseconds;
  if (options.interval <= milliseconds(0))
    return fail(Errc::invalid,
                fmt::format("the polling interval must be positive, not {}ms", options.interval.count()));
  auto deadline = clock.now() + options.timeout;
  milliseconds interval = options.interval;
  milliseconds longest = std::max(options.max_interval, options.interval);
  while (true) {
    auto done = poll();
    if (!done) return std::unexpected(done.error());
    if (*done) return Polled::done;
    auto now = clock.now();
    if (now >= deadline) return Polled::timed_out;
    clock.sleep(std::min(interval, std::chrono::ceil<milliseconds>(deadline - now)));
    interval = std::min(interval * 2, longest);
  }
}

std::string describe_duration(std::chrono::milliseconds duration) {
  long long ms = duration.count();
  if (ms != 0 && ms % 3'600'000 == 0) return fmt::format("{}h", ms / 3'600'000);
  if (ms != 0 && ms % 60'000 == 0) return fmt::format("{}m", ms / 60'000);
  if (ms != 0 && ms % 1000 == 0) return fmt::format("{}s", ms / 1000);
  return fmt::format("{}ms", ms);
}

}  // namespace mlctl::pipeline
