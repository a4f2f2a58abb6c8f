#include <mlctl/pipeline/values.hpp>

#include <mlctl/core/text.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace mlctl::pipeline {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool all_digits(std::string_view text) { return !text.empty() && std::ranges::all_of(text, is_digit); }

// A number of up to 9 digits, so no sum below can overflow.
std::optional<std::int64_t> small_number(std::string_view digits) {
  if (!all_digits(digits) || digits.size() > 9) return std::nullopt;
  std::int64_t value = 0;
  for (char c : digits) value = value * 10 + (c - '0');
  return value;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

std::vector<std::string_view> split_whitespace(std::string_view text) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) words.push_back(text.substr(start, i - start));
  }
  return words;
}

struct CronField {
  std::string_view name;
  int min;
  int max;
  std::array<std::string_view, 12> names;  // names[i] stands for min + i; empty when none
  bool question_mark;                      // '?' means "any" (day fields only)
};

constexpr std::array<CronField, 5> k_cron_fields = {{
    {"minute", 0, 59, {}, false},
    {"hour", 0, 23, {}, false},
    {"day-of-month", 1, 31, {}, true},
    {"month", 1, 12, {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}, false},
    {"day-of-week", 0, 7, {"sun", "mon", "tue", "wed", "thu", "fri", "sat"}, true},
}};

constexpr std::array<std::string_view, 7> k_cron_macros = {"@yearly", "@annually", "@monthly", "@weekly",
                                                           "@daily",  "@midnight", "@hourly"};

std::optional<int> cron_value(const CronField& field, std::string_view text) {
  if (auto number = small_number(text)) {
    if (*number < field.min || *number > field.max) return std::nullopt;
    return static_cast<int>(*number);
  }
  std::string lower(text);
  std::ranges::transform(lower, lower.begin(), [](char c) { return static_cast<char>(std::tolower(c)); });
  for (size_t i = 0; i < field.names.size(); ++i)
    if (!field.names[i].empty() && field.names[i] == lower) return field.min + static_cast<int>(i);
  return std::nullopt;
}

// One comma-separated item: *, ?, N, N-M, each optionally followed by /STEP.
bool cron_item_ok(const CronField& field, std::string_view item) {
  std::string_view range = item;
  if (auto slash = item.find('/'); slash != std::string_view::npos) {
    auto step = small_number(item.substr(slash + 1));
    if (!step || *step == 0) return false;
    range = item.substr(0, slash);
  }
  if (range == "*" || (range == "?" && field.question_mark)) return true;
  auto dash = range.find('-');
  if (dash == std::string_view::npos) return cron_value(field, range).has_value();
  auto low = cron_value(field, range.substr(0, dash));
  auto high = cron_value(field, range.substr(dash + 1));
  return low && high && *low <= *high;
}

}  // namespace

Result<std::int64_t> parse_duration(std::string_view text) {
  constexpr std::array<std::pair<char, std::int64_t>, 4> k_units = {{{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}}};
  auto bad = [&] {
    return fail(Errc::invalid, fmt::format("'{}' is not a duration", text),
                "write a number with a unit, largest first: 30s, 5m, 1h, 1h30m, 2d");
  };
  std::int64_t total = 0;
  size_t next_unit = 0;  // units must come in order, so "30m1h" and "1h1h" are refused
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && is_digit(text[i])) ++i;
    auto number = small_number(text.substr(start, i - start));
    if (!number || i == text.size()) return bad();
    auto unit = std::find_if(k_units.begin() + static_cast<std::ptrdiff_t>(next_unit), k_units.end(),
                             [&](const auto& u) { return u.first == text[i]; });
    if (unit == k_units.end()) return bad();
    total += *number * unit->second;
    next_unit = static_cast<size_t>(unit - k_units.begin()) + 1;
    ++i;
  }
  if (text.empty()) return bad();
  if (total == 0) return fail(Errc::invalid, fmt::format("'{}' is not a duration above zero", text));
  return total;
}

Result<void> check_cron(std::string_view schedule) {
  if (std::ranges::find(k_cron_macros, schedule) != k_cron_macros.end()) return {};
  auto fields = split_whitespace(schedule);
  if (fields.size() != k_cron_fields.size())
    return fail(Errc::invalid,
                fmt::format("'{}' is not a cron schedule: it has {} fields, expected 5", schedule, fields.size()),
                "write minute hour day-of-month month day-of-week, e.g. \"0 3 * * *\" for 03:00 every day");
  for (size_t i = 0; i < fields.size(); ++i) {
    const CronField& field = k_cron_fields[i];
    for (std::string_view item : split(fields[i], ',')) {
      if (!cron_item_ok(field, item))
        return fail(Errc::invalid,
                    fmt::format("'{}' is not a cron schedule: {} '{}' is not valid (range {}-{})", schedule,
                                field.name, fields[i], field.min, field.max));
    }
  }
  return {};
}

Result<int> parse_count(std::string_view text) {
  auto number = small_number(text);
  if (!number || *number > 1'000'000)
    return fail(Errc::invalid, fmt::format("'{}' is not a whole number >= 0", text));
  return static_cast<int>(*number);
}

Result<void> check_identifier(std::string_view name) {
  auto word_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; };
  bool ok = !name.empty() && (std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_') &&
            std::ranges::all_of(name, word_char);
  if (!ok)
    return fail(Errc::invalid, fmt::format("'{}' is not a valid name", core::printable(name)),
                "start with a letter or '_', then use letters, digits, '_' or '-'");
  return {};
}

Result<void> check_env_name(std::string_view name) {
  auto env_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  bool ok = !name.empty() && !is_digit(name[0]) && std::ranges::all_of(name, env_char);
  if (!ok) return fail(Errc::invalid, fmt::format("'{}' is not a valid environment variable name", name));
  return {};
}

}  // namespace mlctl::pipeline
