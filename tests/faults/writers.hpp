#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlctl::test {

using Env = std::map<std::string, std::string>;

// A registration a command reported: the version it was given and the artifact digest it stored.
struct Registration {
  int writer = 0;
  int seq = 0;
  std::int64_t version = 0;
  std::string digest;
};

// An alias change a command reported with "changed": true, as the audit log should record it.
struct AliasMove {
  std::string alias;
  std::optional<std::int64_t> from;
  std::int64_t to = 0;
};

// What one writer saw. Anything but success or the gate's expected refusal is a problem.
struct WriterLog {
  std::vector<Registration> registered;
  std::vector<AliasMove> moved;
  int unchanged = 0;
  int refused = 0;
  int commands = 0;
  std::vector<std::string> problems;
};

// The bytes of writer `writer`'s artifact, model-<writer>.bin in the test folder.
std::string artifact_of(int writer);

// The version under `key` in a command's JSON output; -1 when it is not there.
std::int64_t version_in(const nlohmann::json& printed, const char* key);

// One writer: `mlctl model register`, `alias set` and `promote` (2:1:1), one process each, in
// `dir` until `until`. Its choices come from `seed`, so a failing run can be replayed.
WriterLog run_writer(int writer, std::uint32_t seed, const std::filesystem::path& dir, const Env& env,
                     std::chrono::steady_clock::time_point until);

// Every reported registration is in `db` with its number, digest and metrics, and the numbers
// are 1..N with no gap or duplicate.
void expect_registrations(const std::vector<WriterLog>& logs, const std::filesystem::path& db);

// `history` (mlctl model history -o json) has one register entry per version and exactly the alias
// changes reported, each starting where the one before it on that alias ended; the aliases in `db`
// are where the log says they end.
void expect_audit(const std::vector<WriterLog>& logs, const nlohmann::json& history, const std::filesystem::path& db);

}  // namespace mlctl::test
