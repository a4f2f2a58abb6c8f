// Fuzzes the OCI image manifest parser, oci::parse_manifest (OCI and Docker media types). What it
// accepts must survive a round trip: its canonical JSON (to_json) parses back to an equal value,
// so a digest computed from it is stable.
#include "fuzz_check.hpp"

#include <mlctl/oci/manifest.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view json(reinterpret_cast<const char*>(data), size);
  auto parsed = mlctl::oci::parse_manifest(json);
  if (!parsed) return 0;
  std::string canonical = mlctl::oci::to_json(*parsed);
  auto again = mlctl::oci::parse_manifest(canonical);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(mlctl::oci::to_json(*again) == canonical);
  return 0;
}
