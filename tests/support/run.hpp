#pragma once

#include <mlctl/core/process.hpp>

#include <sys/types.h>

#include <chrono>
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

// Whether process `pid` is gone, or goes within `limit` (a signal is delivered asynchronously, and
// a busy machine takes a while to end a process); a zombie, killed and waiting for its parent to
// reap it, counts as gone.
bool gone_within(pid_t pid, std::chrono::milliseconds limit);

}  // namespace mlctl::test
