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

// Does one step. `earlier` holds the output of every step that succeeded before it, by step name
// ({"build": {"digest": ...}, "train": {"run_id": ...}}); the result is this step's output.
using StepAction = std::function<Result<nlohmann::json>(Step step, const nlohmann::json& earlier)>;

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
