#pragma once

#include <mlctl/core/reporter.hpp>
#include <mlctl/oci/media_types.hpp>
#include <mlctl/oci/remote/credentials.hpp>
#include <mlctl/oci/remote/reference.hpp>
#include <mlctl/oci/remote/registry_error.hpp>
#include <mlctl/oci/remote/retry.hpp>
#include <mlctl/oci/remote/session.hpp>
#include <mlctl/oci/remote/transport.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace mlctl::oci::remote {

struct ClientOptions {
  Insecure insecure = Insecure::no;
  RetryPolicy retry;
  // Blobs up to this size go in one PUT; larger ones in PATCH chunks of chunk_size.
  std::uint64_t chunk_threshold = 64ull << 20;
  std::uint64_t chunk_size = 16ull << 20;
  unsigned parallelism = 4;  // blobs pushed at once by push_blobs
  Sleeper sleep;             // empty: really sleep (tests pass a recorder)
  Jitter jitter;             // empty: uniform random in [0, 1)
};

// A blob to push: its digest and size, and the bytes in memory (which must outlive the call)
// or in a file (read only when the blob is uploaded, not when the registry has it or mounts it).
struct Blob {
  std::string digest;
  std::uint64_t size = 0;
  std::variant<std::string_view, std::filesystem::path> content;
};

struct BlobPush {
  enum class How { existed, mounted, uploaded };
  std::string digest;
  How how = How::uploaded;
  std::uint64_t uploaded_bytes = 0;  // 0 unless uploaded

  bool operator==(const BlobPush&) const = default;
};

struct PushSummary {
  std::vector<BlobPush> blobs;  // in the order given
  std::uint64_t uploaded_bytes = 0;
};

struct Manifest {
  std::string bytes;
  std::string media_type;
  std::string digest;
};

struct ManifestInfo {
  std::string media_type;
  std::string digest;  // from Docker-Content-Digest; empty if the registry did not say
  std::uint64_t size = 0;
};

// A client of one registry (OCI distribution spec v1.1). Operations retry what may succeed
// later under the policy, and fail with a RegistryError (Errc::remote, or Errc::not_found for
// unknown blobs, manifests and repositories on reads) whose message never holds a secret.
// Safe to use from several threads.
class Client {
public:
  // `registry` is host[:port] as in Reference::api_host().
  Client(std::string registry, Transport& transport, std::optional<Credential> credential,
         ClientOptions options = {}, core::Reporter& reporter = core::silent_reporter());
  ~Client();
  Client(Client&&) noexcept;

  // GET /v2/ with authentication: the registry is there and the credentials (if any) work.
  RegistryResult<void> ping();

  RegistryResult<bool> blob_exists(std::string_view repository, std::string_view digest);
  // Pushes a blob unless the registry has it: a HEAD, then a mount from `mount_from` when given
  // (falling back to an upload if the registry declines), then a monolithic or chunked upload.
  // A failed upload is retried from the start.
  RegistryResult<BlobPush> push_blob(std::string_view repository, const Blob& blob,
                                     std::string_view mount_from = {});
  // push_blob for several blobs at once, at most options.parallelism in flight; stops at the
  // first failure.
  RegistryResult<PushSummary> push_blobs(std::string_view repository, std::span<const Blob> blobs,
                                         std::string_view mount_from = {});
  // Downloads a blob to `path` (written whole or not at all) and checks its digest; the size.
  RegistryResult<std::uint64_t> pull_blob(std::string_view repository, std::string_view digest,
                                          const std::filesystem::path& path);

  // `reference` is a tag or a digest.
  RegistryResult<Manifest> get_manifest(std::string_view repository, std::string_view reference);
  // None when the registry does not have it.
  RegistryResult<std::optional<ManifestInfo>> head_manifest(std::string_view repository,
                                                            std::string_view reference);
  // Puts a manifest under a tag or its digest; returns its digest.
  RegistryResult<std::string> put_manifest(std::string_view repository, std::string_view reference,
                                           std::string_view bytes, std::string_view media_type);

  // Retries made so far, over all operations.
  std::uint64_t retries() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A client for the registry of `reference`, with credentials found in `sources`.
Result<Client> make_client(const Reference& reference, Transport& transport, const CredentialSources& sources,
                           ClientOptions options = {}, core::Reporter& reporter = core::silent_reporter());

}  // namespace mlctl::oci::remote
