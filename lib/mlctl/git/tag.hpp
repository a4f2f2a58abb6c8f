#pragma once

#include <mlctl/core/error.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace mlctl::git {

enum class TagOutcome { created, existed };

struct TagResult {
  TagOutcome outcome;
  std::string commit;  // the full id of the commit the tag points at
};

// Creates the annotated tag `name` at `revision` (HEAD, a commit id...) with `message`, tagged by
// the repository's user.name and user.email (else "mlctl <mlctl@localhost>"). A tag of that name
// at the same commit is left as it is (existed), so a re-run does nothing.
// Fails: precondition, naming both commits, when the tag points at another commit (a release never
// moves a tag); not_found for an unknown revision.
Result<TagResult> create_tag(const std::filesystem::path& repo_path, const std::string& name,
                             const std::string& revision, const std::string& message);

// The full id of the commit the tag `name` points at (an annotated tag peeled), or nullopt when
// there is no such tag: what a release checks before it starts, so that it never builds and trains
// for a tag it would then be refused.
Result<std::optional<std::string>> tag_commit(const std::filesystem::path& repo_path, const std::string& name);

// The tag name for `version` by `pattern`, whose only placeholder is {version} ("v{version}" for
// 1.4.0 is "v1.4.0"). Fails (invalid) on another placeholder, a pattern without {version}, or a
// result that is not a valid git tag name.
Result<std::string> expand_tag_pattern(std::string_view pattern, std::string_view version);

}  // namespace mlctl::git
