#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/core/reporter.hpp>
#include <mlctl/oci/blob_store.hpp>
#include <mlctl/oci/compress.hpp>
#include <mlctl/oci/descriptor.hpp>
#include <mlctl/oci/tar_writer.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace mlctl::oci {

enum class CompressionMode { automatic, none, gzip, zstd };

struct LayerOptions {
  // automatic: gzip, unless sampling shows the content does not compress (weights, random data).
  CompressionMode compression = CompressionMode::automatic;
  std::int64_t epoch = 0;  // SOURCE_DATE_EPOCH: the mtime of every entry
  CompressionLevels levels{};
  std::string name = "layer";  // the id in progress reports and errors ("code", "weights")
};

struct Layer {
  Descriptor descriptor{};  // the blob: media type, digest, size
  std::string diff_id{};    // "sha256:<hex>" of the uncompressed tar, for the config's rootfs
  std::uint64_t tar_size = 0;
  Compression compression = Compression::none;
};

// What `automatic` picks for these entries: a quick deflate of a few 64 KiB windows per file
// (at most 8 MiB read in all); none when that saves less than 10%, gzip otherwise.
Compression choose_compression(const std::vector<TarEntry>& entries);

// Builds a layer in one pass: tar -> compressor -> temporary file in `store`, hashing the tar
// (diff_id) and the blob (digest) on the way, then moves the blob into place. Same entries and
// options give the same bytes. On failure nothing is left in the store. Progress is reported
// in bytes of tar written.
Result<Layer> build_layer(std::vector<TarEntry> entries, const LayerOptions& options, const BlobStore& store,
                          core::Reporter& reporter = core::silent_reporter());

}  // namespace mlctl::oci
