#include <mlctl/core/semver.hpp>

#include <algorithm>
#include <charconv>
#include <limits>

#include <fmt/format.h>

namespace mlctl::core {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_identifier_char(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

bool all_digits(std::string_view s) { return std::all_of(s.begin(), s.end(), is_digit); }

// Splits `text` at '.'; empty parts are kept so that they can be refused.
std::vector<std::string_view> split_dots(std::string_view text) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    size_t dot = text.find('.', start);
    parts.push_back(text.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) return parts;
    start = dot + 1;
  }
}

}  // namespace

Result<Semver> parse_semver(std::string_view version) {
  auto bad = [&](std::string_view why) {
    return fail(Errc::invalid, fmt::format("'{}' is not a semantic version: {}", version, why),
                "use MAJOR.MINOR.PATCH, for example 1.4.0 or 2.0.0-rc.1");
  };
  Semver out;
  std::string_view rest = version;
  if (size_t plus = rest.find('+'); plus != std::string_view::npos) {
    std::string_view build = rest.substr(plus + 1);
    for (std::string_view part : split_dots(build))
      if (part.empty() || !std::all_of(part.begin(), part.end(), is_identifier_char))
        return bad("the build metadata after '+' must be dot-separated identifiers of [0-9A-Za-z-]");
    out.build = build;
    rest = rest.substr(0, plus);
  }
  if (size_t dash = rest.find('-'); dash != std::string_view::npos) {
    for (std::string_view part : split_dots(rest.substr(dash + 1))) {
      if (part.empty() || !std::all_of(part.begin(), part.end(), is_identifier_char))
        return bad("the pre-release after '-' must be dot-separated identifiers of [0-9A-Za-z-]");
      if (part.size() > 1 && part[0] == '0' && all_digits(part))
        return bad(fmt::format("the numeric identifier '{}' has a leading zero", part));
      out.prerelease.emplace_back(part);
    }
    rest = rest.substr(0, dash);
  }
  auto numbers = split_dots(rest);
  if (numbers.size() != 3) return bad("it needs three numbers, MAJOR.MINOR.PATCH");
  std::uint64_t* fields[] = {&out.major, &out.minor, &out.patch};
  for (size_t i = 0; i < 3; ++i) {
    std::string_view n = numbers[i];
    if (n.empty() || !all_digits(n)) return bad(fmt::format("'{}' is not a number", n));
    if (n.size() > 1 && n[0] == '0') return bad(fmt::format("'{}' has a leading zero", n));
    if (std::from_chars(n.data(), n.data() + n.size(), *fields[i]).ec != std::errc{})
      return bad(fmt::format("'{}' is too large", n));
  }
  return out;
}

Result<void> check_semver(std::string_view version) {
  auto parsed = parse_semver(version);
  if (!parsed) return std::unexpected(parsed.error());
  return {};
}

int compare(const Semver& a, const Semver& b) {
  for (auto [x, y] : {std::pair{a.major, b.major}, {a.minor, b.minor}, {a.patch, b.patch}})
    if (x != y) return x < y ? -1 : 1;
  // A version without a pre-release ranks above one with.
  if (a.prerelease.empty() || b.prerelease.empty())
    return a.prerelease.empty() == b.prerelease.empty() ? 0 : (a.prerelease.empty() ? 1 : -1);
  for (size_t i = 0; i < std::min(a.prerelease.size(), b.prerelease.size()); ++i) {
    const std::string& x = a.prerelease[i];
    const std::string& y = b.prerelease[i];
    bool x_number = all_digits(x), y_number = all_digits(y);
    if (x_number && y_number) {
      // Numbers without leading zeros: the longer is the larger, then by digits.
      if (x.size() != y.size()) return x.size() < y.size() ? -1 : 1;
      if (int c = x.compare(y); c != 0) return c < 0 ? -1 : 1;
    } else if (x_number != y_number) {
      return x_number ? -1 : 1;  // numeric identifiers rank below alphanumeric ones
    } else if (int c = x.compare(y); c != 0) {
      return c < 0 ? -1 : 1;
    }
  }
  if (a.prerelease.size() == b.prerelease.size()) return 0;
  return a.prerelease.size() < b.prerelease.size() ? -1 : 1;
}

}  // namespace mlctl::core
