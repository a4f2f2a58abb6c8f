#include <mlctl/git/version.hpp>

#include <support/temp_dir.hpp>

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "git_cli.hpp"

namespace mlctl::git {
namespace {

namespace fs = std::filesystem;

class VersionTest : public ::testing::Test {
protected:
  void SetUp() override { test::init_repository(dir_.path(), {{"mlctl.yaml", manifest("1.4.0")}, {"train.py", "1\n"}}); }

  static std::string manifest(std::string_view version) { return fmt::format("name: fraud\nversion: {}\n", version); }
  void commit(const std::string& path, const std::string& content) {
    dir_.write(path, content);
    test::git(dir_.path(), {"add", "-A"});
    test::git(dir_.path(), {"commit", "-q", "-m", "change " + path});
  }
  std::string rev(const std::string& revision) { return test::git(dir_.path(), {"rev-parse", revision}); }

  test::TempDir dir_;
};

TEST_F(VersionTest, FeatureBranchMergedWithABumpIsABumpAgainstMain) {
  std::string main_before = rev("HEAD");
  test::git(dir_.path(), {"checkout", "-q", "-b", "feature"});
  commit("mlctl.yaml", manifest("1.5.0"));
  test::git(dir_.path(), {"checkout", "-q", "main"});
  commit("README.md", "a change on main meanwhile\n");
  std::string main_tip = rev("HEAD");
  test::git(dir_.path(), {"merge", "-q", "--no-ff", "-m", "merge feature", "feature"});
  fs::create_directories(dir_ / "src/deep");

  auto change = version_change(dir_ / "src/deep", "mlctl.yaml");
  ASSERT_TRUE(change) << change.error().message();
  EXPECT_TRUE(change->bumped);
  EXPECT_FALSE(change->lowered);
  EXPECT_EQ(change->before, "1.4.0");
  EXPECT_EQ(change->after, "1.5.0");
  EXPECT_EQ(change->head_commit, rev("HEAD"));
  EXPECT_EQ(change->base_commit, main_tip) << "the first parent, not " << main_before;
}

TEST_F(VersionTest, MergeWithoutAVersionChangeIsNoBump) {
  test::git(dir_.path(), {"checkout", "-q", "-b", "feature"});
  commit("train.py", "2\n");
  test::git(dir_.path(), {"checkout", "-q", "main"});
  test::git(dir_.path(), {"merge", "-q", "--no-ff", "-m", "merge feature", "feature"});

  auto change = version_change(dir_.path(), "mlctl.yaml");
  ASSERT_TRUE(change) << change.error().message();
  EXPECT_FALSE(change->bumped);
  EXPECT_FALSE(change->lowered);
  EXPECT_EQ(change->before, "1.4.0");
  EXPECT_EQ(change->after, "1.4.0");
}

TEST_F(VersionTest, SinceAnOlderCommitSeesABumpMadeBefore) {
  std::string first = rev("HEAD");
  commit("mlctl.yaml", manifest("1.5.0"));
  commit("train.py", "2\n");

  EXPECT_FALSE(version_change(dir_.path(), "mlctl.yaml")->bumped) << "HEAD~1 already had 1.5.0";
  for (const std::string& since : {first, std::string("HEAD~2"), std::string("main~2")}) {
    auto change = version_change(dir_.path(), "mlctl.yaml", since);
    ASSERT_TRUE(change) << change.error().message();
    EXPECT_TRUE(change->bumped) << since;
    EXPECT_EQ(change->before, "1.4.0");
    EXPECT_EQ(change->base_commit, first);
  }
}

TEST_F(VersionTest, ALowerVersionIsNoBump) {
  commit("mlctl.yaml", manifest("1.3.9"));
  auto change = version_change(dir_.path(), "mlctl.yaml");
  ASSERT_TRUE(change) << change.error().message();
  EXPECT_FALSE(change->bumped);
  EXPECT_TRUE(change->lowered);
  EXPECT_EQ(change->before, "1.4.0");
  EXPECT_EQ(change->after, "1.3.9");
}

TEST_F(VersionTest, PrecedenceIsSemverNotText) {
  commit("mlctl.yaml", manifest("1.10.0-rc.1"));
  EXPECT_TRUE(version_change(dir_.path(), "mlctl.yaml")->bumped) << "1.10 > 1.4 although '1' < '4'";
  commit("mlctl.yaml", manifest("1.10.0"));
  EXPECT_TRUE(version_change(dir_.path(), "mlctl.yaml")->bumped) << "a release after its release candidate";
  commit("mlctl.yaml", manifest("1.10.0+build.7"));
  EXPECT_FALSE(version_change(dir_.path(), "mlctl.yaml")->bumped) << "build metadata does not count";
}

TEST_F(VersionTest, AManifestAddedInThisCommitIsABump) {
  commit("models/fraud/mlctl.yaml", manifest("0.1.0"));
  auto change = version_change(dir_.path(), "models/fraud/mlctl.yaml");
  ASSERT_TRUE(change) << change.error().message();
  EXPECT_TRUE(change->bumped);
  EXPECT_EQ(change->before, std::nullopt);
  EXPECT_EQ(change->after, "0.1.0");
  EXPECT_EQ(change->base_commit, rev("HEAD~1"));
}

TEST_F(VersionTest, AVersionAddedInThisCommitIsABump) {
  commit("mlctl.yaml", "name: fraud\n");
  commit("mlctl.yaml", manifest("1.0.0"));
  auto change = version_change(dir_.path(), "mlctl.yaml");
  ASSERT_TRUE(change) << change.error().message();
  EXPECT_TRUE(change->bumped);
  EXPECT_EQ(change->before, std::nullopt);
}

TEST(VersionFirstCommitTest, TheFirstCommitIsABumpWithNoBase) {
  test::TempDir dir;
  test::init_repository(dir.path(), {{"mlctl.yaml", "version: 1.0.0\n"}});
  auto change = version_change(dir.path(), "mlctl.yaml");
  ASSERT_TRUE(change) << change.error().message();
  EXPECT_TRUE(change->bumped);
  EXPECT_EQ(change->before, std::nullopt);
  EXPECT_EQ(change->after, "1.0.0");
  EXPECT_EQ(change->base_commit, std::nullopt);
  EXPECT_EQ(change->head_commit, test::git(dir.path(), {"rev-parse", "HEAD"}));
}

TEST_F(VersionTest, AnInvalidVersionNamesTheCommitAndTheFile) {
  commit("mlctl.yaml", manifest("1.5"));
  auto change = version_change(dir_.path(), "mlctl.yaml");
  ASSERT_FALSE(change);
  EXPECT_EQ(change.error().code(), Errc::invalid);
  EXPECT_EQ(change.error().message(), "mlctl.yaml at " + rev("HEAD").substr(0, 7) +
                                          ": version: '1.5' is not a semantic version: it needs three numbers, "
                                          "MAJOR.MINOR.PATCH");
}

TEST_F(VersionTest, AnInvalidVersionAtTheBaseIsAnErrorToo) {
  commit("mlctl.yaml", manifest("latest"));
  std::string bad = rev("HEAD").substr(0, 7);
  commit("mlctl.yaml", manifest("1.5.0"));
  auto change = version_change(dir_.path(), "mlctl.yaml");
  ASSERT_FALSE(change);
  EXPECT_EQ(change.error().code(), Errc::invalid);
  EXPECT_TRUE(change.error().message().starts_with("mlctl.yaml at " + bad + ": version: 'latest'"))
      << change.error().message();
}

TEST_F(VersionTest, NoVersionAtHeadIsInvalidAndNoManifestIsNotFound) {
  commit("mlctl.yaml", "name: fraud\n");
  auto change = version_change(dir_.path(), "mlctl.yaml");
  ASSERT_FALSE(change);
  EXPECT_EQ(change.error().code(), Errc::invalid);
  EXPECT_EQ(change.error().message(), "mlctl.yaml at " + rev("HEAD").substr(0, 7) + ": no version");

  auto missing = version_change(dir_.path(), "serving/mlctl.yaml");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Errc::not_found);
  EXPECT_EQ(missing.error().message(), "serving/mlctl.yaml at " + rev("HEAD").substr(0, 7) + ": no such file");
}

TEST_F(VersionTest, AnUnknownRevisionIsNotFound) {
  auto change = version_change(dir_.path(), "mlctl.yaml", "v9.9.9");
  ASSERT_FALSE(change);
  EXPECT_EQ(change.error().code(), Errc::not_found);
  EXPECT_EQ(change.error().message(), "no commit 'v9.9.9' in the repository");
}

}  // namespace
}  // namespace mlctl::git
