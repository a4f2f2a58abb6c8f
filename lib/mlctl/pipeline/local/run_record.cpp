#include <mlctl/pipeline/local/run_record.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

#include <fmt/format.h>

namespace mlctl::pipeline {

namespace {

constexpr std::array<std::pair<StepStatus, std::string_view>, 5> k_step_names{{
    {StepStatus::succeeded, "succeeded"},
    {StepStatus::cached, "cached"},
    {StepStatus::failed, "failed"},
    {StepStatus::skipped, "skipped"},
    {StepStatus::cancelled, "cancelled"},
}};

constexpr std::array<std::pair<RunStatus, std::string_view>, 4> k_run_names{{
    {RunStatus::running, "running"},
    {RunStatus::succeeded, "succeeded"},
    {RunStatus::failed, "failed"},
    {RunStatus::cancelled, "cancelled"},
}};

template <typename Status, size_t N>
std::string_view name_of(const std::array<std::pair<Status, std::string_view>, N>& names, Status status) {
  for (const auto& [value, name] : names)
    if (value == status) return name;
  return "unknown";
}

template <typename Status, size_t N>
Result<Status> parse(const std::array<std::pair<Status, std::string_view>, N>& names, std::string_view text,
                     std::string_view what) {
  for (const auto& [value, name] : names)
    if (name == text) return value;
  return fail(Errc::invalid, fmt::format("'{}' is not a {} status", text, what));
}

// Milliseconds are all a duration needs, and fewer digits keep JSON and tables readable.
double round_ms(double seconds) { return std::round(seconds * 1000.0) / 1000.0; }

}  // namespace

std::string_view status_name(StepStatus status) { return name_of(k_step_names, status); }
std::string_view status_name(RunStatus status) { return name_of(k_run_names, status); }
Result<StepStatus> parse_step_status(std::string_view text) { return parse(k_step_names, text, "step"); }
Result<RunStatus> parse_run_status(std::string_view text) { return parse(k_run_names, text, "run"); }

nlohmann::json StepRecord::to_json() const {
  return {{"name", name},
          {"status", status_name(status)},
          {"duration_s", round_ms(duration_s)},
          {"cache_hit", cache_hit},
          {"exit_code", exit_code ? nlohmann::json(*exit_code) : nlohmann::json(nullptr)},
          {"attempts", attempts},
          {"metrics", metrics},
          {"message", message}};
}

const StepRecord* RunRecord::find_step(std::string_view name) const {
  auto it = std::ranges::find_if(steps, [&](const StepRecord& step) { return step.name == name; });
  return it == steps.end() ? nullptr : &*it;
}

nlohmann::json RunRecord::to_json() const {
  nlohmann::json step_list = nlohmann::json::array();
  for (const auto& step : steps) step_list.push_back(step.to_json());
  auto optional = [](const std::string& text) { return text.empty() ? nlohmann::json(nullptr) : nlohmann::json(text); };
  return {{"run_id", id},
          {"pipeline", pipeline},
          {"status", status_name(status)},
          {"started_at", started_at},
          {"finished_at", optional(finished_at)},
          {"params", params},
          {"git_commit", optional(git_commit)},
          {"resumed_from", optional(resumed_from)},
          {"steps", step_list}};
}

}  // namespace mlctl::pipeline
