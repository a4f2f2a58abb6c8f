#include <mlctl/oci/remote/redact.hpp>

#include <algorithm>
#include <array>
#include <cctype>

namespace mlctl::oci::remote {

void Redactor::add(std::string_view secret) {
  if (secret.size() < 4) return;
  std::lock_guard lock(mutex_);
  if (std::ranges::find(secrets_, secret) != secrets_.end()) return;
  secrets_.emplace_back(secret);
  // Longer first, so a secret containing another is masked whole.
  std::ranges::sort(secrets_, [](const auto& a, const auto& b) { return a.size() > b.size(); });
}

std::string Redactor::apply(std::string_view text) const {
  std::string out(text);
  std::lock_guard lock(mutex_);
  for (const auto& secret : secrets_) {
    for (auto pos = out.find(secret); pos != std::string::npos; pos = out.find(secret, pos + k_mask.size()))
      out.replace(pos, secret.size(), k_mask);
  }
  return out;
}

std::string redact_header(std::string_view name, std::string_view value) {
  static constexpr std::array<std::string_view, 4> k_secret{"authorization", "proxy-authorization", "cookie",
                                                           "set-cookie"};
  std::string lower(name);
  std::ranges::transform(lower, lower.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  if (std::ranges::find(k_secret, lower) != k_secret.end()) return "<redacted>";
  return std::string(value);
}

}  // namespace mlctl::oci::remote
