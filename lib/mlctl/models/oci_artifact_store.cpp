#include <mlctl/models/oci_artifact_store.hpp>

#include <mlctl/core/digest.hpp>
#include <mlctl/core/temp_file.hpp>
#include <mlctl/models/archive.hpp>
#include <mlctl/oci/image_config.hpp>
#include <mlctl/oci/manifest.hpp>
#include <mlctl/oci/media_types.hpp>
#include <mlctl/oci/platform.hpp>
#include <mlctl/oci/remote/client.hpp>
#include <mlctl/oci/remote/curl_transport.hpp>

#include <sys/stat.h>

#include <optional>

#include <fmt/format.h>

namespace mlctl::models {

namespace fs = std::filesystem;
namespace remote = oci::remote;

namespace {

constexpr std::string_view k_scheme = "oci://";
// Where KServe's modelcar sidecar looks for the model in the image.
constexpr std::string_view k_model_folder = "models";

struct PushedContent {
  ContentDigest artifact{};
  ContentDigest layer{};
};

// The layer: the artifact's files under models/, as an uncompressed deterministic tar.
Result<PushedContent> write_layer(const fs::path& source, bool directory, int fd) {
  PushedContent out;
  std::vector<oci::TarEntry> entries;
  if (directory) {
    auto digest = directory_digest(source);
    if (!digest) return std::unexpected(digest.error());
    out.artifact = *digest;
    auto listed = directory_entries(source, k_model_folder);
    if (!listed) return std::unexpected(listed.error());
    entries = std::move(*listed);
  } else {
    std::error_code ec;
    fs::path real = fs::canonical(source, ec);
    if (ec) return fail(Errc::failed, fmt::format("cannot resolve: {}", ec.message()));
    auto digest = file_digest(real);
    if (!digest) return std::unexpected(digest.error());
    out.artifact = *digest;
    auto entry = oci::entry_from_disk(real, fmt::format("{}/{}", k_model_folder, source.filename().string()));
    if (!entry) return std::unexpected(entry.error());
    entries.push_back(std::move(*entry));
  }
  oci::FileSink file(fd);
  oci::HashingSink hashing(file);
  if (auto written = oci::write_tar(std::move(entries), 0, hashing); !written) return std::unexpected(written.error());
  if (auto finished = hashing.finish(); !finished) return std::unexpected(finished.error());
  out.layer = {.digest = hashing.digest(), .size = hashing.size()};
  return out;
}

std::string config_json(const std::string& layer_digest) {
  oci::Platform host = oci::host_platform();
  oci::ImageConfig config{.architecture = host.architecture, .os = "linux", .variant = host.variant,
                          .diff_ids = {layer_digest}};
  return oci::to_json(config);
}

class OciStore final : public ArtifactStore {
public:
  OciStore(remote::Reference repository, const ArtifactStoreOptions& options) : repository_(std::move(repository)) {
    if (options.transport == nullptr) own_transport_ = std::make_unique<remote::CurlTransport>();
    transport_ = options.transport != nullptr ? options.transport : own_transport_.get();
    credentials_ = options.credentials != nullptr ? *options.credentials : remote::CredentialSources::from_environment();
    client_options_.insecure = options.insecure ? remote::Insecure::yes : remote::Insecure::no;
  }

private:
  Result<remote::Client> client(const remote::Reference& reference, core::Reporter& reporter) {
    return remote::make_client(reference, *transport_, credentials_, client_options_, reporter);
  }

  Result<StoredArtifact> store(const fs::path& source, core::Reporter& reporter) override {
    struct stat info {};
    if (::stat(source.c_str(), &info) != 0) return fail(Errc::not_found, "no such file or directory");
    bool directory = S_ISDIR(info.st_mode);
    if (!directory && !S_ISREG(info.st_mode)) return fail(Errc::invalid, "not a regular file or directory");
    auto layer_file = core::TempFile::create(fs::temp_directory_path(), "mlctl-model-layer");
    if (!layer_file) return std::unexpected(layer_file.error());
    auto content = write_layer(source, directory, layer_file->fd());
    if (!content) return std::unexpected(content.error());
    if (auto closed = layer_file->sync_and_close(); !closed) return std::unexpected(closed.error());

    std::string config = config_json(content->layer.digest);
    oci::Manifest manifest{
        .config = {.media_type = std::string(oci::k_oci_config), .digest = core::sha256_digest(config),
                   .size = static_cast<std::int64_t>(config.size())},
        .layers = {{.media_type = std::string(oci::k_oci_layer), .digest = content->layer.digest,
                    .size = static_cast<std::int64_t>(content->layer.size)}},
        .annotations = {{std::string(k_artifact_digest_annotation), content->artifact.digest},
                        {std::string(k_artifact_size_annotation), std::to_string(content->artifact.size)},
                        {std::string(k_artifact_kind_annotation), directory ? "directory" : "file"}}};
    std::string manifest_bytes = oci::to_json(manifest);
    std::string manifest_digest = core::sha256_digest(manifest_bytes);

    auto registry = client(repository_, reporter);
    if (!registry) return std::unexpected(registry.error());
    std::vector<remote::Blob> blobs{
        {.digest = content->layer.digest, .size = content->layer.size, .content = layer_file->path()},
        {.digest = manifest.config.digest, .size = config.size(), .content = std::string_view(config)}};
    auto pushed = registry->push_blobs(repository_.repository, blobs);
    if (!pushed) return std::unexpected(Error(pushed.error()).context("pushing the model layer"));
    std::string tag = "sha256-" + content->artifact.digest.substr(7);
    auto put = registry->put_manifest(repository_.repository, tag, manifest_bytes, oci::k_oci_manifest);
    if (!put) return std::unexpected(Error(put.error()).context(fmt::format("tagging {}", tag)));
    if (*put != manifest_digest) {
      return fail(Errc::remote, fmt::format("the registry stored the manifest as {}, not {}", *put, manifest_digest));
    }
    std::string uri = fmt::format("{}{}/{}@{}", k_scheme, repository_.registry, repository_.repository, manifest_digest);
    reporter.step(fmt::format("pushed model {} as {}", content->artifact.digest, uri));
    return StoredArtifact{.uri = uri, .digest = content->artifact.digest, .size = content->artifact.size,
                          .directory = directory};
  }

  Result<oci::Manifest> pull_manifest(remote::Client& registry, const remote::Reference& reference,
                                      const StoredArtifact& artifact) {
    auto got = registry.get_manifest(reference.repository, reference.digest);
    if (!got) return std::unexpected(Error(got.error()).context("getting the manifest"));
    if (auto checked = check_digest("the manifest", reference.digest, core::sha256_digest(got->bytes)); !checked) {
      return std::unexpected(checked.error());
    }
    auto manifest = oci::parse_manifest(got->bytes);
    if (!manifest) return std::unexpected(manifest.error());
    auto named = manifest->annotations.find(std::string(k_artifact_digest_annotation));
    if (named == manifest->annotations.end() || named->second != artifact.digest) {
      return fail(Errc::failed, fmt::format("the manifest is not the one of artifact {}", artifact.digest));
    }
    if (manifest->layers.size() != 1) {
      return fail(Errc::invalid, fmt::format("expected one layer in the model image, found {}", manifest->layers.size()));
    }
    return manifest;
  }

  // The single file a file artifact's models/ holds.
  static Result<fs::path> only_file(const fs::path& tree) {
    std::optional<fs::path> found;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(tree, ec)) {
      if (found || !entry.is_regular_file() || entry.is_symlink()) {
        return fail(Errc::invalid, "a file artifact's models/ folder must hold exactly one regular file");
      }
      found = entry.path();
    }
    if (ec || !found) return fail(Errc::invalid, "a file artifact's models/ folder must hold exactly one regular file");
    return *found;
  }

  Result<void> fetch(const StoredArtifact& artifact, const fs::path& destination, core::Reporter& reporter) override {
    if (!artifact.uri.starts_with(k_scheme)) return fail(Errc::invalid, "not an oci:// URI");
    auto reference = remote::parse_reference(std::string_view(artifact.uri).substr(k_scheme.size()));
    if (!reference) return std::unexpected(reference.error());
    if (reference->digest.empty()) return fail(Errc::invalid, "the URI names no manifest digest");
    struct stat info {};
    if (::lstat(destination.c_str(), &info) == 0) {
      return fail(Errc::precondition, fmt::format("{}: already exists", destination.string()),
                  "choose a destination that does not exist, or remove it first");
    }
    auto registry = client(*reference, reporter);
    if (!registry) return std::unexpected(registry.error());
    auto manifest = pull_manifest(*registry, *reference, artifact);
    if (!manifest) return std::unexpected(manifest.error());
    auto work = TempDirectory::create_beside(destination);
    if (!work) return std::unexpected(work.error());
    fs::path layer = work->path() / "layer.tar", tree = work->path() / "tree";
    auto pulled = registry->pull_blob(reference->repository, manifest->layers[0].digest, layer);
    if (!pulled) return std::unexpected(Error(pulled.error()).context("pulling the model layer"));
    if (auto extracted = extract_tar(layer, tree, {.strip_prefix = std::string(k_model_folder)}); !extracted) {
      return extracted;
    }
    fs::path result = tree;
    Result<ContentDigest> content = fail(Errc::failed, "");
    if (artifact.directory) {
      content = directory_digest(tree);
    } else {
      auto file = only_file(tree);
      if (!file) return std::unexpected(file.error());
      result = *file;
      content = file_digest(result);
    }
    if (!content) return std::unexpected(content.error());
    if (auto checked = check_digest(artifact.uri, artifact.digest, content->digest); !checked) return checked;
    if (auto renamed = rename_no_replace(result, destination); !renamed) return renamed;
    reporter.step(fmt::format("pulled and verified {}", artifact.digest));
    return {};
  }

  remote::Reference repository_;
  std::unique_ptr<remote::Transport> own_transport_;
  remote::Transport* transport_ = nullptr;
  remote::CredentialSources credentials_;
  remote::ClientOptions client_options_;
};

}  // namespace

Result<std::unique_ptr<ArtifactStore>> open_oci_store(std::string_view location, const ArtifactStoreOptions& options) {
  if (!location.starts_with(k_scheme)) return fail(Errc::invalid, fmt::format("'{}': not an oci:// location", location));
  std::string_view name = location.substr(k_scheme.size());
  size_t last_slash = name.rfind('/');
  std::string_view last = last_slash == std::string_view::npos ? name : name.substr(last_slash + 1);
  if (name.find('@') != std::string_view::npos || last.find(':') != std::string_view::npos) {
    return fail(Errc::invalid, fmt::format("'{}': an artifact store is a repository, without a tag or digest", location),
                "use oci://registry/repository; each artifact is tagged sha256-<hex> there");
  }
  auto reference = remote::parse_reference(name);
  if (!reference) return std::unexpected(reference.error().context(fmt::format("artifact store '{}'", location)));
  return std::make_unique<OciStore>(std::move(*reference), options);
}

}  // namespace mlctl::models
