#include <mlctl/git/tag.hpp>

#include <mlctl/git/locks.hpp>

#include <support/temp_dir.hpp>

#include <gtest/gtest.h>

#include <fstream>

#include "git_cli.hpp"

namespace mlctl::git {
namespace {

class TagTest : public ::testing::Test {
protected:
  void SetUp() override {
    test::init_repository(dir_.path(), {{"mlctl.yaml", "version: 1.4.0\n"}});
    // libgit2 reads the repository's configuration, not the test's environment.
    test::git(dir_.path(), {"config", "user.name", "Release Bot"});
    test::git(dir_.path(), {"config", "user.email", "bot@example.com"});
  }
  std::string git(std::vector<std::string> args) { return test::git(dir_.path(), std::move(args)); }

  test::TempDir dir_;
};

TEST_F(TagTest, CreatesAnAnnotatedTagAtTheCommit) {
  std::string head = git({"rev-parse", "HEAD"});
  auto tag = create_tag(dir_.path(), "v1.4.0", "HEAD", "fraud-detector 1.4.0");
  ASSERT_TRUE(tag) << tag.error().message();
  EXPECT_EQ(tag->outcome, TagOutcome::created);
  EXPECT_EQ(tag->commit, head);
  EXPECT_EQ(git({"cat-file", "-t", "v1.4.0"}), "tag");
  EXPECT_EQ(git({"rev-parse", "v1.4.0^{}"}), head);
  EXPECT_EQ(git({"for-each-ref", "refs/tags/v1.4.0", "--format=%(taggername) %(taggeremail)|%(contents)"}),
            "Release Bot <bot@example.com>|fraud-detector 1.4.0\n");
}

TEST_F(TagTest, TheSameTagAtTheSameCommitExistedAlready) {
  ASSERT_TRUE(create_tag(dir_.path(), "v1.4.0", "HEAD", "fraud-detector 1.4.0"));
  std::string tag_object = git({"rev-parse", "v1.4.0"});
  auto again = create_tag(dir_.path(), "v1.4.0", "HEAD", "fraud-detector 1.4.0");
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(again->outcome, TagOutcome::existed);
  EXPECT_EQ(again->commit, git({"rev-parse", "HEAD"}));
  EXPECT_EQ(git({"rev-parse", "v1.4.0"}), tag_object) << "left as it was";

  git({"tag", "light"});
  auto lightweight = create_tag(dir_.path(), "light", "HEAD", "x");
  ASSERT_TRUE(lightweight) << lightweight.error().message();
  EXPECT_EQ(lightweight->outcome, TagOutcome::existed);
}

TEST_F(TagTest, ATagAtAnotherCommitIsNeverMoved) {
  std::string tagged = git({"rev-parse", "HEAD"});
  ASSERT_TRUE(create_tag(dir_.path(), "v1.4.0", tagged, "fraud-detector 1.4.0"));
  git({"commit", "-q", "--allow-empty", "-m", "later"});
  std::string head = git({"rev-parse", "HEAD"});

  auto moved = create_tag(dir_.path(), "v1.4.0", "HEAD", "fraud-detector 1.4.0");
  ASSERT_FALSE(moved);
  EXPECT_EQ(moved.error().code(), Errc::precondition);
  EXPECT_EQ(moved.error().message(), "tag v1.4.0 already points at commit " + tagged.substr(0, 7) + ", not at " +
                                         head.substr(0, 7));
  EXPECT_EQ(moved.error().hint(), "delete it with 'git tag -d v1.4.0' or bump the version");
  EXPECT_EQ(git({"rev-parse", "v1.4.0^{}"}), tagged);
}

TEST_F(TagTest, TagCommitPeelsAnnotatedAndLightweightTagsAndIsEmptyForNone) {
  std::string first = git({"rev-parse", "HEAD"});
  ASSERT_TRUE(create_tag(dir_.path(), "v1.4.0", "HEAD", "fraud-detector 1.4.0"));
  git({"commit", "-q", "--allow-empty", "-m", "later"});
  git({"tag", "light"});

  auto annotated = tag_commit(dir_.path(), "v1.4.0");
  ASSERT_TRUE(annotated) << annotated.error().message();
  EXPECT_EQ(annotated->value_or("none"), first);
  auto lightweight = tag_commit(dir_.path(), "light");
  ASSERT_TRUE(lightweight) << lightweight.error().message();
  EXPECT_EQ(lightweight->value_or("none"), git({"rev-parse", "HEAD"}));
  auto missing = tag_commit(dir_.path(), "v9.9.9");
  ASSERT_TRUE(missing) << missing.error().message();
  EXPECT_FALSE(missing->has_value());
}

TEST_F(TagTest, AnUnknownRevisionIsNotFound) {
  auto tag = create_tag(dir_.path(), "v1.4.0", "no-such-branch", "x");
  ASSERT_FALSE(tag);
  EXPECT_EQ(tag.error().code(), Errc::not_found);
  EXPECT_EQ(tag.error().message(), "no commit 'no-such-branch' in the repository");
  EXPECT_EQ(git({"tag"}), "");
}

TEST(TagPatternTest, ExpandsTheVersionPlaceholder) {
  EXPECT_EQ(expand_tag_pattern("v{version}", "1.4.0"), "v1.4.0");
  EXPECT_EQ(expand_tag_pattern("{version}", "2.0.0-rc.1"), "2.0.0-rc.1");
  EXPECT_EQ(expand_tag_pattern("fraud/{version}/prod", "1.4.0"), "fraud/1.4.0/prod");
  EXPECT_EQ(expand_tag_pattern("{version}-{version}", "1.0.0"), "1.0.0-1.0.0");
}

TEST(TagPatternTest, OtherPlaceholdersAndBadNamesAreInvalid) {
  struct Case {
    std::string_view pattern;
    std::string_view version;
    std::string message;
  };
  for (const Case& bad : {
           Case{"v{major}", "1.4.0", "tag pattern 'v{major}': the only placeholder is {version}"},
           Case{"v{version", "1.4.0", "tag pattern 'v{version': the only placeholder is {version}"},
           Case{"release", "1.4.0", "tag pattern 'release' has no {version}"},
           Case{"v {version}", "1.4.0", "tag pattern 'v {version}' gives 'v 1.4.0', which is not a valid git tag name"},
           Case{"{version}.lock", "1.4.0",
                "tag pattern '{version}.lock' gives '1.4.0.lock', which is not a valid git tag name"},
           Case{"v{version}", "1..4", "tag pattern 'v{version}' gives 'v1..4', which is not a valid git tag name"},
       }) {
    auto name = expand_tag_pattern(bad.pattern, bad.version);
    ASSERT_FALSE(name) << bad.pattern;
    EXPECT_EQ(name.error().code(), Errc::invalid);
    EXPECT_EQ(name.error().message(), bad.message);
  }
}

}  // namespace
}  // namespace mlctl::git

namespace mlctl::git {
namespace {

TEST_F(TagTest, StaleLocksOfADeadWriterAreRemovedAndTheTagIsMade) {
  std::ofstream(dir_ / ".git/refs/tags/v1.4.0.lock") << "";
  std::ofstream(dir_ / ".git/index.lock") << "";
  auto blocked = create_tag(dir_.path(), "v1.4.0", "HEAD", "fraud-detector 1.4.0");
  ASSERT_FALSE(blocked) << "git's lock stops libgit2 too";

  auto removed = remove_stale_locks(dir_.path(), {"HEAD", "refs/tags/v1.4.0"});
  ASSERT_TRUE(removed) << removed.error().message();
  std::vector<std::string> names;
  for (const auto& path : *removed) names.push_back(path.lexically_relative(dir_.path()).generic_string());
  EXPECT_EQ(names, (std::vector<std::string>{".git/index.lock", ".git/refs/tags/v1.4.0.lock"}));
  EXPECT_TRUE(create_tag(dir_.path(), "v1.4.0", "HEAD", "fraud-detector 1.4.0"));
  auto none = remove_stale_locks(dir_.path(), {"refs/tags/v1.4.0"});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

}  // namespace
}  // namespace mlctl::git
