#pragma once

#include <mlctl/core/error.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace mlctl::oci {

// How a container of the image starts: the `config` object of the image configuration.
struct ContainerConfig {
  std::string user{};
  std::set<std::string> exposed_ports{};  // "8080/tcp"
  std::vector<std::string> env{};         // "KEY=value"
  // Absent and empty differ: an empty entrypoint clears the base image's.
  std::optional<std::vector<std::string>> entrypoint{};
  std::optional<std::vector<std::string>> cmd{};
  std::set<std::string> volumes{};
  std::string working_dir{};
  std::map<std::string, std::string> labels{};
  std::string stop_signal{};

  bool operator==(const ContainerConfig&) const = default;
};

struct History {
  std::string created{};  // RFC 3339
  std::string created_by{};
  std::string author{};
  std::string comment{};
  bool empty_layer = false;

  bool operator==(const History&) const = default;
};

// The image configuration. Docker-only fields of a base image (container_config, Healthcheck...)
// are not kept: mlctl writes OCI configs.
struct ImageConfig {
  std::string created{};  // RFC 3339; empty leaves it out
  std::string author{};
  std::string architecture = "amd64";
  std::string os = "linux";
  std::string os_version{};
  std::string variant{};
  ContainerConfig config{};
  std::vector<std::string> diff_ids{};  // rootfs.diff_ids, "sha256:<hex>" of each uncompressed layer
  std::vector<History> history{};

  bool operator==(const ImageConfig&) const = default;
};

// Canonical JSON bytes (sorted keys, no whitespace, empty fields left out).
std::string to_json(const ImageConfig& config);

// The RFC 3339 UTC time of `epoch` seconds ("2023-11-14T22:13:20Z"), for `created` from
// SOURCE_DATE_EPOCH, so the config does not change with the build's wall clock.
std::string rfc3339_utc(std::int64_t epoch);

// Accepts OCI and Docker configs, ignores unknown fields; fails with Errc::invalid naming the field.
Result<ImageConfig> parse_image_config(std::string_view json);

}  // namespace mlctl::oci
