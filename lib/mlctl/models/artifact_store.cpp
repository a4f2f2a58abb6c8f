#include <mlctl/models/artifact_store.hpp>

#include <mlctl/core/fs.hpp>
#include <mlctl/core/temp_file.hpp>
#include <mlctl/models/archive.hpp>
#include <mlctl/models/oci_artifact_store.hpp>
#include <mlctl/models/s3_store.hpp>

#include <sys/stat.h>

#include <fmt/format.h>

#include <chrono>

namespace mlctl::models {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view k_file_scheme = "file://";
// A put writes its temporary file continuously; one untouched for this long was left by a process
// that was killed.
constexpr auto k_stale_put = std::chrono::hours(1);

// Removes the ".put-XXXXXX" files of killed puts from `folder`. Best effort: a file that cannot be
// read or removed is left for the next put.
void remove_stale_puts(const fs::path& folder, core::Reporter& reporter) {
  std::error_code ec;
  auto now = fs::file_time_type::clock::now();
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    std::string name = entry.path().filename().string();
    if (!name.starts_with(".put-")) continue;
    auto written = entry.last_write_time(ec);
    if (ec || now - written < k_stale_put) continue;
    if (fs::remove(entry.path(), ec))
      reporter.debug(fmt::format("removed {}, left by a put that did not finish", entry.path().string()));
  }
}

// The local content-addressed store: <root>/sha256/<hex>, a file's bytes or a directory's tar.
// Objects are read-only (0444), written in <root>/tmp/ and published by rename, so a reader never
// sees half of one; what a killed put leaves there is removed by a later put (which so never reads
// the folder of every object).
class LocalStore final : public ArtifactStore {
public:
  explicit LocalStore(fs::path root) : root_(std::move(root)) {}

private:
  Result<StoredArtifact> store(const fs::path& source, core::Reporter& reporter) override {
    struct stat info {};
    if (::stat(source.c_str(), &info) != 0) return fail(Errc::not_found, "no such file or directory");
    bool directory = S_ISDIR(info.st_mode);
    if (!directory && !S_ISREG(info.st_mode)) return fail(Errc::invalid, "not a regular file or directory");
    fs::path folder = root_ / "sha256";
    fs::path temps = root_ / "tmp";
    std::error_code ec;
    if (!fs::create_directories(folder, ec) && ec)
      return fail(Errc::failed, fmt::format("cannot create {}: {}", folder.string(), ec.message()));
    remove_stale_puts(temps, reporter);
    auto temp = core::TempFile::create(temps, "put", fs::perms(0444));
    if (!temp) return std::unexpected(temp.error());
    Result<ContentDigest> content = directory ? tar_into(source, temp->fd()) : copy_file_hashing(source, temp->fd(), folder);
    if (!content) return std::unexpected(content.error());
    std::string hex = content->digest.substr(7);
    fs::path target = folder / hex;
    StoredArtifact artifact{.uri = std::string(k_file_scheme) + fs::absolute(target).lexically_normal().string(),
                            .digest = content->digest, .size = content->size, .directory = directory};
    struct stat existing {};
    if (::lstat(target.c_str(), &existing) == 0) {
      reporter.debug(fmt::format("artifact {} is already stored", content->digest));
      return artifact;
    }
    if (auto renamed = temp->rename_to(target); !renamed) return std::unexpected(renamed.error());
    if (auto synced = core::sync_directory(folder); !synced) return std::unexpected(synced.error());
    reporter.step(fmt::format("stored artifact {} ({} bytes)", content->digest, content->size));
    return artifact;
  }

  static Result<ContentDigest> tar_into(const fs::path& source, int fd) {
    oci::FileSink file(fd);
    oci::HashingSink hashing(file);
    if (auto written = write_directory_tar(source, hashing); !written) return std::unexpected(written.error());
    return ContentDigest{.digest = hashing.digest(), .size = hashing.size()};
  }

  Result<void> fetch(const StoredArtifact& artifact, const fs::path& destination, core::Reporter& reporter) override {
    if (!artifact.uri.starts_with(k_file_scheme)) return fail(Errc::invalid, "not a file:// URI of a local store");
    fs::path object = artifact.uri.substr(k_file_scheme.size());
    struct stat info {};
    if (::lstat(destination.c_str(), &info) == 0) {
      return fail(Errc::precondition, fmt::format("{}: already exists", destination.string()),
                  "choose a destination that does not exist, or remove it first");
    }
    if (artifact.directory) {
      // The object is immutable once published, so checking it then extracting it is safe.
      auto content = file_digest(object);
      if (!content) return std::unexpected(content.error());
      if (auto checked = check_digest(object.string(), artifact.digest, content->digest); !checked) return checked;
      if (auto extracted = extract_tar(object, destination); !extracted) return extracted;
    } else {
      fs::path folder = destination.parent_path().empty() ? fs::path(".") : destination.parent_path();
      auto temp = core::TempFile::create(folder, destination.filename().string());
      if (!temp) return std::unexpected(temp.error());
      auto content = copy_file_hashing(object, temp->fd(), folder);
      if (!content) return std::unexpected(content.error());
      if (auto checked = check_digest(object.string(), artifact.digest, content->digest); !checked) return checked;
      if (auto closed = temp->sync_and_close(); !closed) return closed;
      // The temporary file's own removal then finds nothing, which is harmless.
      if (auto renamed = rename_no_replace(temp->path(), destination); !renamed) return renamed;
    }
    reporter.step(fmt::format("verified artifact {}", artifact.digest));
    return {};
  }

  fs::path root_;
};

}  // namespace

Result<StoredArtifact> ArtifactStore::put(const fs::path& source, core::Reporter& reporter) {
  auto stored = store(source, reporter);
  if (!stored) return std::unexpected(stored.error().context(fmt::format("storing {}", source.string())));
  return stored;
}

Result<void> ArtifactStore::get(const StoredArtifact& artifact, const fs::path& destination, core::Reporter& reporter) {
  auto got = fetch(artifact, destination, reporter);
  if (!got) return std::unexpected(got.error().context(fmt::format("getting {}", artifact.uri)));
  return got;
}

Result<std::unique_ptr<ArtifactStore>> open_artifact_store(std::string_view location,
                                                           const ArtifactStoreOptions& options) {
  if (location.starts_with("s3://")) return open_s3_store(location, S3Config::from_environment());
  if (location.starts_with("oci://")) return open_oci_store(location, options);
  if (location.starts_with(k_file_scheme)) location.remove_prefix(k_file_scheme.size());
  if (location.find("://") != std::string_view::npos) {
    return fail(Errc::invalid, fmt::format("artifact store '{}': unknown scheme", location),
                "use a local path, s3://bucket/prefix or oci://registry/repository");
  }
  if (location.empty()) {
    // Through the state folder, so its .gitignore keeps the artifacts out of the work tree.
    auto state = core::ensure_state_dir(options.project_root);
    if (!state) return std::unexpected(state.error());
    return std::make_unique<LocalStore>(fs::absolute(*state / "artifacts").lexically_normal());
  }
  fs::path root(location);
  if (root.is_relative()) root = options.project_root / root;
  return std::make_unique<LocalStore>(fs::absolute(root).lexically_normal());
}

}  // namespace mlctl::models
