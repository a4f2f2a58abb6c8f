#include <mlctl/oci/tar_writer.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>

#include <fmt/format.h>

namespace mlctl::oci {

namespace {

using Block = std::array<char, 512>;

constexpr std::uint64_t k_max_ustar_size = 077777777777;  // 11 octal digits
constexpr size_t k_read_buffer = 1 << 20;
constexpr Block k_zero_block{};

Result<std::string> normalise(std::string_view path) {
  if (path.starts_with('/')) {
    return fail(Errc::invalid, fmt::format("'{}': absolute paths are not allowed in a layer", path));
  }
  std::string out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = std::min(path.find('/', start), path.size());
    std::string_view part = path.substr(start, end - start);
    start = end + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") return fail(Errc::invalid, fmt::format("'{}': '..' is not allowed in a layer path", path));
    if (part.find('\0') != std::string_view::npos) return fail(Errc::invalid, "a layer path contains a NUL byte");
    if (!out.empty()) out.push_back('/');
    out.append(part);
  }
  if (out.empty()) return fail(Errc::invalid, fmt::format("'{}': empty path in a layer", path));
  return out;
}

Result<void> add_parents(std::map<std::string, TarEntry>& entries) {
  std::vector<std::string> paths;
  for (const auto& [path, entry] : entries) paths.push_back(path);
  for (const std::string& path : paths) {
    for (size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
      std::string parent = path.substr(0, slash);
      auto [found, added] = entries.try_emplace(parent, TarEntry{.path = parent, .kind = TarEntry::Kind::directory});
      if (!added && found->second.kind != TarEntry::Kind::directory) {
        return fail(Errc::invalid, fmt::format("'{}': '{}' is not a directory", path, parent));
      }
    }
  }
  return {};
}

void put_string(char* field, size_t width, std::string_view value) {
  std::memcpy(field, value.data(), std::min(value.size(), width));
}

// width - 1 octal digits and a NUL, as ustar numeric fields are.
void put_octal(char* field, size_t width, std::uint64_t value) {
  std::string digits = fmt::format("{:0{}o}", value, width - 1);
  std::memcpy(field, digits.data(), width - 1);
  field[width - 1] = '\0';
}

Block ustar_header(std::string_view name, char type, std::uint64_t size, unsigned mode,
                   std::string_view link, std::int64_t epoch) {
  Block block{};
  put_string(&block[0], 100, name);
  put_octal(&block[100], 8, mode);
  put_octal(&block[108], 8, 0);
  put_octal(&block[116], 8, 0);
  put_octal(&block[124], 12, size);
  put_octal(&block[136], 12, static_cast<std::uint64_t>(epoch));
  std::memset(&block[148], ' ', 8);
  block[156] = type;
  put_string(&block[157], 100, link);
  std::memcpy(&block[257], "ustar", 6);
  std::memcpy(&block[263], "00", 2);
  put_octal(&block[329], 8, 0);
  put_octal(&block[337], 8, 0);
  unsigned sum = 0;
  for (char byte : block) sum += static_cast<unsigned char>(byte);
  std::string checksum = fmt::format("{:06o}", sum);
  std::memcpy(&block[148], checksum.data(), 6);
  block[154] = '\0';
  return block;
}

// "<length> <key>=<value>\n", where the length counts its own digits.
std::string pax_record(std::string_view key, std::string_view value) {
  size_t base = key.size() + value.size() + 3;
  size_t length = base + std::to_string(base).size();
  if (std::to_string(length).size() != std::to_string(base).size()) length = base + std::to_string(length).size();
  return fmt::format("{} {}={}\n", length, key, value);
}

Result<void> pad(ByteSink& out, std::uint64_t size) {
  size_t rest = static_cast<size_t>(size % 512);
  if (rest == 0) return {};
  return out.write({k_zero_block.data(), 512 - rest});
}

Result<void> write_block(ByteSink& out, const Block& block) { return out.write({block.data(), block.size()}); }

struct Header {
  std::string name{};
  char type = '0';
  std::uint64_t size = 0;
  unsigned mode = 0644;
  std::string link{};
};

Result<void> write_header(ByteSink& out, const Header& header, std::int64_t epoch) {
  std::string pax;
  if (header.link.size() > 100) pax += pax_record("linkpath", header.link);
  if (header.name.size() > 100) pax += pax_record("path", header.name);
  if (header.size > k_max_ustar_size) pax += pax_record("size", std::to_string(header.size));
  if (!pax.empty()) {
    // Named after the entry's last component (a directory's trailing '/' is skipped), as GNU tar does.
    std::string base = header.name.substr(header.name.find_last_of('/', header.name.size() - 2) + 1);
    std::string name = ("PaxHeaders/" + base).substr(0, 100);
    if (auto written = write_block(out, ustar_header(name, 'x', pax.size(), 0644, "", epoch)); !written) return written;
    if (auto written = out.write(pax); !written) return written;
    if (auto padded = pad(out, pax.size()); !padded) return padded;
  }
  std::uint64_t size = header.size > k_max_ustar_size ? 0 : header.size;
  return write_block(out, ustar_header(header.name.substr(0, 100), header.type, size, header.mode,
                                       header.link.substr(0, 100), epoch));
}

class FileReader {
public:
  explicit FileReader(const std::filesystem::path& path)
      : fd_(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) {}
  ~FileReader() { if (fd_ >= 0) ::close(fd_); }
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;
  int fd() const { return fd_; }

private:
  int fd_;
};

Result<void> copy_content(int fd, std::uint64_t size, std::string& buffer, ByteSink& out) {
  std::uint64_t left = size;
  while (true) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(Errc::failed, std::string("cannot read: ") + std::strerror(errno));
    if (static_cast<std::uint64_t>(n) > left) return fail(Errc::failed, "the file grew while it was read");
    if (n == 0) break;
    if (auto written = out.write({buffer.data(), static_cast<size_t>(n)}); !written) return written;
    left -= static_cast<std::uint64_t>(n);
  }
  if (left != 0) return fail(Errc::failed, "the file shrank while it was read");
  return pad(out, size);
}

Result<void> write_file(const TarEntry& entry, std::int64_t epoch, std::string& buffer, ByteSink& out) {
  Header header{.name = entry.path, .type = '0', .mode = entry.executable ? 0755u : 0644u};
  if (entry.source.empty()) {
    header.size = entry.content.size();
    if (auto written = write_header(out, header, epoch); !written) return written;
    if (auto written = out.write(entry.content); !written) return written;
    return pad(out, header.size);
  }
  FileReader file(entry.source);
  struct stat info {};
  if (file.fd() < 0 || ::fstat(file.fd(), &info) != 0) {
    return fail(Errc::failed, fmt::format("{}: cannot open: {}", entry.source.string(), std::strerror(errno)));
  }
  if (!S_ISREG(info.st_mode)) return fail(Errc::failed, fmt::format("{}: not a regular file", entry.source.string()));
  header.size = static_cast<std::uint64_t>(info.st_size);
  if (auto written = write_header(out, header, epoch); !written) return written;
  return with_context(copy_content(file.fd(), header.size, buffer, out), entry.source.string());
}

Result<void> write_entry(const TarEntry& entry, std::int64_t epoch, std::string& buffer, ByteSink& out) {
  switch (entry.kind) {
    case TarEntry::Kind::directory:
      return write_header(out, {.name = entry.path + "/", .type = '5', .mode = 0755}, epoch);
    case TarEntry::Kind::symlink:
      return write_header(out, {.name = entry.path, .type = '2', .mode = 0777, .link = entry.link_target}, epoch);
    case TarEntry::Kind::file:
      return write_file(entry, epoch, buffer, out);
  }
  return {};
}

}  // namespace

Result<TarEntry> entry_from_disk(const std::filesystem::path& source, std::string_view image_path) {
  struct stat info {};
  if (::lstat(source.c_str(), &info) != 0) {
    return fail(Errc::not_found, fmt::format("{}: {}", source.string(), std::strerror(errno)));
  }
  TarEntry entry{.path = std::string(image_path), .source = source};
  if (S_ISREG(info.st_mode)) {
    entry.executable = (info.st_mode & 0111) != 0;
  } else if (S_ISDIR(info.st_mode)) {
    entry.kind = TarEntry::Kind::directory;
    entry.source.clear();
  } else if (S_ISLNK(info.st_mode)) {
    entry.kind = TarEntry::Kind::symlink;
    std::error_code ec;
    entry.link_target = std::filesystem::read_symlink(source, ec).string();
    if (ec) return fail(Errc::failed, fmt::format("{}: cannot read the link: {}", source.string(), ec.message()));
    entry.source.clear();
  } else {
    return fail(Errc::invalid, fmt::format("{}: not a regular file, directory or symlink", source.string()));
  }
  return entry;
}

Result<std::vector<TarEntry>> plan_entries(std::vector<TarEntry> entries) {
  std::map<std::string, TarEntry> by_path;
  for (TarEntry& entry : entries) {
    auto path = normalise(entry.path);
    if (!path) return std::unexpected(path.error());
    if (entry.kind == TarEntry::Kind::symlink && entry.link_target.empty()) {
      return fail(Errc::invalid, fmt::format("'{}': symlink without a target", *path));
    }
    entry.path = *path;
    if (!by_path.try_emplace(*path, std::move(entry)).second) {
      return fail(Errc::invalid, fmt::format("'{}': more than one entry for this path", *path));
    }
  }
  if (auto parents = add_parents(by_path); !parents) return std::unexpected(parents.error());
  std::vector<TarEntry> out;
  out.reserve(by_path.size());
  for (auto& [path, entry] : by_path) out.push_back(std::move(entry));
  return out;
}

Result<void> write_tar(std::vector<TarEntry> entries, std::int64_t epoch, ByteSink& out) {
  if (epoch < 0 || static_cast<std::uint64_t>(epoch) > k_max_ustar_size) {
    return fail(Errc::invalid, fmt::format("{}: the timestamp is out of range for a tar archive", epoch));
  }
  auto planned = plan_entries(std::move(entries));
  if (!planned) return std::unexpected(planned.error());
  std::string buffer(k_read_buffer, '\0');
  for (const TarEntry& entry : *planned) {
    if (auto written = write_entry(entry, epoch, buffer, out); !written) {
      return std::unexpected(written.error().context(fmt::format("writing '{}'", entry.path)));
    }
  }
  if (auto written = write_block(out, k_zero_block); !written) return written;
  return write_block(out, k_zero_block);
}

}  // namespace mlctl::oci
