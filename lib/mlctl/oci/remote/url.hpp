#pragma once

#include <mlctl/core/error.hpp>

#include <string>
#include <string_view>

namespace mlctl::oci::remote {

// An absolute http(s) URL split into what the client decides on: where it goes (origin) and
// what it asks for (target: path and query).
struct Url {
  std::string scheme;  // "http" or "https", lowercase
  std::string host;    // lowercase; IPv6 in brackets: "[::1]"
  std::string port;    // empty when not given
  std::string target;  // "/v2/x/blobs/uploads/abc?_state=1", at least "/"

  // "https://host:port", the unit Authorization headers are bound to.
  std::string origin() const;
  std::string str() const { return origin() + target; }
};

Result<Url> parse_url(std::string_view text);

// Resolves a Location header against the URL of the request that returned it (RFC 3986 5.2):
// absolute URLs, "//host/path", "/absolute/path" and "relative/path" forms.
Result<std::string> resolve_url(std::string_view base, std::string_view location);

// Adds "key=value" to the query of `url`, percent-encoding the value, keeping any query it has.
std::string add_query(std::string_view url, std::string_view key, std::string_view value);

std::string percent_encode(std::string_view text);

// localhost, 127.0.0.0/8 and ::1: the only hosts plain http is used for without Insecure::yes.
bool is_loopback_host(std::string_view host);

// The URL for messages: the values of query parameters other than a few harmless ones are
// replaced by "***", since storage redirects carry signatures in them.
std::string redact_url(std::string_view url);

}  // namespace mlctl::oci::remote
