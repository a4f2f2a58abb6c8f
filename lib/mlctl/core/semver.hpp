#pragma once

#include <mlctl/core/error.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mlctl::core {

// A Semantic Versioning 2.0.0 version: MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD].
struct Semver {
  std::uint64_t major = 0;
  std::uint64_t minor = 0;
  std::uint64_t patch = 0;
  std::vector<std::string> prerelease;  // the dot-separated identifiers after '-'
  std::string build;                    // after '+'; ignored by precedence
};

// Parses `version` by the grammar of semver.org (no leading zeros in numbers, non-empty
// identifiers of [0-9A-Za-z-]); the message says what is wrong.
Result<Semver> parse_semver(std::string_view version);

Result<void> check_semver(std::string_view version);

// Precedence by semver.org section 11: negative, zero or positive as a is lower than, equal to or
// higher than b. 1.0.0-rc.1 < 1.0.0; build metadata does not count.
int compare(const Semver& a, const Semver& b);

}  // namespace mlctl::core
