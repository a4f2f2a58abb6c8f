#include <mlctl/oci/remote/url.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace mlctl::oci::remote {

namespace {

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return out;
}

bool default_port(const Url& url) {
  return url.port.empty() || (url.scheme == "https" && url.port == "443") ||
         (url.scheme == "http" && url.port == "80");
}

}  // namespace

std::string Url::origin() const {
  std::string out = scheme + "://" + host;
  if (!default_port(*this)) out += ":" + port;
  return out;
}

Result<Url> parse_url(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return fail(Errc::invalid, fmt::format("invalid URL '{}': {}", redact_url(text), why));
  };
  auto sep = text.find("://");
  if (sep == std::string_view::npos) return bad("not an absolute URL");
  Url url;
  url.scheme = lowercase(text.substr(0, sep));
  if (url.scheme != "http" && url.scheme != "https") return bad("only http and https are supported");
  std::string_view rest = text.substr(sep + 3);
  auto end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  url.target = end == std::string_view::npos ? "/" : std::string(rest.substr(end));
  if (url.target.front() != '/') url.target.insert(0, "/");
  if (auto hash = url.target.find('#'); hash != std::string::npos) url.target.resize(hash);
  if (authority.find('@') != std::string_view::npos) return bad("user information in URLs is not accepted");
  std::string_view host = authority;
  if (authority.starts_with('[')) {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated IPv6 address");
    host = authority.substr(0, close + 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return bad("invalid host");
      url.port = std::string(authority.substr(close + 2));
    }
  } else if (auto colon = authority.find(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    url.port = std::string(authority.substr(colon + 1));
  }
  if (host.empty()) return bad("missing host");
  if (!std::ranges::all_of(url.port, [](char c) { return c >= '0' && c <= '9'; }) || url.port.size() > 5)
    return bad("invalid port");
  url.host = lowercase(host);
  return url;
}

Result<std::string> resolve_url(std::string_view base, std::string_view location) {
  if (location.empty()) return fail(Errc::invalid, "empty Location header");
  if (location.find("://") != std::string_view::npos && location.find("://") < location.find_first_of("/?")) {
    auto url = parse_url(location);
    if (!url) return std::unexpected(url.error());
    return url->str();
  }
  auto base_url = parse_url(base);
  if (!base_url) return std::unexpected(base_url.error());
  if (location.starts_with("//")) {
    auto url = parse_url(base_url->scheme + ":" + std::string(location));
    if (!url) return std::unexpected(url.error());
    return url->str();
  }
  if (location.starts_with('/')) return base_url->origin() + std::string(location);
  std::string_view path = base_url->target;
  path = path.substr(0, path.find('?'));
  if (location.starts_with('?')) return base_url->origin() + std::string(path) + std::string(location);
  path = path.substr(0, path.rfind('/') + 1);
  return base_url->origin() + std::string(path) + std::string(location);
}

std::string percent_encode(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(char(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string add_query(std::string_view url, std::string_view key, std::string_view value) {
  std::string out(url);
  char joiner = out.find('?') == std::string::npos ? '?' : (out.ends_with('?') || out.ends_with('&') ? '\0' : '&');
  if (joiner) out.push_back(joiner);
  return out + percent_encode(key) + "=" + percent_encode(value);
}

bool is_loopback_host(std::string_view host) {
  std::string lower = lowercase(host);
  if (lower == "localhost" || lower == "[::1]" || lower == "::1") return true;
  return lower.starts_with("127.") &&
         std::ranges::all_of(lower, [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

std::string redact_url(std::string_view url) {
  static constexpr std::array<std::string_view, 7> k_harmless{"digest", "mount", "from", "n", "last",
                                                             "service", "scope"};
  auto query = url.find('?');
  if (query == std::string_view::npos) return std::string(url);
  std::string out(url.substr(0, query + 1));
  std::string_view rest = url.substr(query + 1);
  bool first = true;
  while (!rest.empty() || first) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    auto eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    if (!first) out.push_back('&');
    bool keep = eq == std::string_view::npos || std::ranges::find(k_harmless, key) != k_harmless.end();
    out += keep ? std::string(pair) : std::string(key) + "=***";
    first = false;
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return out;
}

}  // namespace mlctl::oci::remote
