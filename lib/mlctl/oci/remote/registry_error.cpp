#include <mlctl/oci/remote/registry_error.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace mlctl::oci::remote {

namespace {

constexpr size_t k_max_body_excerpt = 200;

std::string_view reason_phrase(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 416: return "Range Not Satisfiable";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "unexpected status";
  }
}

// The first line of a body that is not JSON, printable characters only, bounded.
std::string excerpt(std::string_view body) {
  std::string out;
  for (char c : body.substr(0, body.find('\n'))) {
    if (out.size() >= k_max_body_excerpt) {
      out += "...";
      break;
    }
    if (static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f) out.push_back(c);
  }
  return out;
}

std::string string_field(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return {};
  return it->is_string() ? it->get<std::string>() : it->dump();
}

}  // namespace

bool RegistryError::has_code(std::string_view code) const {
  return std::ranges::any_of(entries_, [&](const ErrorEntry& e) { return e.code == code; });
}

std::vector<ErrorEntry> parse_error_body(std::string_view body) {
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_discarded() || !json.is_object()) return {};
  auto errors = json.find("errors");
  if (errors == json.end() || !errors->is_array()) return {};
  std::vector<ErrorEntry> entries;
  for (const auto& item : *errors) {
    if (!item.is_object()) continue;
    entries.push_back({string_field(item, "code"), string_field(item, "message"), string_field(item, "detail")});
  }
  return entries;
}

std::string describe_failure(int status, const std::vector<ErrorEntry>& entries, std::string_view body) {
  if (entries.empty()) {
    std::string text = fmt::format("{} {}", status, reason_phrase(status));
    if (auto start = excerpt(body); !start.empty() && start.front() != '<') text += ": " + start;
    return text;
  }
  std::string text = std::to_string(status);
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& entry = entries[i];
    text += i == 0 ? " " : "; ";
    text += entry.code.empty() ? std::string(reason_phrase(status)) : entry.code;
    if (!entry.message.empty()) text += ": " + entry.message;
  }
  return text;
}

bool is_retryable_status(int status) { return status == 408 || status == 429 || (status >= 500 && status <= 599); }

RegistryError error_from_status(int status, std::string_view body, Access access) {
  auto entries = parse_error_body(body);
  bool unknown = status == 404 || std::ranges::any_of(entries, [](const ErrorEntry& e) {
                   return e.code == "MANIFEST_UNKNOWN" || e.code == "BLOB_UNKNOWN" || e.code == "NAME_UNKNOWN";
                 });
  Errc code = access == Access::read && unknown ? Errc::not_found : Errc::remote;
  RegistryError error(code, describe_failure(status, entries, body), status, entries, is_retryable_status(status));
  if (status == 401)
    error.with_hint("check the registry credentials (MLCTL_REGISTRY_USERNAME and MLCTL_REGISTRY_PASSWORD, "
                    "or docker login)");
  else if (status == 403)
    error.with_hint("the credentials are valid but lack access to this repository");
  return error;
}

}  // namespace mlctl::oci::remote
