#include <mlctl/oci/remote/retry.hpp>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <string>

namespace mlctl::oci::remote {

using std::chrono::milliseconds;

milliseconds backoff_delay(const RetryPolicy& policy, int attempt, double jitter) {
  double delay = double(policy.initial_delay.count());
  for (int i = 1; i < attempt && delay < double(policy.max_delay.count()); ++i) delay *= 2;
  delay = std::min(delay, double(policy.max_delay.count()));
  jitter = std::clamp(jitter, 0.0, 1.0);
  return milliseconds(static_cast<long long>(delay / 2 + delay / 2 * jitter));
}

std::optional<milliseconds> parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  long long seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec == std::errc() && end == value.data() + value.size()) {
    if (seconds < 0) return std::nullopt;
    return milliseconds(std::min<long long>(seconds, 24 * 3600) * 1000);
  }
  std::tm tm{};
  std::string text(value);
  if (!::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm)) return std::nullopt;
  auto when = std::chrono::system_clock::from_time_t(::timegm(&tm));
  auto delta = std::chrono::duration_cast<milliseconds>(when - now);
  return std::max(delta, milliseconds(0));
}

Retrier::Retrier(RetryPolicy policy, Sleeper sleep, Jitter jitter)
    : policy_(policy), sleep_(std::move(sleep)), jitter_(std::move(jitter)) {}

std::optional<milliseconds> Retrier::next_delay(const RegistryError& error, int tries, milliseconds waited) const {
  if (tries >= policy_.max_attempts) return std::nullopt;
  milliseconds delay = backoff_delay(policy_, tries, jitter_ ? jitter_() : 0.5);
  // The server knows best when it can take more; but a wait past the budget is not worth it.
  if (auto asked = error.retry_after()) delay = std::max(delay, *asked);
  if (waited + delay > policy_.max_total_wait) return std::nullopt;
  return delay;
}

}  // namespace mlctl::oci::remote
