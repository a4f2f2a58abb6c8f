#pragma once

#include <mlctl/core/error.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace mlctl::git {

// Makes the folder `dir` (relative to the top of the work tree of the repository at `repo_path`,
// usually a GitOps repository, not the project's) hold exactly `files` (path relative to `dir` ->
// content) and commits that on the current branch (an unborn one too), authored by the
// repository's user.name and user.email (else "mlctl <mlctl@localhost>").
//
// mlctl owns `dir`: tracked files under it that are not in `files` are deleted. Each file is
// written atomically (temporary file, then rename).
// Returns the new commit's full id, or nullopt when `dir` already held exactly these files (no
// commit is made).
// Fails before writing anything: invalid for a path that leaves `dir` (absolute, "..", ".git", or
// through a symbolic link); precondition when changes outside `dir` are staged, so that someone's
// unrelated work is never committed.
Result<std::optional<std::string>> commit_files(const std::filesystem::path& repo_path, const std::string& dir,
                                                const std::map<std::string, std::string>& files,
                                                const std::string& message);

}  // namespace mlctl::git
