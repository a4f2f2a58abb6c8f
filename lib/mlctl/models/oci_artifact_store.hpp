#pragma once

#include <mlctl/models/artifact_store.hpp>

#include <string_view>

namespace mlctl::models {

// Annotations of the manifest an artifact is pushed as.
inline constexpr std::string_view k_artifact_digest_annotation = "io.mlctl.artifact.digest";
inline constexpr std::string_view k_artifact_size_annotation = "io.mlctl.artifact.size";
inline constexpr std::string_view k_artifact_kind_annotation = "io.mlctl.artifact.kind";  // "file" or "directory"

// A store in an OCI registry, "oci://registry/repository". Each artifact is pushed as a KServe
// modelcar-compatible image: one uncompressed layer holding the files under `models/` (a
// directory's content, or the single file under its own name), a minimal config (linux, the
// host's architecture, no entrypoint), the artifact's digest, size and kind in the manifest's
// annotations, tagged "sha256-<hex of the artifact digest>". uri:
// "oci://registry/repository@sha256:<manifest digest>". get pulls that manifest and its layer,
// extracts `models/` safely and checks the artifact digest of what was extracted.
Result<std::unique_ptr<ArtifactStore>> open_oci_store(std::string_view location, const ArtifactStoreOptions& options);

}  // namespace mlctl::models
