// The step cache's index (.mlctl/cache/steps.jsonl): one appended line per stored entry, read
// once; torn lines are misses, superseded lines are compacted away, and runs in several processes
// append to it at once without losing or mixing a line.
#include <mlctl/core/process.hpp>
#include <mlctl/pipeline/local/step_cache.hpp>

#include <support/run.hpp>
#include <support/temp_dir.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

namespace mlctl::pipeline {
namespace {

namespace fs = std::filesystem;

std::string key_of(int i) { return step_key({{"step", i}}); }

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class StepCacheTest : public ::testing::Test {
protected:
  StepCacheTest() { dir_.write("out/model", "weights\n"); }

  OutputPaths model() const { return {{"model", (dir_ / "out/model").string()}}; }

  test::TempDir dir_;
  fs::path root_ = dir_ / "cache";
};

TEST_F(StepCacheTest, AStoredEntryIsOneLineThatAnotherInstanceFinds) {
  {
    StepCache cache(root_);
    ASSERT_TRUE(cache.store(key_of(1), model(), {{"auc", 0.9}}));
    // The same outcome again appends nothing.
    ASSERT_TRUE(cache.store(key_of(1), model(), {{"auc", 0.9}}));
  }
  auto index = dir_.read("cache/steps.jsonl");
  ASSERT_EQ(lines_of(index).size(), 1u) << index;
  EXPECT_EQ(nlohmann::json::parse(lines_of(index)[0])["key"], key_of(1));

  StepCache again(root_);
  auto entry = again.lookup(key_of(1));
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->metrics, (nlohmann::json{{"auc", 0.9}}));
  ASSERT_EQ(entry->outputs.size(), 1u);
  EXPECT_EQ(entry->outputs[0].name, "model");
  EXPECT_EQ(entry->outputs[0].size, 8u);
  EXPECT_FALSE(again.lookup(key_of(2)));
}

TEST_F(StepCacheTest, ALaterOutcomeOfAKeyWins) {
  {
    StepCache cache(root_);
    ASSERT_TRUE(cache.store(key_of(1), model(), {{"auc", 0.5}}));
    ASSERT_TRUE(cache.store(key_of(1), model(), {{"auc", 0.7}}));
    EXPECT_EQ(cache.lookup(key_of(1))->metrics, (nlohmann::json{{"auc", 0.7}}));
  }
  EXPECT_EQ(lines_of(dir_.read("cache/steps.jsonl")).size(), 2u);
  StepCache again(root_);
  EXPECT_EQ(again.lookup(key_of(1))->metrics, (nlohmann::json{{"auc", 0.7}}));
}

TEST_F(StepCacheTest, ATornLineIsAMissAndTheNextLineStartsOnItsOwn) {
  {
    StepCache cache(root_);
    ASSERT_TRUE(cache.store(key_of(1), model(), nlohmann::json::object()));
  }
  // A crash in the middle of the second line's write.
  std::string whole = dir_.read("cache/steps.jsonl");
  dir_.write("cache/steps.jsonl", whole + whole.substr(0, 40));
  {
    StepCache cache(root_);
    EXPECT_TRUE(cache.lookup(key_of(1)));
    ASSERT_TRUE(cache.store(key_of(3), model(), nlohmann::json::object()));
  }
  auto lines = lines_of(dir_.read("cache/steps.jsonl"));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1], whole.substr(0, 40));
  StepCache again(root_);
  EXPECT_TRUE(again.lookup(key_of(1)));
  EXPECT_TRUE(again.lookup(key_of(3)));
  // A line that is not an entry (edited by hand) is a miss too.
  dir_.write("cache/steps.jsonl", fmt::format("{{\"key\": \"{}\", \"outputs\": 5}}\n", key_of(1)));
  StepCache edited(root_);
  EXPECT_FALSE(edited.lookup(key_of(1)));
}

TEST_F(StepCacheTest, AnIndexMostlyOfSupersededLinesIsRewrittenWhenRead) {
  {
    StepCache cache(root_);
    for (int i = 0; i < 1002; ++i) ASSERT_TRUE(cache.store(key_of(1), model(), {{"round", i}}));
    ASSERT_TRUE(cache.store(key_of(2), model(), nlohmann::json::object()));
  }
  ASSERT_EQ(lines_of(dir_.read("cache/steps.jsonl")).size(), 1003u);
  StepCache again(root_);
  EXPECT_EQ(again.lookup(key_of(1))->metrics, (nlohmann::json{{"round", 1001}}));
  EXPECT_TRUE(again.lookup(key_of(2)));
  EXPECT_EQ(lines_of(dir_.read("cache/steps.jsonl")).size(), 2u);
}

TEST_F(StepCacheTest, AnIndexThatCannotBeWrittenFailsTheStoreNamingIt) {
  fs::create_directories(root_ / "steps.jsonl");
  StepCache cache(root_);
  auto stored = cache.store(key_of(1), model(), nlohmann::json::object());
  ASSERT_FALSE(stored);
  EXPECT_EQ(stored.error().code(), Errc::failed);
  EXPECT_EQ(stored.error().message(), (root_ / "steps.jsonl").string() + ": cannot write: Is a directory");
  EXPECT_FALSE(cache.lookup(key_of(1)));
}

// Two `mlctl pipeline run` processes of 100-step pipelines at once in one project: every step
// of both is in the index afterwards, a whole line each, and both pipelines re-run fully cached.
TEST(StepCacheProcessesTest, ConcurrentRunsAppendWholeLines) {
  test::TempDir dir;
  for (const char* name : {"a", "b"}) {
    std::string yaml = fmt::format("name: {}\nsteps:\n", name);
    for (int i = 0; i < 100; ++i)
      yaml += fmt::format("  - name: s{}\n    command: [sh, -c, \"echo {}{} > {{{{outputs.out}}}}\"]\n    outputs: [out]\n",
                          i, name, i);
    dir.write(fmt::format("{}.yaml", name), yaml);
  }
  auto started = [&](const char* file) {
    auto child = core::Child::spawn({.argv = {MLCTL_BINARY, "pipeline", "run", file, "-j", "2"}, .cwd = dir.path()});
    EXPECT_TRUE(child) << (child ? "" : child.error().message());
    return std::move(*child);
  };
  core::Child a = started("a.yaml");
  core::Child b = started("b.yaml");
  EXPECT_EQ(a.wait().exit_code, 0);
  EXPECT_EQ(b.wait().exit_code, 0);

  auto lines = lines_of(dir.read(".mlctl/cache/steps.jsonl"));
  EXPECT_EQ(lines.size(), 200u);
  for (const auto& line : lines) EXPECT_TRUE(nlohmann::json::accept(line)) << line;
  for (const char* file : {"a.yaml", "b.yaml"}) {
    auto again = test::run_mlctl({"-o", "json", "pipeline", "run", file}, dir.path());
    ASSERT_EQ(again.exit_code, 0) << again.err;
    auto steps = nlohmann::json::parse(again.out)["steps"];
    ASSERT_EQ(steps.size(), 100u);
    for (const auto& step : steps) EXPECT_EQ(step["status"], "cached") << step.dump();
  }
}

}  // namespace
}  // namespace mlctl::pipeline
