#pragma once

#include <mlctl/core/error.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace mlctl::models {

using TimePoint = std::chrono::sys_time<std::chrono::milliseconds>;

// "2024-05-01T12:30:00.250Z": UTC with milliseconds, so text order is time order.
std::string format_time(TimePoint time);
std::string now_text();

// Reads RFC 3339 ("2024-05-01T14:30:00+02:00", fractions to milliseconds) or a date
// "2024-05-01" (midnight UTC at its start) into the stored form.
Result<std::string> parse_time(std::string_view text);

}  // namespace mlctl::models
