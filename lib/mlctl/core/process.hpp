#pragma once

#include <mlctl/core/error.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mlctl::core {

struct Command {
  std::vector<std::string> argv{};                // argv[0] is looked up on PATH
  std::filesystem::path cwd{};                    // empty: the current directory
  std::map<std::string, std::string> env{};       // set on top of the inherited environment
  std::vector<std::string> unset_env{};           // removed from the inherited environment
  std::optional<std::string> input{};             // written to stdin, then closed
  std::chrono::milliseconds timeout{0};          // 0: no limit
};

struct Completed {
  int exit_code = -1;   // -1 when killed by a signal
  int signal = 0;       // the signal that ended it, or 0
  bool timed_out = false;
  std::string out;
  std::string err;

  bool ok() const { return exit_code == 0; }
};

// Runs a command to completion in its own process group, capturing stdout and stderr.
// On timeout the whole process group is killed (SIGTERM, then SIGKILL after a grace period).
// Fails only when the command cannot be started; a non-zero exit is a Completed.
Result<Completed> run(const Command& command);

// Where `name` is found on PATH (an executable file), if anywhere.
std::optional<std::filesystem::path> find_executable(std::string_view name);

}  // namespace mlctl::core
