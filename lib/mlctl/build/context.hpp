#pragma once

#include <mlctl/core/error.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace mlctl::build {

// A file or symlink of the build context that goes into the image.
struct ContextEntry {
  enum class Kind { file, symlink };

  std::string path;                  // relative to the context root, '/'-separated
  std::filesystem::path source;      // on disk
  Kind kind = Kind::file;
  std::uint64_t size = 0;            // files only
  bool executable = false;           // any execute bit set
  std::string link_target;           // symlinks only, as written (relative)
};

struct ContextRules {
  std::vector<std::string> include;  // image.include; empty: everything
  std::vector<std::string> exclude;  // image.exclude, gitignore syntax
  std::uint64_t large_file_bytes = 10'000'000;
};

// The selected context, split so that large files (weights, data) get a layer of their own
// and a code change does not re-push them.
struct BuildContext {
  std::vector<ContextEntry> code;   // sorted by path
  std::vector<ContextEntry> large;  // files >= large_file_bytes, sorted by path
};

// Selects the files under `root`: `include` minus `exclude`, minus what .gitignore and
// .mlctlignore files (at any depth) ignore; `.git/` and `.mlctl/` never. Symlinks are kept as
// symlinks and never followed; one whose target leaves the context is an error, as is an
// include entry outside the context or matching nothing, and a special file (fifo, socket, device).
Result<BuildContext> select_context(const std::filesystem::path& root, const ContextRules& rules);

}  // namespace mlctl::build
