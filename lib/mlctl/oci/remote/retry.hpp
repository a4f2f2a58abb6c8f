#pragma once

#include <mlctl/oci/remote/registry_error.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string_view>

namespace mlctl::oci::remote {

// How hard the client tries again after a retryable failure (408, 429, 5xx, broken
// connections): exponential backoff with jitter, bounded in attempts and in total waiting.
struct RetryPolicy {
  int max_attempts = 5;
  std::chrono::milliseconds initial_delay{250};
  std::chrono::milliseconds max_delay{8000};
  std::chrono::milliseconds max_total_wait{60000};
};

// The delay before attempt `attempt + 1` (attempt counts from 1): initial * 2^(attempt-1),
// capped, then scaled into [delay/2, delay] by `jitter` in [0, 1).
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int attempt, double jitter);

// A Retry-After value: delay-seconds or an HTTP-date (RFC 9110 10.2.3) relative to `now`.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now);

using Sleeper = std::function<void(std::chrono::milliseconds)>;
using Jitter = std::function<double()>;

// Runs attempts of one operation under a policy; shared by the threads of a client.
class Retrier {
public:
  Retrier(RetryPolicy policy, Sleeper sleep, Jitter jitter);

  // Calls `attempt` until it succeeds, fails with a non-retryable error, or the policy is
  // exhausted. `on_retry` hears about each retry (for a debug line).
  template <typename T, typename F, typename R>
  RegistryResult<T> run(F&& attempt, R&& on_retry) {
    int tries = 0;
    std::chrono::milliseconds waited{0};
    while (true) {
      RegistryResult<T> result = attempt();
      ++tries;
      if (result || !result.error().retryable()) return result;
      auto delay = next_delay(result.error(), tries, waited);
      if (!delay) return result;
      on_retry(result.error(), tries, *delay);
      retries_.fetch_add(1);
      sleep_(*delay);
      waited += *delay;
    }
  }

  // How many retries this retrier has made, over all operations.
  std::uint64_t retries() const { return retries_.load(); }

private:
  // The wait before the next try, or none when the policy says stop.
  std::optional<std::chrono::milliseconds> next_delay(const RegistryError& error, int tries,
                                                      std::chrono::milliseconds waited) const;

  RetryPolicy policy_;
  Sleeper sleep_;
  Jitter jitter_;
  std::atomic<std::uint64_t> retries_{0};
};

}  // namespace mlctl::oci::remote
