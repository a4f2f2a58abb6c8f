#include <mlctl/core/fs.hpp>

#include <mlctl/core/temp_file.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include <fmt/format.h>

namespace mlctl::core {

namespace fs = std::filesystem;

Result<std::string> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (!fs::exists(path, ec)) return fail(Errc::not_found, fmt::format("{}: no such file", path.string()));
    return fail(Errc::failed, fmt::format("{}: cannot read: {}", path.string(), std::strerror(errno)));
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return fail(Errc::failed, fmt::format("{}: read error", path.string()));
  return buffer.str();
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
  // One open folder on each file system written to, for syncfs.
  struct Folders {
    std::map<dev_t, int> fds;
    ~Folders() {
      for (auto [device, fd] : fds)
        if (fd >= 0) ::close(fd);
    }
  } folders;
  std::vector<TempFile> temps;
  temps.reserve(files.size());
  for (const auto& file : files) {
    auto temp = write_temp(file.path, file.content, mode);
    if (!temp) return std::unexpected(temp.error());
    if (auto closed = temp->close(); !closed) return closed;  // no descriptor per file held open
    struct stat info {};
    if (::stat(temp->path().c_str(), &info) == 0 && !folders.fds.contains(info.st_dev))
      folders.fds[info.st_dev] = ::open(temp->path().parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    temps.push_back(std::move(*temp));
  }
  for (auto [device, fd] : folders.fds)
    if (fd < 0 || ::syncfs(fd) != 0)
      return fail(Errc::failed,
                  fmt::format("cannot flush {} to disk: {}", files.front().path.string(), std::strerror(errno)));
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
