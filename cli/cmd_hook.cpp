#include "context.hpp"

#include <mlctl/core/fs.hpp>
#include <mlctl/git/hook.hpp>
#include <mlctl/git/repo.hpp>

#include <fmt/format.h>

namespace mlctl::cli {

namespace {

namespace fs = std::filesystem;

struct HookFlags {
  std::string branch = "main";
};

// The top of the work tree around `folder`; not_found, with a hint to create one, outside a
// repository.
fs::path work_tree_top(const fs::path& folder) {
  auto state = git::repo_state(folder);
  if (!state && state.error().code() == Errc::not_found)
    throw Fatal{Error(Errc::not_found, fmt::format("{} is not in a git repository", fs::absolute(folder).string()),
                      "git hooks live in a repository: run 'git init' there first, then install the hooks")};
  return fs::weakly_canonical(unwrap(std::move(state)).workdir);
}

// The argv the hooks run from the top of the work tree: this very binary (so that the hook does
// not depend on PATH, which git hooks do not always share with the shell) and the way back to
// the project when it is not at the top.
std::vector<std::string> release_command(const fs::path& top, const fs::path& project_file) {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw Fatal{Error(Errc::failed, fmt::format("finding the mlctl binary (/proc/self/exe): {}", ec.message()))};
  fs::path file = fs::weakly_canonical(project_file).lexically_relative(top);
  if (file.empty() || *file.begin() == "..")
    throw Fatal{Error(Errc::precondition,
                      fmt::format("{} is outside the work tree {}", project_file.string(), top.string()),
                      "install the hooks from the repository that holds the project")};
  std::vector<std::string> command{self.string()};
  if (file.has_parent_path()) command.insert(command.end(), {"-C", file.parent_path().string()});
  if (file.filename() != core::k_project_file) command.insert(command.end(), {"--config", file.filename().string()});
  command.insert(command.end(), {"release", "--from-hook"});
  return command;
}

void report(Context& context, const std::vector<git::HookChange>& changes) {
  nlohmann::json document = nlohmann::json::array();
  std::string text;
  for (const git::HookChange& change : changes) {
    std::string path = core::display_path(change.path);
    document.push_back({{"hook", change.hook}, {"path", path}, {"action", git::hook_action_name(change.action)}});
    text += fmt::format("{}: {} ({})\n", change.hook, git::hook_action_name(change.action), path);
  }
  context.print(document, text);
}

void run_install(Context& context, const HookFlags& flags) {
  if (flags.branch.empty())
    throw Fatal{Error(Errc::invalid, "--branch: the release branch cannot be empty", "for example --branch main")};
  fs::path project_file = fs::absolute(context.project_file());
  fs::path top = work_tree_top(project_file.parent_path());
  git::HookOptions options{.branch = flags.branch, .command = release_command(top, project_file)};
  report(context, unwrap(git::install_hooks(top, options)));
}

void run_uninstall(Context& context) {
  fs::path top = work_tree_top(fs::current_path());
  report(context, unwrap(git::uninstall_hooks(top)));
}

}  // namespace

void add_hook(CLI::App& app) {
  auto flags = std::make_shared<HookFlags>();
  CLI::App* group = app.add_subcommand("hook", "Git hooks that release on a merge to the release branch");
  group->require_subcommand(0, 1);
  group->footer(R"(The post-merge hook (and post-rewrite, for a pull with rebase) runs 'mlctl release --from-hook'
in the top of the work tree, only when the current branch is the release branch. It never fails
or blocks the merge: the release runs in the background with its output in .mlctl/release.log
(MLCTL_HOOK_WAIT=1 makes the hook wait for it and report a failure on stderr). A hook you already have is kept: a shell script gets mlctl's block
appended between "# >>> mlctl hook >>>" and "# <<< mlctl hook <<<"; any other program is moved
to <hook>.mlctl-chained and run first. Both commands are idempotent.

Examples:
  mlctl hook install                    # release on merges to main
  mlctl hook install --branch release   # or to another branch
  mlctl -C services/fraud hook install  # a project below the top of the repository
  mlctl hook uninstall                  # removes only mlctl's part)");

  CLI::App* c = group->add_subcommand("install", "Install the post-merge and post-rewrite hooks (again: update them)");
  c->add_option("--branch", flags->branch, "The release branch: merges to other branches run nothing (default main)")
      ->option_text("BRANCH");
  on_run(c, [flags](Context& context) { run_install(context, *flags); });

  c = group->add_subcommand("uninstall", "Remove mlctl's part of the hooks, keeping the rest of them");
  on_run(c, [](Context& context) { run_uninstall(context); });
}

}  // namespace mlctl::cli
