#include <mlctl/core/temp_file.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

namespace mlctl::core {

Result<TempFile> TempFile::create(const std::filesystem::path& dir, std::string_view stem,
                                  std::filesystem::perms mode) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail(Errc::failed, fmt::format("{}: cannot create directory: {}", dir.string(), ec.message()));
  std::string name = (dir / fmt::format(".{}-XXXXXX", stem)).string();
  int fd = ::mkstemp(name.data());
  if (fd < 0) return fail(Errc::failed, fmt::format("{}: cannot create a temporary file: {}", dir.string(), std::strerror(errno)));
  ::fchmod(fd, static_cast<mode_t>(mode));
  return TempFile(name, fd);
}

TempFile::TempFile(TempFile&& other) noexcept : path_(std::move(other.path_)), fd_(other.fd_) {
  other.path_.clear();
  other.fd_ = -1;
}

TempFile::~TempFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!path_.empty()) ::unlink(path_.c_str());
}

Result<void> TempFile::sync_and_close() {
  if (fd_ < 0) return {};
  bool synced = ::fsync(fd_) == 0;
  int saved = errno;
  bool closed = ::close(fd_) == 0;
  fd_ = -1;
  if (!synced || !closed) {
    return fail(Errc::failed, fmt::format("{}: cannot write: {}", path_.string(), std::strerror(synced ? errno : saved)));
  }
  return {};
}

Result<void> TempFile::close() {
  if (fd_ < 0) return {};
  bool closed = ::close(fd_) == 0;
  fd_ = -1;
  if (!closed) return fail(Errc::failed, fmt::format("{}: cannot write: {}", path_.string(), std::strerror(errno)));
  return {};
}

Result<void> TempFile::rename_to(const std::filesystem::path& target) {
  if (auto closed = sync_and_close(); !closed) return closed;
  if (::rename(path_.c_str(), target.c_str()) != 0) {
    return fail(Errc::failed, fmt::format("{}: cannot replace: {}", target.string(), std::strerror(errno)));
  }
  path_.clear();
  return {};
}

Result<void> sync_directory(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail(Errc::failed, fmt::format("{}: cannot open: {}", dir.string(), std::strerror(errno)));
  bool ok = ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  if (!ok) return fail(Errc::failed, fmt::format("{}: cannot sync: {}", dir.string(), std::strerror(saved)));
  return {};
}

}  // namespace mlctl::core
