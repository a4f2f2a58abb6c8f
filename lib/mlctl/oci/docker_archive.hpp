#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/oci/blob_store.hpp>
#include <mlctl/oci/image.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace mlctl::oci {

// Writes `image` as the tarball `docker save` makes and `docker load` / `podman load` read:
// manifest.json ({Config, RepoTags, Layers}) and the config and layer blobs under
// blobs/sha256/, taking the layers from `layers`. The tarball is itself deterministic (mtime 0)
// and written to a temporary file renamed over `file`. Layers must be uncompressed or gzip
// (docker load does not read zstd); `repo_tags` are "name:tag" references.
Result<void> write_docker_archive(const std::filesystem::path& file, const Image& image, const BlobStore& layers,
                                  const std::vector<std::string>& repo_tags);

}  // namespace mlctl::oci
