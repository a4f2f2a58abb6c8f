#pragma once

#include <mlctl/core/process.hpp>

#include <support/sqlite_rows.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlctl::test {

// PRAGMA integrity_check's rows joined by newlines: "ok" for a sound file.
std::string integrity_check(const std::filesystem::path& db);

// The seed of a test's random choices: MLCTL_FAULT_SEED when set (to replay a failure), else fresh.
std::uint32_t fault_seed();

// The JSON document a command printed, or null when it printed none (or something else).
nlohmann::json json_of(const std::string& text);

// One line for a failure message: what ran, how it ended, and what it said on stderr.
std::string describe(const std::string& what, const core::Completed& done);

// "" when there are none, else how many and the first three, so that a run where every command
// failed prints a screenful instead of thousands of lines.
std::string summarize(const std::vector<std::string>& problems);

// "" when equal, else the first index where the two differ with both values (or the lengths), so
// that a mismatch in thousands of rows prints one line instead of both vectors.
std::string first_difference(const std::vector<std::string>& actual, const std::vector<std::string>& expected);

// `mlctl ARGS` started in `cwd` as a child the caller can SIGKILL (its own process group).
std::optional<core::Child> start_mlctl(const std::vector<std::string>& args, const std::filesystem::path& cwd,
                                       const std::map<std::string, std::string>& env);

// The output and exit of a child that has ended (`status`), read from its pipes to the end.
core::Completed collect(core::Child& child, core::ExitStatus status);

// A tmpfs of `bytes` mounted at `where` (created) while the object lives. Mounting needs root or
// CAP_SYS_ADMIN; error() says so when it failed. Unmounted lazily (MNT_DETACH) so that a failing
// test with a file still open does not leave the mount behind.
class Tmpfs {
public:
  Tmpfs(std::filesystem::path where, std::uint64_t bytes);
  ~Tmpfs();
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;

  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }
  // What an unprivileged writer may still write (statvfs f_bavail).
  std::uint64_t free_bytes() const;

private:
  std::filesystem::path where_;
  bool mounted_ = false;
  std::string error_;
};

}  // namespace mlctl::test
