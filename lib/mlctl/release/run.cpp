#include <mlctl/release/run.hpp>

#include <algorithm>

namespace mlctl::release {

namespace {

// The message of a step that recorded progress and has not finished (yet, or ever: killed).
constexpr std::string_view k_unfinished = "did not finish: a run that was killed, or is still running";

}  // namespace

Result<ReleaseRecord> run_release(ReleaseStore& store, const ReleasePlan& plan, const std::string& owner,
                                  const StepAction& action, ReleaseObserver& observer) {
  auto claimed = store.claim(plan.key, plan.environment, owner);
  if (!claimed || claimed->status == ReleaseStatus::succeeded) return claimed;
  nlohmann::json earlier = nlohmann::json::object();
  for (const auto& done : claimed->steps)
    if (done.succeeded) earlier[std::string(step_name(done.step))] = done.output;
  for (Step step : plan.steps) {
    if (const StepRecord* done = claimed->step(step); done && done->succeeded) {
      observer.step_done_before(*done);
      continue;
    }
    observer.step_started(step);
    const StepRecord* unfinished = claimed->step(step);
    nlohmann::json last_progress = unfinished ? unfinished->output : nlohmann::json::object();
    StepProgress progress{.resumed = last_progress, .checkpoint = [&](const nlohmann::json& now) -> Result<void> {
                            last_progress = now;
                            return store.record_step(plan.key, {.step = step,
                                                                .succeeded = false,
                                                                .output = now,
                                                                .message = std::string(k_unfinished),
                                                                .finished_at = ""});
                          }};
    auto output = action(step, earlier, progress);
    StepRecord record{.step = step,
                      .succeeded = output.has_value(),
                      .output = output ? *output : last_progress,
                      .message = output ? "" : output.error().message(),
                      .finished_at = ""};
    if (auto recorded = store.record_step(plan.key, record); !recorded) return std::unexpected(recorded.error());
    observer.step_finished(record);
    if (!output) {
      if (auto finished = store.finish(plan.key, ReleaseStatus::failed); !finished)
        return std::unexpected(finished.error());
      return std::unexpected(output.error());
    }
    earlier[std::string(step_name(step))] = *output;
  }
  auto record = store.get(plan.key);
  if (!record) return std::unexpected(record.error());
  bool complete = std::ranges::all_of(k_steps, [&](Step step) {
    const StepRecord* done = (*record)->step(step);
    return done && done->succeeded;
  });
  ReleaseStatus status = complete ? ReleaseStatus::succeeded : ReleaseStatus::partial;
  if (auto finished = store.finish(plan.key, status); !finished) return std::unexpected(finished.error());
  auto final_record = store.get(plan.key);
  if (!final_record) return std::unexpected(final_record.error());
  return **final_record;
}

}  // namespace mlctl::release
