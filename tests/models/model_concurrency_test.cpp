// Many writers and a crash, with real processes on one database file.
#include "model_test_support.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <thread>

namespace mlctl::test {
namespace {

using ModelConcurrencyTest = ModelCli;

std::vector<int> numbers(const std::string& text) {
  std::vector<int> out;
  std::istringstream in(text);
  for (int n = 0; in >> n;) out.push_back(n);
  return out;
}

TEST_F(ModelConcurrencyTest, EightWritersGetVersionsOneToTwoHundred) {
  constexpr int k_processes = 8, k_each = 25;
  std::vector<core::Completed> results(k_processes);
  std::vector<std::thread> threads;
  for (int p = 0; p < k_processes; ++p) {
    dir_.write(fmt::format("model-{}.bin", p), fmt::format("weights of writer {}", p));
    std::string loop = fmt::format(
        "for i in $(seq {}); do \"$MLCTL\" model register fraud --artifact model-{}.bin --metric writer={} || exit 1; done",
        k_each, p, p);
    auto env = this->env();
    env["MLCTL"] = MLCTL_BINARY;
    threads.emplace_back([&, p, loop, env] { results[p] = run_command({"sh", "-c", loop}, dir_.path(), env); });
  }
  for (auto& thread : threads) thread.join();

  std::vector<int> printed;
  for (const auto& result : results) {
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_FALSE(result.timed_out);
    EXPECT_EQ(result.err.find("locked"), std::string::npos) << result.err;
    auto mine = numbers(result.out);
    EXPECT_EQ(mine.size(), static_cast<std::size_t>(k_each));
    EXPECT_TRUE(std::ranges::is_sorted(mine));  // one writer's versions only grow
    printed.insert(printed.end(), mine.begin(), mine.end());
  }
  std::ranges::sort(printed);
  std::vector<int> expected(k_processes * k_each);
  for (int i = 0; i < k_processes * k_each; ++i) expected[i] = i + 1;
  EXPECT_EQ(printed, expected);
  EXPECT_EQ(query("SELECT count(*) || ' ' || count(DISTINCT version) || ' ' || min(version) || ' ' || max(version) "
                  "FROM versions"),
            "200 200 1 200");
  EXPECT_EQ(query("SELECT count(*) FROM audit WHERE action = 'register'"), "200");
  for (int p = 0; p < k_processes; ++p)
    EXPECT_EQ(query(fmt::format("SELECT count(*) FROM versions WHERE json_extract(metrics, '$.writer') = {}", p)), "25");
  EXPECT_EQ(query("PRAGMA integrity_check"), "ok");
}

TEST_F(ModelConcurrencyTest, KillNineMidBatchLosesNothingReported) {
  dir_.write("model.bin", "weights");
  // The batch runs in its own session (so its own process group), killed with SIGKILL 0.3 s after
  // it has reported three registrations (waited for at most a minute, however slow mlctl is, as
  // under the sanitizers), wherever it is then: between registrations, copying an artifact, or
  // inside a transaction.
  std::string script =
      "setsid sh -c 'for i in $(seq 1000); do \"$MLCTL\" model register fraud --artifact model.bin >> printed.txt "
      "|| exit 1; done' & pid=$!; "
      "i=0; while [ \"$(cat printed.txt 2>/dev/null | wc -l)\" -lt 3 ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; "
      "sleep 0.3; env kill -s KILL -- -$pid; wait $pid; exit 0";
  auto env = this->env();
  env["MLCTL"] = MLCTL_BINARY;
  auto killed = run_command({"sh", "-c", script}, dir_.path(), env);
  ASSERT_EQ(killed.exit_code, 0) << killed.err;
  auto printed = numbers(dir_.read("printed.txt"));
  ASSERT_GE(printed.size(), 3u) << "the batch registered too few versions before the kill to mean anything";
  ASSERT_LT(printed.size(), 1000u);

  EXPECT_EQ(query("PRAGMA integrity_check"), "ok");
  for (int version : printed) {
    auto pulled = mlctl({"pull", fmt::format("fraud@{}", version), fmt::format("out-{}.bin", version)});
    ASSERT_EQ(pulled.exit_code, 0) << version << ": " << pulled.err;
    EXPECT_EQ(dir_.read(fmt::format("out-{}.bin", version)), "weights");
  }
  // The file still takes writes, and numbering carries on after what was committed.
  std::string committed = query("SELECT max(version) FROM versions");
  auto next = mlctl({"register", "fraud", "--artifact", "model.bin"});
  ASSERT_EQ(next.exit_code, 0) << next.err;
  EXPECT_EQ(next.out, std::to_string(std::stoi(committed) + 1) + "\n");
  EXPECT_GE(std::stoi(committed), printed.back());
}

}  // namespace
}  // namespace mlctl::test
