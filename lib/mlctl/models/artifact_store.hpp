#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/core/reporter.hpp>
#include <mlctl/oci/remote/credentials.hpp>
#include <mlctl/oci/remote/transport.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace mlctl::models {

// What a store keeps for a registered artifact: where it is ("file:///abs/.mlctl/artifacts/sha256/<hex>",
// "s3://bucket/prefix/sha256/<hex>", "oci://registry/repository@sha256:<manifest digest>"), the
// "sha256:<hex>" of its bytes (a directory's: of its deterministic tar, see archive.hpp) and
// their size.
struct StoredArtifact {
  std::string uri{};
  std::string digest{};
  std::uint64_t size = 0;
  bool directory = false;
};

struct ArtifactStoreOptions {
  std::filesystem::path project_root{};  // local default: <root>/.mlctl/artifacts
  // oci:// only: the HTTP transport (none: a CurlTransport of the store's own), where registry
  // credentials are looked up (none: CredentialSources::from_environment()), and whether plain
  // http may be used for a registry that is not on the loopback.
  oci::remote::Transport* transport = nullptr;
  const oci::remote::CredentialSources* credentials = nullptr;
  bool insecure = false;
};

// A content-addressed place for model artifacts. Storing the same content twice stores it once.
class ArtifactStore {
public:
  virtual ~ArtifactStore() = default;
  // Copies a file or directory (a directory as a deterministic tar) into the store, verifying the digest.
  // `source` is followed if it is a symlink; symlinks inside a directory are kept, and one that
  // leads outside the directory fails with Errc::invalid. A missing source is Errc::not_found.
  Result<StoredArtifact> put(const std::filesystem::path& source, core::Reporter& reporter);
  // Downloads `uri` to `destination` (a file, or a directory for directory artifacts) and verifies `digest`.
  // `destination` must not exist (Errc::precondition): it is never overwritten. The content is
  // written beside it and renamed into place only once verified, so a failure leaves nothing.
  // A digest mismatch is Errc::failed; an unsafe archive (see extract_tar) Errc::invalid.
  Result<void> get(const StoredArtifact& artifact, const std::filesystem::path& destination,
                   core::Reporter& reporter);

private:
  // What each kind of store does; put and get add which artifact failed to their errors.
  virtual Result<StoredArtifact> store(const std::filesystem::path& source, core::Reporter& reporter) = 0;
  virtual Result<void> fetch(const StoredArtifact& artifact, const std::filesystem::path& destination,
                             core::Reporter& reporter) = 0;
};

// "" or a local path: local content-addressed store; "s3://bucket/prefix"; "oci://registry/repository".
// A relative local path is taken from options.project_root; "file:///abs/path" is the same as
// "/abs/path". s3:// reads its settings from the environment (see s3_store.hpp). An unknown
// scheme ("gs://") or a malformed location fails with Errc::invalid.
Result<std::unique_ptr<ArtifactStore>> open_artifact_store(std::string_view location,
                                                           const ArtifactStoreOptions& options);

}  // namespace mlctl::models
