#include <mlctl/oci/compress.hpp>

#include <mlctl/oci/media_types.hpp>

#include <zlib.h>
#include <zstd.h>

#include <string>

namespace mlctl::oci {

namespace {

constexpr size_t k_out_buffer = 1 << 20;

class PassThrough : public ByteSink {
public:
  explicit PassThrough(ByteSink& next) : next_(next) {}
  Result<void> write(std::string_view data) override { return next_.write(data); }
  Result<void> finish() override { return next_.finish(); }

private:
  ByteSink& next_;
};

class GzipSink : public ByteSink {
public:
  GzipSink(ByteSink& next, int level) : next_(next), out_(k_out_buffer, '\0') {
    // windowBits 15 + 16 asks for a gzip wrapper; the header is then set by hand.
    ok_ = deflateInit2(&stream_, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
    header_.os = 255;
    if (ok_) ok_ = deflateSetHeader(&stream_, &header_) == Z_OK;
  }
  ~GzipSink() override { deflateEnd(&stream_); }

  bool ok() const { return ok_; }
  Result<void> write(std::string_view data) override { return run(data, Z_NO_FLUSH); }
  Result<void> finish() override {
    if (auto done = run({}, Z_FINISH); !done) return done;
    return next_.finish();
  }

private:
  Result<void> run(std::string_view data, int flush) {
    stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    stream_.avail_in = static_cast<uInt>(data.size());
    int status = Z_OK;
    do {
      stream_.next_out = reinterpret_cast<Bytef*>(out_.data());
      stream_.avail_out = static_cast<uInt>(out_.size());
      status = deflate(&stream_, flush);
      if (status == Z_STREAM_ERROR) return fail(Errc::failed, "gzip: compression failed");
      size_t produced = out_.size() - stream_.avail_out;
      if (produced > 0) {
        if (auto written = next_.write({out_.data(), produced}); !written) return written;
      }
    } while (stream_.avail_out == 0 || (flush == Z_FINISH && status != Z_STREAM_END));
    return {};
  }

  ByteSink& next_;
  z_stream stream_{};
  gz_header header_{};
  std::string out_;
  bool ok_ = false;
};

class ZstdSink : public ByteSink {
public:
  ZstdSink(ByteSink& next, int level) : next_(next), context_(ZSTD_createCCtx()), out_(k_out_buffer, '\0') {
    ok_ = context_ && !ZSTD_isError(ZSTD_CCtx_setParameter(context_, ZSTD_c_compressionLevel, level)) &&
          !ZSTD_isError(ZSTD_CCtx_setParameter(context_, ZSTD_c_checksumFlag, 0));
  }
  ~ZstdSink() override { ZSTD_freeCCtx(context_); }

  bool ok() const { return ok_; }
  Result<void> write(std::string_view data) override { return run(data, ZSTD_e_continue); }
  Result<void> finish() override {
    if (auto done = run({}, ZSTD_e_end); !done) return done;
    return next_.finish();
  }

private:
  Result<void> run(std::string_view data, ZSTD_EndDirective mode) {
    ZSTD_inBuffer in{data.data(), data.size(), 0};
    size_t remaining = 0;
    do {
      ZSTD_outBuffer out{out_.data(), out_.size(), 0};
      remaining = ZSTD_compressStream2(context_, &out, &in, mode);
      if (ZSTD_isError(remaining)) return fail(Errc::failed, std::string("zstd: ") + ZSTD_getErrorName(remaining));
      if (out.pos > 0) {
        if (auto written = next_.write({out_.data(), out.pos}); !written) return written;
      }
    } while (mode == ZSTD_e_end ? remaining != 0 : in.pos < in.size);
    return {};
  }

  ByteSink& next_;
  ZSTD_CCtx* context_;
  std::string out_;
  bool ok_ = false;
};

}  // namespace

std::string_view layer_media_type(Compression compression) {
  switch (compression) {
    case Compression::none: return k_oci_layer;
    case Compression::gzip: return k_oci_layer_gzip;
    case Compression::zstd: return k_oci_layer_zstd;
  }
  return k_oci_layer;
}

std::string_view compression_name(Compression compression) {
  switch (compression) {
    case Compression::none: return "none";
    case Compression::gzip: return "gzip";
    case Compression::zstd: return "zstd";
  }
  return "none";
}

Result<std::unique_ptr<ByteSink>> make_compressor(Compression compression, ByteSink& next,
                                                  CompressionLevels levels) {
  switch (compression) {
    case Compression::none: return std::make_unique<PassThrough>(next);
    case Compression::gzip: {
      auto sink = std::make_unique<GzipSink>(next, levels.gzip);
      if (!sink->ok()) return fail(Errc::invalid, "gzip: cannot start level " + std::to_string(levels.gzip));
      return sink;
    }
    case Compression::zstd: {
      auto sink = std::make_unique<ZstdSink>(next, levels.zstd);
      if (!sink->ok()) return fail(Errc::invalid, "zstd: cannot start level " + std::to_string(levels.zstd));
      return sink;
    }
  }
  return fail(Errc::invalid, "unknown compression");
}

double deflate_ratio(std::string_view sample) {
  if (sample.empty()) return 1.0;
  uLongf bound = compressBound(static_cast<uLong>(sample.size()));
  std::string out(bound, '\0');
  if (compress2(reinterpret_cast<Bytef*>(out.data()), &bound, reinterpret_cast<const Bytef*>(sample.data()),
                static_cast<uLong>(sample.size()), 1) != Z_OK) {
    return 1.0;
  }
  return static_cast<double>(bound) / static_cast<double>(sample.size());
}

}  // namespace mlctl::oci
