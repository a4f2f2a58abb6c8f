#pragma once

#include "writers.hpp"

#include <mlctl/core/process.hpp>

#include <chrono>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace mlctl::test {

enum class Step { register_version, promote };

// A command a slot started, so that a kill can be matched with whatever it left in the file.
struct Launch {
  Step step = Step::register_version;
  int seq = 0;               // register: the writer's count, passed as --metric seq=
  std::int64_t version = 0;  // promote: the version it promotes
};

// One writer of a round: register, promote what it registered to its own alias, register...,
// each an mlctl process, until it is killed or the round stops starting commands.
struct Slot {
  int writer = 0;
  std::optional<core::Child> child;
  Launch running;
  std::chrono::steady_clock::time_point kill_at = std::chrono::steady_clock::time_point::max();
  bool finished = false;
  int seq = 0;
  std::optional<std::int64_t> to_promote;  // the version it registered last, promoted next
  std::optional<std::int64_t> promoted;    // the last promotion it reported
  std::optional<Launch> killed;            // the command SIGKILL ended, if one did
};

// One round: 1-3 writers on model.bin, 1 or more of them SIGKILLed at random moments.
struct KillRound {
  int number = 0;
  std::string digest;  // model.bin's, which every registration stores
  std::vector<Slot> slots;
  std::vector<Registration> registered;  // what the commands that finished reported
  std::vector<std::string> problems;     // a command that finished but failed
  int kills = 0;

  // Each writer moves its own alias, so what it points at says whose promotion landed.
  std::string alias(int writer) const;
};

// Runs round `number` in `dir` to the end: every writer killed or done. `digest` is model.bin's.
KillRound run_kill_round(int number, std::mt19937& random, const std::filesystem::path& dir, const Env& env,
                         const std::string& digest);

// After the round: the file passes integrity_check; every reported registration is there exactly;
// any other version of the round is the one registration a killed writer had under way; numbers
// are 1..N; each writer's alias points at its last reported promotion or the killed one. Returns
// how many registrations were committed but never reported (killed after COMMIT, before printing).
int expect_round_kept(const KillRound& round, const std::filesystem::path& db);

// The highest version in `db`; 0 when none was ever committed (a first writer killed while it
// created the file leaves no file, or one without tables).
std::int64_t latest_version(const std::filesystem::path& db);

}  // namespace mlctl::test
