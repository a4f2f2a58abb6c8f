#include <mlctl/models/time.hpp>

#include <charconv>

#include <fmt/format.h>

namespace mlctl::models {

namespace chrono = std::chrono;

std::string format_time(TimePoint time) {
  auto day = chrono::floor<chrono::days>(time);
  chrono::year_month_day date(day);
  chrono::hh_mm_ss clock(time - day);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()), clock.hours().count(),
                     clock.minutes().count(), clock.seconds().count(), clock.subseconds().count());
}

std::string now_text() { return format_time(chrono::floor<chrono::milliseconds>(chrono::system_clock::now())); }

namespace {

// Reads exactly `width` digits at `at`.
bool digits(std::string_view text, std::size_t at, std::size_t width, int& out) {
  if (at + width > text.size()) return false;
  for (std::size_t i = at; i < at + width; ++i)
    if (text[i] < '0' || text[i] > '9') return false;
  std::from_chars(text.data() + at, text.data() + at + width, out);
  return true;
}

}  // namespace

Result<std::string> parse_time(std::string_view text) {
  auto bad = [&] {
    return fail(Errc::invalid, fmt::format("'{}' is not a time", text),
                "write RFC 3339 (2024-05-01T14:30:00Z, 2024-05-01T14:30:00.250+02:00) or a date (2024-05-01)");
  };
  int year = 0, month = 0, day = 0;
  if (!digits(text, 0, 4, year) || text.size() < 10 || text[4] != '-' || !digits(text, 5, 2, month) ||
      text[7] != '-' || !digits(text, 8, 2, day))
    return bad();
  chrono::year_month_day date{chrono::year(year), chrono::month(static_cast<unsigned>(month)),
                              chrono::day(static_cast<unsigned>(day))};
  if (!date.ok()) return bad();
  TimePoint time = chrono::sys_days(date);
  if (text.size() == 10) return format_time(time);

  int hour = 0, minute = 0, second = 0;
  if ((text[10] != 'T' && text[10] != 't' && text[10] != ' ') || !digits(text, 11, 2, hour) || text.size() < 19 ||
      text[13] != ':' || !digits(text, 14, 2, minute) || text[16] != ':' || !digits(text, 17, 2, second) ||
      hour > 23 || minute > 59 || second > 60)
    return bad();
  time += chrono::hours(hour) + chrono::minutes(minute) + chrono::seconds(second);
  std::size_t at = 19;
  if (at < text.size() && text[at] == '.') {
    std::size_t start = ++at;
    int millis = 0, place = 100;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      millis += (text[at] - '0') * place;
      place /= 10;
      ++at;
    }
    if (at == start) return bad();
    time += chrono::milliseconds(millis);
  }
  if (at == text.size()) return bad();  // RFC 3339 needs an offset
  if ((text[at] == 'Z' || text[at] == 'z') && at + 1 == text.size()) return format_time(time);
  int offset_hours = 0, offset_minutes = 0;
  if ((text[at] != '+' && text[at] != '-') || text.size() != at + 6 || !digits(text, at + 1, 2, offset_hours) ||
      text[at + 3] != ':' || !digits(text, at + 4, 2, offset_minutes))
    return bad();
  auto offset = chrono::hours(offset_hours) + chrono::minutes(offset_minutes);
  time += text[at] == '+' ? -offset : offset;
  return format_time(time);
}

}  // namespace mlctl::models
