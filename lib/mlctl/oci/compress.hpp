#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/oci/byte_sink.hpp>

#include <memory>
#include <string_view>

namespace mlctl::oci {

enum class Compression { none, gzip, zstd };

struct CompressionLevels {
  int gzip = 6;
  int zstd = 3;
};

// The layer media type for a compression ("application/vnd.oci.image.layer.v1.tar+gzip").
std::string_view layer_media_type(Compression compression);
std::string_view compression_name(Compression compression);

// A sink that compresses what it is given into `next`. The output depends only on the input and
// the level: gzip has a fixed header (no name, mtime 0, OS "unknown"), zstd runs single-threaded.
Result<std::unique_ptr<ByteSink>> make_compressor(Compression compression, ByteSink& next,
                                                  CompressionLevels levels = {});

// How much a quick deflate (level 1) shrinks `sample`: compressed size / size, 1.0 for empty.
double deflate_ratio(std::string_view sample);

}  // namespace mlctl::oci
