#include "writers.hpp"

#include "fault_support.hpp"

#include <support/run.hpp>

#include <mlctl/core/digest.hpp>

#include <algorithm>
#include <random>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

namespace mlctl::test {

namespace {

using Clock = std::chrono::steady_clock;

// Versions registered with seq 1 or 2 fail this gate, so some promotions are refused on purpose.
constexpr std::string_view k_gate = "metrics.seq >= 3";
constexpr int k_gate_seq = 3;

std::optional<std::int64_t> optional_version(const nlohmann::json& value) {
  if (value.is_number_integer()) return value.get<std::int64_t>();
  return std::nullopt;
}

std::string str(const AliasMove& move) {
  return fmt::format("{} {} -> {}", move.alias, move.from ? std::to_string(*move.from) : "none", move.to);
}

void register_one(WriterLog& log, int writer, const std::filesystem::path& dir, const Env& env) {
  int seq = static_cast<int>(log.registered.size()) + 1;
  auto done = run_mlctl({"model", "register", "fraud", "--artifact", fmt::format("model-{}.bin", writer), "--metric",
                         fmt::format("writer={}", writer), "--metric", fmt::format("seq={}", seq), "-o", "json"},
                        dir, env);
  auto printed = json_of(done.out);
  if (done.exit_code != 0 || version_in(printed, "version") < 1 || printed.value("name", "") != "fraud")
    return log.problems.push_back(describe(fmt::format("writer {} register seq {}", writer, seq), done));
  log.registered.push_back({writer, seq, version_in(printed, "version"), printed.value("artifact_digest", "")});
}

void record_move(WriterLog& log, const std::string& what, const core::Completed& done, const std::string& alias,
                 std::int64_t version) {
  auto printed = json_of(done.out);
  if (done.exit_code != 0 || printed.value("alias", "") != alias || version_in(printed, "new_version") != version ||
      !printed.contains("changed") || !printed["changed"].is_boolean())
    return log.problems.push_back(describe(what, done));
  if (!printed["changed"].get<bool>()) {
    ++log.unchanged;
    return;
  }
  log.moved.push_back({alias, optional_version(printed["old_version"]), version});
}

// `alias set` of staging or canary, or `promote --to production` behind the gate, to one of the
// writer's own versions picked at random.
void move_alias(WriterLog& log, std::mt19937& random, int writer, const std::filesystem::path& dir, const Env& env) {
  std::uniform_int_distribution<std::size_t> pick(0, log.registered.size() - 1);
  const Registration target = log.registered[pick(random)];
  std::string version = std::to_string(target.version);
  if (random() % 2 == 0) {
    std::string alias = random() % 2 == 0 ? "staging" : "canary";
    auto done = run_mlctl({"model", "alias", "set", "fraud", alias, version, "-o", "json"}, dir, env);
    return record_move(log, fmt::format("writer {} alias set {} {}", writer, alias, version), done, alias,
                       target.version);
  }
  auto done = run_mlctl(
      {"model", "promote", "fraud", version, "--to", "production", "--require", std::string(k_gate), "-o", "json"}, dir,
      env);
  std::string what = fmt::format("writer {} promote {} (seq {})", writer, version, target.seq);
  if (target.seq >= k_gate_seq) return record_move(log, what, done, "production", target.version);
  std::string refusal = fmt::format(
      "mlctl: error: not promoting fraud@{} to production: {} does not hold (metrics.seq is {}.0)\n", version, k_gate,
      target.seq);
  if (done.exit_code == 4 && done.err == refusal) ++log.refused;
  else log.problems.push_back("expected exit 4 and the gate's message; " + describe(what, done));
}

}  // namespace

std::string artifact_of(int writer) { return fmt::format("weights of writer {}\n", writer); }

std::int64_t version_in(const nlohmann::json& printed, const char* key) {
  return printed.is_object() && printed.contains(key) && printed[key].is_number_integer()
             ? printed[key].get<std::int64_t>()
             : -1;
}

WriterLog run_writer(int writer, std::uint32_t seed, const std::filesystem::path& dir, const Env& env,
                     Clock::time_point until) {
  WriterLog log;
  std::mt19937 random(seed + static_cast<std::uint32_t>(writer));
  while (Clock::now() < until) {
    ++log.commands;
    if (log.registered.empty() || random() % 2 == 0) register_one(log, writer, dir, env);
    else move_alias(log, random, writer, dir, env);
  }
  return log;
}

void expect_registrations(const std::vector<WriterLog>& logs, const std::filesystem::path& db) {
  std::vector<Registration> all;
  for (const auto& log : logs) {
    for (std::size_t i = 1; i < log.registered.size(); ++i)
      EXPECT_LT(log.registered[i - 1].version, log.registered[i].version) << "one writer's versions only grow";
    all.insert(all.end(), log.registered.begin(), log.registered.end());
  }
  std::ranges::sort(all, {}, &Registration::version);
  std::vector<std::string> reported, numbers, expected;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const auto& r = all[i];
    std::string digest = core::sha256_digest(artifact_of(r.writer));
    EXPECT_EQ(r.digest, digest) << "version " << r.version << " as reported";
    reported.push_back(std::to_string(r.version));
    numbers.push_back(std::to_string(i + 1));
    expected.push_back(fmt::format("{} {} {} {}", r.version, digest, r.writer, r.seq));
  }
  EXPECT_EQ(first_difference(reported, numbers), "") << "the reported version numbers are not 1..N";
  std::vector<std::string> stored;
  for (const auto& row : sql_rows(db, "SELECT v.version, v.artifact_digest, CAST(json_extract(v.metrics, '$.writer') "
                                      "AS INTEGER), CAST(json_extract(v.metrics, '$.seq') AS INTEGER) FROM versions v "
                                      "JOIN models m ON m.id = v.model_id WHERE m.name = 'fraud' ORDER BY v.version"))
    stored.push_back(fmt::format("{}", fmt::join(row, " ")));
  EXPECT_EQ(first_difference(stored, expected), "") << "the registry file and the reports differ";
}

void expect_audit(const std::vector<WriterLog>& logs, const nlohmann::json& history, const std::filesystem::path& db) {
  ASSERT_TRUE(history.is_array()) << history.dump();
  std::vector<std::int64_t> registers;
  std::vector<std::string> audited, reported;
  std::map<std::string, std::int64_t> last;
  for (const auto& entry : history) {
    std::string action = entry.value("action", "");
    auto version = optional_version(entry["version"]);
    if (action == "register") {
      registers.push_back(version.value_or(-1));
      EXPECT_EQ(entry["new_value"], std::to_string(version.value_or(-1))) << entry.dump();
      continue;
    }
    ASSERT_TRUE(action == "alias.set" || action == "alias.move") << "no other change was made: " << entry.dump();
    std::string alias = entry.value("alias", "");
    std::optional<std::int64_t> from;
    if (entry["old_value"].is_string()) from = std::stoll(entry["old_value"].get<std::string>());
    EXPECT_EQ(action == "alias.set", !from.has_value()) << entry.dump();
    auto before = last.contains(alias) ? std::optional(last[alias]) : std::nullopt;
    EXPECT_EQ(from, before) << "an alias change starts where the one before it ended: " << entry.dump();
    last[alias] = std::stoll(entry.value("new_value", "-1"));
    audited.push_back(str({alias, from, last[alias]}));
  }
  std::ranges::sort(registers);
  std::vector<std::int64_t> numbers(registers.size());
  for (std::size_t i = 0; i < numbers.size(); ++i) numbers[i] = static_cast<std::int64_t>(i) + 1;
  EXPECT_TRUE(registers == numbers) << "the register entries are not one per version 1.." << numbers.size();
  std::size_t registrations = 0;
  for (const auto& log : logs) {
    for (const auto& move : log.moved) reported.push_back(str(move));
    registrations += log.registered.size();
  }
  EXPECT_EQ(registers.size(), registrations);
  std::ranges::sort(audited);
  std::ranges::sort(reported);
  EXPECT_EQ(first_difference(audited, reported), "") << "the audited alias changes are not those reported";
  std::map<std::string, std::int64_t> now;
  for (const auto& row : sql_rows(db, "SELECT alias, version FROM aliases ORDER BY alias")) {
    ASSERT_EQ(row.size(), 2u) << row.front();
    now[row[0]] = std::stoll(row[1]);
  }
  EXPECT_EQ(now, last) << "the aliases end where the audit log says";
}

}  // namespace mlctl::test
