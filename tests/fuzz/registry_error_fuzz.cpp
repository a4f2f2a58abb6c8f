// Fuzzes the reading of a registry's error response: oci::remote::parse_error_body, and
// error_from_status / describe_failure, which turn a status and body into the message a user
// sees. The first byte picks the HTTP status; the rest is the body.
#include <mlctl/oci/remote/registry_error.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

constexpr std::array k_statuses = {0,   200, 202, 302, 400, 401, 403, 404, 405, 408,
                                   409, 413, 416, 429, 500, 502, 503, 504, 599, 999};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mlctl::oci::remote;
  if (size == 0) return 0;
  int status = k_statuses[data[0] % k_statuses.size()];
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  auto entries = parse_error_body(body);
  (void)describe_failure(status, entries, body);
  for (Access access : {Access::read, Access::write}) {
    RegistryError error = error_from_status(status, body, access);
    (void)error.has_code("BLOB_UNKNOWN");
    (void)error.retryable();
  }
  return 0;
}
