#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/core/reporter.hpp>
#include <mlctl/oci/blob_store.hpp>
#include <mlctl/oci/layer.hpp>
#include <mlctl/oci/tar_writer.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mlctl::build {

// A layer and whether it came out of the cache.
struct CachedLayer {
  oci::Layer layer{};
  bool cached = false;
};

// The layers mlctl has built, under MLCTL_CACHE_DIR: blobs in blobs/sha256/ (also the store base
// layers are fetched into) and, in layers/<key>.json, which blob a set of entries produced. The key
// is what decides the layer's bytes: entry paths, kinds, modes and link targets, and for files the
// size, modification and change times, inode and device (as git's index does, so nothing is read
// to find a hit), plus the epoch and compression. An unchanged layer is then not re-tarred nor
// re-compressed.
class LayerCache {
public:
  explicit LayerCache(std::filesystem::path root);

  const std::filesystem::path& root() const { return root_; }
  const oci::BlobStore& blobs() const { return blobs_; }

  // The key of a layer of `entries` built with `options`; none when a file was modified so
  // recently that a later change could keep its size and timestamps (then the layer is built
  // and not remembered).
  Result<std::optional<std::string>> key(const std::vector<oci::TarEntry>& entries,
                                         const oci::LayerOptions& options) const;

  // The layer remembered under `key`, if its blob is still in the store.
  std::optional<oci::Layer> find(const std::string& key) const;
  Result<void> remember(const std::string& key, const oci::Layer& layer) const;

  // The layer from the cache, or built (and remembered).
  Result<CachedLayer> get_or_build(std::vector<oci::TarEntry> entries, const oci::LayerOptions& options,
                                   core::Reporter& reporter) const;

  // How recent a modification makes a file's timestamps untrustworthy (the filesystem's clock
  // granularity is coarser than a fast edit-and-rebuild); tests shorten it.
  std::chrono::nanoseconds racy_window = std::chrono::seconds(2);

private:
  std::filesystem::path root_;
  oci::BlobStore blobs_;
};

// The default cache folder: MLCTL_CACHE_DIR, else $XDG_CACHE_HOME/mlctl, else ~/.cache/mlctl.
std::filesystem::path default_cache_dir();

}  // namespace mlctl::build
