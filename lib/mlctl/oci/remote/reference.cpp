#include <mlctl/oci/remote/reference.hpp>

#include <mlctl/core/digest.hpp>

#include <fmt/format.h>

#include <cctype>

namespace mlctl::oci::remote {

namespace {

constexpr size_t k_max_name_length = 255;
constexpr size_t k_max_tag_length = 128;

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_alnum(char c) { return is_lower_alnum(c) || (c >= 'A' && c <= 'Z'); }
bool is_word(char c) { return is_alnum(c) || c == '_'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }

// The first path element is a registry host only when it looks like one, as in docker:
// it has a dot or a port, or is "localhost" (so "library/python" stays on Docker Hub).
bool looks_like_host(std::string_view first) {
  if (first == "localhost") return true;
  if (first.find_first_of(".:[") != std::string_view::npos) return true;
  for (char c : first)
    if (is_upper(c)) return true;
  return false;
}

// domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
bool valid_domain_component(std::string_view part) {
  if (part.empty() || part.front() == '-' || part.back() == '-') return false;
  for (char c : part)
    if (!is_alnum(c) && c != '-') return false;
  return true;
}

Result<void> check_host(std::string_view host) {
  std::string_view name = host;
  std::string_view port;
  if (host.starts_with('[')) {
    auto close = host.find(']');
    if (close == std::string_view::npos) return fail(Errc::invalid, "unterminated IPv6 address");
    for (char c : host.substr(1, close - 1))
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.')
        return fail(Errc::invalid, fmt::format("invalid IPv6 address in '{}'", host));
    if (close + 1 < host.size()) {
      if (host[close + 1] != ':') return fail(Errc::invalid, fmt::format("invalid host '{}'", host));
      port = host.substr(close + 2);
      if (port.empty()) return fail(Errc::invalid, fmt::format("empty port in '{}'", host));
    }
    name = {};
  } else if (auto colon = host.find(':'); colon != std::string_view::npos) {
    name = host.substr(0, colon);
    port = host.substr(colon + 1);
    if (port.empty()) return fail(Errc::invalid, fmt::format("empty port in '{}'", host));
  }
  if (!port.empty()) {
    if (port.size() > 5) return fail(Errc::invalid, fmt::format("invalid port in '{}'", host));
    unsigned value = 0;
    for (char c : port) {
      if (c < '0' || c > '9') return fail(Errc::invalid, fmt::format("invalid port in '{}'", host));
      value = value * 10 + unsigned(c - '0');
    }
    if (value == 0 || value > 65535)
      return fail(Errc::invalid, fmt::format("port out of range in '{}'", host));
  }
  if (host.starts_with('[')) return {};
  size_t start = 0;
  while (true) {
    auto dot = name.find('.', start);
    if (!valid_domain_component(name.substr(start, dot - start)))
      return fail(Errc::invalid, fmt::format("invalid registry host '{}'", host));
    if (dot == std::string_view::npos) return {};
    start = dot + 1;
  }
}

// path-component := [a-z0-9]+ (separator [a-z0-9]+)*, separator := [_.] | "__" | "-"+
Result<void> check_path_component(std::string_view part) {
  if (part.empty()) return fail(Errc::invalid, "empty repository path component");
  for (char c : part)
    if (is_upper(c)) return fail(Errc::invalid, "repository name must be lowercase");
  size_t i = 0;
  while (i < part.size()) {
    if (!is_lower_alnum(part[i])) {
      return fail(Errc::invalid,
                  fmt::format("invalid character '{}' in repository path component '{}'", part[i], part));
    }
    while (i < part.size() && is_lower_alnum(part[i])) ++i;
    if (i == part.size()) return {};
    size_t sep = i;
    while (i < part.size() && !is_lower_alnum(part[i])) ++i;
    std::string_view separator = part.substr(sep, i - sep);
    bool dashes = separator.find_first_not_of('-') == std::string_view::npos;
    if (!(separator == "." || separator == "_" || separator == "__" || dashes))
      return fail(Errc::invalid, fmt::format("invalid separator '{}' in repository path component '{}'",
                                             separator, part));
    if (i == part.size())
      return fail(Errc::invalid, fmt::format("repository path component '{}' ends with a separator", part));
  }
  return {};
}

// tag := [\w][\w.-]{0,127}
Result<void> check_tag(std::string_view tag) {
  if (tag.empty()) return fail(Errc::invalid, "empty tag");
  if (tag.size() > k_max_tag_length)
    return fail(Errc::invalid, fmt::format("tag is longer than {} characters", k_max_tag_length));
  if (!is_word(tag.front())) return fail(Errc::invalid, fmt::format("tag '{}' must start with a letter, digit or '_'", tag));
  for (char c : tag)
    if (!is_word(c) && c != '.' && c != '-')
      return fail(Errc::invalid, fmt::format("invalid character '{}' in tag '{}'", c, tag));
  return {};
}

Result<Reference> parse_parts(std::string_view text) {
  Reference ref;
  std::string_view rest = text;
  if (auto at = rest.find('@'); at != std::string_view::npos) {
    ref.digest = std::string(rest.substr(at + 1));
    rest = rest.substr(0, at);
    if (auto ok = core::check_sha256_digest(ref.digest); !ok) return std::unexpected(ok.error());
  }
  auto last_slash = rest.rfind('/');
  auto colon = rest.rfind(':');
  if (colon != std::string_view::npos && (last_slash == std::string_view::npos || colon > last_slash)) {
    ref.tag = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
    if (auto ok = check_tag(ref.tag); !ok) return std::unexpected(ok.error());
  }
  if (rest.empty()) return fail(Errc::invalid, "missing repository name");
  std::string_view path = rest;
  auto slash = rest.find('/');
  if (slash != std::string_view::npos && looks_like_host(rest.substr(0, slash))) {
    ref.registry = std::string(rest.substr(0, slash));
    path = rest.substr(slash + 1);
    if (auto ok = check_host(ref.registry); !ok) return std::unexpected(ok.error());
  } else {
    ref.registry = std::string(k_docker_hub);
  }
  if (rest.size() > k_max_name_length)
    return fail(Errc::invalid, fmt::format("name is longer than {} characters", k_max_name_length));
  size_t start = 0;
  while (true) {
    auto next = path.find('/', start);
    if (auto ok = check_path_component(path.substr(start, next - start)); !ok) return std::unexpected(ok.error());
    if (next == std::string_view::npos) break;
    start = next + 1;
  }
  ref.repository = std::string(path);
  if (ref.registry == "index.docker.io") ref.registry = std::string(k_docker_hub);
  if (ref.registry == k_docker_hub && ref.repository.find('/') == std::string::npos)
    ref.repository = "library/" + ref.repository;
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = std::string(k_default_tag);
  return ref;
}

}  // namespace

std::string Reference::str() const {
  std::string out = registry + "/" + repository;
  if (!tag.empty()) out += ":" + tag;
  if (!digest.empty()) out += "@" + digest;
  return out;
}

std::string Reference::identifier() const { return digest.empty() ? tag : digest; }

std::string Reference::api_host() const {
  return registry == k_docker_hub ? std::string("registry-1.docker.io") : registry;
}

Result<Reference> parse_reference(std::string_view text) {
  if (text.empty()) return fail(Errc::invalid, "empty image reference");
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= ' ' || static_cast<unsigned char>(c) >= 0x7f)
      return fail(Errc::invalid, fmt::format("invalid image reference '{}': it contains a space or "
                                             "a control or non-ASCII character", text));
  }
  auto ref = parse_parts(text);
  if (!ref) ref.error().context(fmt::format("invalid image reference '{}'", text));
  return ref;
}

}  // namespace mlctl::oci::remote
