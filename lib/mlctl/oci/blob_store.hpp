#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/oci/byte_sink.hpp>
#include <mlctl/core/temp_file.hpp>

#include <filesystem>
#include <string>
#include <string_view>

namespace mlctl::oci {

// Content-addressed blobs in `<root>/blobs/sha256/<hex>`, the layout of an OCI image layout,
// so a layout folder is also a store. A blob appears whole or not at all: it is written to a
// temporary file in `root` and renamed into place.
class BlobStore {
public:
  explicit BlobStore(std::filesystem::path root) : root_(std::move(root)) {}

  const std::filesystem::path& root() const { return root_; }

  // False also for a digest that is not "sha256:<64 hex>".
  bool has(std::string_view digest) const;
  // Where the blob is (or would be); fails for a digest that is not "sha256:<64 hex>", so a
  // hostile digest never names a path outside the store.
  Result<std::filesystem::path> path(std::string_view digest) const;

  // A temporary file to stream a blob into, on the same filesystem as the blobs.
  Result<core::TempFile> create_temp() const;
  // Moves a finished temporary file into place as `digest` (which the caller computed while
  // writing it). When the blob is already there the temporary file is dropped.
  Result<std::filesystem::path> put(core::TempFile file, std::string_view digest) const;
  // Stores small content (a config, a manifest) and returns its digest.
  Result<std::string> put(std::string_view content) const;
  // Copies a blob of another store in (a hard link when both are on one filesystem).
  Result<void> copy_from(const BlobStore& other, std::string_view digest) const;

private:
  std::filesystem::path root_;
};

}  // namespace mlctl::oci
