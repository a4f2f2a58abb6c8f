#pragma once

#include <mlctl/core/error.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace mlctl::oci {

// One entry of a tar archive, after GNU long names and PAX records are applied.
struct TarHeaderInfo {
  std::string path{};  // as stored: a directory usually ends in '/', some tools write "./x"
  char type = '0';     // '0' file ('\0' and '7' read as '0'), '1' hard link, '2' symlink, '5' directory...
  std::uint64_t size = 0;  // of the content; 0 for links, directories and devices whatever the header says
  std::string link_target{};
  unsigned mode = 0;  // permission bits (07777)
  std::int64_t mtime = 0;
  unsigned uid = 0, gid = 0;

  bool operator==(const TarHeaderInfo&) const = default;
};

// The content of the entry being visited. Reading past its end gives nothing more; reading a
// truncated or corrupt archive fails with Errc::invalid (and read_tar then fails the same way).
class ContentReader {
public:
  virtual ~ContentReader() = default;

  // The next bytes of the content, at most `max` (and at most 64 KiB); empty at its end. The
  // view is valid until the next call.
  virtual Result<std::string_view> read(std::size_t max) = 0;
  // Bytes of the content not read yet (what the header says; the archive may end sooner).
  virtual std::uint64_t remaining() const = 0;

  // The rest of the content; fails with Errc::invalid, without reading it, when it is longer
  // than `max_bytes`, so a hostile size never decides how much memory is taken.
  Result<std::string> read_all(std::uint64_t max_bytes);
};

using TarVisitor = std::function<bool(const TarHeaderInfo&, ContentReader&)>;

// Reads a tar archive (ustar, GNU 'L'/'K' long names, PAX 'x'/'g' records for path, linkpath,
// size, mtime, uid and gid), plain or gzip- or zstd-compressed (told by its first bytes), in one
// streaming pass with bounded buffers. Calls `visit` for every entry in order; it may read the
// content or not, and returns false to stop early. Truncated input, a bad checksum or any other
// damage fails with Errc::invalid naming the entry and the offset in the uncompressed tar. The
// archive ends at its two zero blocks or, as Go's archive/tar allows, at the end of the input
// between entries.
Result<void> read_tar(const std::filesystem::path& file, const TarVisitor& visit);
// The same for an archive in memory (tests, fuzzing). A std::string is bytes, not a file name.
Result<void> read_tar(std::string_view bytes, const TarVisitor& visit);
inline Result<void> read_tar(const std::string& bytes, const TarVisitor& visit) {
  return read_tar(std::string_view(bytes), visit);
}

}  // namespace mlctl::oci
