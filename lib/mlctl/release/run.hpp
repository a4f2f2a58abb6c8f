#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/release/store.hpp>

#include <functional>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlctl::release {

struct ReleasePlan {
  ReleaseKey key;
  std::string environment;
  std::vector<Step> steps;  // in release order (parse_steps); all of k_steps unless --only
};

// What a long step may record while it runs, so that a run after a kill (or a failure) picks it
// up instead of starting over: a training submitted to a cluster is waited for again, not trained
// twice.
struct StepProgress {
  // What the step last recorded in an earlier run that did not finish it; an empty object if none.
  nlohmann::json resumed = nlohmann::json::object();
  // Records `progress` for the step now, in a transaction of its own; the step stays unfinished
  // (and keeps it as its output if it then fails).
  std::function<Result<void>(const nlohmann::json& progress)> checkpoint;
};

// Does one step. `earlier` holds the output of every step that succeeded before it, by step name
// ({"build": {"digest": ...}, "train": {"run_id": ...}}); the result is this step's output.
using StepAction =
    std::function<Result<nlohmann::json>(Step step, const nlohmann::json& earlier, const StepProgress& progress)>;

class ReleaseObserver {
public:
  virtual ~ReleaseObserver() = default;
  virtual void step_started(Step) {}
  virtual void step_done_before(const StepRecord&) {}  // succeeded in an earlier run: not run again
  virtual void step_finished(const StepRecord&) {}
};

// Runs the plan's steps that have not succeeded for its key yet, in order, recording each. The
// first step that fails stops the release (failed, the step's message recorded) and its error is
// returned; a re-run continues from it. A release that succeeded before runs nothing and is
// returned as it is (check `status`); so is one another live process holds (precondition).
Result<ReleaseRecord> run_release(ReleaseStore& store, const ReleasePlan& plan, const std::string& owner,
                                  const StepAction& action, ReleaseObserver& observer);

}  // namespace mlctl::release
