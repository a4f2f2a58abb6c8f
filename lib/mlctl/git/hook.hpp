#pragma once

#include <mlctl/core/error.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace mlctl::git {

// The hooks mlctl installs: post-merge (a merge or a fast-forward pull) and post-rewrite (a pull
// with rebase that rewrote local commits).
inline constexpr const char* k_hook_names[] = {"post-merge", "post-rewrite"};

struct HookOptions {
  std::string branch;                // the release branch: other branches run nothing
  std::vector<std::string> command;  // argv run on it, e.g. {"/usr/bin/mlctl", "release", "--from-hook"}
};

enum class HookAction { installed, updated, unchanged, removed, absent };

struct HookChange {
  std::string hook;  // "post-merge"
  std::filesystem::path path;
  HookAction action;
};

// The folder git runs hooks from: core.hooksPath (relative to the top of the work tree), else the
// repository's hooks/ (shared by its worktrees). `repo_path` is any folder inside the repository.
Result<std::filesystem::path> hooks_dir(const std::filesystem::path& repo_path);

// Installs the hooks so that they run `options.command` in the top of the work tree when the
// current branch is `options.branch` (post-rewrite: only after a rebase, not an amend), with its
// output appended to .mlctl/release.log. The hook never fails or holds up the git operation: the
// command runs in the background (one line on stderr says so, naming the log); with
// MLCTL_HOOK_WAIT=1 in the environment the hook waits for it and a failure is one line on stderr.
// An existing hook is kept: a shell script gets mlctl's marked block appended; any other program
// is renamed to <hook>.mlctl-chained and run first, with the same arguments and stdin, its exit
// status kept. Installing again rewrites only mlctl's block (updated, or unchanged).
Result<std::vector<HookChange>> install_hooks(const std::filesystem::path& repo_path, const HookOptions& options);

// Removes mlctl's block from each hook (removed), deleting a file mlctl made and putting a
// chained hook back; a hook without mlctl's block is left alone (absent).
Result<std::vector<HookChange>> uninstall_hooks(const std::filesystem::path& repo_path);

const char* hook_action_name(HookAction action);

}  // namespace mlctl::git
