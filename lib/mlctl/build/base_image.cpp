#include <mlctl/build/base_image.hpp>

#include <mlctl/core/digest.hpp>
#include <mlctl/core/fs.hpp>
#include <mlctl/core/temp_file.hpp>
#include <mlctl/oci/layout.hpp>
#include <mlctl/oci/manifest.hpp>
#include <mlctl/oci/media_types.hpp>
#include <mlctl/oci/platform.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <fstream>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

namespace mlctl::build {

namespace fs = std::filesystem;

namespace {

// Manifests, indexes and configs are read into memory; a larger one is not an image's.
constexpr std::int64_t k_max_document = 4 << 20;
// An index may point at an index; deeper than this is a loop or an attack.
constexpr int k_max_index_depth = 4;

// A manifest or index as fetched: its exact bytes, what kind it says it is, and its digest.
struct Document {
  std::string bytes{};
  std::string media_type{};
  std::string digest{};
};

using FetchDocument = std::function<Result<Document>(const oci::Descriptor&)>;

struct Resolved {
  oci::Manifest manifest{};
  std::string manifest_digest{};
};

oci::Platform wanted_platform(const BaseOptions& options) {
  if (options.platform.os.empty() || options.platform.architecture.empty()) return oci::host_platform();
  return options.platform;
}

std::string short_digest(std::string_view digest) { return std::string(digest.substr(0, 7 + 12)); }

// An index or a manifest, by its media type, or by its shape when the type says neither
// (an OCI index.json entry or a registry may leave it out).
bool is_index(const Document& document) {
  if (oci::is_index_type(document.media_type)) return true;
  if (oci::is_manifest_type(document.media_type)) return false;
  auto json = nlohmann::json::parse(document.bytes, nullptr, false);
  return json.is_object() && json.contains("manifests");
}

// Follows indexes (choosing `platform`) down to an image manifest.
Result<Resolved> resolve_manifest(Document document, const FetchDocument& fetch, const oci::Platform& platform,
                                  core::Reporter& reporter) {
  for (int depth = 0; depth <= k_max_index_depth; ++depth) {
    if (!is_index(document)) {
      auto manifest = oci::parse_manifest(document.bytes);
      if (!manifest) return std::unexpected(manifest.error().context(document.digest));
      return Resolved{std::move(*manifest), document.digest};
    }
    auto index = oci::parse_index(document.bytes);
    if (!index) return std::unexpected(index.error().context(document.digest));
    auto chosen = oci::select_platform(*index, platform);
    if (!chosen) return std::unexpected(chosen.error());
    reporter.debug(fmt::format("index {}: {} is {}", short_digest(document.digest), oci::to_string(platform),
                               chosen->digest));
    auto next = fetch(*chosen);
    if (!next) return std::unexpected(next.error());
    document = std::move(*next);
  }
  return fail(Errc::invalid, fmt::format("indexes nested more than {} deep", k_max_index_depth));
}

// The config, checked to be an image's, for the platform asked for, and with a diff_id per layer.
Result<oci::ImageConfig> read_config(const oci::Manifest& manifest, std::string_view json, std::string_view base,
                                     const oci::Platform& platform) {
  auto config = oci::parse_image_config(json);
  if (!config) return std::unexpected(config.error().context(manifest.config.digest));
  oci::Platform has{.architecture = config->architecture, .os = config->os, .variant = config->variant};
  if (!oci::platform_matches(has, platform)) {
    return fail(Errc::invalid,
                fmt::format("base image '{}' is for {}, not {}", base, oci::to_string(has), oci::to_string(platform)),
                fmt::format("use a base image built for {} (or a multi-platform one), or build for {}",
                            oci::to_string(platform), oci::to_string(has)));
  }
  if (config->diff_ids.size() != manifest.layers.size()) {
    return fail(Errc::invalid, fmt::format("base image '{}': its config lists {} diff_ids for {} layers", base,
                                           config->diff_ids.size(), manifest.layers.size()));
  }
  return config;
}

Result<void> check_image_manifest(const oci::Manifest& manifest, std::string_view base) {
  if (!oci::is_config_type(manifest.config.media_type)) {
    return fail(Errc::invalid, fmt::format("base image '{}' is not a container image (its config is '{}')", base,
                                           manifest.config.media_type));
  }
  if (manifest.config.size > k_max_document) {
    return fail(Errc::invalid, fmt::format("base image '{}': a config of {} bytes", base, manifest.config.size));
  }
  return {};
}

// Streams a file through SHA-256.
Result<std::string> file_digest(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(Errc::failed, fmt::format("{}: cannot open", path.string()));
  core::Sha256 hash;
  std::string buffer(1 << 20, '\0');
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    hash.update(buffer.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) return fail(Errc::failed, fmt::format("{}: read error", path.string()));
  return "sha256:" + hash.hex();
}

// Flushes a file written by someone else (the client's download) before the store publishes it.
Result<void> sync_file(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  bool ok = fd >= 0 && ::fsync(fd) == 0;
  if (fd >= 0) ::close(fd);
  if (!ok) return fail(Errc::failed, fmt::format("{}: cannot flush to disk", path.string()));
  return {};
}

struct LayoutName {
  fs::path dir{};
  std::string tag{};
};

// "oci:DIR" or "oci:DIR:TAG"; DIR ends at the first ':' as in skopeo's oci: transport.
Result<LayoutName> parse_layout_name(std::string_view base) {
  std::string_view rest = base.substr(4);
  std::size_t colon = rest.find(':');
  LayoutName name{.dir = fs::path(rest.substr(0, colon))};
  constexpr std::string_view k_form = "write oci:DIR or oci:DIR:TAG";
  if (name.dir.empty()) return fail(Errc::invalid, fmt::format("base image '{}': no layout folder", base), std::string(k_form));
  if (colon == std::string_view::npos) return name;
  name.tag = std::string(rest.substr(colon + 1));
  if (name.tag.empty()) return fail(Errc::invalid, fmt::format("base image '{}': empty tag", base), std::string(k_form));
  if (auto valid = oci::check_ref_name(name.tag); !valid) {
    return std::unexpected(valid.error().context(fmt::format("base image '{}'", base)));
  }
  return name;
}

std::string ref_name(const oci::Descriptor& entry) {
  auto found = entry.annotations.find(std::string(oci::k_ref_name_annotation));
  return found == entry.annotations.end() ? std::string() : found->second;
}

std::vector<oci::Descriptor> tagged(const oci::Index& index, std::string_view tag) {
  std::vector<oci::Descriptor> out;
  std::ranges::copy_if(index.manifests, std::back_inserter(out), [&](const auto& entry) { return ref_name(entry) == tag; });
  return out;
}

std::string tag_list(const oci::Index& index) {
  std::set<std::string> tags;
  for (const auto& entry : index.manifests) {
    if (std::string tag = ref_name(entry); !tag.empty()) tags.insert(tag);
  }
  return tags.empty() ? "it has no tagged images" : fmt::format("its tags: {}", fmt::join(tags, ", "));
}

bool all_have_platforms(const std::vector<oci::Descriptor>& entries) {
  return !entries.empty() && std::ranges::all_of(entries, [](const auto& entry) { return entry.platform.has_value(); });
}

// The entry of index.json that `name` means: the tag's; without a tag the only entry, else
// "latest", else (index.json listing the platforms of one image, untagged) the one for `platform`.
// Several entries under one tag are platforms of one image too.
Result<oci::Descriptor> layout_entry(const oci::Index& index, const LayoutName& name, std::string_view base,
                                     const oci::Platform& platform) {
  std::vector<oci::Descriptor> candidates;
  if (!name.tag.empty()) {
    candidates = tagged(index, name.tag);
    if (candidates.empty()) {
      return fail(Errc::not_found, fmt::format("base image '{}' not found: no tag '{}' in {}", base, name.tag,
                                               name.dir.string()),
                  tag_list(index));
    }
  } else if (index.manifests.size() == 1) {
    candidates = index.manifests;
  } else {
    candidates = tagged(index, oci::remote::k_default_tag);
    bool untagged = std::ranges::none_of(index.manifests, [](const auto& entry) { return !ref_name(entry).empty(); });
    if (candidates.empty() && untagged && all_have_platforms(index.manifests)) candidates = index.manifests;
    if (candidates.empty()) {
      return fail(Errc::not_found,
                  fmt::format("base image '{}' not found: {} holds {} images and none is tagged 'latest'", base,
                              name.dir.string(), index.manifests.size()),
                  fmt::format("name one as oci:{}:TAG; {}", name.dir.string(), tag_list(index)));
    }
  }
  if (candidates.size() == 1) return candidates.front();
  if (!all_have_platforms(candidates)) {
    return fail(Errc::invalid, fmt::format("base image '{}': {} images in {} have that name and not all name a platform",
                                           base, candidates.size(), name.dir.string()));
  }
  oci::Index choices;
  choices.manifests = std::move(candidates);
  return with_context(oci::select_platform(choices, platform), fmt::format("base image '{}'", base));
}

// A manifest, index or config of the layout, checked against its descriptor.
Result<std::string> read_layout_document(const oci::BlobStore& layout, const oci::Descriptor& descriptor) {
  auto path = layout.path(descriptor.digest);
  if (!path) return std::unexpected(path.error());
  if (descriptor.size > k_max_document) {
    return fail(Errc::invalid, fmt::format("{}: {} bytes is too large for a manifest or config", descriptor.digest,
                                           descriptor.size));
  }
  std::error_code ec;
  auto size = fs::file_size(*path, ec);
  if (ec) return fail(Errc::not_found, fmt::format("blob {} is missing from {}", descriptor.digest, layout.root().string()));
  if (size > static_cast<std::uintmax_t>(k_max_document)) {
    return fail(Errc::invalid, fmt::format("{}: {} bytes is too large for a manifest or config", descriptor.digest, size));
  }
  auto bytes = core::read_file(*path);
  if (!bytes) return bytes;
  if (core::sha256_digest(*bytes) != descriptor.digest || std::ssize(*bytes) != descriptor.size) {
    return fail(Errc::invalid, fmt::format("blob {} in {} does not match its digest or size", descriptor.digest,
                                           layout.root().string()));
  }
  return bytes;
}

Result<BaseImage> resolve_layout(std::string_view base, const oci::Platform& platform, core::Reporter& reporter) {
  auto name = parse_layout_name(base);
  if (!name) return std::unexpected(name.error());
  std::error_code ec;
  std::string hint = fmt::format("make one with `skopeo copy docker://IMAGE oci:{}:TAG`, or change image.base",
                                 name->dir.string());
  if (!fs::is_directory(name->dir, ec)) {
    return fail(Errc::not_found, fmt::format("base image '{}' not found: no folder {}", base, name->dir.string()), hint);
  }
  auto index_json = core::read_file(name->dir / "index.json");
  if (!index_json && index_json.error().code() == Errc::not_found) {
    return fail(Errc::not_found,
                fmt::format("base image '{}' not found: {} is not an OCI image layout (no index.json)", base,
                            name->dir.string()),
                hint);
  }
  if (!index_json) return std::unexpected(index_json.error().context(fmt::format("base image '{}'", base)));
  auto index = oci::parse_index(*index_json);
  if (!index) return std::unexpected(index.error().context((name->dir / "index.json").string()));

  auto entry = layout_entry(*index, *name, base, platform);
  if (!entry) return std::unexpected(entry.error());
  oci::BlobStore layout(name->dir);
  FetchDocument fetch = [&](const oci::Descriptor& descriptor) -> Result<Document> {
    auto bytes = read_layout_document(layout, descriptor);
    if (!bytes) return std::unexpected(bytes.error());
    return Document{std::move(*bytes), descriptor.media_type, descriptor.digest};
  };
  auto top = fetch(*entry);
  if (!top) return std::unexpected(top.error().context(fmt::format("base image '{}'", base)));
  auto resolved = resolve_manifest(std::move(*top), fetch, platform, reporter);
  if (!resolved) return std::unexpected(resolved.error().context(fmt::format("base image '{}'", base)));
  if (auto checked = check_image_manifest(resolved->manifest, base); !checked) return std::unexpected(checked.error());
  auto config_json = read_layout_document(layout, resolved->manifest.config);
  if (!config_json) return std::unexpected(config_json.error().context(fmt::format("base image '{}'", base)));
  auto config = read_config(resolved->manifest, *config_json, base, platform);
  if (!config) return std::unexpected(config.error());

  return BaseImage{.source = BaseImage::Source::layout,
                   .name = std::string(base),
                   .layout_dir = name->dir,
                   .config = std::move(*config),
                   .layers = resolved->manifest.layers,
                   .manifest_digest = resolved->manifest_digest,
                   .config_digest = resolved->manifest.config.digest};
}

Result<void> copy_layout_layer(const BaseImage& base, const oci::Descriptor& layer, const oci::BlobStore& store,
                               core::Reporter& reporter) {
  oci::BlobStore layout(base.layout_dir);
  auto source = layout.path(layer.digest);
  if (!source) return std::unexpected(source.error());
  if (!layout.has(layer.digest)) {
    return fail(Errc::not_found, fmt::format("layer {} is missing from {}", layer.digest, base.layout_dir.string()));
  }
  reporter.begin(layer.digest, fmt::format("copying layer {}", short_digest(layer.digest)),
                 static_cast<std::uint64_t>(layer.size));
  // A layout is a folder anyone may have edited: the blob is checked before the store trusts its name.
  auto digest = file_digest(*source);
  reporter.end(layer.digest);
  if (!digest) return std::unexpected(digest.error());
  std::error_code ec;
  auto size = fs::file_size(*source, ec);
  if (*digest != layer.digest || ec || size != static_cast<std::uintmax_t>(layer.size)) {
    return fail(Errc::invalid, fmt::format("layer {} in {} does not match its digest or size", layer.digest,
                                           base.layout_dir.string()));
  }
  if (auto copied = store.copy_from(layout, layer.digest); !copied) return copied;
  reporter.step(fmt::format("copied base layer {} ({} bytes)", short_digest(layer.digest), layer.size));
  return {};
}

// A failed read of the base's manifests, as the user should see it.
Error registry_failure(const Error& error, std::string_view base, const oci::remote::Reference& reference) {
  if (error.code() == Errc::not_found) {
    return Error(Errc::not_found, fmt::format("base image '{}' not found in {}", base, reference.registry),
                 fmt::format("check image.base and that the image was pushed; the registry said: {}", error.message()));
  }
  return Error(error).context(fmt::format("base image '{}'", base));
}

Result<oci::remote::Client> client_for(const oci::remote::Reference& reference, const BaseOptions& options,
                                       core::Reporter& reporter) {
  if (!options.transport) return fail(Errc::failed, "no transport to reach registries with");
  static const oci::remote::CredentialSources k_anonymous{};
  const auto& sources = options.credentials ? *options.credentials : k_anonymous;
  return oci::remote::make_client(reference, *options.transport, sources, options.client, reporter);
}

// Downloads a blob to a temporary file beside the store's blobs; none of it is left on failure.
Result<core::TempFile> pull_to_temp(oci::remote::Client& client, const oci::remote::Reference& reference,
                                    const oci::Descriptor& blob, const oci::BlobStore& store) {
  auto file = store.create_temp();
  if (!file) return std::unexpected(file.error());
  auto pulled = client.pull_blob(reference.repository, blob.digest, file->path());
  if (!pulled) return std::unexpected(Error(pulled.error()));
  if (blob.size >= 0 && *pulled != static_cast<std::uint64_t>(blob.size)) {
    return fail(Errc::remote, fmt::format("blob {}: the registry sent {} bytes, the manifest says {}", blob.digest,
                                          *pulled, blob.size));
  }
  if (auto synced = sync_file(file->path()); !synced) return std::unexpected(synced.error());
  return file;
}

Result<std::string> pull_config(oci::remote::Client& client, const oci::remote::Reference& reference,
                                const oci::Descriptor& config) {
  auto file = pull_to_temp(client, reference, config, oci::BlobStore(fs::temp_directory_path()));
  if (!file) return std::unexpected(file.error());
  return core::read_file(file->path());
}

Result<BaseImage> resolve_registry(std::string_view base, const BaseOptions& options, const oci::Platform& platform,
                                   core::Reporter& reporter) {
  auto reference = oci::remote::parse_reference(base);
  if (!reference) {
    return std::unexpected(reference.error().context(fmt::format("base image '{}'", base)).with_hint(
        "image.base is scratch, oci:DIR[:TAG] or an image reference such as registry.example.com/python:3.11"));
  }
  auto client = client_for(*reference, options, reporter);
  if (!client) return std::unexpected(client.error().context(fmt::format("base image '{}'", base)));
  FetchDocument fetch = [&](const oci::Descriptor& descriptor) -> Result<Document> {
    auto got = client->get_manifest(reference->repository, descriptor.digest);
    if (!got) return std::unexpected(registry_failure(got.error(), base, *reference));
    return Document{std::move(got->bytes), got->media_type.empty() ? descriptor.media_type : got->media_type,
                    got->digest};
  };
  auto top = client->get_manifest(reference->repository, reference->identifier());
  if (!top) return std::unexpected(registry_failure(top.error(), base, *reference));
  reporter.debug(fmt::format("{}: {} ({})", reference->str(), top->digest, top->media_type));
  auto resolved =
      resolve_manifest(Document{std::move(top->bytes), top->media_type, top->digest}, fetch, platform, reporter);
  if (!resolved) return std::unexpected(resolved.error().context(fmt::format("base image '{}'", base)));
  if (auto checked = check_image_manifest(resolved->manifest, base); !checked) return std::unexpected(checked.error());
  auto config_json = pull_config(*client, *reference, resolved->manifest.config);
  if (!config_json) return std::unexpected(config_json.error().context(fmt::format("base image '{}'", base)));
  auto config = read_config(resolved->manifest, *config_json, base, platform);
  if (!config) return std::unexpected(config.error());

  reference->digest = resolved->manifest_digest;
  return BaseImage{.source = BaseImage::Source::registry,
                   .name = std::string(base),
                   .reference = std::move(*reference),
                   .config = std::move(*config),
                   .layers = resolved->manifest.layers,
                   .manifest_digest = resolved->manifest_digest,
                   .config_digest = resolved->manifest.config.digest};
}

// Pulls `layers` with up to `parallelism` downloads at once. Only the client reports from the
// workers (it serialises its reporter calls); steps are reported once they are all done.
Result<void> pull_layers(const BaseImage& base, const std::vector<oci::Descriptor>& layers,
                         const oci::BlobStore& store, const BaseOptions& options, core::Reporter& reporter) {
  auto client = client_for(*base.reference, options, reporter);
  if (!client) return std::unexpected(client.error());
  std::vector<std::optional<Error>> errors(layers.size());
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  auto work = [&] {
    for (std::size_t i = next++; i < layers.size() && !failed; i = next++) {
      auto file = pull_to_temp(*client, *base.reference, layers[i], store);
      auto stored = file ? store.put(std::move(*file), layers[i].digest) : Result<fs::path>(std::unexpected(file.error()));
      if (!stored) {
        errors[i] = stored.error();
        failed = true;
      }
    }
  };
  std::size_t workers = std::clamp<std::size_t>(options.client.parallelism, 1, layers.size());
  std::vector<std::jthread> threads;
  for (std::size_t i = 1; i < workers; ++i) threads.emplace_back(work);
  work();
  threads.clear();
  for (std::size_t i = 0; i < layers.size(); ++i) {
    if (errors[i]) return std::unexpected(errors[i]->context(fmt::format("pulling base layer {}", layers[i].digest)));
  }
  for (const auto& layer : layers) {
    reporter.step(fmt::format("pulled base layer {} ({} bytes)", short_digest(layer.digest), layer.size));
  }
  return {};
}

}  // namespace

Result<BaseImage> resolve_base(std::string_view base, const BaseOptions& options, core::Reporter& reporter) {
  oci::Platform platform = wanted_platform(options);
  if (base.empty()) {
    return fail(Errc::invalid, "the base image is empty", "write scratch, oci:DIR[:TAG] or an image reference");
  }
  if (base == "scratch") {
    oci::ImageConfig config;
    config.os = platform.os;
    config.architecture = platform.architecture;
    config.variant = platform.variant;
    return BaseImage{.source = BaseImage::Source::scratch, .name = "scratch", .config = std::move(config)};
  }
  if (base.starts_with("oci:")) return resolve_layout(base, platform, reporter);
  return resolve_registry(base, options, platform, reporter);
}

Result<void> fetch_base_layers(const BaseImage& base, const oci::BlobStore& store, const BaseOptions& options,
                               core::Reporter& reporter) {
  std::vector<oci::Descriptor> missing;
  std::set<std::string> seen;
  for (const auto& layer : base.layers) {
    if (!seen.insert(layer.digest).second) continue;
    if (auto valid = core::check_sha256_digest(layer.digest); !valid) {
      return std::unexpected(valid.error().context(fmt::format("base image '{}': layer", base.name)));
    }
    if (store.has(layer.digest)) reporter.debug(fmt::format("base layer {} is cached", short_digest(layer.digest)));
    else missing.push_back(layer);
  }
  if (missing.empty()) return {};
  switch (base.source) {
    case BaseImage::Source::scratch: return {};
    case BaseImage::Source::layout:
      for (const auto& layer : missing) {
        if (auto copied = copy_layout_layer(base, layer, store, reporter); !copied) {
          return std::unexpected(copied.error().context(fmt::format("base image '{}'", base.name)));
        }
      }
      return {};
    case BaseImage::Source::registry: {
      if (!base.reference) return fail(Errc::failed, fmt::format("base image '{}' has no reference", base.name));
      return with_context(pull_layers(base, missing, store, options, reporter),
                          fmt::format("base image '{}'", base.name));
    }
  }
  return {};
}

}  // namespace mlctl::build
