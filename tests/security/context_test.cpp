// `mlctl build` never reads outside the project through image.include: an absolute path, or a
// path through a symlinked folder that leads out (tests/build/e2e covers `..` and a symlinked
// file; tests/build/context_test.cpp the same rules on the library).
#include "security_support.hpp"

#include <build/e2e/e2e_fixture.hpp>

#include <support/run.hpp>
#include <support/temp_dir.hpp>

#include <fstream>

#include <gtest/gtest.h>

namespace mlctl::test::security {
namespace {

namespace fs = std::filesystem;

class ContextEscapeTest : public ::testing::Test {
protected:
  void SetUp() override {
    base_ = busybox_base();
    ASSERT_FALSE(base_.empty());
    project_ = e2e::copy_project("shell-app", dir_.path());
    dir_.write("outside/secret.txt", "not part of the project\n");
    fs::create_directory_symlink(dir_ / "outside", project_ / "leak");
  }

  // `mlctl build --output oci:DIR` with `entry` added to image.include.
  core::Completed build_including(const std::string& entry) {
    std::ofstream(project_ / "mlctl.yaml", std::ios::app) << "  include: [run.sh, data, \"" << entry << "\"]\n";
    e2e::commit_all(project_, "include " + entry);
    auto env = isolated_env(dir_.path(), "registry.invalid", "oci:" + base_.string() + ":1");
    return run_mlctl({"build", "--output", "oci:" + (dir_ / "image").string()}, project_, env);
  }

  TempDir dir_;
  fs::path base_;
  fs::path project_;
};

TEST_F(ContextEscapeTest, AbsoluteIncludeIsRefused) {
  std::string absolute = (dir_ / "outside/secret.txt").string();
  auto built = build_including(absolute);
  EXPECT_EQ(built.exit_code, 2) << built.err;
  EXPECT_EQ(error_line(built.err), "mlctl: error: image.include[2]: '" + absolute + "' is outside the build context");
  EXPECT_FALSE(fs::exists(dir_ / "image"));
}

TEST_F(ContextEscapeTest, IncludeThroughASymlinkedFolderMatchesNothing) {
  for (std::string entry : {"leak/secret.txt", "leak/*"}) {
    std::string yaml = e2e::read_file(project_ / "mlctl.yaml");
    auto built = build_including(entry);
    EXPECT_EQ(built.exit_code, 2) << built.err;
    EXPECT_EQ(error_line(built.err), "mlctl: error: image.include[2]: '" + entry + "' matches no file") << built.err;
    EXPECT_FALSE(fs::exists(dir_ / "image"));
    std::ofstream(project_ / "mlctl.yaml", std::ios::trunc) << yaml;
  }
}

}  // namespace
}  // namespace mlctl::test::security
