#include <mlctl/git/hook.hpp>

#include <support/temp_dir.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "git_cli.hpp"

namespace mlctl::git {
namespace {

namespace fs = std::filesystem;

// A repository on main with hooks run by the real git; the command they run is a script that
// records its working folder and arguments.
class HookTest : public ::testing::Test {
protected:
  void SetUp() override {
    fs::create_directory(repo_);
    test::init_repository(repo_, {{"mlctl.yaml", "version: 1.0.0\n"}});
    write_executable(dir_ / "record.sh", "#!/bin/sh\nprintf '%s|%s\\n' \"$PWD\" \"$*\" >>'" +
                                             (dir_ / "calls.txt").string() + "'\n");
  }

  std::string git(std::vector<std::string> args) { return test::git(repo_, std::move(args)); }
  HookOptions options(std::string branch = "main") {
    return {std::move(branch), {(dir_ / "record.sh").string(), "release", "--from-hook", "it's quoted"}};
  }
  // What the command recorded, one line per run.
  std::string calls() { return dir_.read("calls.txt"); }
  std::string one_call() { return repo_.string() + "|release --from-hook it's quoted\n"; }
  fs::path hook(const std::string& name) { return repo_ / ".git/hooks" / name; }
  std::string read(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  static void write_executable(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
    fs::permissions(path, fs::perms(0755));
  }
  // Commits on a new branch and merges it into the current one with a merge commit.
  void merge_a_feature(const std::string& name = "feature") {
    std::string current = git({"symbolic-ref", "--short", "HEAD"});
    git({"checkout", "-q", "-b", name});
    git({"commit", "-q", "--allow-empty", "-m", "work on " + name});
    git({"checkout", "-q", current});
    git({"merge", "-q", "--no-ff", "-m", "merge " + name, name});
  }
  void install(const HookOptions& with) {
    auto installed = install_hooks(repo_, with);
    ASSERT_TRUE(installed) << installed.error().message();
  }
  std::vector<HookAction> actions(const Result<std::vector<HookChange>>& changes) {
    std::vector<HookAction> out;
    if (!changes) ADD_FAILURE() << changes.error().message();
    for (const HookChange& change : changes.value_or(std::vector<HookChange>{})) out.push_back(change.action);
    return out;
  }

  test::TempDir dir_;
  fs::path repo_ = dir_ / "repo";
};

using enum HookAction;

TEST_F(HookTest, InstallsExecutableHooksInGitsFolder) {
  auto changes = install_hooks(repo_ / "", options());
  ASSERT_TRUE(changes) << changes.error().message();
  ASSERT_EQ(changes->size(), 2u);
  EXPECT_EQ((*changes)[0].hook, "post-merge");
  EXPECT_EQ((*changes)[0].path, hook("post-merge"));
  EXPECT_EQ((*changes)[0].action, installed);
  EXPECT_EQ((*changes)[1].hook, "post-rewrite");
  EXPECT_EQ((*changes)[1].path, hook("post-rewrite"));
  EXPECT_EQ((*changes)[1].action, installed);
  for (const char* name : k_hook_names) {
    EXPECT_EQ(fs::status(hook(name)).permissions(), fs::perms(0755)) << name;
    EXPECT_TRUE(read(hook(name)).starts_with("#!/bin/sh\n# >>> mlctl hook >>>\n")) << read(hook(name));
    EXPECT_TRUE(read(hook(name)).ends_with("# <<< mlctl hook <<<\n"));
  }
}

TEST_F(HookTest, AMergeOnTheReleaseBranchRunsTheCommandOnceAtTheTop) {
  install(options());
  merge_a_feature();
  EXPECT_EQ(calls(), one_call());
  std::string log = read(repo_ / ".mlctl/release.log");
  EXPECT_TRUE(log.starts_with("== ")) << log;
  EXPECT_TRUE(log.ends_with(" post-merge\n")) << log;
  EXPECT_EQ(git({"status", "--porcelain", "--untracked-files=all"}), "") << "the log leaves the tree clean";
}

TEST_F(HookTest, WithoutWaitingTheReleaseRunsInTheBackground) {
  // A release that waits for the test to let it go: the merge must not wait for it.
  write_executable(dir_ / "slow.sh", "#!/bin/sh\nwhile [ ! -e '" + (dir_ / "go").string() +
                                         "' ]; do sleep 0.05; done\necho released >'" +
                                         (dir_ / "done.txt").string() + "'\n");
  install({"main", {(dir_ / "slow.sh").string()}});
  git({"checkout", "-q", "-b", "feature"});
  git({"commit", "-q", "--allow-empty", "-m", "work"});
  git({"checkout", "-q", "main"});
  auto env = test::git_env();
  env.erase("MLCTL_HOOK_WAIT");
  auto merged = test::run_command({"git", "merge", "-q", "--no-ff", "-m", "merge", "feature"}, repo_, env);
  EXPECT_EQ(merged.exit_code, 0) << merged.err;
  std::string log = (repo_ / ".mlctl/release.log").string();
  EXPECT_TRUE(merged.err.starts_with("mlctl post-merge hook: releasing in the background (process ")) << merged.err;
  EXPECT_TRUE(merged.err.ends_with("); see " + log + "\n")) << merged.err;
  EXPECT_FALSE(fs::exists(dir_ / "done.txt")) << "the merge returned while the release was still waiting";
  std::ofstream(dir_ / "go") << "";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!fs::exists(dir_ / "done.txt") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(fs::exists(dir_ / "done.txt")) << "the release ran to its end after the merge";
}

TEST_F(HookTest, AMergeOnAnotherBranchRunsNothing) {
  install(options());
  git({"checkout", "-q", "-b", "develop"});
  merge_a_feature();
  EXPECT_EQ(calls(), "");
  EXPECT_FALSE(fs::exists(repo_ / ".mlctl"));
}

TEST_F(HookTest, APullWithRebaseRunsItAndAnAmendDoesNot) {
  test::git(dir_.path(), {"init", "-q", "--bare", "-b", "main", "origin.git"});
  git({"remote", "add", "origin", (dir_ / "origin.git").string()});
  git({"push", "-q", "-u", "origin", "main"});
  test::git(dir_.path(), {"clone", "-q", (dir_ / "origin.git").string(), "other"});
  auto upstream_commit = [&](const std::string& message) {
    test::git(dir_ / "other", {"pull", "-q", "--ff-only"});
    test::git(dir_ / "other", {"commit", "-q", "--allow-empty", "-m", message});
    test::git(dir_ / "other", {"push", "-q", "origin", "main"});
  };
  install(options());

  upstream_commit("theirs 1");
  git({"commit", "-q", "--allow-empty", "-m", "ours"});
  git({"pull", "-q", "--rebase"});
  EXPECT_EQ(calls(), one_call()) << "post-rewrite after the rebase";
  EXPECT_EQ(git({"log", "-1", "--format=%s"}), "ours");

  git({"commit", "-q", "--amend", "--allow-empty", "-m", "ours, amended"});
  EXPECT_EQ(calls(), one_call()) << "not after an amend";

  git({"push", "-q", "origin", "main"});
  upstream_commit("theirs 2");
  git({"pull", "-q", "--rebase"});
  EXPECT_EQ(calls(), one_call() + one_call()) << "a pull with rebase that fast-forwards runs post-merge";
}

TEST_F(HookTest, AFailingCommandNeverFailsTheMerge) {
  install({"main", {"/bin/sh", "-c", "echo boom; exit 7"}});
  git({"checkout", "-q", "-b", "feature"});
  git({"commit", "-q", "--allow-empty", "-m", "work"});
  git({"checkout", "-q", "main"});
  auto merged = test::run_git(repo_, {"merge", "-q", "--no-ff", "-m", "merge", "feature"});
  EXPECT_EQ(merged.exit_code, 0);
  EXPECT_EQ(merged.err, "mlctl post-merge hook: the release failed (exit 7); see " + repo_.string() +
                            "/.mlctl/release.log\n");
  EXPECT_TRUE(read(repo_ / ".mlctl/release.log").ends_with(" post-merge\nboom\n"));
  EXPECT_EQ(git({"log", "-1", "--format=%s"}), "merge");
}

TEST_F(HookTest, AShellHookKeepsRunningAndUninstallRestoresItByteForByte) {
  std::string original = "#!/usr/bin/env bash\necho \"user hook $1\" >>'" + (dir_ / "user.txt").string() + "'";
  write_executable(hook("post-merge"), original);

  EXPECT_EQ(actions(install_hooks(repo_, options())), (std::vector{installed, installed}));
  EXPECT_TRUE(read(hook("post-merge")).starts_with(original + "\n# >>> mlctl hook >>>\n"));
  merge_a_feature();
  EXPECT_EQ(dir_.read("user.txt"), "user hook 0\n");
  EXPECT_EQ(calls(), one_call());

  std::string installed_text = read(hook("post-merge"));
  EXPECT_EQ(actions(install_hooks(repo_, options())), (std::vector{unchanged, unchanged}));
  EXPECT_EQ(read(hook("post-merge")), installed_text);

  EXPECT_EQ(actions(uninstall_hooks(repo_)), (std::vector{removed, removed}));
  EXPECT_EQ(read(hook("post-merge")), original + "\n") << "the line break mlctl added stays";
  EXPECT_FALSE(fs::exists(hook("post-rewrite")));
  EXPECT_EQ(actions(uninstall_hooks(repo_)), (std::vector{absent, absent}));
}

TEST_F(HookTest, AShellHookEndingInALineBreakComesBackExactly) {
  std::string original = "#!/bin/sh\nset -e\necho \"user hook\" >>'" + (dir_ / "user.txt").string() + "'\n";
  write_executable(hook("post-merge"), original);
  install({"main", {"/bin/false"}});
  merge_a_feature();
  EXPECT_EQ(dir_.read("user.txt"), "user hook\n");
  ASSERT_TRUE(uninstall_hooks(repo_));
  EXPECT_EQ(read(hook("post-merge")), original);
}

TEST_F(HookTest, AnotherProgramsHookIsChainedWithItsArgumentsStdinAndStatus) {
  ASSERT_TRUE(fs::exists("/usr/bin/python3")) << "this test needs python3 (scripts/install-deps test)";
  std::string original = "#!/usr/bin/python3\nimport sys\nwith open('" + (dir_ / "python.txt").string() +
                         "', 'a') as out:\n    out.write(sys.argv[1] + ':' + str(len(sys.stdin.read().split())) + '\\n')\n"
                         "sys.exit(3)\n";
  write_executable(hook("post-rewrite"), original);
  git({"commit", "-q", "--allow-empty", "-m", "second"});

  EXPECT_EQ(actions(install_hooks(repo_, options())), (std::vector{installed, installed}));
  EXPECT_EQ(read(hook("post-rewrite.mlctl-chained")), original);

  git({"commit", "-q", "--amend", "--allow-empty", "-m", "second, amended"});
  EXPECT_EQ(dir_.read("python.txt"), "amend:2\n") << "its argument and the old and new ids on stdin";
  EXPECT_EQ(calls(), "");
  git({"rebase", "-q", "--force-rebase", "HEAD~1"});
  EXPECT_EQ(dir_.read("python.txt"), "amend:2\nrebase:2\n");
  EXPECT_EQ(calls(), one_call());
  auto direct = test::run_command({hook("post-rewrite").string(), "amend"}, repo_);
  EXPECT_EQ(direct.exit_code, 3) << "the chained hook's status is kept";

  EXPECT_EQ(actions(install_hooks(repo_, options())), (std::vector{unchanged, unchanged}));
  EXPECT_EQ(actions(uninstall_hooks(repo_)), (std::vector{removed, removed}));
  EXPECT_EQ(read(hook("post-rewrite")), original);
  EXPECT_EQ(fs::status(hook("post-rewrite")).permissions(), fs::perms(0755));
  EXPECT_FALSE(fs::exists(hook("post-rewrite.mlctl-chained")));
  EXPECT_FALSE(fs::exists(hook("post-merge")));
}

TEST_F(HookTest, InstallingAgainChangesNothingAndANewBranchUpdatesTheBlock) {
  install(options());
  std::string first = read(hook("post-merge"));
  EXPECT_EQ(actions(install_hooks(repo_, options())), (std::vector{unchanged, unchanged}));
  EXPECT_EQ(read(hook("post-merge")), first);

  EXPECT_EQ(actions(install_hooks(repo_, options("release"))), (std::vector{updated, updated}));
  merge_a_feature();
  EXPECT_EQ(calls(), "") << "main is no longer the release branch";

  EXPECT_EQ(actions(uninstall_hooks(repo_)), (std::vector{removed, removed}));
  EXPECT_FALSE(fs::exists(hook("post-merge")));
  EXPECT_FALSE(fs::exists(hook("post-rewrite")));
}

TEST_F(HookTest, LinesAUserAddsAfterTheBlockRunAndStay) {
  install({"main", {"/bin/false"}});
  std::ofstream(hook("post-merge"), std::ios::app) << "echo after >>'" << (dir_ / "user.txt").string() << "'\n";
  merge_a_feature();
  EXPECT_EQ(dir_.read("user.txt"), "after\n") << "mlctl's block does not end the script";
  ASSERT_TRUE(uninstall_hooks(repo_));
  EXPECT_EQ(read(hook("post-merge")), "#!/bin/sh\necho after >>'" + (dir_ / "user.txt").string() + "'\n");
}

TEST_F(HookTest, UninstallingWhatIsNotInstalledDoesNothing) {
  EXPECT_EQ(actions(uninstall_hooks(repo_)), (std::vector{absent, absent}));
  write_executable(hook("post-merge"), "#!/bin/sh\necho mine\n");
  EXPECT_EQ(actions(uninstall_hooks(repo_)), (std::vector{absent, absent}));
  EXPECT_EQ(read(hook("post-merge")), "#!/bin/sh\necho mine\n");
  EXPECT_FALSE(fs::exists(hook("post-rewrite")));
}

TEST_F(HookTest, CoreHooksPathIsHonoured) {
  git({"config", "core.hooksPath", ".githooks"});
  fs::create_directories(repo_ / "src/deep");
  EXPECT_EQ(hooks_dir(repo_ / "src/deep"), repo_ / ".githooks");
  install(options());
  EXPECT_TRUE(fs::exists(repo_ / ".githooks/post-merge"));
  EXPECT_FALSE(fs::exists(hook("post-merge")));
  git({"add", ".githooks"});
  git({"commit", "-q", "-m", "shared hooks"});
  merge_a_feature();
  EXPECT_EQ(calls(), one_call());

  git({"config", "core.hooksPath", (dir_ / "team-hooks").string()});
  EXPECT_EQ(hooks_dir(repo_), dir_ / "team-hooks");
}

TEST_F(HookTest, AWorktreeUsesTheRepositorysHooks) {
  git({"worktree", "add", "-q", "-b", "side", (dir_ / "side").string()});
  EXPECT_EQ(hooks_dir(dir_ / "side"), repo_ / ".git/hooks");
}

TEST_F(HookTest, ABranchAndACommandAreNeeded) {
  auto changes = install_hooks(repo_, {"main", {}});
  ASSERT_FALSE(changes);
  EXPECT_EQ(changes.error().code(), Errc::invalid);
  EXPECT_FALSE(fs::exists(hook("post-merge")));
}

}  // namespace
}  // namespace mlctl::git
