// Fuzzes the OCI image configuration parser, oci::parse_image_config (OCI and Docker configs).
// What it accepts must survive a round trip: its canonical JSON (to_json) parses back to the same
// canonical JSON, so the config digest of a rebuilt image is stable.
#include "fuzz_check.hpp"

#include <mlctl/oci/image_config.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view json(reinterpret_cast<const char*>(data), size);
  auto parsed = mlctl::oci::parse_image_config(json);
  if (!parsed) return 0;
  std::string canonical = mlctl::oci::to_json(*parsed);
  auto again = mlctl::oci::parse_image_config(canonical);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(mlctl::oci::to_json(*again) == canonical);
  return 0;
}
