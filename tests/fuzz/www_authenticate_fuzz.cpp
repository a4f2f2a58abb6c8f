// Fuzzes the WWW-Authenticate parser, oci::remote::parse_www_authenticate, which reads a
// registry's 401 answer before the client asks the token service named in it.
#include <mlctl/oci/remote/challenge.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view header(reinterpret_cast<const char*>(data), size);
  auto challenges = mlctl::oci::remote::parse_www_authenticate(header);
  if (!challenges) return 0;
  for (const auto& challenge : *challenges) {
    (void)challenge.param("realm");
    (void)challenge.param("service");
    (void)challenge.param("scope");
  }
  return 0;
}
