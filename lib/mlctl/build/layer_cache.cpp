#include <mlctl/build/layer_cache.hpp>

#include <mlctl/core/digest.hpp>
#include <mlctl/core/fs.hpp>
#include <mlctl/oci/compress.hpp>
#include <mlctl/oci/descriptor.hpp>

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace mlctl::build {

namespace fs = std::filesystem;

namespace {

// Bumped whenever the tar writer or the layer format changes what the same entries produce.
constexpr int k_cache_format = 1;

std::int64_t nanoseconds(const timespec& t) { return std::int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec; }

std::int64_t now_nanoseconds() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return nanoseconds(now);
}

std::optional<oci::Compression> parse_compression(std::string_view name) {
  for (auto c : {oci::Compression::none, oci::Compression::gzip, oci::Compression::zstd})
    if (oci::compression_name(c) == name) return c;
  return std::nullopt;
}

}  // namespace

LayerCache::LayerCache(fs::path root) : root_(std::move(root)), blobs_(root_) {}

Result<std::optional<std::string>> LayerCache::key(const std::vector<oci::TarEntry>& entries,
                                                   const oci::LayerOptions& options) const {
  core::Sha256 hash;
  auto add = [&](std::string_view field) {
    hash.update(field);
    hash.update(std::string_view("\0", 1));
  };
  add(fmt::format("mlctl-layer {} epoch {} compression {} gzip {} zstd {}", k_cache_format, options.epoch,
                  static_cast<int>(options.compression), options.levels.gzip, options.levels.zstd));
  const std::int64_t racy_after = now_nanoseconds() - racy_window.count();
  for (const auto& entry : entries) {
    add(entry.path);
    add(fmt::format("{} {}", static_cast<int>(entry.kind), entry.executable));
    add(entry.link_target);
    if (entry.kind != oci::TarEntry::Kind::file) continue;
    if (entry.source.empty()) {
      add(core::sha256_hex(entry.content));
      continue;
    }
    struct stat st{};
    if (::lstat(entry.source.c_str(), &st) != 0)
      return fail(Errc::failed, fmt::format("cannot read {}: {}", entry.source.string(), std::strerror(errno)));
    if (nanoseconds(st.st_mtim) >= racy_after || nanoseconds(st.st_ctim) >= racy_after) return std::nullopt;
    add(fmt::format("{} {} {} {} {} {}", st.st_size, nanoseconds(st.st_mtim), nanoseconds(st.st_ctim), st.st_ino,
                    st.st_dev, st.st_mode));
  }
  return hash.hex();
}

std::optional<oci::Layer> LayerCache::find(const std::string& key) const {
  auto text = core::read_file(root_ / "layers" / (key + ".json"));
  if (!text) return std::nullopt;
  auto json = nlohmann::json::parse(*text, nullptr, false);
  if (!json.is_object() || !json.contains("descriptor")) return std::nullopt;
  auto descriptor = oci::parse_descriptor(json["descriptor"].dump());
  auto compression = parse_compression(json.value("compression", ""));
  if (!descriptor || !compression || !blobs_.has(descriptor->digest)) return std::nullopt;
  return oci::Layer{.descriptor = *descriptor,
                    .diff_id = json.value("diff_id", ""),
                    .tar_size = json.value("tar_size", std::uint64_t{0}),
                    .compression = *compression};
}

Result<void> LayerCache::remember(const std::string& key, const oci::Layer& layer) const {
  nlohmann::json json{{"descriptor", nlohmann::json::parse(oci::to_json(layer.descriptor))},
                      {"diff_id", layer.diff_id},
                      {"tar_size", layer.tar_size},
                      {"compression", oci::compression_name(layer.compression)}};
  std::error_code ec;
  fs::create_directories(root_ / "layers", ec);
  return core::write_file_atomic(root_ / "layers" / (key + ".json"), json.dump() + "\n");
}

Result<CachedLayer> LayerCache::get_or_build(std::vector<oci::TarEntry> entries, const oci::LayerOptions& options,
                                             core::Reporter& reporter) const {
  auto cache_key = key(entries, options);
  if (!cache_key) return std::unexpected(cache_key.error());
  if (*cache_key) {
    if (auto layer = find(**cache_key)) return CachedLayer{*layer, true};
  }
  std::error_code ec;
  fs::create_directories(root_, ec);
  if (ec) return fail(Errc::failed, fmt::format("cannot create the cache folder {}: {}", root_.string(), ec.message()));
  auto layer = oci::build_layer(std::move(entries), options, blobs_, reporter);
  if (!layer) return std::unexpected(layer.error());
  if (*cache_key) {
    if (auto saved = remember(**cache_key, *layer); !saved) return std::unexpected(saved.error());
  }
  return CachedLayer{*layer, false};
}

fs::path default_cache_dir() {
  if (const char* dir = std::getenv("MLCTL_CACHE_DIR"); dir && *dir) return dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return fs::path(xdg) / "mlctl";
  if (const char* home = std::getenv("HOME"); home && *home) return fs::path(home) / ".cache" / "mlctl";
  return fs::temp_directory_path() / "mlctl-cache";
}

}  // namespace mlctl::build
