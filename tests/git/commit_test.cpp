#include <mlctl/git/commit.hpp>

#include <support/temp_dir.hpp>

#include <gtest/gtest.h>

#include "git_cli.hpp"

namespace mlctl::git {
namespace {

namespace fs = std::filesystem;

using Files = std::map<std::string, std::string>;

// A GitOps repository, empty at first, as `git init` leaves it.
class CommitFilesTest : public ::testing::Test {
protected:
  void SetUp() override {
    git({"init", "-q", "-b", "main"});
    git({"config", "user.name", "GitOps Bot"});
    git({"config", "user.email", "gitops@example.com"});
  }
  std::string git(std::vector<std::string> args) { return test::git(dir_.path(), std::move(args)); }
  Result<std::optional<std::string>> commit(const Files& files, const std::string& message = "fraud 1.4.0") {
    return commit_files(dir_.path(), "apps/prod", files, message);
  }

  const Files files_{{"fraud/deployment.yaml", "replicas: 2\n"}, {"fraud/service.yaml", "port: 80\n"}};
  test::TempDir dir_;
};

TEST_F(CommitFilesTest, TheFirstCommitOfAnEmptyRepository) {
  auto id = commit(files_, "fraud-detector 1.4.0 (sha256:ab12)");
  ASSERT_TRUE(id) << id.error().message();
  ASSERT_TRUE(*id);
  EXPECT_EQ(**id, git({"rev-parse", "HEAD"}));
  EXPECT_EQ(git({"log", "-1", "--format=%s|%an <%ae>|%cn <%ce>"}),
            "fraud-detector 1.4.0 (sha256:ab12)|GitOps Bot <gitops@example.com>|GitOps Bot <gitops@example.com>");
  EXPECT_EQ(git({"ls-files"}), "apps/prod/fraud/deployment.yaml\napps/prod/fraud/service.yaml");
  EXPECT_EQ(git({"show", "HEAD:apps/prod/fraud/service.yaml"}), "port: 80");
  EXPECT_EQ(git({"status", "--porcelain"}), "");
  EXPECT_EQ(git({"symbolic-ref", "--short", "HEAD"}), "main");
}

TEST_F(CommitFilesTest, TheSameFilesAgainMakeNoCommit) {
  ASSERT_TRUE(commit(files_));
  std::string head = git({"rev-parse", "HEAD"});
  auto again = commit(files_, "fraud 1.4.0 again");
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(*again, std::nullopt);
  EXPECT_EQ(git({"rev-parse", "HEAD"}), head);
  EXPECT_EQ(git({"rev-list", "--count", "HEAD"}), "1");
  EXPECT_EQ(git({"status", "--porcelain"}), "");
}

TEST_F(CommitFilesTest, ChangingOneFileCommitsOnlyThatChange) {
  ASSERT_TRUE(commit(files_));
  std::string first = git({"rev-parse", "HEAD"});
  Files changed = files_;
  changed["fraud/service.yaml"] = "port: 8080\n";
  auto id = commit(changed, "fraud 1.5.0");
  ASSERT_TRUE(id) << id.error().message();
  ASSERT_TRUE(*id);
  EXPECT_EQ(git({"rev-parse", "HEAD~1"}), first);
  EXPECT_EQ(git({"show", "--numstat", "--format=%s", "HEAD"}), "fraud 1.5.0\n\n1\t1\tapps/prod/fraud/service.yaml");
  EXPECT_EQ(git({"status", "--porcelain"}), "");
}

TEST_F(CommitFilesTest, AFileNoLongerRenderedIsRemovedWithItsEmptyFolder) {
  Files two_models = files_;
  two_models["churn/deployment.yaml"] = "replicas: 1\n";
  dir_.write("README.md", "not mlctl's\n");
  git({"add", "README.md"});
  git({"commit", "-q", "-m", "readme"});
  ASSERT_TRUE(commit(two_models));

  Files fewer = {{"fraud/deployment.yaml", "replicas: 2\n"}};
  auto id = commit(fewer, "fraud only");
  ASSERT_TRUE(id) << id.error().message();
  EXPECT_EQ(git({"show", "--name-status", "--format=", "HEAD"}),
            "D\tapps/prod/churn/deployment.yaml\nD\tapps/prod/fraud/service.yaml");
  EXPECT_FALSE(fs::exists(dir_ / "apps/prod/fraud/service.yaml"));
  EXPECT_FALSE(fs::exists(dir_ / "apps/prod/churn"));
  EXPECT_TRUE(fs::exists(dir_ / "README.md")) << "outside the folder";
  EXPECT_EQ(git({"ls-files"}), "README.md\napps/prod/fraud/deployment.yaml");
  EXPECT_EQ(git({"status", "--porcelain"}), "");
}

TEST_F(CommitFilesTest, PathsThatLeaveTheFolderAreRefusedAndNothingIsWritten) {
  fs::create_directories(dir_ / "outside");
  fs::create_directories(dir_ / "apps/prod");
  fs::create_directory_symlink(dir_ / "outside", dir_ / "apps/prod/link");
  struct Case {
    std::string dir;
    Files files;
    std::string message;
  };
  for (const Case& bad : {
           Case{"apps/prod", {{"ok.yaml", "x"}, {"../escape.yaml", "y"}},
                "writing into apps/prod: ../escape.yaml leaves its folder (component '..')"},
           Case{"apps/prod", {{"/etc/passwd", "y"}}, "writing into apps/prod: /etc/passwd is an absolute path"},
           Case{"apps/prod", {{"a/../../b.yaml", "y"}},
                "writing into apps/prod: a/../../b.yaml leaves its folder (component '..')"},
           Case{"apps/prod", {{"link/x.yaml", "y"}}, "writing into apps/prod: apps/prod/link is a symbolic link"},
           Case{"apps/prod/link", {{"x.yaml", "y"}}, "the GitOps folder: apps/prod/link is a symbolic link"},
           Case{"../elsewhere", {{"x.yaml", "y"}}, "the GitOps folder: ../elsewhere leaves its folder (component '..')"},
           Case{".git", {{"config", "y"}}, "the GitOps folder: .git leaves its folder (component '.git')"},
           Case{"", {{"x.yaml", "y"}}, "the GitOps folder: an empty path"},
       }) {
    auto id = commit_files(dir_.path(), bad.dir, bad.files, "m");
    ASSERT_FALSE(id) << bad.dir;
    EXPECT_EQ(id.error().code(), Errc::invalid);
    EXPECT_EQ(id.error().message(), bad.message);
  }
  EXPECT_FALSE(fs::exists(dir_ / "apps/prod/ok.yaml"));
  EXPECT_TRUE(fs::is_empty(dir_ / "outside"));
  EXPECT_EQ(git({"status", "--porcelain", "--untracked-files=all"}), "?? apps/prod/link") << "the test's own";
  EXPECT_EQ(test::run_git(dir_.path(), {"rev-parse", "-q", "--verify", "HEAD"}).exit_code, 1) << "no commit";
}

TEST_F(CommitFilesTest, StagedChangesOutsideTheFolderAreRefused) {
  ASSERT_TRUE(commit(files_));
  dir_.write("notes/todo.md", "someone's work\n");
  git({"add", "notes/todo.md"});
  std::string head = git({"rev-parse", "HEAD"});

  Files changed = files_;
  changed["fraud/service.yaml"] = "port: 8080\n";
  auto id = commit(changed);
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().code(), Errc::precondition);
  EXPECT_EQ(id.error().message(), dir_.path().string() + " has staged changes outside apps/prod/, such as notes/todo.md");
  EXPECT_EQ(git({"rev-parse", "HEAD"}), head);
  EXPECT_EQ(git({"status", "--porcelain"}), "A  notes/todo.md") << "still staged, and nothing else changed";
}

TEST_F(CommitFilesTest, UnstagedChangesOutsideTheFolderStayOutOfTheCommit) {
  dir_.write("README.md", "v1\n");
  git({"add", "README.md"});
  git({"commit", "-q", "-m", "readme"});
  dir_.write("README.md", "v2, not staged\n");

  auto id = commit(files_);
  ASSERT_TRUE(id) << id.error().message();
  EXPECT_EQ(git({"show", "HEAD:README.md"}), "v1");
  EXPECT_EQ(git({"status", "--porcelain"}), " M README.md");
}

}  // namespace
}  // namespace mlctl::git
