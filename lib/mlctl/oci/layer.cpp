#include <mlctl/oci/layer.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

namespace mlctl::oci {

namespace {

constexpr size_t k_window = 64 * 1024;
constexpr std::uint64_t k_sample_budget = 8 * 1024 * 1024;
constexpr double k_worth_compressing = 0.9;

// Up to three windows (start, middle, end) of a file, or all of it when it is small.
std::string sample_file(const std::filesystem::path& path, std::uint64_t& size) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return {};
  struct stat info {};
  std::string sample;
  if (::fstat(fd, &info) == 0 && S_ISREG(info.st_mode)) {
    size = static_cast<std::uint64_t>(info.st_size);
    std::vector<std::uint64_t> offsets{0};
    if (size > 3 * k_window) offsets = {0, size / 2, size - k_window};
    size_t length = size > 3 * k_window ? k_window : static_cast<size_t>(size);
    for (std::uint64_t offset : offsets) {
      std::string window(length, '\0');
      ssize_t n = ::pread(fd, window.data(), length, static_cast<off_t>(offset));
      if (n > 0) sample.append(window.data(), static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return sample;
}

std::string sample_content(std::string_view content) {
  if (content.size() <= 3 * k_window) return std::string(content);
  std::string sample(content.substr(0, k_window));
  sample.append(content.substr(content.size() / 2, k_window));
  sample.append(content.substr(content.size() - k_window));
  return sample;
}

// Tells the reporter how far the tar is, every few MiB rather than on every header.
class ProgressSink : public ByteSink {
public:
  ProgressSink(ByteSink& next, core::Reporter& reporter, std::string_view id)
      : next_(next), reporter_(reporter), id_(id) {}
  Result<void> write(std::string_view data) override {
    done_ += data.size();
    if (done_ - reported_ >= k_report_every) {
      reporter_.advance(id_, done_);
      reported_ = done_;
    }
    return next_.write(data);
  }
  Result<void> finish() override {
    reporter_.advance(id_, done_);
    return next_.finish();
  }

private:
  static constexpr std::uint64_t k_report_every = 4 << 20;
  ByteSink& next_;
  core::Reporter& reporter_;
  std::string id_;
  std::uint64_t done_ = 0;
  std::uint64_t reported_ = 0;
};

// About the size of the tar: content in 512-byte blocks plus a header each.
std::uint64_t estimated_tar_size(const std::vector<TarEntry>& entries) {
  std::uint64_t total = 1024;
  for (const TarEntry& entry : entries) {
    std::uint64_t size = entry.content.size();
    std::error_code ec;
    if (entry.kind == TarEntry::Kind::file && !entry.source.empty()) size = std::filesystem::file_size(entry.source, ec);
    total += 512 + (ec ? 0 : (size + 511) / 512 * 512);
  }
  return total;
}

Compression resolve(CompressionMode mode, const std::vector<TarEntry>& entries) {
  switch (mode) {
    case CompressionMode::none: return Compression::none;
    case CompressionMode::gzip: return Compression::gzip;
    case CompressionMode::zstd: return Compression::zstd;
    case CompressionMode::automatic: return choose_compression(entries);
  }
  return Compression::gzip;
}

}  // namespace

Compression choose_compression(const std::vector<TarEntry>& entries) {
  double total = 0;
  double estimated = 0;
  double sampled_ratio_sum = 0;
  int sampled_files = 0;
  std::uint64_t budget = k_sample_budget;
  for (const TarEntry& entry : entries) {
    if (entry.kind != TarEntry::Kind::file) continue;
    std::uint64_t size = entry.content.size();
    if (budget == 0) {
      std::error_code ec;
      if (!entry.source.empty()) size = std::filesystem::file_size(entry.source, ec);
      if (ec) continue;
      double mean = sampled_files ? sampled_ratio_sum / sampled_files : 1.0;
      total += static_cast<double>(size);
      estimated += static_cast<double>(size) * mean;
      continue;
    }
    std::string sample = entry.source.empty() ? sample_content(entry.content) : sample_file(entry.source, size);
    if (sample.empty()) continue;
    double ratio = deflate_ratio(sample);
    budget -= std::min<std::uint64_t>(budget, sample.size());
    sampled_ratio_sum += ratio;
    ++sampled_files;
    total += static_cast<double>(size);
    estimated += static_cast<double>(size) * ratio;
  }
  if (total == 0) return Compression::gzip;
  return estimated / total > k_worth_compressing ? Compression::none : Compression::gzip;
}

Result<Layer> build_layer(std::vector<TarEntry> entries, const LayerOptions& options, const BlobStore& store,
                          core::Reporter& reporter) {
  Compression compression = resolve(options.compression, entries);
  std::string what = "building " + options.name;
  reporter.begin(options.name, what, estimated_tar_size(entries));
  auto file = store.create_temp();
  if (!file) return std::unexpected(file.error());
  FileSink file_sink(file->fd());
  HashingSink blob(file_sink);
  // An uncompressed blob is the tar itself: hashing it once gives both digests.
  bool same = compression == Compression::none;
  std::unique_ptr<ByteSink> compressor;
  if (!same) {
    auto made = make_compressor(compression, blob, options.levels);
    if (!made) return std::unexpected(made.error());
    compressor = std::move(*made);
  }
  HashingSink tar(same ? static_cast<ByteSink&>(file_sink) : *compressor);
  ProgressSink progress(tar, reporter, options.name);
  auto written = write_tar(std::move(entries), options.epoch, progress);
  if (written) written = progress.finish();
  reporter.end(options.name);
  if (!written) return std::unexpected(written.error().context(what));

  Layer layer;
  layer.compression = compression;
  layer.diff_id = tar.digest();
  layer.tar_size = tar.size();
  layer.descriptor = Descriptor{.media_type = std::string(layer_media_type(compression)),
                                .digest = same ? layer.diff_id : blob.digest(),
                                .size = static_cast<std::int64_t>(same ? tar.size() : blob.size())};
  if (auto stored = store.put(std::move(*file), layer.descriptor.digest); !stored) {
    return std::unexpected(stored.error());
  }
  return layer;
}

}  // namespace mlctl::oci
