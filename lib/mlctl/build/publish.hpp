#pragma once

#include <mlctl/build/image_build.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/core/reporter.hpp>
#include <mlctl/oci/remote/client.hpp>
#include <mlctl/oci/remote/credentials.hpp>
#include <mlctl/oci/remote/reference.hpp>
#include <mlctl/oci/remote/transport.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mlctl::build {

// Where `--output` writes the image.
struct Output {
  enum class Kind { oci_layout, docker_archive };
  Kind kind = Kind::oci_layout;
  std::filesystem::path path{};

  std::string str() const;  // "oci:DIR", "docker-archive:FILE"
};

// Parses "oci:DIR" or "docker-archive:FILE"; Errc::invalid otherwise.
Result<Output> parse_output(std::string_view text);

struct RegistryAccess {
  oci::remote::Transport* transport = nullptr;
  const oci::remote::CredentialSources* credentials = nullptr;
  oci::remote::ClientOptions client{};
};

struct PushReport {
  // For each layer of the image, in order, then the config: what the registry needed.
  std::vector<oci::remote::BlobPush> layers{};
  oci::remote::BlobPush config{};
  std::uint64_t uploaded_bytes = 0;
  std::vector<std::string> references{};  // "REPOSITORY:TAG@sha256:..." per tag
};

// Pushes `built` to `repository` (a reference whose tag and digest are ignored) under each of
// `tags`: every blob first (base layers mounted from the base's repository on the same registry,
// otherwise copied through the local cache; blobs the registry has are skipped), then the
// manifest once per tag, so no tag ever points at a missing blob.
Result<PushReport> push_image(const BuiltImage& built, const LayerCache& cache, const oci::remote::Reference& repository,
                              const std::vector<std::string>& tags, const RegistryAccess& access,
                              const BaseOptions& base_options, core::Reporter& reporter);

// Writes `built` as an OCI layout (tagged with the first tag) or a docker-archive tarball (with
// REPOSITORY:TAG for each tag), fetching the base's layers into the cache first.
Result<void> write_output(const BuiltImage& built, const LayerCache& cache, const Output& output,
                          const oci::remote::Reference& repository, const std::vector<std::string>& tags,
                          const BaseOptions& base_options, core::Reporter& reporter);

}  // namespace mlctl::build
