#pragma once

#include <span>
#include <string_view>

namespace mlctl::models {

// Forward migrations: entry i takes a database from user_version i to i + 1. Append only;
// a shipped entry never changes.
std::span<const std::string_view> migrations();

}  // namespace mlctl::models
