#pragma once

#include <mlctl/core/error.hpp>

#include <filesystem>
#include <string_view>

namespace mlctl::core {

// A file being written, removed when dropped unless rename_to() published it.
class TempFile {
public:
  // Creates a hidden ".<stem>-XXXXXX" file with `mode` in `dir` (created if missing; the same
  // filesystem as the final name, so the rename that publishes it is atomic).
  static Result<TempFile> create(const std::filesystem::path& dir, std::string_view stem,
                                 std::filesystem::perms mode = std::filesystem::perms(0644));

  TempFile(TempFile&& other) noexcept;
  TempFile& operator=(TempFile&&) = delete;
  TempFile(const TempFile&) = delete;
  ~TempFile();

  int fd() const { return fd_; }
  const std::filesystem::path& path() const { return path_; }
  // Flushes to disk and closes; the file stays until renamed or dropped.
  Result<void> sync_and_close();
  // Closes without flushing (for a caller that flushed the whole file system itself).
  Result<void> close();
  // Flushes and closes the file unless closed already, atomically renames it to `target`, and keeps it.
  Result<void> rename_to(const std::filesystem::path& target);

private:
  TempFile(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {}

  std::filesystem::path path_;
  int fd_ = -1;
};

// Flushes a folder's entries (a rename in it) to disk.
Result<void> sync_directory(const std::filesystem::path& dir);

}  // namespace mlctl::core
