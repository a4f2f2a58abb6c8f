#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/core/reporter.hpp>
#include <mlctl/oci/blob_store.hpp>
#include <mlctl/oci/descriptor.hpp>
#include <mlctl/oci/image_config.hpp>
#include <mlctl/oci/remote/client.hpp>
#include <mlctl/oci/remote/credentials.hpp>
#include <mlctl/oci/remote/reference.hpp>
#include <mlctl/oci/remote/transport.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mlctl::build {

// The image a build starts from: its config and layers, and where they come from.
struct BaseImage {
  enum class Source { scratch, registry, layout };
  Source source = Source::scratch;
  std::string name{};  // as written: "scratch", "127.0.0.1:5000/base:1", "oci:/path/dir:tag"
  std::optional<oci::remote::Reference> reference{};  // registry: .digest is the resolved manifest's
  std::filesystem::path layout_dir{};                  // layout
  oci::ImageConfig config{};                           // scratch: an empty config for the platform
  std::vector<oci::Descriptor> layers{};  // from the manifest, bottom first (Docker media types kept)
  std::string manifest_digest{};          // of the platform's manifest; empty for scratch
  std::string config_digest{};            // empty for scratch
};

struct BaseOptions {
  oci::Platform platform{};  // the platform to build for; empty: host_platform()
  oci::remote::Transport* transport = nullptr;  // needed for registry bases (CurlTransport in the CLI)
  const oci::remote::CredentialSources* credentials = nullptr;  // none: anonymous
  oci::remote::ClientOptions client{};                          // insecure, retries...
};

// Resolves `base`: "scratch"; "oci:DIR" or "oci:DIR:TAG" (an OCI image layout; DIR ends at the
// first ':' as in skopeo; TAG is an org.opencontainers.image.ref.name, by default the only image
// in index.json, else "latest"); anything else is a registry reference. Reads the manifest,
// following an index to `options.platform`, and the config.
// Errors: Errc::invalid for a malformed name or a base for another platform; Errc::not_found
// for a missing image, tag or layout ("base image 'HOST/x:1' not found in HOST"), with a hint;
// Errc::remote for other registry failures (the client's message, which never holds a secret).
Result<BaseImage> resolve_base(std::string_view base, const BaseOptions& options, core::Reporter& reporter);

// Makes sure every layer blob of `base` is in `store`: pulled from the registry (in parallel,
// digests checked by the client) or copied from the layout (digests checked here); blobs already
// there are skipped. Reports a step per layer.
Result<void> fetch_base_layers(const BaseImage& base, const oci::BlobStore& store, const BaseOptions& options,
                               core::Reporter& reporter);

// The Python "MAJOR.MINOR" of the base: from the config's PYTHON_VERSION (official python
// images set "3.11.7"), else the highest python3.N found as usr/bin/python3.N, usr/lib/python3.N/
// (or the same under usr/local) in the layers, which must be in `store` (fetch_base_layers first),
// whiteouts applied. std::nullopt when there is none, and for scratch.
Result<std::optional<std::string>> base_python_version(const BaseImage& base, const oci::BlobStore& store);

}  // namespace mlctl::build
