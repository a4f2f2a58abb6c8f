#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/oci/byte_sink.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace mlctl::oci {

// One entry of a layer. File content comes from `source` on disk, or from `content` when
// `source` is empty.
struct TarEntry {
  enum class Kind { file, directory, symlink };

  std::string path{};  // in the image: relative, '/'-separated ("app/src/main.py")
  Kind kind = Kind::file;
  std::filesystem::path source{};
  std::string content{};
  std::string link_target{};  // symlinks: stored as written, never followed
  bool executable = false;  // files: mode 0755 instead of 0644
};

// An entry for what is at `source` on disk (not followed if it is a symlink): a regular file
// (executable when any execute bit is set), a directory (without its content), or a symlink.
// Fails for other kinds of file and when `source` cannot be read.
Result<TarEntry> entry_from_disk(const std::filesystem::path& source, std::string_view image_path);

// The entries as they will be written: paths normalised ("./a//b/" -> "a/b"), sorted, with every
// parent directory present. Fails, naming the entry, for an absolute path, a ".." component, an
// empty path, a duplicate, or a path under something that is not a directory.
Result<std::vector<TarEntry>> plan_entries(std::vector<TarEntry> entries);

// Writes a byte-for-byte reproducible tar of `entries` to `out` (ustar, with PAX extended
// headers for paths, link targets or sizes ustar cannot hold): owner 0:0 with empty names,
// modes 0755 (directories, executables), 0644 (files), 0777 (symlinks), every mtime `epoch`
// (SOURCE_DATE_EPOCH), no xattrs, ending with two zero blocks. The entries are checked with
// plan_entries before anything is written. A file that changes size while it is read fails.
Result<void> write_tar(std::vector<TarEntry> entries, std::int64_t epoch, ByteSink& out);

}  // namespace mlctl::oci
