#include "local_run_test.hpp"

#include <mlctl/pipeline/local/graph.hpp>
#include <mlctl/pipeline/local/run_store.hpp>

#include <sqlite3.h>

namespace mlctl::pipeline {
namespace {

constexpr std::string_view k_diamond = R"(name: diamond
steps:
  - name: a
    command: [sh, -c, "echo a > {{outputs.x}}"]
    outputs: [x]
  - name: b
    command: [sh, -c, "cat {{steps.a.outputs.x}} > {{outputs.y}}; echo '{\"auc\": 0.5}' > {{outputs.m}}"]
    outputs: [y, m]
    metrics: m
  - name: c
    command: [sh, -c, "cat {{steps.a.outputs.x}} > {{outputs.z}}"]
    outputs: [z]
  - name: d
    command: [sh, -c, "cat {{steps.b.outputs.y}} {{steps.c.outputs.z}}; exit 2"]
)";

using RecordsTest = LocalRunTest;

RunRecord sample_run() {
  return {.id = "20240501-120000-abcdef",
          .pipeline = "diamond",
          .pipeline_file = "/p/pipeline.yaml",
          .status = RunStatus::failed,
          .started_at = "2024-05-01T12:00:00.000Z",
          .finished_at = "2024-05-01T12:00:02.500Z",
          .params = {{"lr", "0.1"}},
          .git_commit = "0123456789abcdef0123456789abcdef01234567",
          .steps = {{.name = "a",
                     .status = StepStatus::succeeded,
                     .duration_s = 1.23456,
                     .exit_code = 0,
                     .attempts = 1,
                     .cache_key = "sha256:00",
                     .metrics = {{"auc", 0.9}}},
                    {.name = "b", .status = StepStatus::cached, .cache_hit = true},
                    {.name = "c", .status = StepStatus::failed, .duration_s = 0.5, .exit_code = 2, .attempts = 3,
                     .message = "exited with code 2"},
                    {.name = "d", .status = StepStatus::skipped, .message = "c failed"}}};
}

TEST_F(RecordsTest, ToJsonGivesRunIdStatusAndSteps) {
  nlohmann::json expected = R"({
    "run_id": "20240501-120000-abcdef", "pipeline": "diamond", "status": "failed",
    "started_at": "2024-05-01T12:00:00.000Z", "finished_at": "2024-05-01T12:00:02.500Z",
    "params": {"lr": "0.1"}, "git_commit": "0123456789abcdef0123456789abcdef01234567", "resumed_from": null,
    "steps": [
      {"name": "a", "status": "succeeded", "duration_s": 1.235, "cache_hit": false, "exit_code": 0, "attempts": 1,
       "metrics": {"auc": 0.9}, "message": ""},
      {"name": "b", "status": "cached", "duration_s": 0.0, "cache_hit": true, "exit_code": null, "attempts": 0,
       "metrics": {}, "message": ""},
      {"name": "c", "status": "failed", "duration_s": 0.5, "cache_hit": false, "exit_code": 2, "attempts": 3,
       "metrics": {}, "message": "exited with code 2"},
      {"name": "d", "status": "skipped", "duration_s": 0.0, "cache_hit": false, "exit_code": null, "attempts": 0,
       "metrics": {}, "message": "c failed"}]})"_json;
  EXPECT_EQ(sample_run().to_json(), expected);
}

TEST_F(RecordsTest, StoreKeepsWhatWasFinishedAndListsNewestFirst) {
  auto store = RunStore::open(dir_ / "registry.db");
  ASSERT_TRUE(store) << store.error().message();
  RunRecord older = sample_run();
  RunRecord newer = sample_run();
  newer.id = "20240502-120000-000001";
  newer.pipeline = "other";
  newer.started_at = "2024-05-02T12:00:00.000Z";
  newer.status = RunStatus::running;
  newer.finished_at.clear();
  newer.git_commit.clear();
  newer.steps.clear();
  ASSERT_TRUE(store->begin(older));
  ASSERT_TRUE(store->finish(older));
  ASSERT_TRUE(store->begin(newer));
  auto got = store->get(older.id);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(got->to_json(), older.to_json());
  EXPECT_EQ(got->pipeline_file, "/p/pipeline.yaml");
  EXPECT_EQ(got->steps[0].cache_key, "sha256:00");
  auto listed = store->list({});
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].id, newer.id);
  EXPECT_EQ((*listed)[0].status, RunStatus::running);
  EXPECT_EQ((*listed)[1].steps.size(), 4u);
  auto filtered = store->list({.pipeline = "diamond"});
  ASSERT_EQ(filtered->size(), 1u);
  EXPECT_EQ((*filtered)[0].id, older.id);
  EXPECT_EQ(store->list({.limit = 1})->size(), 1u);
  auto missing = store->get("nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Errc::not_found);
  EXPECT_EQ(missing.error().message(), "no run 'nope'");
}

// The first column of each row of `sql` on the database file, read with SQLite itself.
std::vector<std::string> query(const std::filesystem::path& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::vector<std::string> rows;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK)
      while (sqlite3_step(statement) == SQLITE_ROW) {
        auto text = sqlite3_column_text(statement, 0);
        rows.emplace_back(text ? reinterpret_cast<const char*>(text) : "NULL");
      }
    sqlite3_finalize(statement);
  }
  sqlite3_close(db);
  return rows;
}

TEST_F(RecordsTest, RunnerRecordsTheRunAndEveryStepInTheDatabase) {
  Pipeline pipeline = load(k_diamond);
  std::filesystem::path db = dir_ / ".mlctl" / "registry.db";
  std::string while_running;
  observer_.on_start = [&](std::string_view step) {
    if (step == "a") while_running = fmt::format("{}", fmt::join(query(db, "SELECT status FROM runs"), ","));
  };
  RunRecord record = run(pipeline);
  EXPECT_EQ(while_running, "running");
  EXPECT_EQ(record.status, RunStatus::failed);
  EXPECT_EQ(query(db, "SELECT id || ' ' || pipeline || ' ' || status FROM runs"),
            (std::vector<std::string>{record.id + " diamond failed"}));
  EXPECT_EQ(query(db, "SELECT name || ' ' || status || ' ' || cache_hit || ' ' || coalesce(exit_code, '-') || ' ' || "
                      "metrics FROM run_steps ORDER BY position"),
            (std::vector<std::string>{"a succeeded 0 0 {}", "b succeeded 0 0 {\"auc\":0.5}", "c succeeded 0 0 {}",
                                      "d failed 0 2 {}"}));
  auto store = RunStore::open(db);
  ASSERT_TRUE(store);
  auto stored = store->get(record.id);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->to_json(), record.to_json());
  nlohmann::json json = stored->to_json();
  EXPECT_EQ(json["run_id"], record.id);
  EXPECT_EQ(json["status"], "failed");
  EXPECT_EQ(json["steps"][1]["metrics"], (nlohmann::json{{"auc", 0.5}}));
  EXPECT_TRUE(json["steps"][0]["duration_s"].is_number());
  EXPECT_NE(json["finished_at"], nullptr);

  RunRecord again = run(pipeline);
  EXPECT_EQ(statuses(again), (std::vector<std::string>{"a=cached", "b=cached", "c=cached", "d=failed"}));
  EXPECT_EQ(query(db, "SELECT count(*) FROM run_steps WHERE cache_hit = 1"), (std::vector<std::string>{"3"}));
  auto listed = store->list({});
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].id, again.id);
}

TEST_F(RecordsTest, GraphDrawsTheDiamondAsDot) {
  Pipeline pipeline = load(k_diamond);
  EXPECT_EQ(render_graph(pipeline, nullptr, GraphFormat::dot),
            "digraph \"diamond\" {\n"
            "  rankdir=LR;\n"
            "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\"];\n"
            "  \"a\";\n"
            "  \"b\";\n"
            "  \"c\";\n"
            "  \"d\";\n"
            "  \"a\" -> \"b\";\n"
            "  \"a\" -> \"c\";\n"
            "  \"b\" -> \"d\";\n"
            "  \"c\" -> \"d\";\n"
            "}\n");
}

TEST_F(RecordsTest, GraphOfARunColoursEachStepByStatus) {
  Pipeline pipeline = load(k_diamond);
  RunRecord record = sample_run();
  EXPECT_EQ(render_graph(pipeline, &record, GraphFormat::dot),
            "digraph \"diamond\" {\n"
            "  rankdir=LR;\n"
            "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\"];\n"
            "  \"a\" [label=\"a\\n(succeeded)\", fillcolor=\"#b7e4c7\"];\n"
            "  \"b\" [label=\"b\\n(cached)\", fillcolor=\"#a9d6e5\"];\n"
            "  \"c\" [label=\"c\\n(failed)\", fillcolor=\"#f4a3a8\"];\n"
            "  \"d\" [label=\"d\\n(skipped)\", fillcolor=\"#e9ecef\"];\n"
            "  \"a\" -> \"b\";\n"
            "  \"a\" -> \"c\";\n"
            "  \"b\" -> \"d\";\n"
            "  \"c\" -> \"d\";\n"
            "}\n");
  EXPECT_EQ(render_graph(pipeline, &record, GraphFormat::mermaid),
            "flowchart LR\n"
            "  s0[\"a (succeeded)\"]\n"
            "  s1[\"b (cached)\"]\n"
            "  s2[\"c (failed)\"]\n"
            "  s3[\"d (skipped)\"]\n"
            "  s0 --> s1\n"
            "  s0 --> s2\n"
            "  s1 --> s3\n"
            "  s2 --> s3\n"
            "  classDef succeeded fill:#b7e4c7\n"
            "  class s0 succeeded\n"
            "  classDef cached fill:#a9d6e5\n"
            "  class s1 cached\n"
            "  classDef failed fill:#f4a3a8\n"
            "  class s2 failed\n"
            "  classDef skipped fill:#e9ecef\n"
            "  class s3 skipped\n");
}

TEST_F(RecordsTest, GraphDrawsTheDiamondAsMermaid) {
  Pipeline pipeline = load(k_diamond);
  EXPECT_EQ(render_graph(pipeline, nullptr, GraphFormat::mermaid),
            "flowchart LR\n"
            "  s0[\"a\"]\n"
            "  s1[\"b\"]\n"
            "  s2[\"c\"]\n"
            "  s3[\"d\"]\n"
            "  s0 --> s1\n"
            "  s0 --> s2\n"
            "  s1 --> s3\n"
            "  s2 --> s3\n");
  auto format = parse_graph_format("svg");
  ASSERT_FALSE(format);
  EXPECT_EQ(format.error().message(), "unknown graph format 'svg'");
  EXPECT_EQ(parse_graph_format("mermaid"), GraphFormat::mermaid);
}

}  // namespace
}  // namespace mlctl::pipeline
