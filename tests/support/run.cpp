#include <support/run.hpp>

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

namespace mlctl::test {

core::Completed run_command(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
                            const std::map<std::string, std::string>& env) {
  core::Command command{.argv = argv, .cwd = cwd, .env = env, .timeout = std::chrono::minutes(5)};
  auto result = core::run(command);
  if (!result) {
    ADD_FAILURE() << "cannot run " << argv.front() << ": " << result.error().message();
    return {};
  }
  return *result;
}

core::Completed run_mlctl(const std::vector<std::string>& args, const std::filesystem::path& cwd,
                          const std::map<std::string, std::string>& env) {
  std::vector<std::string> argv{MLCTL_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  auto merged = env;
  merged.emplace("NO_COLOR", "1");
  return run_command(argv, cwd, merged);
}

namespace {

bool alive(pid_t pid) {
  if (::kill(pid, 0) != 0) return false;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::stringstream stat;
  stat << in.rdbuf();
  auto close = stat.str().rfind(')');
  return close == std::string::npos || stat.str().substr(close + 2, 1) != "Z";
}

}  // namespace

bool gone_within(pid_t pid, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (alive(pid)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace mlctl::test
