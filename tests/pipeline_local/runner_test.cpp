#include "local_run_test.hpp"

#include <mlctl/pipeline/local/run_store.hpp>

namespace mlctl::pipeline {
namespace {

// a makes a greeting; b shouts it, c adds the suffix param; d joins both. Every step that runs
// appends its name to ran.log, outside its outputs, so a test sees which steps really ran.
constexpr std::string_view k_diamond = R"(name: diamond
params: {greeting: hello, suffix: "!"}
steps:
  - name: a
    command: [sh, -c, "echo making text; echo careful >&2; printf %s '{{params.greeting}}' > {{outputs.text}}; echo a >> ran.log"]
    outputs: [text]
  - name: b
    command: [sh, -c, "tr a-z A-Z < {{steps.a.outputs.text}} > {{outputs.upper}}; echo b >> ran.log"]
    outputs: [upper]
  - name: c
    command: [sh, -c, "printf %s%s \"$(cat {{steps.a.outputs.text}})\" '{{params.suffix}}' > {{outputs.excited}}; echo c >> ran.log"]
    outputs: [excited]
  - name: d
    command: [sh, -c, "cat {{steps.b.outputs.upper}} {{steps.c.outputs.excited}} > {{outputs.joined}}; echo d >> ran.log"]
    outputs: [joined]
)";

using DiamondTest = LocalRunTest;

TEST_F(DiamondTest, RunsEveryStepInDependencyOrderWithRightOutputs) {
  Pipeline pipeline = load(k_diamond);
  RunRecord record = run(pipeline);
  EXPECT_EQ(record.status, RunStatus::succeeded);
  EXPECT_EQ(statuses(record), (std::vector<std::string>{"a=succeeded", "b=succeeded", "c=succeeded", "d=succeeded"}));
  EXPECT_EQ(output(record, "a", "text"), "hello");
  EXPECT_EQ(output(record, "b", "upper"), "HELLO");
  EXPECT_EQ(output(record, "c", "excited"), "hello!");
  EXPECT_EQ(output(record, "d", "joined"), "HELLOhello!");
  std::string ran = dir_.read("ran.log");
  EXPECT_EQ(ran.size(), 8u);
  EXPECT_TRUE(ran.starts_with("a\n")) << ran;
  EXPECT_TRUE(ran.ends_with("d\n")) << ran;
  for (const auto& step : record.steps) {
    EXPECT_EQ(step.exit_code, 0) << step.name;
    EXPECT_EQ(step.attempts, 1) << step.name;
    EXPECT_FALSE(step.cache_hit) << step.name;
    EXPECT_TRUE(step.cache_key.starts_with("sha256:")) << step.name;
  }
  EXPECT_EQ(record.params, (nlohmann::json{{"greeting", "hello"}, {"suffix", "!"}}));
}

TEST_F(DiamondTest, StreamsOutputLinesToTheObserverAndTheStepLog) {
  Pipeline pipeline = load(k_diamond);
  RunRecord record = run(pipeline);
  EXPECT_EQ(observer_.lines, (std::vector<std::string>{"a: making text", "a: careful"}));
  EXPECT_EQ(dir_.read(".mlctl/runs/" + record.id + "/a/step.log"), "making text\ncareful\n");
  EXPECT_FALSE(std::filesystem::exists(dir_ / ".mlctl" / "runs" / record.id / "b" / "step.log"))
      << "a step that printed nothing has no log";
  EXPECT_EQ(observer_.events.front(), "run " + record.id);
  EXPECT_EQ(observer_.events[1], "start a 1");
  EXPECT_EQ(observer_.events[2], "end a succeeded");
  EXPECT_EQ(observer_.events.back(), "end d succeeded");
}

TEST_F(DiamondTest, SecondRunIsFullyCachedAndRunsNothing) {
  Pipeline pipeline = load(k_diamond);
  RunRecord first = run(pipeline);
  RunRecord second = run(pipeline);
  EXPECT_NE(second.id, first.id);
  EXPECT_EQ(second.status, RunStatus::succeeded);
  EXPECT_EQ(statuses(second), (std::vector<std::string>{"a=cached", "b=cached", "c=cached", "d=cached"}));
  EXPECT_EQ(dir_.read("ran.log").size(), 8u) << "no step ran again";
  EXPECT_EQ(output(second, "d", "joined"), "HELLOhello!");
  // Both runs' files are one read-only inode, the cache's: linked in, linked out, never copied.
  namespace fs = std::filesystem;
  EXPECT_TRUE(fs::equivalent(output_path(first, "d", "joined"), output_path(second, "d", "joined")));
  EXPECT_EQ(fs::hard_link_count(output_path(second, "d", "joined")), 3u);
  EXPECT_EQ(fs::status(output_path(second, "d", "joined")).permissions(), fs::perms(0444));
  for (size_t i = 0; i < second.steps.size(); ++i) {
    EXPECT_TRUE(second.steps[i].cache_hit);
    EXPECT_EQ(second.steps[i].attempts, 0);
    EXPECT_EQ(second.steps[i].cache_key, first.steps[i].cache_key) << "keys do not depend on the run";
  }
  EXPECT_EQ(std::count_if(observer_.events.begin(), observer_.events.end(),
                          [](const std::string& e) { return e.starts_with("start"); }),
            4);
}

TEST_F(DiamondTest, ParamChangeRerunsOnlyTheStepsThatDependOnIt) {
  Pipeline pipeline = load(k_diamond);
  run(pipeline);
  dir_.write("ran.log", "");
  RunOptions changed = options();
  changed.params = {{"suffix", "?"}};
  RunRecord record = run(pipeline, changed);
  EXPECT_EQ(statuses(record), (std::vector<std::string>{"a=cached", "b=cached", "c=succeeded", "d=succeeded"}));
  EXPECT_EQ(dir_.read("ran.log"), "c\nd\n");
  EXPECT_EQ(output(record, "d", "joined"), "HELLOhello?");
  EXPECT_EQ(record.params["suffix"], "?");
}

TEST_F(DiamondTest, NoCacheRunsEveryStepAgain) {
  Pipeline pipeline = load(k_diamond);
  run(pipeline);
  RunOptions no_cache = options();
  no_cache.cache = UseCache::no;
  RunRecord record = run(pipeline, no_cache);
  EXPECT_EQ(statuses(record), (std::vector<std::string>{"a=succeeded", "b=succeeded", "c=succeeded", "d=succeeded"}));
  EXPECT_EQ(dir_.read("ran.log").size(), 16u);
}

TEST_F(DiamondTest, SameOutputUpstreamKeepsDownstreamCached) {
  // The key holds the digests of the files a step reads, not the keys of the steps that made
  // them: when a step re-runs and makes the same bytes, what reads them stays cached.
  Pipeline pipeline = load(R"(name: cutoff
params: {label: one}
steps:
  - name: make
    command: [sh, -c, "echo same > {{outputs.out}}; echo '{{params.label}}' > /dev/null"]
    outputs: [out]
  - name: use
    command: [sh, -c, "cat {{steps.make.outputs.out}} > {{outputs.copy}}; echo use >> ran.log"]
    outputs: [copy]
)");
  run(pipeline);
  RunOptions changed = options();
  changed.params = {{"label", "two"}};
  RunRecord record = run(pipeline, changed);
  EXPECT_EQ(statuses(record), (std::vector<std::string>{"make=succeeded", "use=cached"}));
  EXPECT_EQ(dir_.read("ran.log"), "use\n");
}

TEST_F(DiamondTest, UnknownParamFailsTheCallNamingTheKnownOnes) {
  Pipeline pipeline = load(k_diamond);
  RunOptions bad = options();
  bad.params = {{"sufix", "?"}};
  auto record = run_pipeline(pipeline, bad, observer_);
  ASSERT_FALSE(record);
  EXPECT_EQ(record.error().code(), Errc::invalid);
  EXPECT_EQ(record.error().message(), "pipeline diamond has no param 'sufix'");
  EXPECT_EQ(record.error().hint(), "its params are: greeting, suffix");
  EXPECT_FALSE(std::filesystem::exists(dir_ / ".mlctl" / "runs"));
}

TEST_F(DiamondTest, GivenRunIdThatExistsIsRefused) {
  Pipeline pipeline = load(k_diamond);
  RunOptions fixed = options();
  fixed.run_id = "run-1";
  EXPECT_EQ(run(pipeline, fixed).id, "run-1");
  auto again = run_pipeline(pipeline, fixed, observer_);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), Errc::precondition);
}

TEST_F(DiamondTest, MetricsOutputIsRecorded) {
  Pipeline pipeline = load(R"(name: scored
steps:
  - name: train
    command: [sh, -c, "echo '{\"auc\": 0.91, \"loss\": 0.2}' > {{outputs.scores}}"]
    outputs: [scores]
    metrics: scores
  - name: bad
    command: [sh, -c, "echo not-json > {{outputs.scores}}"]
    outputs: [scores]
    metrics: scores
)");
  RunRecord record = run(pipeline);
  EXPECT_EQ(record.steps[0].metrics, (nlohmann::json{{"auc", 0.91}, {"loss", 0.2}}));
  EXPECT_EQ(record.steps[1].status, StepStatus::failed);
  EXPECT_EQ(record.steps[1].message, "metrics output 'scores' is not a JSON object");
  RunRecord cached = run(pipeline);
  EXPECT_EQ(cached.steps[0].status, StepStatus::cached);
  EXPECT_EQ(cached.steps[0].metrics, (nlohmann::json{{"auc", 0.91}, {"loss", 0.2}}));
}

TEST_F(DiamondTest, OutputNotWrittenFailsTheStep) {
  Pipeline pipeline = load(R"(name: lazy
steps:
  - name: lazy
    command: [sh, -c, "true"]
    outputs: [model]
)");
  RunRecord record = run(pipeline);
  EXPECT_EQ(record.status, RunStatus::failed);
  EXPECT_EQ(record.steps[0].status, StepStatus::failed);
  EXPECT_EQ(record.steps[0].exit_code, 0);
  EXPECT_EQ(record.steps[0].message,
            "output 'model' was not written to " + output_path(record, "lazy", "model").string());
}

TEST_F(DiamondTest, EditingAnInputFileRerunsTheStepThatNamesIt) {
  dir_.write("train.sh", "echo trained v1\n");
  dir_.write("src/lib.sh", "x=1\n");
  Pipeline pipeline = load(R"(name: inputs
steps:
  - name: train
    command: [sh, train.sh]
    inputs: [train.sh, src]
  - name: other
    command: [sh, -c, "echo other"]
)");
  EXPECT_EQ(statuses(run(pipeline)), (std::vector<std::string>{"train=succeeded", "other=succeeded"}));
  EXPECT_EQ(statuses(run(pipeline)), (std::vector<std::string>{"train=cached", "other=cached"}));
  dir_.write("train.sh", "echo trained v2\n");
  observer_.lines.clear();
  EXPECT_EQ(statuses(run(pipeline)), (std::vector<std::string>{"train=succeeded", "other=cached"}));
  EXPECT_EQ(observer_.lines, (std::vector<std::string>{"train: trained v2"}));
  // A folder counts by its content.
  dir_.write("src/more.sh", "y=2\n");
  EXPECT_EQ(statuses(run(pipeline)), (std::vector<std::string>{"train=succeeded", "other=cached"}));

  std::filesystem::remove(dir_ / "train.sh");
  RunRecord missing = run(pipeline);
  EXPECT_EQ(statuses(missing), (std::vector<std::string>{"train=failed", "other=cached"}));
  EXPECT_EQ(missing.steps[0].message, "input 'train.sh': no such file or folder in " + dir_.path().string());
}

TEST_F(DiamondTest, RunIdAndPipelineNameAreRendered) {
  Pipeline pipeline = load(R"(name: named
steps:
  - name: say
    command: [sh, -c, "echo {{pipeline.name}} {{run.id}}"]
)");
  RunRecord record = run(pipeline);
  EXPECT_EQ(observer_.lines, (std::vector<std::string>{"say: named " + record.id}));
}

}  // namespace
}  // namespace mlctl::pipeline
