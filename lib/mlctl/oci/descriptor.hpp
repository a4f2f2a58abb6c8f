#pragma once

#include <mlctl/core/error.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mlctl::oci {

using Annotations = std::map<std::string, std::string>;

// The platform an image runs on, as an index entry names it.
struct Platform {
  std::string architecture{};  // "amd64", "arm64"
  std::string os{};            // "linux"
  std::string os_version{};
  std::vector<std::string> os_features{};
  std::string variant{};  // "v8" for arm64

  bool operator==(const Platform&) const = default;
};

// A pointer to content by digest: what a manifest says about its config and layers.
struct Descriptor {
  std::string media_type{};
  std::string digest{};  // "sha256:<hex>"
  std::int64_t size = 0;
  std::vector<std::string> urls{};
  Annotations annotations{};
  std::optional<Platform> platform{};
  std::string artifact_type{};

  bool operator==(const Descriptor&) const = default;
};

// The canonical JSON of a descriptor: sorted keys, no whitespace, empty fields left out.
std::string to_json(const Descriptor& descriptor);

// Fails with Errc::invalid naming the field that is missing or of the wrong type.
Result<Descriptor> parse_descriptor(std::string_view json);

}  // namespace mlctl::oci
