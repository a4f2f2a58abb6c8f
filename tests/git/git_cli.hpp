#pragma once

// The git command line as the git module's tests drive it: real repositories, made as a user's
// would be.
#include <support/run.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace mlctl::test {

// A fixed author, committer and dates, and none of the machine's git configuration, so that the
// tests do not depend on who runs them; mlctl's hooks wait for their command (MLCTL_HOOK_WAIT).
inline std::map<std::string, std::string> git_env() {
  return {{"GIT_AUTHOR_NAME", "Ada"},           {"GIT_AUTHOR_EMAIL", "ada@example.com"},
          {"GIT_COMMITTER_NAME", "Ada"},        {"GIT_COMMITTER_EMAIL", "ada@example.com"},
          {"GIT_AUTHOR_DATE", "@1700000000 +0000"}, {"GIT_COMMITTER_DATE", "@1700000100 +0000"},
          {"GIT_CONFIG_GLOBAL", "/dev/null"},   {"GIT_CONFIG_NOSYSTEM", "1"},
          {"MLCTL_HOOK_WAIT", "1"}};
}

inline core::Completed run_git(const std::filesystem::path& dir, std::vector<std::string> args) {
  args.insert(args.begin(), "git");
  return run_command(args, dir, git_env());
}

// Runs git in `dir` and returns what it printed, without the last line break; a failure fails the test.
inline std::string git(const std::filesystem::path& dir, std::vector<std::string> args) {
  auto run = run_git(dir, args);
  EXPECT_EQ(run.exit_code, 0) << "git " << args.front() << ": " << run.err;
  if (run.out.ends_with('\n')) run.out.pop_back();
  return run.out;
}

// A new repository on branch main with one commit of `files` (path -> content).
inline void init_repository(const std::filesystem::path& dir, const std::map<std::string, std::string>& files) {
  git(dir, {"init", "-q", "-b", "main"});
  for (const auto& [path, content] : files) {
    std::filesystem::create_directories((dir / path).parent_path());
    std::ofstream(dir / path, std::ios::binary) << content;
  }
  git(dir, {"add", "-A"});
  git(dir, {"commit", "-q", "-m", "first"});
}

}  // namespace mlctl::test
