#include <mlctl/core/text.hpp>

#include <algorithm>
#include <vector>

#include <fmt/format.h>

namespace mlctl::core {

size_t edit_distance(std::string_view a, std::string_view b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

std::optional<std::string> nearest(std::string_view word, std::span<const std::string_view> candidates) {
  std::optional<std::string> best;
  size_t best_distance = 0;
  for (auto candidate : candidates) {
    size_t distance = edit_distance(word, candidate);
    if (!best || distance < best_distance) {
      best = std::string(candidate);
      best_distance = distance;
    }
  }
  // A suggestion is only useful when most of the word survives.
  size_t limit = std::max<size_t>(1, std::min(word.size(), best ? best->size() : 0) / 3 + 1);
  if (!best || best_distance > limit) return std::nullopt;
  return best;
}

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte != 0x7f) out.push_back(c);
    else if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else out += fmt::format("\\x{:02x}", byte);
  }
  return out;
}

Result<void> check_dns1123_label(std::string_view name) {
  auto bad = [&](std::string_view why) {
    return fail(Errc::invalid, fmt::format("'{}' is not a valid name: {}", printable(name), why),
                "use lowercase letters, digits and '-', starting and ending with a letter or digit");
  };
  if (name.empty()) return bad("it is empty");
  if (name.size() > 63) return bad("it is longer than 63 characters");
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) return bad(fmt::format("'{}' is not allowed", printable(std::string_view(&c, 1))));
  }
  if (name.front() == '-' || name.back() == '-') return bad("it must start and end with a letter or digit");
  return {};
}

std::optional<std::string> to_dns1123_label(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (ok) out.push_back(c);
    else if (!out.empty() && out.back() != '-') out.push_back('-');
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  if (out.size() > 63) out.resize(63);
  while (!out.empty() && out.back() == '-') out.pop_back();
  if (out.empty()) return std::nullopt;
  return out;
}

std::string strip_url_credentials(std::string_view text) {
  std::string out;
  size_t copied = 0;
  for (size_t scheme = text.find("://"); scheme != std::string_view::npos; scheme = text.find("://", scheme + 3)) {
    size_t start = scheme + 3;
    size_t end = text.find_first_of("/ \t\n\"'<>", start);
    if (end == std::string_view::npos) end = text.size();
    size_t at = text.substr(start, end - start).rfind('@');
    if (at == std::string_view::npos) continue;
    out.append(text.substr(copied, start - copied));
    copied = start + at + 1;
  }
  out.append(text.substr(copied));
  return out;
}

}  // namespace mlctl::core
