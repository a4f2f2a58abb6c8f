#include <mlctl/core/process.hpp>

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

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

// Whether a process is still there; a zombie (killed, waiting for a parent to reap it) is gone.
bool alive(pid_t pid) {
  if (::kill(pid, 0) != 0) return false;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::stringstream stat;
  stat << in.rdbuf();
  auto close = stat.str().rfind(')');
  return close == std::string::npos || stat.str().substr(close + 2, 1) != "Z";
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
  // SIGKILL is delivered asynchronously; give it a moment.
  for (int i = 0; i < 200 && alive(grandchild); ++i) ::usleep(10000);
  EXPECT_FALSE(alive(grandchild));
}

}  // namespace
}  // namespace mlctl::core
