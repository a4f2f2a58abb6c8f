#include "kill_rounds.hpp"

#include "fault_support.hpp"

#include <csignal>
#include <map>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace mlctl::test {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Writers not chosen for a kill stop starting commands after this; kills land before it.
constexpr milliseconds k_round_length{450};
constexpr int k_latest_kill_ms = 400;
// A round whose writers have not all ended by then is hung: a lock nobody releases.
constexpr auto k_hung = std::chrono::seconds(40);

void launch(KillRound& round, Slot& slot, const std::filesystem::path& dir, const Env& env) {
  std::vector<std::string> args;
  if (slot.to_promote) {
    slot.running = {.step = Step::promote, .version = *slot.to_promote};
    slot.to_promote.reset();
    args = {"model", "promote", "fraud", std::to_string(slot.running.version), "--to", round.alias(slot.writer),
            "-o", "json"};
  } else {
    slot.running = {.step = Step::register_version, .seq = ++slot.seq};
    args = {"model", "register", "fraud", "--artifact", "model.bin", "-o", "json",
            "--metric", fmt::format("round={}", round.number), "--metric", fmt::format("writer={}", slot.writer),
            "--metric", fmt::format("seq={}", slot.seq)};
  }
  if (auto child = start_mlctl(args, dir, env)) slot.child.emplace(std::move(*child));
  else slot.finished = true;
}

void record(KillRound& round, Slot& slot, const core::Completed& done) {
  auto printed = json_of(done.out);
  std::string what = fmt::format("round {} writer {} {}", round.number, slot.writer,
                                 slot.running.step == Step::promote ? "promote" : "register");
  if (slot.running.step == Step::register_version) {
    std::int64_t version = version_in(printed, "version");
    if (done.exit_code != 0 || version < 1 || printed.value("artifact_digest", "") != round.digest)
      return round.problems.push_back(describe(what, done));
    round.registered.push_back({slot.writer, slot.running.seq, version, round.digest});
    slot.to_promote = version;
    return;
  }
  if (done.exit_code != 0 || version_in(printed, "new_version") != slot.running.version)
    return round.problems.push_back(describe(what, done));
  slot.promoted = slot.running.version;
}

// Moves one slot on: reaps its command if it ended (or kills it when its time has come), then
// starts the next one unless the slot is done.
void advance(KillRound& round, Slot& slot, Clock::time_point stop_starting, const std::filesystem::path& dir,
             const Env& env) {
  if (slot.finished) return;
  auto now = Clock::now();
  if (slot.child) {
    bool kill = now >= slot.kill_at;
    if (kill) slot.child->signal_group(SIGKILL);
    auto status = kill ? std::optional(slot.child->wait()) : slot.child->try_wait();
    if (!status) return;
    auto done = collect(*slot.child, *status);
    slot.child.reset();
    if (status->signal == SIGKILL) {
      slot.killed = slot.running;
      ++round.kills;
    } else {
      record(round, slot, done);
    }
  }
  if (now >= slot.kill_at || now >= stop_starting) {
    slot.finished = true;
    return;
  }
  launch(round, slot, dir, env);
}

// Each writer's alias points at its last reported promotion, or at the one SIGKILL interrupted.
void expect_aliases_kept(const KillRound& round, const std::filesystem::path& db) {
  for (const auto& slot : round.slots) {
    auto row = sql_rows(db, fmt::format("SELECT version FROM aliases WHERE alias = '{}'", round.alias(slot.writer)));
    std::string now = row.empty() ? "none" : row.front().front();
    std::set<std::string> allowed{slot.promoted ? std::to_string(*slot.promoted) : "none"};
    if (slot.killed && slot.killed->step == Step::promote) allowed.insert(std::to_string(slot.killed->version));
    EXPECT_TRUE(allowed.contains(now)) << round.alias(slot.writer) << " points at " << now;
  }
}

}  // namespace

std::int64_t latest_version(const std::filesystem::path& db) {
  if (!std::filesystem::exists(db)) return 0;
  if (sql_rows(db, "SELECT count(*) FROM sqlite_master WHERE name = 'versions'") != Rows{{"1"}}) return 0;
  auto latest = sql_rows(db, "SELECT coalesce(max(version), 0) FROM versions");
  return latest.size() == 1 && latest[0].size() == 1 ? std::stoll(latest[0][0]) : -1;
}

std::string KillRound::alias(int writer) const { return fmt::format("r{}-w{}", number, writer); }

KillRound run_kill_round(int number, std::mt19937& random, const std::filesystem::path& dir, const Env& env,
                         const std::string& digest) {
  KillRound round;
  round.number = number;
  round.digest = digest;
  int writers = std::uniform_int_distribution(1, 3)(random);
  int killed = std::uniform_int_distribution(1, writers)(random);
  auto started = Clock::now();
  round.slots.resize(static_cast<std::size_t>(writers));
  for (int i = 0; i < writers; ++i) {
    round.slots[i].writer = i;
    if (i < killed)
      round.slots[i].kill_at = started + milliseconds(std::uniform_int_distribution(5, k_latest_kill_ms)(random));
  }
  auto unfinished = [&] { return std::ranges::any_of(round.slots, [](const Slot& s) { return !s.finished; }); };
  while (unfinished()) {
    for (auto& slot : round.slots) advance(round, slot, started + k_round_length, dir, env);
    if (Clock::now() - started > k_hung) {
      ADD_FAILURE() << "round " << number << ": a writer has not ended after 40 s";
      for (auto& slot : round.slots) slot.kill_at = Clock::now();
    }
    std::this_thread::sleep_for(milliseconds(1));
  }
  return round;
}

int expect_round_kept(const KillRound& round, const std::filesystem::path& db) {
  SCOPED_TRACE(fmt::format("round {}", round.number));
  EXPECT_EQ(summarize(round.problems), "") << "every command not killed succeeds";
  if (std::filesystem::exists(db)) {
    EXPECT_EQ(integrity_check(db), "ok");
  }
  if (latest_version(db) == 0) {
    EXPECT_EQ(round.registered.size(), 0u) << "registrations were reported but the file has none";
    return 0;
  }

  std::map<std::int64_t, std::string> stored;  // version -> "writer seq digest", this round's
  for (const auto& row : sql_rows(db, fmt::format("SELECT version, CAST(json_extract(metrics, '$.writer') AS INTEGER), "
                                                  "CAST(json_extract(metrics, '$.seq') AS INTEGER), artifact_digest "
                                                  "FROM versions WHERE json_extract(metrics, '$.round') = {}",
                                                  round.number))) {
    if (row.size() != 4) {
      ADD_FAILURE() << row.front();
      return 0;
    }
    stored[std::stoll(row[0])] = fmt::format("{} {} {}", row[1], row[2], row[3]);
  }
  for (const auto& r : round.registered) {
    auto found = stored.find(r.version);
    std::string expected = fmt::format("{} {} {}", r.writer, r.seq, r.digest);
    EXPECT_EQ(found == stored.end() ? "<missing>" : found->second, expected) << "reported version " << r.version;
    if (found != stored.end()) stored.erase(found);
  }
  std::set<std::string> under_way;  // the registrations SIGKILL interrupted
  for (const auto& slot : round.slots) {
    if (slot.killed && slot.killed->step == Step::register_version)
      under_way.insert(fmt::format("{} {} {}", slot.writer, slot.killed->seq, round.digest));
  }
  for (const auto& [version, what] : stored)
    EXPECT_EQ(under_way.count(what), 1u) << "version " << version << " (" << what << ") was not reported nor under way";

  auto totals = sql_rows(db, "SELECT count(*), count(DISTINCT version), min(version), max(version) FROM versions");
  EXPECT_EQ(totals, (Rows{{totals[0][0], totals[0][0], "1", totals[0][0]}})) << "version numbers are 1..N";
  EXPECT_EQ(sql_rows(db, "SELECT v.version, (SELECT count(*) FROM audit a WHERE a.model_id = v.model_id AND a.action "
                         "= 'register' AND a.version = v.version) AS entries FROM versions v WHERE entries != 1"),
            Rows{})
      << "versions without exactly one register entry in the audit log";
  expect_aliases_kept(round, db);
  return static_cast<int>(stored.size());
}

}  // namespace mlctl::test
