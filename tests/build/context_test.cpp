#include <mlctl/build/context.hpp>

#include <support/temp_dir.hpp>

#include <sys/stat.h>

#include <gtest/gtest.h>

namespace mlctl::build {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> paths(const std::vector<ContextEntry>& entries) {
  std::vector<std::string> out;
  for (const auto& entry : entries) out.push_back(entry.path);
  return out;
}

class ContextTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_.write("mlctl.yaml", "name: x\n");
    dir_.write("train.py", "print(1)\n");
    dir_.write("src/model.py", "x = 1\n");
    dir_.write("src/__pycache__/model.cpython-311.pyc", "junk");
    dir_.write("src/pkg/util.py", "y = 2\n");
    dir_.write("notes/todo.txt", "later\n");
    dir_.write(".git/HEAD", "ref: refs/heads/main\n");
    dir_.write(".mlctl/registry.db", "db");
  }
  Result<BuildContext> select(ContextRules rules) { return select_context(dir_.path(), rules); }
  test::TempDir dir_;
};

TEST_F(ContextTest, EverythingButGitAndStateWhenNothingIsListed) {
  auto context = select({});
  ASSERT_TRUE(context) << context.error().message();
  EXPECT_EQ(paths(context->code),
            (std::vector<std::string>{"mlctl.yaml", "notes/todo.txt", "src/__pycache__/model.cpython-311.pyc",
                                      "src/model.py", "src/pkg/util.py", "train.py"}));
  EXPECT_TRUE(context->large.empty());
}

TEST_F(ContextTest, IncludeMinusExclude) {
  auto context = select({{"src/", "train.py"}, {"**/__pycache__"}});
  ASSERT_TRUE(context) << context.error().message();
  EXPECT_EQ(paths(context->code), (std::vector<std::string>{"src/model.py", "src/pkg/util.py", "train.py"}));
}

TEST_F(ContextTest, IncludeGlobsSelectFilesAndFolders) {
  auto context = select({{"src/*.py", "note?"}, {}});
  ASSERT_TRUE(context) << context.error().message();
  EXPECT_EQ(paths(context->code), (std::vector<std::string>{"notes/todo.txt", "src/model.py"}));
}

TEST_F(ContextTest, GitignoreAndMlctlignoreAtAnyDepthAreHonoured) {
  dir_.write(".gitignore", "__pycache__/\n");
  dir_.write("src/.mlctlignore", "pkg/\n");
  auto context = select({{"src", "train.py"}, {}});
  ASSERT_TRUE(context) << context.error().message();
  EXPECT_EQ(paths(context->code), (std::vector<std::string>{"src/.mlctlignore", "src/model.py", "train.py"}));
}

TEST_F(ContextTest, LargeFilesGetTheirOwnList) {
  dir_.write("weights/model.bin", std::string(2000, 'w'));
  ContextRules rules{{}, {}, 1000};
  auto context = select(rules);
  ASSERT_TRUE(context);
  EXPECT_EQ(paths(context->large), std::vector<std::string>{"weights/model.bin"});
  EXPECT_EQ(context->large[0].size, 2000u);
  EXPECT_EQ(context->code.size(), 6u);
}

TEST_F(ContextTest, ExecutableBitAndSymlinksAreKept) {
  fs::permissions(dir_ / "train.py", fs::perms(0755));
  fs::create_symlink("model.py", dir_ / "src/alias.py");
  fs::create_directory_symlink("pkg", dir_ / "src/pkg-link");
  auto context = select({{"src", "train.py"}, {"**/__pycache__"}});
  ASSERT_TRUE(context) << context.error().message();
  EXPECT_EQ(paths(context->code), (std::vector<std::string>{"src/alias.py", "src/model.py", "src/pkg-link",
                                                            "src/pkg/util.py", "train.py"}));
  EXPECT_EQ(context->code[0].kind, ContextEntry::Kind::symlink);
  EXPECT_EQ(context->code[0].link_target, "model.py");
  EXPECT_EQ(context->code[2].kind, ContextEntry::Kind::symlink) << "a link to a folder is not followed";
  EXPECT_TRUE(context->code[4].executable);
  EXPECT_FALSE(context->code[1].executable);
}

TEST_F(ContextTest, SymlinkOutOfTheContextIsRefused) {
  fs::create_symlink("../../etc/passwd", dir_ / "src/passwd");
  auto relative = select({});
  ASSERT_FALSE(relative);
  EXPECT_EQ(relative.error().code(), Errc::invalid);
  EXPECT_EQ(relative.error().message(),
            "selecting the build context: src/passwd: symlink to '../../etc/passwd' points outside the build context");
  fs::remove(dir_ / "src/passwd");
  fs::create_symlink("/etc/passwd", dir_ / "passwd");
  auto absolute = select({});
  ASSERT_FALSE(absolute);
  EXPECT_EQ(absolute.error().message(),
            "selecting the build context: passwd: symlink to '/etc/passwd' points outside the build context");
  auto excluded = select({{}, {"passwd"}});
  EXPECT_TRUE(excluded) << "an excluded link is not looked at";
}

TEST_F(ContextTest, IncludeOutsideTheContextOrMatchingNothingIsAnError) {
  for (std::string bad : {"../secrets", "/etc", "src/../../x", ""}) {
    auto context = select({{bad}, {}});
    ASSERT_FALSE(context) << bad;
    EXPECT_EQ(context.error().message(), "image.include[0]: '" + bad + "' is outside the build context");
  }
  auto missing = select({{"train.py", "configs/"}, {}});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(), "image.include[1]: 'configs/' matches no file");
}

TEST_F(ContextTest, SpecialFilesAreRefused) {
  ASSERT_EQ(::mkfifo((dir_ / "pipe").c_str(), 0644), 0);
  auto context = select({});
  ASSERT_FALSE(context);
  EXPECT_EQ(context.error().message(), "selecting the build context: pipe: not a regular file, folder or symlink");
}

}  // namespace
}  // namespace mlctl::build
