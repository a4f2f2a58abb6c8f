#include <mlctl/core/process.hpp>

#include <poll.h>
#include <signal.h>
#include <unistd.h>


#include <support/run.hpp>

#include <gtest/gtest.h>

namespace mlctl::core {
namespace {

// Reads a pipe to its end.
std::string read_all(int fd) {
  std::string out;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0) out.append(buffer, static_cast<size_t>(n));
  return out;
}

TEST(ChildTest, MergedStderrKeepsTheOrderWritten) {
  auto child = Child::spawn({.argv = {"sh", "-c", "echo one; echo two >&2; echo three"}}, Stderr::merged);
  ASSERT_TRUE(child);
  EXPECT_EQ(child->stderr_fd(), -1);
  EXPECT_EQ(child->stdin_fd(), -1);
  EXPECT_EQ(read_all(child->stdout_fd()), "one\ntwo\nthree\n");
  auto status = child->wait();
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_EQ(status.signal, 0);
}

TEST(ChildTest, ExitFdBecomesReadableWhenTheProcessEnds) {
  auto child = Child::spawn({.argv = {"sh", "-c", "exit 4"}});
  ASSERT_TRUE(child);
  ASSERT_GE(child->exit_fd(), 0);
  pollfd fd{child->exit_fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&fd, 1, 10000), 1);
  auto status = child->try_wait();
  ASSERT_TRUE(status);
  EXPECT_EQ(status->exit_code, 4);
}

// The lines of /proc/self/status a process starts with that say which signals it ignores and blocks.
std::string signal_state_of_child() {
  auto child = Child::spawn({.argv = {"grep", "-E", "^Sig(Ign|Blk):", "/proc/self/status"}});
  EXPECT_TRUE(child);
  if (!child) return "";
  std::string out = read_all(child->stdout_fd());
  EXPECT_EQ(child->wait().exit_code, 0);
  return out;
}

TEST(ChildTest, AChildStartsWithDefaultSignalsWhateverTheParentIgnoresOrBlocks) {
  struct sigaction ignore {}, handle {}, old_pipe {}, old_usr1 {};
  ignore.sa_handler = SIG_IGN;
  handle.sa_handler = [](int) {};
  ASSERT_EQ(::sigaction(SIGPIPE, &ignore, &old_pipe), 0);
  ASSERT_EQ(::sigaction(SIGUSR1, &handle, &old_usr1), 0);
  sigset_t blocked, old_mask;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGUSR2);
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &blocked, &old_mask), 0);

  std::string state = signal_state_of_child();

  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  ::sigaction(SIGPIPE, &old_pipe, nullptr);
  ::sigaction(SIGUSR1, &old_usr1, nullptr);
  EXPECT_EQ(state, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
}

TEST(ChildTest, AFolderThatIsNotThereIsNamed) {
  auto child = Child::spawn({.argv = {"true"}, .cwd = "/nonexistent/mlctl-test"});
  ASSERT_FALSE(child);
  EXPECT_EQ(child.error().code(), Errc::not_found);
  EXPECT_EQ(child.error().message(), "cannot run 'true' in /nonexistent/mlctl-test: No such file or directory");
  auto not_executable = Child::spawn({.argv = {"/dev/null"}});
  ASSERT_FALSE(not_executable);
  EXPECT_EQ(not_executable.error().code(), Errc::failed);
  EXPECT_EQ(not_executable.error().message(), "cannot run '/dev/null': Permission denied");
}

TEST(ChildTest, TryWaitIsEmptyWhileRunningAndSignalGroupStopsIt) {
  auto child = Child::spawn({.argv = {"sleep", "30"}});
  ASSERT_TRUE(child);
  EXPECT_FALSE(child->try_wait());
  EXPECT_TRUE(child->signal_group(SIGTERM));
  auto status = child->wait();
  EXPECT_EQ(status.exit_code, -1);
  EXPECT_EQ(status.signal, SIGTERM);
  EXPECT_FALSE(child->signal_group(0)) << "nothing is left in the group";
}

TEST(ChildTest, DroppingARunningChildKillsItsWholeGroup) {
  pid_t grandchild = 0;
  {
    auto child = Child::spawn({.argv = {"sh", "-c", "sleep 30 & echo $!; wait"}});
    ASSERT_TRUE(child);
    std::string line;
    char c;
    while (::read(child->stdout_fd(), &c, 1) == 1 && c != '\n') line += c;
    grandchild = std::stoi(line);
  }
  EXPECT_TRUE(test::gone_within(grandchild, std::chrono::seconds(10)));
}

}  // namespace
}  // namespace mlctl::core
