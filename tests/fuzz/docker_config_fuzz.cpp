// Fuzzes what can be fuzzed of the docker config.json reader without a file: the base64 of its
// `auths.<host>.auth` entries (oci::remote::base64_decode), and that encoding then decoding gives
// back the bytes. read_auth_file itself takes a path and may run credential helpers (processes),
// so it has no text-level entry point to fuzz; see README.md.
#include "fuzz_check.hpp"

#include <mlctl/oci/remote/credentials.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mlctl::oci::remote;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto decoded = base64_decode(text)) (void)decoded->find(':');
  auto round_trip = base64_decode(base64_encode(text));
  FUZZ_CHECK(text.empty() ? !round_trip.has_value() : round_trip == text);
  return 0;
}
