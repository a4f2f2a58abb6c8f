#include <mlctl/oci/docker_archive.hpp>

#include <mlctl/oci/layout.hpp>
#include <mlctl/oci/media_types.hpp>
#include <mlctl/oci/tar_writer.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>

#include <fmt/format.h>

namespace mlctl::oci {

namespace fs = std::filesystem;

namespace {

bool docker_loadable(std::string_view type) {
  return type == k_oci_layer || type == k_oci_layer_gzip || type == k_docker_layer_gzip ||
         type == "application/vnd.docker.image.rootfs.diff.tar";
}

std::string blob_name(std::string_view digest) { return "blobs/sha256/" + std::string(digest.substr(7)); }

Result<std::vector<TarEntry>> archive_entries(const Image& image, const BlobStore& layers,
                                              const std::vector<std::string>& repo_tags) {
  for (const std::string& tag : repo_tags) {
    if (auto valid = check_ref_name(tag); !valid) return std::unexpected(valid.error());
  }
  std::vector<TarEntry> entries;
  entries.push_back({.path = blob_name(image.manifest.config.digest), .content = image.config_json});
  std::vector<std::string> layer_names;
  for (const Descriptor& layer : image.manifest.layers) {
    if (!docker_loadable(layer.media_type)) {
      return fail(Errc::invalid, fmt::format("layer {} is {}, which docker load cannot read", layer.digest, layer.media_type),
                  "build the layers with gzip or no compression for a docker-archive");
    }
    auto source = layers.path(layer.digest);
    if (!source) return std::unexpected(source.error());
    if (!layers.has(layer.digest)) return fail(Errc::not_found, fmt::format("layer {} is not in {}", layer.digest, layers.root().string()));
    std::string name = blob_name(layer.digest);
    // A layer used twice is stored once.
    if (std::ranges::find(layer_names, name) == layer_names.end()) entries.push_back({.path = name, .source = *source});
    layer_names.push_back(name);
  }
  nlohmann::json manifest = nlohmann::json::array();
  manifest.push_back({{"Config", blob_name(image.manifest.config.digest)}, {"RepoTags", repo_tags}, {"Layers", layer_names}});
  entries.push_back({.path = "manifest.json", .content = manifest.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)});
  return entries;
}

}  // namespace

Result<void> write_docker_archive(const fs::path& file, const Image& image, const BlobStore& layers,
                                  const std::vector<std::string>& repo_tags) {
  auto where = [&] { return fmt::format("writing docker archive {}", file.string()); };
  auto entries = archive_entries(image, layers, repo_tags);
  if (!entries) return std::unexpected(entries.error().context(where()));
  fs::path dir = file.parent_path().empty() ? fs::path(".") : file.parent_path();
  auto temp = core::TempFile::create(dir, file.filename().string());
  if (!temp) return std::unexpected(temp.error().context(where()));
  FileSink sink(temp->fd());
  if (auto written = write_tar(std::move(*entries), 0, sink); !written) return std::unexpected(written.error().context(where()));
  if (auto flushed = sink.finish(); !flushed) return std::unexpected(flushed.error().context(where()));
  if (auto renamed = temp->rename_to(file); !renamed) return std::unexpected(renamed.error().context(where()));
  return {};
}

}  // namespace mlctl::oci
