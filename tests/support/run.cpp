#include <support/run.hpp>

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

}  // namespace mlctl::test
