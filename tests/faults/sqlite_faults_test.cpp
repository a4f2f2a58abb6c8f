// The registry's SQLite file under fault: many writers at once, SIGKILL at random points, a full
// disk. Real mlctl processes on a real file; every check compares what the commands reported with
// what the file holds, and each run prints its seed (MLCTL_FAULT_SEED=N replays its choices).
#include "fault_support.hpp"
#include "kill_rounds.hpp"
#include "writers.hpp"

#include <models/model_test_support.hpp>

#include <mlctl/core/digest.hpp>

#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <random>
#include <thread>

namespace mlctl::test {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int k_writers = 16;
constexpr auto k_writing_time = std::chrono::seconds(30);
constexpr int k_kill_rounds = 40;
// Rounds go on for this long, and at least k_least_rounds of them however slow mlctl is.
constexpr auto k_killing_time = std::chrono::seconds(20);
constexpr int k_least_rounds = 10;
// A later writer that waits this long was blocked by something a killed one left behind.
constexpr auto k_prompt = std::chrono::seconds(5);
constexpr std::uint64_t k_disk_bytes = 4 << 20;
// What the filler leaves free: room for a few registrations, then the disk is full.
constexpr std::uint64_t k_headroom = 512 << 10;
constexpr std::size_t k_description_bytes = 48 << 10;

class SqliteFaultsTest : public ModelCli {
protected:
  fs::path db() const { return dir_ / "registry.db"; }
};

TEST_F(SqliteFaultsTest, SixteenWritersThirtySeconds) {
  std::uint32_t seed = fault_seed();
  std::cout << "MLCTL_FAULT_SEED=" << seed << std::endl;
  SCOPED_TRACE(fmt::format("MLCTL_FAULT_SEED={}", seed));
  for (int writer = 0; writer < k_writers; ++writer)
    dir_.write(fmt::format("model-{}.bin", writer), artifact_of(writer));
  std::vector<WriterLog> logs(k_writers);
  auto started = Clock::now();
  {
    std::vector<std::jthread> writers;
    for (int writer = 0; writer < k_writers; ++writer) {
      writers.emplace_back(
          [&, writer] { logs[writer] = run_writer(writer, seed, dir_.path(), env(), started + k_writing_time); });
    }
  }
  double took = std::chrono::duration<double>(Clock::now() - started).count();

  int commands = 0, registered = 0, moved = 0, unchanged = 0, refused = 0;
  for (int writer = 0; writer < k_writers; ++writer) {
    const auto& log = logs[writer];
    commands += log.commands;
    registered += static_cast<int>(log.registered.size());
    moved += static_cast<int>(log.moved.size());
    unchanged += log.unchanged;
    refused += log.refused;
    EXPECT_EQ(summarize(log.problems), "") << "writer " << writer << ": every command succeeds or meets the gate";
  }
  std::cout << fmt::format("{:.1f} s: {} commands: {} registered, {} alias changes, {} unchanged, {} refused by the "
                           "gate\n", took, commands, registered, moved, unchanged, refused);
  EXPECT_LT(took, 40.0) << "no command started after 30 s, and none waits long";
  ASSERT_GE(registered, 2 * k_writers) << "too little was written to mean anything";
  EXPECT_GT(moved, 0);
  EXPECT_GT(refused, 0);

  expect_registrations(logs, db());
  auto history = mlctl({"history", "fraud", "-o", "json"});
  ASSERT_EQ(history.exit_code, 0) << history.err;
  expect_audit(logs, json_of(history.out), db());
  EXPECT_EQ(integrity_check(db()), "ok");
  EXPECT_EQ(sql_rows(db(), "PRAGMA foreign_key_check"), Rows{});
}

TEST_F(SqliteFaultsTest, KillNineAtRandomPoints) {
  std::uint32_t seed = fault_seed();
  std::cout << "MLCTL_FAULT_SEED=" << seed << std::endl;
  SCOPED_TRACE(fmt::format("MLCTL_FAULT_SEED={}", seed));
  dir_.write("model.bin", "weights\n");
  std::string digest = core::sha256_digest("weights\n");
  std::mt19937 random(seed);
  auto started = Clock::now();
  int rounds = 0, kills = 0, unreported = 0;
  std::optional<std::int64_t> after_kill;  // where the later writer's alias points
  for (int number = 1;
       number <= k_kill_rounds && (number <= k_least_rounds || Clock::now() - started < k_killing_time); ++number) {
    KillRound round = run_kill_round(number, random, dir_.path(), env(), digest);
    ++rounds;
    kills += round.kills;
    unreported += expect_round_kept(round, db());

    // A writer after the kill gets the next number at once and moves an alias as usual.
    std::int64_t committed = latest_version(db());
    auto begun = Clock::now();
    auto next = mlctl({"register", "fraud", "--artifact", "model.bin", "--metric", fmt::format("round={}", number),
                       "--metric", "writer=99", "-o", "json"});
    EXPECT_LT(Clock::now() - begun, k_prompt) << "round " << number;
    ASSERT_EQ(next.exit_code, 0) << "round " << number << ": " << next.err;
    std::int64_t version = version_in(json_of(next.out), "version");
    EXPECT_EQ(version, committed + 1) << "round " << number;
    auto moved = mlctl({"alias", "set", "fraud", "after-kill", std::to_string(version), "-o", "json"});
    EXPECT_EQ(moved.exit_code, 0) << moved.err;
    nlohmann::json from = after_kill ? nlohmann::json(*after_kill) : nlohmann::json();
    EXPECT_EQ(json_of(moved.out), (nlohmann::json{{"alias", "after-kill"}, {"changed", true}, {"name", "fraud"},
                                                  {"new_version", version}, {"old_version", from}}));
    after_kill = version;
    if (HasFailure()) break;  // the first broken round says what there is to say
  }
  std::cout << fmt::format("{} rounds in {:.1f} s, {} writers killed, {} registrations committed but never reported\n",
                           rounds, std::chrono::duration<double>(Clock::now() - started).count(), kills, unreported);
  EXPECT_EQ(integrity_check(db()), "ok");
  if (HasFailure()) return;
  EXPECT_GE(kills, rounds / 2) << "most rounds kill a writer in the middle of a command";
}

// A writer kept out for longer than the busy timeout (30 s: another process holds the write lock)
// fails with the reason and what to do, and registers nothing; once the lock is gone the same
// command registers the next version.
TEST_F(SqliteFaultsTest, WriterLockedOutLongerThanTheBusyTimeoutSaysWhyAndLosesNothing) {
  dir_.write("model.bin", artifact_of(1));
  auto first = mlctl({"register", "fraud", "--artifact", "model.bin", "-o", "json"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  sqlite3* holder = nullptr;
  ASSERT_EQ(sqlite3_open(db().c_str(), &holder), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(holder, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto locked_out = mlctl({"register", "fraud", "--artifact", "model.bin"});
  sqlite3_exec(holder, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(holder);
  EXPECT_EQ(locked_out.exit_code, 1);
  EXPECT_EQ(locked_out.out, "");
  EXPECT_EQ(locked_out.err, fmt::format("mlctl: error: registry database {0}: database is locked\n"
                                        "hint: another process held the database for 30 s: run the command again "
                                        "(fuser {0} shows who has it open)\n",
                                        db().string()));
  EXPECT_EQ(latest_version(db()), 1);
  auto again = mlctl({"register", "fraud", "--artifact", "model.bin", "-o", "json"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(version_in(json_of(again.out), "version"), 2);
  EXPECT_EQ(integrity_check(db()), "ok");
}

// 48 KiB that say which version they belong to.
std::string description_of(std::int64_t version) {
  std::string text = fmt::format("version {} ", version);
  text.resize(k_description_bytes, static_cast<char>('a' + version % 26));
  return text;
}

// Where a registration's artifact goes: outside the small disk (so that only SQLite can run out of
// space there), or the project's own store on it.
enum class Store { outside, on_disk };

// A project (mlctl.yaml, .mlctl/registry.db, .mlctl/artifacts) on the small disk at `root`;
// artifacts to register are files in `files`.
struct DiskProject {
  fs::path root;
  fs::path files;

  Env env(Store store) const {
    return {{"MLCTL_REGISTRY_DB", ""}, {"MLCTL_ACTOR", "tester"},
            {"MLCTL_ARTIFACT_STORE", store == Store::outside ? (files / "store").string() : ""}};
  }
  core::Completed register_version(std::int64_t version, Store store, const std::string& artifact) const {
    return run_mlctl({"model", "register", "fraud", "--artifact", (files / artifact).string(), "--description",
                      description_of(version), "-o", "json"},
                     root, env(store));
  }
  // Every version 1..digests.size() is listed with its own description and digests[version - 1],
  // and the file passes integrity_check.
  void expect_versions_intact(const std::vector<std::string>& digests) const {
    auto listed = run_mlctl({"model", "list", "fraud", "--limit", "1000", "-o", "json"}, root, env(Store::outside));
    ASSERT_EQ(listed.exit_code, 0) << listed.err;
    std::vector<std::string> actual, expected;
    for (const auto& version : json_of(listed.out)) {
      std::int64_t number = version_in(version, "version");
      bool intact = version.value("description", "") == description_of(number);
      actual.insert(actual.begin(), fmt::format("{} {} {}", number, version.value("artifact_digest", ""),
                                                intact ? "its description" : "another description"));
    }
    for (std::size_t i = 0; i < digests.size(); ++i)
      expected.push_back(fmt::format("{} {} its description", i + 1, digests[i]));
    EXPECT_EQ(first_difference(actual, expected), "");
    EXPECT_EQ(integrity_check(root / ".mlctl" / "registry.db"), "ok");
  }
};

// Registers versions with `artifact` (whose digest is `digest`) until one fails, at most 40;
// appends the digest of each that succeeded and returns the failure.
std::optional<core::Completed> register_until_full(const DiskProject& project, const std::string& artifact,
                                                   const std::string& digest, std::vector<std::string>& digests) {
  for (auto version = static_cast<std::int64_t>(digests.size()) + 1; version <= 40; ++version) {
    auto done = project.register_version(version, Store::outside, artifact);
    if (done.exit_code != 0) return done;
    EXPECT_EQ(version_in(json_of(done.out), "version"), version) << done.err;
    digests.push_back(digest);
  }
  return std::nullopt;
}

// A 4 MiB tmpfs holds the project: three versions, then a filler leaving 512 KiB, then versions
// with 48 KiB descriptions until SQLite finds the disk full; then a 1 MiB artifact the store
// cannot copy; then the filler goes and both kinds of registration work again.
TEST_F(SqliteFaultsTest, FullDisk) {
  Tmpfs disk(dir_ / "disk", k_disk_bytes);
  ASSERT_TRUE(disk.mounted()) << disk.error();
  DiskProject project{.root = fs::canonical(dir_ / "disk"), .files = dir_.path()};
  dir_.write("disk/mlctl.yaml", "name: fraud\nversion: 0.1.0\n");
  std::string small = "weights\n", big(1 << 20, '\0');
  std::mt19937 random(7);
  for (char& byte : big) byte = static_cast<char>(random());
  dir_.write("model.bin", small);
  dir_.write("big.bin", big);
  std::vector<std::string> digests;
  for (std::int64_t version = 1; version <= 3; ++version) {
    auto done = project.register_version(version, Store::outside, "model.bin");
    ASSERT_EQ(done.exit_code, 0) << done.err;
    ASSERT_EQ(version_in(json_of(done.out), "version"), version);
    digests.push_back(core::sha256_digest(small));
  }
  ASSERT_GT(disk.free_bytes(), k_headroom);
  {
    std::ofstream filler(project.root / "filler.bin", std::ios::binary);
    filler << std::string(disk.free_bytes() - k_headroom, 'f');
    ASSERT_TRUE(filler.flush()) << "writing the filler";
  }

  auto full = register_until_full(project, "model.bin", core::sha256_digest(small), digests);
  ASSERT_TRUE(full) << "40 registrations with 48 KiB descriptions did not fill " << k_disk_bytes << " bytes";
  std::cout << digests.size() - 3 << " registrations fitted in the last " << k_headroom << " bytes\n";
  EXPECT_GT(digests.size(), 3u) << "the filler left room for at least one";
  fs::path folder = project.root / ".mlctl";
  std::string message = fmt::format("registry database {}: database or disk is full: no space left on the file "
                                    "system that holds it", (folder / "registry.db").string());
  std::string hint = fmt::format("free space on the file system of {0} (df -h {0}), then run the command again",
                                 folder.string());
  EXPECT_EQ(full->exit_code, 1);
  EXPECT_EQ(full->err, fmt::format("mlctl: error: {}\nhint: {}\n", message, hint));
  EXPECT_EQ(json_of(full->out), (nlohmann::json{{"error", {{"code", "failed"}, {"exit_code", 1}, {"message", message},
                                                           {"hint", hint}}}}));
  project.expect_versions_intact(digests);

  // The store on the full disk: the copy fails, says why, and leaves no partial object behind.
  auto stored = project.register_version(static_cast<std::int64_t>(digests.size()) + 1, Store::on_disk, "big.bin");
  EXPECT_EQ(stored.exit_code, 1);
  EXPECT_EQ(stored.err, fmt::format("mlctl: error: storing {0}: cannot write a copy of {0} into {1}: No space left on "
                                    "device\nhint: free space on the file system that holds it\n",
                                    (dir_ / "big.bin").string(), (folder / "artifacts" / "sha256").string()));
  std::vector<std::string> objects;
  std::error_code absent;
  for (const auto& entry : fs::directory_iterator(folder / "artifacts" / "sha256", absent))
    objects.push_back(entry.path().string());
  EXPECT_EQ(objects, std::vector<std::string>{});
  project.expect_versions_intact(digests);

  fs::remove(project.root / "filler.bin");
  for (auto [store, artifact, content] : {std::tuple{Store::outside, "model.bin", &small},
                                          std::tuple{Store::on_disk, "big.bin", &big}}) {
    auto version = static_cast<std::int64_t>(digests.size()) + 1;
    auto done = project.register_version(version, store, artifact);
    ASSERT_EQ(done.exit_code, 0) << "once there is space again: " << done.err;
    EXPECT_EQ(version_in(json_of(done.out), "version"), version);
    digests.push_back(core::sha256_digest(*content));
  }
  EXPECT_EQ(fs::file_size(folder / "artifacts" / "sha256" / digests.back().substr(7)), big.size());
  project.expect_versions_intact(digests);
}

}  // namespace
}  // namespace mlctl::test
