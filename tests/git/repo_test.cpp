#include <mlctl/git/repo.hpp>

#include <mlctl/git/libgit2.hpp>

#include <mlctl/core/fs.hpp>

#include <support/run.hpp>
#include <support/temp_dir.hpp>

#include <gtest/gtest.h>

#include "git_cli.hpp"

namespace mlctl::git {
namespace {

namespace fs = std::filesystem;

// A real repository made with the git command line, as a user's would be.
class RepoTest : public ::testing::Test {
protected:
  void git(std::vector<std::string> args) { test::git(dir_.path(), std::move(args)); }
  void commit_all() {
    git({"add", "-A"});
    git({"commit", "-q", "-m", "work"});
  }
  std::string head() { return test::run_command({"git", "rev-parse", "HEAD"}, dir_.path()).out.substr(0, 40); }

  void SetUp() override {
    git({"init", "-q", "-b", "main"});
    dir_.write("mlctl.yaml", "name: x\n");
    dir_.write(".gitignore", "*.log\n");
    commit_all();
  }
  test::TempDir dir_;
};

TEST_F(RepoTest, CleanRepositoryAfterACommit) {
  fs::create_directories(dir_ / "src/deep");
  auto state = repo_state(dir_ / "src/deep");
  ASSERT_TRUE(state) << state.error().message();
  EXPECT_EQ(state->workdir, dir_.path() / "");
  EXPECT_EQ(state->commit, head());
  EXPECT_EQ(state->commit_time, 1700000100);
  EXPECT_EQ(state->branch, "main");
  EXPECT_FALSE(state->detached);
  EXPECT_FALSE(state->dirty);
  EXPECT_EQ(state->remote_url, std::nullopt);
  EXPECT_EQ(state->author_name, "Ada");
  EXPECT_EQ(state->author_email, "ada@example.com");
}

TEST_F(RepoTest, ModifiedStagedAndUntrackedFilesMakeItDirtyIgnoredOnesDoNot) {
  dir_.write("debug.log", "ignored\n");
  ASSERT_TRUE(core::ensure_state_dir(dir_.path()));
  dir_.write(".mlctl/registry.db", "state");
  EXPECT_FALSE(repo_state(dir_.path())->dirty) << "ignored files and .mlctl/ leave the tree clean";

  dir_.write("new.py", "x\n");
  EXPECT_TRUE(repo_state(dir_.path())->dirty) << "untracked";
  commit_all();
  dir_.write("new.py", "y\n");
  EXPECT_TRUE(repo_state(dir_.path())->dirty) << "modified";
  git({"add", "new.py"});
  EXPECT_TRUE(repo_state(dir_.path())->dirty) << "staged";
  commit_all();
  EXPECT_FALSE(repo_state(dir_.path())->dirty);
}

TEST_F(RepoTest, DetachedHeadHasNoBranch) {
  std::string first = head();
  dir_.write("b.txt", "b\n");
  commit_all();
  git({"checkout", "-q", "--detach", first});
  auto state = repo_state(dir_.path());
  ASSERT_TRUE(state);
  EXPECT_TRUE(state->detached);
  EXPECT_EQ(state->branch, std::nullopt);
  EXPECT_EQ(state->commit, first);
}

TEST_F(RepoTest, RemoteUrlLosesItsCredentials) {
  git({"remote", "add", "origin", "https://oauth2:s3cr3t-token@git.example.com/ml/fraud.git"});
  auto state = repo_state(dir_.path());
  ASSERT_TRUE(state);
  EXPECT_EQ(state->remote_url, "https://git.example.com/ml/fraud.git");
}

TEST(RepoStateTest, OutsideARepositoryIsNotFound) {
  test::TempDir dir;
  auto state = repo_state(dir.path());
  ASSERT_FALSE(state);
  EXPECT_EQ(state.error().code(), Errc::not_found);
  EXPECT_EQ(state.error().message(), dir.path().string() + " is not in a git repository");
}

// What the search for a repository must still find, from a folder below its top: a linked
// worktree (whose .git is a file) and a bare repository (which has no .git at all).
TEST(RepoStateTest, AWorktreeAndABareRepositoryAreFoundFromBelow) {
  test::TempDir dir;
  ASSERT_EQ(test::run_command({"git", "init", "-q", "-b", "main", "main"}, dir.path()).exit_code, 0);
  dir.write("main/mlctl.yaml", "name: x\n");
  test::git(dir / "main", {"add", "-A"});
  test::git(dir / "main", {"commit", "-q", "-m", "work"});
  test::git(dir / "main", {"worktree", "add", "-q", "-b", "feature", (dir / "linked").string()});
  fs::create_directories(dir / "linked/src/deep");
  auto state = repo_state(dir / "linked/src/deep");
  ASSERT_TRUE(state) << state.error().message();
  EXPECT_EQ(state->workdir, dir / "linked/");
  EXPECT_EQ(state->branch, "feature");

  ASSERT_EQ(test::run_command({"git", "init", "-q", "--bare", "origin.git"}, dir.path()).exit_code, 0);
  auto bare = open_work_tree(dir / "origin.git/refs/heads");
  ASSERT_FALSE(bare);
  EXPECT_EQ(bare.error().code(), Errc::precondition);
  EXPECT_EQ(bare.error().message(), (dir / "origin.git/refs/heads").string() + " is a bare repository with no work tree");
}

TEST(RepoStateTest, BeforeTheFirstCommitThereIsABranchButNoCommit) {
  test::TempDir dir;
  ASSERT_EQ(test::run_command({"git", "init", "-q", "-b", "develop"}, dir.path()).exit_code, 0);
  auto state = repo_state(dir.path());
  ASSERT_TRUE(state) << state.error().message();
  EXPECT_EQ(state->commit, std::nullopt);
  EXPECT_EQ(state->commit_time, std::nullopt);
  EXPECT_EQ(state->branch, "develop");
  EXPECT_FALSE(state->dirty);
}

}  // namespace
}  // namespace mlctl::git
