#pragma once

#include <mlctl/core/error.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace mlctl::git {

// What a release, a build label or a lineage record needs to know about the repository.
struct RepoState {
  std::filesystem::path workdir;
  std::optional<std::string> commit;       // HEAD's full id; none before the first commit
  std::optional<std::int64_t> commit_time; // seconds since the epoch (the default SOURCE_DATE_EPOCH)
  std::optional<std::string> branch;       // none when HEAD is detached
  bool detached = false;
  // Modified, staged, or untracked-but-not-ignored files.
  bool dirty = false;
  std::optional<std::string> remote_url;   // of "origin", with any user name and password removed
  std::string author_name;                 // of HEAD's commit
  std::string author_email;
};

// The state of the repository that contains `path` (searched upward); not_found outside one.
Result<RepoState> repo_state(const std::filesystem::path& path);

// user.name from the user's git configuration (global, XDG and system files), if set.
std::optional<std::string> config_user_name();

}  // namespace mlctl::git
