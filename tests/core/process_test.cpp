#include <mlctl/core/process.hpp>

#include <support/run.hpp>
#include <support/temp_dir.hpp>

#include <signal.h>

#include <gtest/gtest.h>

namespace mlctl::core {
namespace {

using namespace std::chrono_literals;

TEST(ProcessTest, CapturesStdoutStderrAndExitCode) {
  auto done = run({.argv = {"sh", "-c", "echo out; echo err >&2; exit 3"}});
  ASSERT_TRUE(done);
  EXPECT_EQ(done->out, "out\n");
  EXPECT_EQ(done->err, "err\n");
  EXPECT_EQ(done->exit_code, 3);
  EXPECT_FALSE(done->ok());
}

TEST(ProcessTest, PassesInputCwdAndEnvironment) {
  test::TempDir dir;
  Command command{.argv = {"sh", "-c", "cat; pwd; echo $MLCTL_X; echo ${HOME:-unset}"},
                  .cwd = dir.path(),
                  .env = {{"MLCTL_X", "42"}},
                  .unset_env = {"HOME"},
                  .input = std::string("from stdin\n")};
  auto done = run(command);
  ASSERT_TRUE(done);
  EXPECT_EQ(done->out, "from stdin\n" + dir.path().string() + "\n42\nunset\n");
}

TEST(ProcessTest, LargeOutputOnBothStreamsDoesNotDeadlock) {
  auto done = run({.argv = {"sh", "-c", "head -c 1000000 /dev/zero; head -c 1000000 /dev/zero >&2"}});
  ASSERT_TRUE(done);
  EXPECT_EQ(done->out.size(), 1000000u);
  EXPECT_EQ(done->err.size(), 1000000u);
}

TEST(ProcessTest, TimeoutKillsTheWholeProcessGroup) {
  test::TempDir dir;
  // The child starts a grandchild; both must be gone after the timeout.
  Command command{.argv = {"sh", "-c", "sleep 30 & echo $! > pid; wait"}, .cwd = dir.path()};
  command.timeout = 300ms;
  auto done = run(command);
  ASSERT_TRUE(done);
  EXPECT_TRUE(done->timed_out);
  EXPECT_EQ(done->signal, SIGTERM);
  pid_t grandchild = std::stoi(dir.read("pid"));
  EXPECT_TRUE(test::gone_within(grandchild, 10s)) << "the grandchild survived";
}

TEST(ProcessTest, MissingProgramIsNotFound) {
  auto done = run({.argv = {"mlctl-no-such-program"}});
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().code(), Errc::not_found);
  EXPECT_EQ(done.error().message(), "cannot run 'mlctl-no-such-program': No such file or directory");
}

TEST(ProcessTest, FindExecutableSearchesPathInOrderForExecutableFiles) {
  test::TempDir dir;
  dir.write("a/tool", "#!/bin/sh\n");
  dir.write("b/tool", "#!/bin/sh\n");
  dir.write("c/tool", "#!/bin/sh\n");
  std::filesystem::permissions(dir / "b/tool", std::filesystem::perms(0755));
  std::filesystem::permissions(dir / "c/tool", std::filesystem::perms(0755));
  std::filesystem::create_directories(dir / "d/tool");  // a folder is no program
  std::string path = (dir / "d").string() + ":" + (dir / "a").string() + ":" + (dir / "b").string() + ":" +
                     (dir / "c").string();
  // a/tool is not executable: b/tool is the first execvp would run.
  EXPECT_EQ(find_executable("tool", path), dir / "b" / "tool");
  EXPECT_EQ(find_executable("missing", path), std::nullopt);
  EXPECT_EQ(find_executable("b/tool", path), std::nullopt);  // a path is not searched
  EXPECT_EQ(find_executable("", path), std::nullopt);
  EXPECT_EQ(find_executable("sh", "/nonexistent::/bin"), std::filesystem::path("/bin/sh"));
}

}  // namespace
}  // namespace mlctl::core
