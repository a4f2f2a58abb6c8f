#pragma once

#include <mlctl/core/error.hpp>

#include <filesystem>
#include <optional>
#include <string>

namespace mlctl::git {

// How the `version:` of mlctl.yaml moved between a base commit and HEAD.
struct VersionChange {
  std::optional<std::string> before{};  // none without a base commit, or when the base had no version
  std::string after{};
  // after > before by semver precedence, or there was no version before: a release is due.
  bool bumped = false;
  // after < before: not a bump, and worth a warning (a revert, or a merge of an older branch).
  bool lowered = false;
  std::string head_commit{};
  std::optional<std::string> base_commit{};  // none for the first commit
};

// Compares the top-level `version:` of the file `manifest` (relative to the repository's top
// folder, e.g. "mlctl.yaml" or "models/fraud/mlctl.yaml") at HEAD with the one at `since` (any
// revision git accepts), by default HEAD's first parent, so that a merge commit compares against
// the branch it was merged into. `path` is any folder inside the repository.
// Fails: not_found for an unknown revision or a manifest missing at HEAD; invalid, naming the
// commit and the file, for a version that is missing at HEAD or is not a semantic version.
Result<VersionChange> version_change(const std::filesystem::path& path, const std::string& manifest,
                                     const std::optional<std::string>& since = std::nullopt);

}  // namespace mlctl::git
