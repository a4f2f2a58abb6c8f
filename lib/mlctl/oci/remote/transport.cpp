#include <mlctl/oci/remote/transport.hpp>

#include <strings.h>

#include <algorithm>

namespace mlctl::oci::remote {

namespace {

bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

std::optional<std::string> find_header(const Headers& headers, std::string_view name) {
  for (const auto& [key, value] : headers)
    if (same_name(key, name)) return value;
  return std::nullopt;
}

std::vector<std::string> find_headers(const Headers& headers, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& [key, value] : headers)
    if (same_name(key, name)) out.push_back(value);
  return out;
}

void remove_header(Headers& headers, std::string_view name) {
  std::erase_if(headers, [&](const auto& header) { return same_name(header.first, name); });
}

std::uint64_t body_size(const RequestBody& body) {
  if (const auto* bytes = std::get_if<std::string_view>(&body)) return bytes->size();
  if (const auto* range = std::get_if<FileRange>(&body)) return range->length;
  return 0;
}

}  // namespace mlctl::oci::remote
