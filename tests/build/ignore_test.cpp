#include <mlctl/build/ignore.hpp>

#include <gtest/gtest.h>

namespace mlctl::build {
namespace {

TEST(GlobTest, StarAndQuestionStayInOneSegment) {
  EXPECT_TRUE(glob_match("*.py", "train.py"));
  EXPECT_FALSE(glob_match("*.py", "src/train.py"));
  EXPECT_TRUE(glob_match("src/*.py", "src/train.py"));
  EXPECT_TRUE(glob_match("mod?l.pkl", "model.pkl"));
  EXPECT_FALSE(glob_match("a?b", "a/b"));
}

TEST(GlobTest, DoubleStarSpansFolders) {
  EXPECT_TRUE(glob_match("**/__pycache__", "__pycache__"));
  EXPECT_TRUE(glob_match("**/__pycache__", "src/pkg/__pycache__"));
  EXPECT_TRUE(glob_match("a/**/b", "a/b"));
  EXPECT_TRUE(glob_match("a/**/b", "a/x/y/b"));
  EXPECT_FALSE(glob_match("a/**/b", "a/xb"));
  EXPECT_TRUE(glob_match("data/**", "data/x/y.csv"));
}

TEST(GlobTest, ClassesAndEscapes) {
  EXPECT_TRUE(glob_match("v[0-9].bin", "v7.bin"));
  EXPECT_FALSE(glob_match("v[!0-9].bin", "v7.bin"));
  EXPECT_TRUE(glob_match("v[!0-9].bin", "vx.bin"));
  EXPECT_TRUE(glob_match("\\*.txt", "*.txt"));
  EXPECT_FALSE(glob_match("\\*.txt", "a.txt"));
  EXPECT_TRUE(glob_match("[", "["));
}

TEST(IgnoreTest, GitignoreSemantics) {
  IgnoreRules rules;
  rules.add(parse_ignore("# comment\n\n*.pyc\n/build\nlogs/\n!keep.pyc\ndocs/*.md\n", ""));
  EXPECT_TRUE(rules.ignored("a.pyc", false));
  EXPECT_TRUE(rules.ignored("src/deep/a.pyc", false));
  EXPECT_FALSE(rules.ignored("src/keep.pyc", false));
  EXPECT_TRUE(rules.ignored("build", true));
  EXPECT_FALSE(rules.ignored("src/build", true)) << "a leading / anchors at the root";
  EXPECT_TRUE(rules.ignored("src/logs", true));
  EXPECT_FALSE(rules.ignored("logs", false)) << "a trailing / matches only folders";
  EXPECT_TRUE(rules.ignored("docs/a.md", false));
  EXPECT_FALSE(rules.ignored("x/docs/a.md", false)) << "a pattern with a middle / is anchored";
}

TEST(IgnoreTest, NestedFileRulesApplyOnlyBelowTheirFolder) {
  IgnoreRules rules;
  rules.add(parse_ignore("*.csv\n/local\n", "data"));
  EXPECT_TRUE(rules.ignored("data/a.csv", false));
  EXPECT_TRUE(rules.ignored("data/x/a.csv", false));
  EXPECT_FALSE(rules.ignored("a.csv", false));
  EXPECT_FALSE(rules.ignored("database/a.csv", false));
  EXPECT_TRUE(rules.ignored("data/local", false));
  EXPECT_FALSE(rules.ignored("data/x/local", false));
}

TEST(IgnoreTest, EscapesAndTrailingSpaces) {
  auto rules = parse_ignore("\\#notes  \n\\!bang\nend\\ \n", "");
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_EQ(rules[0].pattern, "#notes");
  EXPECT_EQ(rules[1].pattern, "!bang");
  EXPECT_FALSE(rules[1].negated);
  EXPECT_EQ(rules[2].pattern, "end\\ ");
}

}  // namespace
}  // namespace mlctl::build
