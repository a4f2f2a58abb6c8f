#include <mlctl/core/fs.hpp>

#include <mlctl/core/temp_file.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

namespace mlctl::core {

namespace fs = std::filesystem;

Result<std::string> read_file(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return fail(Errc::not_found, fmt::format("{}: no such file", path.string()));
    return fail(Errc::failed, fmt::format("{}: cannot read: {}", path.string(), std::strerror(errno)));
  }
  // Read straight into the string, sized from fstat (one byte more, to see the end in one read).
  struct stat info {};
  std::size_t capacity = ::fstat(fd, &info) == 0 && info.st_size > 0 ? static_cast<std::size_t>(info.st_size) + 1 : 4096;
  std::string content(capacity, '\0');
  std::size_t size = 0;
  while (true) {
    if (size == content.size()) content.resize(content.size() * 2);
    ssize_t n = ::read(fd, content.data() + size, content.size() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int saved = errno;
      ::close(fd);
      if (n < 0) return fail(Errc::failed, fmt::format("{}: cannot read: {}", path.string(), std::strerror(saved)));
      content.resize(size);
      return content;
    }
    size += static_cast<std::size_t>(n);
  }
}

Result<std::vector<std::string>> list_files(const fs::path& dir, std::string_view suffix) {
  std::vector<std::string> names;
  DIR* stream = ::opendir(dir.c_str());
  if (stream == nullptr) {
    if (errno == ENOENT) return names;
    return fail(Errc::failed, fmt::format("{}: cannot list: {}", dir.string(), std::strerror(errno)));
  }
  while (true) {
    errno = 0;
    const dirent* entry = ::readdir(stream);
    if (entry == nullptr) break;
    std::string_view name = entry->d_name;
    if (!name.ends_with(suffix)) continue;
    bool regular = entry->d_type == DT_REG;
    if (entry->d_type == DT_LNK || entry->d_type == DT_UNKNOWN) {
      struct stat info {};
      regular = ::fstatat(::dirfd(stream), entry->d_name, &info, 0) == 0 && S_ISREG(info.st_mode);
    }
    if (regular) names.emplace_back(name);
  }
  int failed = errno;
  ::closedir(stream);
  if (failed != 0) return fail(Errc::failed, fmt::format("{}: cannot list: {}", dir.string(), std::strerror(failed)));
  std::sort(names.begin(), names.end());
  return names;
}

namespace {

Result<void> write_all(int fd, std::string_view content) {
  while (!content.empty()) {
    ssize_t n = ::write(fd, content.data(), content.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(Errc::failed, std::strerror(errno));
    }
    content.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Result<TempFile> write_temp(const fs::path& path, std::string_view content, fs::perms mode) {
  fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  auto temp = TempFile::create(dir, path.filename().string() + ".tmp", mode);
  if (!temp) return std::unexpected(temp.error());
  if (auto written = write_all(temp->fd(), content); !written)
    return fail(Errc::failed, fmt::format("{}: cannot write: {}", path.string(), written.error().message()));
  return temp;
}

}  // namespace

Result<void> write_file_atomic(const fs::path& path, std::string_view content, fs::perms mode) {
  auto temp = write_temp(path, content, mode);
  if (!temp) return std::unexpected(temp.error());
  return temp->rename_to(path);
}

Result<void> write_files_atomic(std::span<const FileContent> files, fs::perms mode) {
  std::vector<TempFile> temps;
  temps.reserve(files.size());
  for (const auto& file : files) {
    auto temp = write_temp(file.path, file.content, mode);
    if (!temp) return std::unexpected(temp.error());
    if (auto closed = temp->close(); !closed) return closed;  // no descriptor per file held open
    temps.push_back(std::move(*temp));
  }
  for (size_t i = 0; i < temps.size(); ++i)
    if (auto renamed = temps[i].rename_to(files[i].path); !renamed) return renamed;
  return {};
}

std::optional<fs::path> find_upward(const fs::path& start, std::string_view name) {
  std::error_code ec;
  fs::path dir = fs::absolute(start, ec);
  if (ec) return std::nullopt;
  while (true) {
    fs::path candidate = dir / name;
    if (fs::is_regular_file(candidate, ec)) return candidate;
    if (!dir.has_parent_path() || dir.parent_path() == dir) return std::nullopt;
    dir = dir.parent_path();
  }
}

std::string display_path(const fs::path& path) {
  std::error_code ec;
  fs::path relative = fs::relative(path, fs::current_path(ec), ec);
  if (ec || relative.empty() || relative.native().starts_with("..")) return path.string();
  return relative.string();
}

Result<fs::path> ensure_state_dir(const fs::path& project_root) {
  fs::path state = project_root / ".mlctl";
  fs::path ignore = state / ".gitignore";
  std::error_code ec;
  if (fs::is_regular_file(ignore, ec)) return state;
  if (auto written = write_file_atomic(ignore, "*\n"); !written)
    return std::unexpected(written.error().context("creating local state folder"));
  return state;
}

}  // namespace mlctl::core
