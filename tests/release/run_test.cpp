// run_release over a real SQLite file: steps in order with the outputs of those before, a failure
// that a re-run continues from (each step done exactly once), --only as a partial release, and a
// second process refused while the first one runs.
#include <mlctl/release/run.hpp>

#include <support/temp_dir.hpp>

#include <csignal>
#include <fstream>

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace mlctl::release {
namespace {

struct Recorder : ReleaseObserver {
  void step_started(Step step) override { events.push_back("start " + std::string(step_name(step))); }
  void step_done_before(const StepRecord& r) override { events.push_back("before " + std::string(step_name(r.step))); }
  void step_finished(const StepRecord& r) override {
    events.push_back(std::string(r.succeeded ? "ok " : "failed ") + std::string(step_name(r.step)));
  }
  std::vector<std::string> events;
};

class RunReleaseTest : public ::testing::Test {
protected:
  ReleaseStore open() { return std::move(*ReleaseStore::open(dir_ / "registry.db")); }
  ReleasePlan plan(std::vector<Step> steps = {std::begin(k_steps), std::end(k_steps)}) {
    return {.key = {.version = "1.5.0", .commit = std::string(40, 'c')}, .environment = "prod", .steps = steps};
  }
  // Each step outputs {"n": how many steps ran before it in this process}, and says what it saw.
  StepAction counting(std::optional<Step> failing = std::nullopt) {
    return [this, failing](Step step, const nlohmann::json& earlier, const StepProgress&) -> Result<nlohmann::json> {
      ran.push_back(std::string(step_name(step)));
      seen.push_back(earlier);
      if (failing && step == *failing) return fail(Errc::remote, "the registry is down");
      return nlohmann::json{{"n", ran.size()}};
    };
  }

  test::TempDir dir_;
  std::vector<std::string> ran;
  std::vector<nlohmann::json> seen;
};

TEST_F(RunReleaseTest, RunsEveryStepOnceWithTheOutputsBeforeIt) {
  ReleaseStore store = open();
  Recorder observer;
  auto record = run_release(store, plan(), this_owner(), counting(), observer);
  ASSERT_TRUE(record) << record.error().message();
  EXPECT_EQ(record->status, ReleaseStatus::succeeded);
  EXPECT_EQ(ran, (std::vector<std::string>{"build", "train", "register", "gate", "render", "tag", "commit"}));
  EXPECT_EQ(seen[0], nlohmann::json::object());
  EXPECT_EQ(seen[2], (nlohmann::json{{"build", {{"n", 1}}}, {"train", {{"n", 2}}}}));
  EXPECT_EQ(seen[6].size(), 6u);

  // The same key again: nothing runs.
  ran.clear();
  Recorder second;
  auto again = run_release(store, plan(), this_owner(), counting(), second);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, ReleaseStatus::succeeded);
  EXPECT_TRUE(ran.empty());
  EXPECT_TRUE(second.events.empty());
}

TEST_F(RunReleaseTest, AReRunContinuesFromTheStepThatFailed) {
  ReleaseStore store = open();
  Recorder first;
  auto failed = run_release(store, plan(), this_owner(), counting(Step::register_model), first);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), Errc::remote);
  EXPECT_EQ(first.events, (std::vector<std::string>{"start build", "ok build", "start train", "ok train",
                                                     "start register", "failed register"}));
  auto record = *store.get(plan().key);
  EXPECT_EQ(record->status, ReleaseStatus::failed);
  EXPECT_EQ(record->step(Step::register_model)->message, "the registry is down");

  ran.clear();
  seen.clear();
  Recorder second;
  ReleaseStore later = open();  // as a later process would
  auto done = run_release(later, plan(), this_owner(), counting(), second);
  ASSERT_TRUE(done) << done.error().message();
  EXPECT_EQ(done->status, ReleaseStatus::succeeded);
  EXPECT_EQ(ran, (std::vector<std::string>{"register", "gate", "render", "tag", "commit"})) << "build and train ran once";
  EXPECT_EQ(seen[0], (nlohmann::json{{"build", {{"n", 1}}}, {"train", {{"n", 2}}}})) << "their recorded outputs";
  EXPECT_EQ(second.events.front(), "before build");
  EXPECT_EQ(done->step(Step::register_model)->message, "");
}

TEST_F(RunReleaseTest, ProgressAStepRecordedIsWhatTheNextRunResumes) {
  ReleaseStore store = open();
  std::vector<nlohmann::json> resumed;
  // train records where it got to, then fails (as a release whose wait timed out); a step that
  // recorded nothing resumes nothing.
  auto training = [&](bool fails) -> StepAction {
    return [&, fails](Step step, const nlohmann::json&, const StepProgress& progress) -> Result<nlohmann::json> {
      if (step != Step::train) return nlohmann::json{{"step", step_name(step)}};
      resumed.push_back(progress.resumed);
      if (auto recorded = progress.checkpoint({{"run_id", "train-x7k2p"}}); !recorded) return std::unexpected(recorded.error());
      if (fails) return fail(Errc::failed, "gave up waiting for workflow train-x7k2p");
      return nlohmann::json{{"run_id", "train-x7k2p"}, {"done", true}};
    };
  };
  Recorder first;
  ASSERT_FALSE(run_release(store, plan(), this_owner(), training(true), first));
  auto record = *store.get(plan().key);
  EXPECT_EQ(record->step(Step::train)->output, (nlohmann::json{{"run_id", "train-x7k2p"}})) << "kept when it failed";
  EXPECT_EQ(record->step(Step::train)->message, "gave up waiting for workflow train-x7k2p");

  Recorder second;
  auto done = run_release(store, plan(), this_owner(), training(false), second);
  ASSERT_TRUE(done) << done.error().message();
  EXPECT_EQ(resumed, (std::vector<nlohmann::json>{nlohmann::json::object(), {{"run_id", "train-x7k2p"}}}));
  EXPECT_EQ(done->step(Step::train)->output, (nlohmann::json{{"run_id", "train-x7k2p"}, {"done", true}}));
}

TEST_F(RunReleaseTest, OnlySomeStepsIsAPartialRelease) {
  ReleaseStore store = open();
  Recorder observer;
  auto partial = run_release(store, plan({Step::build, Step::render}), this_owner(), counting(), observer);
  ASSERT_TRUE(partial);
  EXPECT_EQ(partial->status, ReleaseStatus::partial);
  ran.clear();
  auto full = run_release(store, plan(), this_owner(), counting(), observer);
  ASSERT_TRUE(full);
  EXPECT_EQ(full->status, ReleaseStatus::succeeded);
  EXPECT_EQ(ran, (std::vector<std::string>{"train", "register", "gate", "tag", "commit"}));
}

TEST_F(RunReleaseTest, ASecondProcessIsRefusedWhileTheFirstRuns) {
  int started[2], proceed[2];
  ASSERT_EQ(::pipe(started), 0);
  ASSERT_EQ(::pipe(proceed), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // the first release: holds its build step until told to go on
    ReleaseStore store = open();
    Recorder observer;
    StepAction hold = [&](Step step, const nlohmann::json&, const StepProgress&) -> Result<nlohmann::json> {
      if (step == Step::build) {
        char c = 'x';
        (void)!::write(started[1], &c, 1);
        (void)!::read(proceed[0], &c, 1);
      }
      return nlohmann::json::object();
    };
    auto record = run_release(store, plan(), this_owner(), hold, observer);
    ::_exit(record && record->status == ReleaseStatus::succeeded ? 0 : 1);
  }
  char c = 0;
  ASSERT_EQ(::read(started[0], &c, 1), 1);
  ReleaseStore store = open();
  Recorder observer;
  auto refused = run_release(store, plan(), this_owner(), counting(), observer);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Errc::precondition);
  EXPECT_NE(refused.error().message().find("is running in process " + std::to_string(child) + "@"), std::string::npos)
      << refused.error().message();
  EXPECT_TRUE(ran.empty()) << "the second process ran no step";
  ASSERT_EQ(::write(proceed[1], "x", 1), 1);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  auto after = run_release(store, plan(), this_owner(), counting(), observer);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, ReleaseStatus::succeeded);
  EXPECT_TRUE(ran.empty()) << "done once, by the first";
  for (int fd : {started[0], started[1], proceed[0], proceed[1]}) ::close(fd);
}

// A process that dies in the middle of each step in turn (SIGKILL, before the step could be
// recorded): the next process takes the release over from the dead one and runs that step again,
// and the steps before it never. Each step's work (an append to a file) is idempotent, as the real
// steps are; the record says each step succeeded once.
TEST_F(RunReleaseTest, KilledInEachStepTheNextProcessTakesOverFromThatStep) {
  for (Step dying_in : k_steps) {
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ReleaseStore store = open();
      Recorder observer;
      StepAction work = [&](Step step, const nlohmann::json&, const StepProgress&) -> Result<nlohmann::json> {
        std::ofstream(dir_ / "work.log", std::ios::app) << step_name(step) << "\n";
        if (step == dying_in) ::kill(::getpid(), SIGKILL);
        return nlohmann::json{{"pid", ::getpid()}};
      };
      (void)run_release(store, plan(), this_owner(), work, observer);
      ::_exit(0);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "died in " << step_name(dying_in);
    auto record = open().get(plan().key);
    ASSERT_TRUE(record && *record);
    EXPECT_EQ((*record)->status, ReleaseStatus::running) << "left as the dead process had it";
    EXPECT_EQ((*record)->steps.size(), static_cast<size_t>(dying_in)) << "the steps before it, recorded";
  }
  std::ifstream log(dir_ / "work.log");
  std::string line, work;
  while (std::getline(log, line)) work += line + " ";
  // Each process redid the step the previous one died in, then went one step further.
  EXPECT_EQ(work, "build build train train register register gate gate render render tag tag commit ");

  ReleaseStore store = open();
  Recorder observer;
  auto last = run_release(store, plan(), this_owner(), counting(), observer);
  ASSERT_TRUE(last) << last.error().message();
  EXPECT_EQ(last->status, ReleaseStatus::succeeded);
  EXPECT_EQ(ran, std::vector<std::string>{"commit"});
  EXPECT_EQ(last->steps.size(), 7u);
}

}  // namespace
}  // namespace mlctl::release
