#pragma once

#include <mlctl/core/error.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace mlctl::oci::remote {

// One challenge of a WWW-Authenticate header (RFC 7235): `Bearer realm="...",service="..."`.
struct Challenge {
  std::string scheme;                         // lowercase: "bearer", "basic"
  std::map<std::string, std::string> params;  // lowercase names, unquoted values

  // The value of a parameter, or empty.
  std::string param(std::string_view name) const;
  bool operator==(const Challenge&) const = default;
};

// Parses a WWW-Authenticate value, which may hold several challenges and quoted strings with
// commas and escapes in them. Fails with Errc::remote on malformed input (unterminated quotes,
// control characters, a parameter without a value, duplicate parameters), naming the position.
Result<std::vector<Challenge>> parse_www_authenticate(std::string_view header);

}  // namespace mlctl::oci::remote
