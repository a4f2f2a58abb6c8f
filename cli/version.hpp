#pragma once

namespace mlctl::cli {

// Filled in at build time by scripts/cmake/version.cmake.
extern const char* const k_version;
extern const char* const k_git_commit;
extern const bool k_git_dirty;

}  // namespace mlctl::cli
