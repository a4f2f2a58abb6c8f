// Fuzzes the docker config.json reader at its text level (oci::remote::lookup_auth_config: JSON
// text in, a credential or a helper name out, nothing run) for three kinds of registry host, and
// the base64 of `auths.<host>.auth` entries: decoding any text, and encoding then decoding gives
// back the bytes.
#include "fuzz_check.hpp"

#include <mlctl/oci/remote/credentials.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mlctl::oci::remote;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (std::string_view registry : {"reg.example.com", "docker.io", "127.0.0.1:5000"}) {
    auto found = lookup_auth_config(text, "config.json", registry);
    if (!found) continue;
    FUZZ_CHECK(!(found->credential && !found->helper.empty()));
    if (found->credential) {
      FUZZ_CHECK(found->credential->source == "config.json");
      FUZZ_CHECK(!found->credential->password.empty() || !found->credential->identity_token.empty());
    }
  }
  if (auto decoded = base64_decode(text)) (void)decoded->find(':');
  auto round_trip = base64_decode(base64_encode(text));
  FUZZ_CHECK(text.empty() ? !round_trip.has_value() : round_trip == text);
  return 0;
}
