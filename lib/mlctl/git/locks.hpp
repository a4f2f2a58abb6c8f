#pragma once

#include <mlctl/core/error.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace mlctl::git {

// Removes the lock files git (and libgit2) leave when a process dies while it writes: the
// index's and those of `refs` ("HEAD", "refs/tags/v1.5.0", "refs/heads/main"), in the repository
// that contains `path`. Only for a caller that knows the writer is dead (a release taking over from
// a killed one): a live writer's lock must never be removed. Returns the lock files removed.
Result<std::vector<std::filesystem::path>> remove_stale_locks(const std::filesystem::path& path,
                                                              const std::vector<std::string>& refs);

}  // namespace mlctl::git
