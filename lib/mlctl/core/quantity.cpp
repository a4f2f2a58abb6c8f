#include <mlctl/core/quantity.hpp>

#include <algorithm>
#include <array>
#include <span>
#include <string>

#include <fmt/format.h>

namespace mlctl::core {

namespace {

// Hand-written rather than std::regex: compiling a regex costs a render about 0.2 ms of start-up
// (issue 6), and these grammars are a few lines each.

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The length of the digits at the start of `text`.
std::size_t digits(std::string_view text) {
  return static_cast<std::size_t>(std::find_if_not(text.begin(), text.end(), is_digit) - text.begin());
}

// The length of the decimal number at the start of `text` ("2", "0.5", ".5"; a "." must be
// followed by a digit), 0 when there is none.
std::size_t decimal(std::string_view text) {
  std::size_t whole = digits(text);
  if (whole < text.size() && text[whole] == '.') {
    std::size_t fraction = digits(text.substr(whole + 1));
    if (fraction > 0) return whole + 1 + fraction;
  }
  return whole;
}

// Whether `text` is a decimal number followed by nothing or by one of `suffixes`.
bool is_quantity(std::string_view text, std::span<const std::string_view> suffixes) {
  std::size_t number = decimal(text);
  if (number == 0) return false;
  std::string_view suffix = text.substr(number);
  return suffix.empty() || std::ranges::find(suffixes, suffix) != suffixes.end();
}

Result<void> check_quantity(std::string_view quantity, std::span<const std::string_view> suffixes,
                            std::string_view what, std::string_view hint) {
  if (!is_quantity(quantity, suffixes))
    return fail(Errc::invalid, fmt::format("'{}' is not a {} quantity", quantity, what), std::string(hint));
  return {};
}

}  // namespace

Result<void> check_cpu(std::string_view quantity) {
  static constexpr std::array<std::string_view, 1> k_suffixes{"m"};
  return check_quantity(quantity, k_suffixes, "CPU", "write cores (\"2\", \"0.5\") or millicores (\"500m\")");
}

Result<void> check_memory(std::string_view quantity) {
  static constexpr std::array<std::string_view, 12> k_suffixes{"Ki", "Mi", "Gi", "Ti", "Pi", "Ei",
                                                               "k",  "M",  "G",  "T",  "P",  "E"};
  return check_quantity(quantity, k_suffixes, "memory",
                        "write bytes with a suffix: Ki, Mi, Gi (powers of 1024) or k, M, G (powers of 1000), "
                        "e.g. 512Mi or 4Gi");
}

Result<void> check_pause(std::string_view duration) {
  // One or more NUMBER+UNIT: "30s", "5m", "1h30m".
  bool valid = !duration.empty();
  for (std::string_view rest = duration; valid && !rest.empty();) {
    std::size_t number = digits(rest);
    valid = number > 0 && number < rest.size() && std::string_view("smh").find(rest[number]) != std::string_view::npos;
    rest.remove_prefix(std::min(rest.size(), number + 1));
  }
  if (!valid)
    return fail(Errc::invalid, fmt::format("'{}' is not a duration", duration),
                "write a number and a unit, s, m or h: 30s, 5m, 1h30m");
  return {};
}

}  // namespace mlctl::core
