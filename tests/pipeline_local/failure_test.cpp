#include "local_run_test.hpp"

#include <support/run.hpp>

#include <thread>

namespace mlctl::pipeline {
namespace {

using FailureTest = LocalRunTest;

TEST_F(FailureTest, FailingStepFailsTheRunSkipsDependantsAndIndependentBranchFinishes) {
  Pipeline pipeline = load(R"(name: broken
steps:
  - name: prepare
    command: [sh, -c, "echo data > {{outputs.data}}"]
    outputs: [data]
  - name: train
    command: [sh, -c, "echo training on $(cat {{steps.prepare.outputs.data}}); exit 3"]
    outputs: [model]
  - name: evaluate
    command: [sh, -c, "cat {{steps.train.outputs.model}}; echo evaluate >> ran.log"]
  - name: publish
    needs: [evaluate]
    command: [sh, -c, "echo publish >> ran.log"]
  - name: lint
    command: [sh, -c, "sleep 0.3; echo lint >> ran.log"]
)");
  RunRecord record = run(pipeline);
  EXPECT_EQ(record.status, RunStatus::failed);
  EXPECT_EQ(statuses(record), (std::vector<std::string>{"prepare=succeeded", "train=failed", "evaluate=skipped",
                                                        "publish=skipped", "lint=succeeded"}));
  EXPECT_EQ(record.steps[1].exit_code, 3);
  EXPECT_EQ(record.steps[1].message, "exited with code 3");
  EXPECT_EQ(record.steps[2].message, "train failed");
  EXPECT_EQ(record.steps[3].message, "train failed");
  EXPECT_EQ(record.steps[2].attempts, 0);
  EXPECT_EQ(record.steps[2].exit_code, std::nullopt);
  EXPECT_EQ(dir_.read("ran.log"), "lint\n");
  EXPECT_EQ(dir_.read(".mlctl/runs/" + record.id + "/train/step.log"), "training on data\n");
}

TEST_F(FailureTest, FailedStepIsNotCachedAndRunsAgain) {
  Pipeline pipeline = load(R"(name: flaky
steps:
  - name: once
    command: [sh, -c, "echo try >> ran.log; test -f fixed && echo ok > {{outputs.out}}"]
    outputs: [out]
)");
  EXPECT_EQ(run(pipeline).status, RunStatus::failed);
  dir_.write("fixed", "");
  RunRecord record = run(pipeline);
  EXPECT_EQ(statuses(record), (std::vector<std::string>{"once=succeeded"}));
  EXPECT_EQ(dir_.read("ran.log"), "try\ntry\n");
}

TEST_F(FailureTest, RetriesAStepThatFailsOnceThenSucceeds) {
  Pipeline pipeline = load(R"(name: retry
steps:
  - name: flaky
    retries: 2
    command: [sh, -c, "if [ -f tried ]; then echo second > {{outputs.out}}; echo worked; else touch tried; echo partial > {{outputs.out}}; echo failing; exit 1; fi"]
    outputs: [out]
)");
  RunRecord record = run(pipeline);
  EXPECT_EQ(record.status, RunStatus::succeeded);
  EXPECT_EQ(record.steps[0].status, StepStatus::succeeded);
  EXPECT_EQ(record.steps[0].attempts, 2);
  EXPECT_EQ(output(record, "flaky", "out"), "second\n");
  EXPECT_EQ(observer_.lines, (std::vector<std::string>{"flaky: failing", "flaky: worked"}));
  EXPECT_EQ(dir_.read(".mlctl/runs/" + record.id + "/flaky/step.log"),
            "failing\n--- exited with code 1; retrying (attempt 2 of 3) ---\nworked\n");
  EXPECT_EQ(std::vector<std::string>(observer_.events.begin() + 1, observer_.events.end()),
            (std::vector<std::string>{"start flaky 1", "start flaky 2", "end flaky succeeded"}));
}

TEST_F(FailureTest, RetriesRunOutAndTheStepFails) {
  Pipeline pipeline = load(R"(name: retry
steps:
  - name: never
    retries: 2
    command: [sh, -c, "echo attempt >> ran.log; exit 7"]
)");
  RunRecord record = run(pipeline);
  EXPECT_EQ(record.steps[0].status, StepStatus::failed);
  EXPECT_EQ(record.steps[0].attempts, 3);
  EXPECT_EQ(record.steps[0].exit_code, 7);
  EXPECT_EQ(dir_.read("ran.log"), "attempt\nattempt\nattempt\n");
}

TEST_F(FailureTest, TimeoutKillsTheStepAndEverythingItStarted) {
  Pipeline pipeline = load(R"(name: slow
steps:
  - name: hang
    timeout: 1s
    command: [sh, -c, "sleep 60 & echo $! > child.pid; echo $$ > shell.pid; echo waiting; wait"]
  - name: after
    needs: [hang]
    command: [sh, -c, "echo after >> ran.log"]
)");
  auto started = std::chrono::steady_clock::now();
  RunRecord record = run(pipeline);
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(statuses(record), (std::vector<std::string>{"hang=failed", "after=skipped"}));
  EXPECT_EQ(record.steps[0].message, "timed out after 1s");
  EXPECT_EQ(record.steps[0].exit_code, std::nullopt);
  EXPECT_LT(took, std::chrono::seconds(30));
  pid_t shell = std::stoi(dir_.read("shell.pid"));
  pid_t child = std::stoi(dir_.read("child.pid"));
  EXPECT_TRUE(gone_soon(shell)) << "the step's shell survived";
  EXPECT_TRUE(gone_soon(child)) << "the process the step started survived";
  EXPECT_FALSE(std::filesystem::exists(dir_ / "ran.log"));
}

TEST_F(FailureTest, TimeoutEscalatesToSigkillForAStepThatIgnoresSigterm) {
  Pipeline pipeline = load(R"(name: stubborn
steps:
  - name: hang
    timeout: 1s
    command: [sh, -c, "trap '' TERM; sleep 60 & echo $! > child.pid; wait; wait"]
)");
  RunRecord record = run(pipeline);
  EXPECT_EQ(record.steps[0].status, StepStatus::failed);
  EXPECT_EQ(record.steps[0].message, "timed out after 1s");
  EXPECT_TRUE(gone_soon(std::stoi(dir_.read("child.pid")))) << "the SIGTERM-proof child survived";
}

TEST_F(FailureTest, StepEndsWithItsMainProcessAndWhatItLeftRunningIsKilled) {
  // As in a container: the background process holds the step's output pipe open, yet the step
  // is over when its shell exits, and the background process goes with it.
  Pipeline pipeline = load(R"(name: leaky
steps:
  - name: leak
    command: [sh, -c, "sleep 60 & echo $! > bg.pid; echo done > {{outputs.out}}"]
    outputs: [out]
)");
  auto started = std::chrono::steady_clock::now();
  RunRecord record = run(pipeline);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(30));
  EXPECT_EQ(record.steps[0].status, StepStatus::succeeded);
  EXPECT_TRUE(gone_soon(std::stoi(dir_.read("bg.pid"))));
}

TEST_F(FailureTest, CancelKillsEveryRunningStepAndLeavesNoOrphan) {
  Pipeline pipeline = load(R"(name: long
steps:
  - name: left
    command: [sh, -c, "sleep 60 & echo $! > left.pid; echo started; wait"]
  - name: right
    command: [sh, -c, "sleep 60 & echo $! > right.pid; echo started; wait"]
  - name: join
    needs: [left, right]
    command: [sh, -c, "echo join >> ran.log"]
)");
  CancelSignal cancel;
  int started = 0;
  observer_.on_line = [&](std::string_view, std::string_view line) {
    // Both steps are running once both said so: a SIGINT handler would call this.
    if (line == "started" && ++started == 2) cancel.cancel();
  };
  RunOptions options = this->options();
  options.cancel = &cancel;
  auto begun = std::chrono::steady_clock::now();
  RunRecord record = run(pipeline, options);
  EXPECT_LT(std::chrono::steady_clock::now() - begun, std::chrono::seconds(30));
  EXPECT_EQ(record.status, RunStatus::cancelled);
  EXPECT_EQ(statuses(record), (std::vector<std::string>{"left=cancelled", "right=cancelled", "join=cancelled"}));
  EXPECT_EQ(record.steps[2].message, "the run was cancelled before it started");
  for (const char* file : {"left.pid", "right.pid"}) {
    pid_t pid = std::stoi(dir_.read(file));
    EXPECT_TRUE(gone_soon(pid)) << file << ": the step's background process survived";
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ / "ran.log"));
}

TEST_F(FailureTest, CancelFromAnotherThreadWakesTheRunner) {
  Pipeline pipeline = load(R"(name: long
steps:
  - name: wait
    command: [sh, -c, "echo $$ > wait.tmp && mv wait.tmp wait.pid; exec sleep 60"]
)");
  CancelSignal cancel;
  RunOptions options = this->options();
  options.cancel = &cancel;
  // The pid file appears whole (renamed into place), so the cancel never comes before the pid.
  std::thread canceller([&] {
    while (!std::filesystem::exists(dir_ / "wait.pid")) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    cancel.cancel();
  });
  RunRecord record = run(pipeline, options);
  canceller.join();
  EXPECT_EQ(record.status, RunStatus::cancelled);
  EXPECT_EQ(record.steps[0].status, StepStatus::cancelled);
  EXPECT_TRUE(gone_soon(std::stoi(dir_.read("wait.pid"))));
}

TEST_F(FailureTest, CancelledBeforeTheStartRunsNothing) {
  Pipeline pipeline = load(R"(name: never
steps:
  - name: a
    command: [sh, -c, "echo a >> ran.log"]
)");
  CancelSignal cancel;
  cancel.cancel();
  RunOptions options = this->options();
  options.cancel = &cancel;
  RunRecord record = run(pipeline, options);
  EXPECT_EQ(record.status, RunStatus::cancelled);
  EXPECT_EQ(statuses(record), (std::vector<std::string>{"a=cancelled"}));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "ran.log"));
}

TEST_F(FailureTest, ResumeReusesTheSucceededStepsOfAnEarlierRun) {
  Pipeline pipeline = load(R"(name: resumable
params: {size: "1"}
steps:
  - name: prepare
    command: [sh, -c, "echo prepare >> ran.log; echo size {{params.size}} > {{outputs.data}}"]
    outputs: [data]
  - name: train
    command: [sh, -c, "echo train >> ran.log; test -f fixed && cat {{steps.prepare.outputs.data}} > {{outputs.model}}"]
    outputs: [model]
  - name: report
    command: [sh, -c, "echo report >> ran.log; cat {{steps.train.outputs.model}}"]
)");
  RunOptions first_options = options();
  first_options.cache = UseCache::no;
  first_options.params = {{"size", "2"}};
  RunRecord first = run(pipeline, first_options);
  EXPECT_EQ(statuses(first), (std::vector<std::string>{"prepare=succeeded", "train=failed", "report=skipped"}));
  dir_.write("fixed", "");
  dir_.write("ran.log", "");
  RunOptions resume = options();
  resume.cache = UseCache::no;
  resume.resume = first.id;
  RunRecord second = run(pipeline, resume);
  EXPECT_EQ(second.status, RunStatus::succeeded);
  EXPECT_EQ(statuses(second), (std::vector<std::string>{"prepare=cached", "train=succeeded", "report=succeeded"}));
  EXPECT_EQ(second.steps[0].message, "re-used from run " + first.id);
  EXPECT_EQ(second.resumed_from, first.id);
  EXPECT_EQ(second.params["size"], "2") << "a resumed run keeps the earlier run's params";
  EXPECT_EQ(dir_.read("ran.log"), "train\nreport\n");
  EXPECT_EQ(output(second, "train", "model"), "size 2\n");
}

TEST_F(FailureTest, ResumeOfAnUnknownRunFailsTheCall) {
  Pipeline pipeline = load("name: p\nsteps:\n  - name: a\n    command: [\"true\"]\n");
  RunOptions resume = options();
  resume.resume = "20990101-000000-000000";
  auto record = run_pipeline(pipeline, resume, observer_);
  ASSERT_FALSE(record);
  EXPECT_EQ(record.error().code(), Errc::not_found);
  EXPECT_EQ(record.error().message(), "no run '20990101-000000-000000'");
}

TEST_F(FailureTest, MissingProgramFailsTheStep) {
  Pipeline pipeline = load("name: p\nsteps:\n  - name: a\n    command: [mlctl-no-such-program]\n");
  RunRecord record = run(pipeline);
  EXPECT_EQ(record.steps[0].status, StepStatus::failed);
  EXPECT_EQ(record.steps[0].message, "cannot run 'mlctl-no-such-program': No such file or directory");
}

TEST_F(FailureTest, AStepKilledByASignalFailsNamingTheSignal) {
  Pipeline pipeline = load(R"(name: p
steps:
  - name: killed
    command: [sh, -c, "echo before; kill -SEGV $$"]
  - name: other
    command: [sh, -c, "echo other >> ran.log"]
)");
  RunRecord record = run(pipeline);
  EXPECT_EQ(record.status, RunStatus::failed);
  EXPECT_EQ(statuses(record), (std::vector<std::string>{"killed=failed", "other=succeeded"}));
  EXPECT_EQ(record.steps[0].message, "killed by signal 11 (Segmentation fault)");
  EXPECT_EQ(record.steps[0].exit_code, std::nullopt);
  EXPECT_EQ(dir_.read("ran.log"), "other\n");
}

// The run's folder on a 1 MiB tmpfs (the tests run as root, which mounting needs: without it the
// test fails, saying so).
class FullDiskTest : public LocalRunTest {
protected:
  void SetUp() override {
    std::filesystem::create_directories(disk_);
    auto mounted = test::run_command({"mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", disk_.string()}, dir_.path());
    ASSERT_EQ(mounted.exit_code, 0) << "mounting a tmpfs needs root (or CAP_SYS_ADMIN): " << mounted.err;
    mounted_ = true;
  }
  void TearDown() override {
    if (mounted_) test::run_command({"umount", disk_.string()}, dir_.path());
  }
  RunOptions on_disk() const {
    RunOptions options = this->options();
    options.state_dir = disk_;
    return options;
  }

  std::filesystem::path disk_ = dir_ / "disk";
  bool mounted_ = false;
};

TEST_F(FullDiskTest, AStepThatFillsItsOutputDiskFailsAndTheNextRunWorks) {
  Pipeline pipeline = load(R"(name: p
params: {kib: "2048"}
steps:
  - name: fill
    command: [sh, -c, "head -c {{params.kib}}K /dev/zero > {{outputs.big}}"]
    outputs: [big]
  - name: after
    command: [sh, -c, "wc -c < {{steps.fill.outputs.big}} > {{outputs.size}}"]
    outputs: [size]
)");
  RunRecord full = run(pipeline, on_disk());
  EXPECT_EQ(full.status, RunStatus::failed);
  EXPECT_EQ(statuses(full), (std::vector<std::string>{"fill=failed", "after=skipped"}));
  EXPECT_EQ(full.steps[0].message, "exited with code 1");
  std::string log;
  for (const auto& line : observer_.lines) log += line + "\n";
  EXPECT_NE(log.find("No space left on device"), std::string::npos) << log;

  // The failed run's folder is kept for a look at what filled the disk; with it removed, a smaller
  // output fits: the failed step was not cached, and runs.
  RunOptions smaller = on_disk();
  smaller.params = {{"kib", "64"}};
  std::filesystem::remove_all(disk_ / "runs" / full.id);
  RunRecord fits = run(pipeline, smaller);
  EXPECT_EQ(statuses(fits), (std::vector<std::string>{"fill=succeeded", "after=succeeded"}));
  EXPECT_EQ(dir_.read((disk_ / "runs" / fits.id / "after" / "size").lexically_relative(dir_.path()).string()),
            "65536\n");
}

}  // namespace
}  // namespace mlctl::pipeline
