#pragma once

#include <mlctl/core/process.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace mlctl::test {

// Runs the built mlctl binary with `args` in `cwd` and returns what it printed and its exit code.
// NO_COLOR is set so output is plain; `env` adds or overrides variables.
core::Completed run_mlctl(const std::vector<std::string>& args, const std::filesystem::path& cwd,
                          const std::map<std::string, std::string>& env = {});

// Runs any command (sh, bash, git, python3...) in `cwd`; fails the test if it cannot start.
core::Completed run_command(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
                            const std::map<std::string, std::string>& env = {});

}  // namespace mlctl::test
