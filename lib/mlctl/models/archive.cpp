#include <mlctl/models/archive.hpp>

#include <mlctl/core/digest.hpp>
#include <mlctl/oci/tar_reader.hpp>

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>

#include <fmt/format.h>

namespace mlctl::models {

namespace fs = std::filesystem;

namespace {

class NullSink final : public oci::ByteSink {
public:
  Result<void> write(std::string_view) override { return {}; }
  Result<void> finish() override { return {}; }
};

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = std::min(path.find('/', start), path.size());
    std::string_view part = path.substr(start, end - start);
    if (!part.empty() && part != ".") parts.push_back(part);
    start = end + 1;
  }
  return parts;
}

// The entry's path inside the tree ("a/b"), empty for the root itself; refuses what could land
// outside the destination.
Result<std::string> safe_relative_path(std::string_view stored) {
  if (stored.starts_with('/')) return fail(Errc::invalid, fmt::format("'{}': absolute path in the archive", stored));
  std::string out;
  for (std::string_view part : split_path(stored)) {
    if (part == "..") return fail(Errc::invalid, fmt::format("'{}': '..' in a path of the archive", stored));
    if (!out.empty()) out.push_back('/');
    out.append(part);
  }
  return out;
}

// Applies ExtractOptions::strip_prefix: the path below the prefix, or none for entries outside it
// (and for the prefix folder itself).
std::optional<std::string> below_prefix(const std::string& path, const std::string& prefix) {
  if (prefix.empty()) return path;
  if (path.size() > prefix.size() && path.starts_with(prefix) && path[prefix.size()] == '/') {
    return path.substr(prefix.size() + 1);
  }
  return std::nullopt;
}

// Makes the parent folders of `relative` under `root`, refusing to go through a symlink or a file.
Result<void> make_parents(const fs::path& root, std::string_view relative) {
  std::vector<std::string_view> parts = split_path(relative);
  fs::path current = root;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    current /= std::string(parts[i]);
    struct stat info {};
    if (::lstat(current.c_str(), &info) == 0) {
      if (S_ISDIR(info.st_mode)) continue;
      return fail(Errc::invalid, fmt::format("'{}': its parent is a symlink or a file in the archive", relative));
    }
    if (::mkdir(current.c_str(), 0755) != 0) {
      return fail(Errc::failed, fmt::format("{}: cannot create: {}", current.string(), std::strerror(errno)));
    }
  }
  return {};
}

Result<void> extract_file(const fs::path& target, std::string_view relative, unsigned mode, oci::ContentReader& content) {
  mode_t file_mode = (mode & 0111) != 0 ? 0755 : 0644;
  int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, file_mode);
  if (fd < 0 && errno == EEXIST) return fail(Errc::invalid, fmt::format("'{}': more than one entry for this path", relative));
  if (fd < 0) return fail(Errc::failed, fmt::format("{}: cannot create: {}", target.string(), std::strerror(errno)));
  Result<void> result;
  while (result) {
    auto chunk = content.read(64 * 1024);
    if (!chunk) {
      result = std::unexpected(chunk.error());
      break;
    }
    if (chunk->empty()) break;
    for (size_t done = 0; done < chunk->size();) {
      ssize_t n = ::write(fd, chunk->data() + done, chunk->size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        result = fail(Errc::failed, fmt::format("{}: cannot write: {}", target.string(), std::strerror(errno)));
        break;
      }
      done += static_cast<size_t>(n);
    }
  }
  // The umask may have narrowed the mode given to open().
  if (result && ::fchmod(fd, file_mode) != 0) {
    result = fail(Errc::failed, fmt::format("{}: cannot set the mode: {}", target.string(), std::strerror(errno)));
  }
  ::close(fd);
  return result;
}

Result<void> extract_directory(const fs::path& target, std::string_view relative) {
  if (::mkdir(target.c_str(), 0755) == 0) return {};
  struct stat info {};
  // A folder made earlier as the parent of an entry is fine; anything else is a duplicate.
  if (errno == EEXIST && ::lstat(target.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) return {};
  if (errno == EEXIST) return fail(Errc::invalid, fmt::format("'{}': more than one entry for this path", relative));
  return fail(Errc::failed, fmt::format("{}: cannot create: {}", target.string(), std::strerror(errno)));
}

Result<void> extract_entry(const fs::path& root, const std::string& relative, const oci::TarHeaderInfo& header,
                           oci::ContentReader& content) {
  if (auto parents = make_parents(root, relative); !parents) return parents;
  fs::path target = root / relative;
  switch (header.type) {
    case '0':
      return extract_file(target, relative, header.mode, content);
    case '5':
      if (auto made = extract_directory(target, relative); !made) return made;
      ::chmod(target.c_str(), 0755);
      return {};
    case '2':
      if (!symlink_stays_inside(relative, header.link_target)) {
        return fail(Errc::invalid, fmt::format("'{}': the symlink points outside the artifact ('{}')", relative,
                                               header.link_target));
      }
      if (::symlink(header.link_target.c_str(), target.c_str()) == 0) return {};
      if (errno == EEXIST) return fail(Errc::invalid, fmt::format("'{}': more than one entry for this path", relative));
      return fail(Errc::failed, fmt::format("{}: cannot create the symlink: {}", target.string(), std::strerror(errno)));
    case '1':
      return fail(Errc::invalid, fmt::format("'{}': hard links are not allowed in an artifact", relative));
    case '3':
    case '4':
    case '6':
      return fail(Errc::invalid, fmt::format("'{}': device files and fifos are not allowed in an artifact", relative));
    default:
      return fail(Errc::invalid, fmt::format("'{}': unsupported tar entry type '{}'", relative, header.type));
  }
}

}  // namespace

bool symlink_stays_inside(std::string_view link_path, std::string_view target) {
  if (target.empty() || target.starts_with('/')) return false;
  std::vector<std::string_view> link_parts = split_path(link_path);
  std::int64_t depth = link_parts.empty() ? 0 : static_cast<std::int64_t>(link_parts.size()) - 1;
  for (std::string_view part : split_path(target)) {
    depth += part == ".." ? -1 : 1;
    if (depth < 0) return false;
  }
  return true;
}

Result<std::vector<oci::TarEntry>> directory_entries(const fs::path& root, std::string_view prefix) {
  std::vector<oci::TarEntry> entries;
  std::string base(prefix);
  while (base.ends_with('/')) base.pop_back();
  if (!base.empty()) entries.push_back({.path = base, .kind = oci::TarEntry::Kind::directory});
  std::error_code ec;
  fs::recursive_directory_iterator it(root, ec);
  if (ec) return fail(Errc::failed, fmt::format("{}: cannot read the directory: {}", root.string(), ec.message()));
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::string relative = it->path().lexically_relative(root).generic_string();
    auto entry = oci::entry_from_disk(it->path(), base.empty() ? relative : base + "/" + relative);
    if (!entry) return std::unexpected(entry.error());
    if (entry->kind == oci::TarEntry::Kind::symlink && !symlink_stays_inside(relative, entry->link_target)) {
      return fail(Errc::invalid,
                  fmt::format("{}: the symlink points outside the artifact directory ('{}')", it->path().string(),
                              entry->link_target),
                  "replace it with the file it points to, or a relative link inside the directory");
    }
    entries.push_back(std::move(*entry));
  }
  if (ec) return fail(Errc::failed, fmt::format("{}: cannot read the directory: {}", root.string(), ec.message()));
  return entries;
}

Result<void> write_directory_tar(const fs::path& root, oci::ByteSink& out) {
  auto entries = directory_entries(root);
  if (!entries) return std::unexpected(entries.error());
  if (auto written = oci::write_tar(std::move(*entries), 0, out); !written) return written;
  return out.finish();
}

Result<ContentDigest> directory_digest(const fs::path& root) {
  NullSink null;
  oci::HashingSink hashing(null);
  if (auto written = write_directory_tar(root, hashing); !written) return std::unexpected(written.error());
  return ContentDigest{.digest = hashing.digest(), .size = hashing.size()};
}

Result<ContentDigest> copy_file_hashing(const fs::path& source, int fd, const fs::path& destination) {
  int in = ::open(source.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (in < 0 && errno == ENOENT) return fail(Errc::not_found, fmt::format("{}: no such file", source.string()));
  if (in < 0) return fail(Errc::failed, fmt::format("{}: cannot open: {}", source.string(), std::strerror(errno)));
  core::Sha256 hash;
  std::uint64_t size = 0;
  // Sized to the file (up to 1 MiB) and not zeroed: most pipeline outputs are a few bytes, and
  // a zeroed megabyte per file was most of what hashing them cost.
  constexpr size_t k_max_buffer = 1 << 20;
  struct stat info {};
  size_t capacity = k_max_buffer;
  if (::fstat(in, &info) == 0 && info.st_size >= 0)
    capacity = std::clamp<size_t>(static_cast<size_t>(info.st_size) + 1, 4096, k_max_buffer);
  auto buffer = std::make_unique_for_overwrite<char[]>(capacity);
  Result<void> result;
  while (result) {
    ssize_t n = ::read(in, buffer.get(), capacity);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      result = fail(Errc::failed, fmt::format("{}: cannot read: {}", source.string(), std::strerror(errno)));
      break;
    }
    if (n == 0) break;
    hash.update(buffer.get(), static_cast<size_t>(n));
    size += static_cast<std::uint64_t>(n);
    for (ssize_t done = 0; fd >= 0 && done < n;) {
      ssize_t w = ::write(fd, buffer.get() + done, static_cast<size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        int error = errno;
        result = fail(Errc::failed,
                      fmt::format("cannot write a copy of {} into {}: {}", source.string(), destination.string(),
                                  std::strerror(error)),
                      error == ENOSPC || error == EDQUOT ? "free space on the file system that holds it" : "");
        break;
      }
      done += w;
    }
  }
  ::close(in);
  if (!result) return std::unexpected(result.error());
  return ContentDigest{.digest = "sha256:" + hash.hex(), .size = size};
}

Result<ContentDigest> file_digest(const fs::path& path) { return copy_file_hashing(path, -1); }

Result<void> check_digest(std::string_view what, std::string_view expected, std::string_view actual) {
  if (expected == actual) return {};
  return fail(Errc::failed, fmt::format("{}: digest mismatch: expected {}, got {}", what, expected, actual),
              "the stored artifact is damaged or was changed after it was registered");
}

Result<void> rename_no_replace(const fs::path& from, const fs::path& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return {};
  if (errno == EEXIST) {
    return fail(Errc::precondition, fmt::format("{}: already exists", to.string()),
                "choose a destination that does not exist, or remove it first");
  }
  return fail(Errc::failed, fmt::format("{}: cannot rename to {}: {}", from.string(), to.string(), std::strerror(errno)));
}

Result<TempDirectory> TempDirectory::create_beside(const fs::path& target) {
  fs::path parent = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) return fail(Errc::failed, fmt::format("{}: cannot create: {}", parent.string(), ec.message()));
  std::string name = (parent / fmt::format(".{}-XXXXXX", target.filename().string())).string();
  if (::mkdtemp(name.data()) == nullptr) {
    return fail(Errc::failed, fmt::format("{}: cannot create a temporary folder: {}", parent.string(), std::strerror(errno)));
  }
  return TempDirectory(name);
}

TempDirectory::~TempDirectory() {
  if (path_.empty()) return;
  std::error_code ec;
  fs::remove_all(path_, ec);
}

Result<void> extract_tar(const fs::path& archive, const fs::path& destination, const ExtractOptions& options) {
  struct stat info {};
  if (::lstat(destination.c_str(), &info) == 0) {
    return fail(Errc::precondition, fmt::format("{}: already exists", destination.string()),
                "choose a destination that does not exist, or remove it first");
  }
  auto prefix = safe_relative_path(options.strip_prefix);
  if (!prefix) return std::unexpected(prefix.error());
  auto temp = TempDirectory::create_beside(destination);
  if (!temp) return std::unexpected(temp.error());
  Result<void> failure;
  auto read = oci::read_tar(archive, [&](const oci::TarHeaderInfo& header, oci::ContentReader& content) {
    auto relative = safe_relative_path(header.path);
    if (!relative) {
      failure = std::unexpected(relative.error());
      return false;
    }
    std::optional<std::string> inside = below_prefix(*relative, *prefix);
    if (!inside || inside->empty()) return true;
    failure = extract_entry(temp->path(), *inside, header, content);
    return failure.has_value();
  });
  if (!failure) return std::unexpected(failure.error().context(fmt::format("extracting {}", archive.string())));
  if (!read) return std::unexpected(read.error().context(fmt::format("extracting {}", archive.string())));
  // mkdtemp makes the folder 0700; the tree's root is a directory like any other.
  ::chmod(temp->path().c_str(), 0755);
  if (auto renamed = rename_no_replace(temp->path(), destination); !renamed) return renamed;
  temp->release();
  return {};
}

}  // namespace mlctl::models
