#include <mlctl/core/fs.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

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

}  // namespace

Result<void> write_file_atomic(const fs::path& path, std::string_view content, fs::perms mode) {
  std::error_code ec;
  fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  fs::create_directories(dir, ec);
  if (ec) return fail(Errc::failed, fmt::format("{}: cannot create directory: {}", dir.string(), ec.message()));

  std::string tmp = (dir / ("." + path.filename().string() + ".tmp-XXXXXX")).string();
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) return fail(Errc::failed, fmt::format("{}: cannot create temporary file: {}", path.string(), std::strerror(errno)));

  auto cleanup_fail = [&](std::string why) -> Result<void> {
    ::close(fd);
    ::unlink(tmp.c_str());
    return fail(Errc::failed, fmt::format("{}: cannot write: {}", path.string(), why));
  };
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) return cleanup_fail(std::strerror(errno));
  if (auto written = write_all(fd, content); !written) return cleanup_fail(written.error().message());
  if (::fsync(fd) != 0) return cleanup_fail(std::strerror(errno));
  if (::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return fail(Errc::failed, fmt::format("{}: cannot write: {}", path.string(), std::strerror(errno)));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int saved = errno;
    ::unlink(tmp.c_str());
    return fail(Errc::failed, fmt::format("{}: cannot replace: {}", path.string(), std::strerror(saved)));
  }
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
