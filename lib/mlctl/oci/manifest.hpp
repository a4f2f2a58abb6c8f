#pragma once

#include <mlctl/oci/descriptor.hpp>
#include <mlctl/oci/media_types.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mlctl::oci {

// An image manifest: OCI, or Docker v2 schema 2 (same shape, other media types).
struct Manifest {
  int schema_version = 2;
  std::string media_type{k_oci_manifest};
  std::string artifact_type{};
  Descriptor config{};
  std::vector<Descriptor> layers{};
  std::optional<Descriptor> subject{};
  Annotations annotations{};

  bool operator==(const Manifest&) const = default;
};

// An image index: OCI, or a Docker manifest list; also the index.json of an OCI layout.
struct Index {
  int schema_version = 2;
  std::string media_type{k_oci_index};
  std::string artifact_type{};
  std::vector<Descriptor> manifests{};
  std::optional<Descriptor> subject{};
  Annotations annotations{};

  bool operator==(const Index&) const = default;
};

// Canonical JSON bytes: sorted keys, no whitespace, empty optional fields left out, so the
// same value always gives the same digest.
std::string to_json(const Manifest& manifest);
std::string to_json(const Index& index);

// Both parsers accept OCI and Docker media types and ignore unknown fields; they fail with
// Errc::invalid naming the field ("layers[1].digest: expected a string").
Result<Manifest> parse_manifest(std::string_view json);
Result<Index> parse_index(std::string_view json);

}  // namespace mlctl::oci
