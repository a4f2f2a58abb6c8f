#pragma once

#include <mlctl/core/config.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/git/repo.hpp>
#include <mlctl/git/version.hpp>
#include <mlctl/release/run.hpp>

#include <optional>
#include <string>
#include <vector>

namespace mlctl::release {

// What the person or CI job asked for.
struct ReleaseRequest {
  std::optional<std::string> environment{};  // --env: instead of the one whose branch is checked out
  std::vector<Step> steps{};                 // --only (empty: every step)
  bool force = false;                        // release although the version was not bumped
  bool allow_dirty = false;                  // release from a work tree with uncommitted changes
  bool keep_tag = false;                     // leave a tag of this version at another commit alone
};

// Whether a release is due, and if so of what, where to and with which steps.
struct ReleaseDecision {
  bool due = false;
  std::string reason{};  // "version 1.4.0 -> 1.5.0", "version 1.4.0 was not bumped since 1a2b3c4"
  git::VersionChange change{};
  core::Environment environment{};
  ReleasePlan plan{};
  std::string tag{};                         // the tag this version gets (release.tag)
  std::optional<std::string> tag_commit{};   // where that tag points already, if it exists
};

// What is known about the repository when deciding: its state, how the version moved, and where
// the version's tag points already (nullopt: no such tag).
struct RepositoryFacts {
  git::RepoState state{};
  git::VersionChange change{};
  std::optional<std::string> tag_commit{};
};

// Decides a release of `project` from the facts: not due (nothing to do, not an error) when the
// version was not bumped and `force` is not set; else the plan for HEAD's commit and the branch's
// environment (environments.<env>.branch), or the one --env names.
// Fails: precondition on a dirty work tree (unless allow_dirty), on a detached HEAD or a branch no
// environment names (unless --env), and when the tag exists at another commit (unless keep_tag);
// not_found for an --env that mlctl.yaml does not define; invalid for a bad tag pattern.
Result<ReleaseDecision> decide_release(const core::Project& project, const RepositoryFacts& facts,
                                       const ReleaseRequest& request);

}  // namespace mlctl::release
