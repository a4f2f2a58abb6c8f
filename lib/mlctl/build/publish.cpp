#include <mlctl/build/publish.hpp>

#include <mlctl/oci/docker_archive.hpp>
#include <mlctl/oci/layout.hpp>
#include <mlctl/oci/media_types.hpp>

#include <fmt/format.h>

namespace mlctl::build {

namespace fs = std::filesystem;
namespace remote = oci::remote;

namespace {

// The base layers the registry does not have yet, so only those are fetched to be copied.
BaseImage missing_base_layers(const BaseImage& base, remote::Client& client, const std::string& repository) {
  BaseImage missing = base;
  missing.layers.clear();
  for (const auto& layer : base.layers) {
    auto exists = client.blob_exists(repository, layer.digest);
    if (!exists || !*exists) missing.layers.push_back(layer);
  }
  return missing;
}

Result<std::vector<remote::Blob>> blobs_of(const std::vector<BuiltLayer>& layers, const LayerCache& cache) {
  std::vector<remote::Blob> blobs;
  for (const auto& layer : layers) {
    auto path = cache.blobs().path(layer.descriptor.digest);
    if (!path) return std::unexpected(path.error());
    blobs.push_back({.digest = layer.descriptor.digest, .size = static_cast<std::uint64_t>(layer.descriptor.size),
                     .content = *path});
  }
  return blobs;
}

std::string repository_name(const remote::Reference& repository) {
  return fmt::format("{}/{}", repository.registry, repository.repository);
}

}  // namespace

std::string Output::str() const {
  return fmt::format("{}:{}", kind == Kind::oci_layout ? "oci" : "docker-archive", path.string());
}

Result<Output> parse_output(std::string_view text) {
  for (auto [prefix, kind] : {std::pair{std::string_view("oci:"), Output::Kind::oci_layout},
                              std::pair{std::string_view("docker-archive:"), Output::Kind::docker_archive}}) {
    if (text.starts_with(prefix)) {
      if (text.size() == prefix.size())
        return fail(Errc::invalid, fmt::format("--output {}: no path after '{}'", text, prefix));
      return Output{kind, fs::path(text.substr(prefix.size()))};
    }
  }
  return fail(Errc::invalid, fmt::format("--output '{}': expected oci:DIR or docker-archive:FILE", text));
}

Result<PushReport> push_image(const BuiltImage& built, const LayerCache& cache, const remote::Reference& repository,
                              const std::vector<std::string>& tags, const RegistryAccess& access,
                              const BaseOptions& base_options, core::Reporter& reporter) {
  auto client = remote::make_client(repository, *access.transport, *access.credentials, access.client, reporter);
  if (!client) return std::unexpected(client.error());
  if (auto ping = client->ping(); !ping)
    return std::unexpected(Error(ping.error()).context(fmt::format("pushing to {}", repository.registry)));
  const std::string& repo = repository.repository;

  std::vector<BuiltLayer> base_layers, own_layers;
  for (const auto& layer : built.layers)
    (layer.name == k_base_layer ? base_layers : own_layers).push_back(layer);

  const BaseImage& base = built.base;
  const bool same_registry = base.reference && base.reference->api_host() == repository.api_host();
  std::string mount_from;
  if (same_registry) {
    mount_from = base.reference->repository;
  } else if (!base_layers.empty()) {
    // Another registry or a local layout: the layers go through the cache.
    if (auto fetched = fetch_base_layers(missing_base_layers(base, *client, repo), cache.blobs(), base_options, reporter);
        !fetched)
      return std::unexpected(fetched.error());
  }

  PushReport report;
  auto record = [&](const remote::PushSummary& summary) {
    report.layers.insert(report.layers.end(), summary.blobs.begin(), summary.blobs.end());
    report.uploaded_bytes += summary.uploaded_bytes;
  };
  auto base_blobs = blobs_of(base_layers, cache);
  if (!base_blobs) return std::unexpected(base_blobs.error());
  auto pushed_base = client->push_blobs(repo, *base_blobs, mount_from);
  if (!pushed_base && same_registry) {
    // The registry declined to mount and the blobs are not local: copy them after all.
    reporter.debug(fmt::format("mounting from {} failed ({}); copying the base layers", mount_from,
                               pushed_base.error().message()));
    if (auto fetched = fetch_base_layers(base, cache.blobs(), base_options, reporter); !fetched)
      return std::unexpected(fetched.error());
    pushed_base = client->push_blobs(repo, *base_blobs);
  }
  if (!pushed_base) return std::unexpected(Error(pushed_base.error()).context("pushing the base layers"));
  record(*pushed_base);

  auto own_blobs = blobs_of(own_layers, cache);
  if (!own_blobs) return std::unexpected(own_blobs.error());
  const oci::Image& image = built.image;
  own_blobs->push_back({.digest = image.manifest.config.digest, .size = image.config_json.size(),
                        .content = std::string_view(image.config_json)});
  auto pushed_own = client->push_blobs(repo, *own_blobs);
  if (!pushed_own) return std::unexpected(Error(pushed_own.error()).context("pushing the layers"));
  record(*pushed_own);
  report.config = report.layers.back();
  report.layers.pop_back();

  const std::string digest = image.descriptor().digest;
  for (const auto& tag : tags) {
    auto put = client->put_manifest(repo, tag, image.manifest_json, image.manifest.media_type);
    if (!put) return std::unexpected(Error(put.error()).context(fmt::format("tagging {}:{}", repository_name(repository), tag)));
    if (*put != digest)
      return fail(Errc::remote, fmt::format("the registry stored the manifest of {}:{} as {}, not {}",
                                            repository_name(repository), tag, *put, digest));
    report.references.push_back(fmt::format("{}:{}@{}", repository_name(repository), tag, digest));
  }
  return report;
}

Result<void> write_output(const BuiltImage& built, const LayerCache& cache, const Output& output,
                          const remote::Reference& repository, const std::vector<std::string>& tags,
                          const BaseOptions& base_options, core::Reporter& reporter) {
  if (auto fetched = fetch_base_layers(built.base, cache.blobs(), base_options, reporter); !fetched)
    return std::unexpected(fetched.error());
  if (output.kind == Output::Kind::oci_layout) {
    auto written = oci::write_layout(output.path, built.image, cache.blobs(), tags.front());
    if (!written) return std::unexpected(written.error().context(fmt::format("writing {}", output.str())));
  } else {
    std::vector<std::string> repo_tags;
    for (const auto& tag : tags) repo_tags.push_back(fmt::format("{}:{}", repository_name(repository), tag));
    auto written = oci::write_docker_archive(output.path, built.image, cache.blobs(), repo_tags);
    if (!written) return std::unexpected(written.error().context(fmt::format("writing {}", output.str())));
  }
  reporter.step(fmt::format("wrote {}", output.str()));
  return {};
}

}  // namespace mlctl::build
