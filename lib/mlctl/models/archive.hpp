#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/oci/byte_sink.hpp>
#include <mlctl/oci/tar_writer.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace mlctl::models {

// The entries of everything under `root` (not `root` itself), with paths relative to it and
// `prefix` put in front ("models/"), as oci::entry_from_disk sees them: symlinks are kept, not
// followed. Fails with Errc::invalid for a symlink whose target is absolute or leads outside
// `root`, and for anything that is not a file, directory or symlink (a socket, a device).
Result<std::vector<oci::TarEntry>> directory_entries(const std::filesystem::path& root, std::string_view prefix = {});

// The deterministic tar of a directory (oci::write_tar, mtime 0): the same tree always gives the
// same bytes, so its sha256 is the artifact digest. Modes are kept as 0644/0755 (executable or
// not), owners dropped.
Result<void> write_directory_tar(const std::filesystem::path& root, oci::ByteSink& out);

// "sha256:<hex>" and size of some content.
struct ContentDigest {
  std::string digest{};
  std::uint64_t size = 0;
};

// Of write_directory_tar(root), without keeping the bytes.
Result<ContentDigest> directory_digest(const std::filesystem::path& root);
// Of a file's bytes (not followed if it is a symlink).
Result<ContentDigest> file_digest(const std::filesystem::path& path);
// Copies a file's bytes to `fd` (not owned), hashing them on the way, so what is checked is what
// was written. A failed write names `destination` (where `fd` writes) and hints at a full disk.
Result<ContentDigest> copy_file_hashing(const std::filesystem::path& source, int fd,
                                        const std::filesystem::path& destination = {});
// Errc::failed "<what>: digest mismatch: expected X, got Y" unless they are equal.
Result<void> check_digest(std::string_view what, std::string_view expected, std::string_view actual);

// Whether a symlink at `link_path` (relative to the tree's root, '/'-separated) with `target`
// resolves inside the tree when read lexically: false for absolute targets and for targets whose
// ".." climb above the root.
bool symlink_stays_inside(std::string_view link_path, std::string_view target);

struct ExtractOptions {
  // Only entries under this folder of the archive are extracted, without it ("models/"); empty
  // extracts everything.
  std::string strip_prefix{};
};

// Extracts a tar archive (plain, gzip or zstd) to the directory `destination`, which must not
// exist (Errc::precondition). The entries are written to a temporary folder beside `destination`
// that is renamed into place only when all of them succeeded, so a failure leaves nothing. Only
// regular files (0644, or 0755 when any execute bit is set), directories (0755) and symlinks are
// made; fails with Errc::invalid, naming the entry, for an absolute path, a ".." component, a
// symlink pointing outside, a hard link, a device or fifo, a duplicate path, or a path through a
// symlink. Files are never larger than the archive says.
Result<void> extract_tar(const std::filesystem::path& archive, const std::filesystem::path& destination,
                         const ExtractOptions& options = {});

// Renames `from` to `to` unless `to` exists (renameat2 RENAME_NOREPLACE): Errc::precondition then.
Result<void> rename_no_replace(const std::filesystem::path& from, const std::filesystem::path& to);

// A hidden temporary directory beside `target` ("<parent>/.<name>-XXXXXX"), on the same
// filesystem so it can be renamed to `target`; removed with its content when dropped unless
// release() was called.
class TempDirectory {
public:
  static Result<TempDirectory> create_beside(const std::filesystem::path& target);
  TempDirectory(TempDirectory&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  TempDirectory& operator=(TempDirectory&&) = delete;
  ~TempDirectory();

  const std::filesystem::path& path() const { return path_; }
  void release() { path_.clear(); }

private:
  explicit TempDirectory(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
};

}  // namespace mlctl::models
