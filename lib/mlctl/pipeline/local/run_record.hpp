#pragma once

#include <mlctl/core/error.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlctl::pipeline {

enum class StepStatus {
  succeeded,  // ran and made its outputs
  cached,     // its outputs were restored from the cache (or an earlier run) without running
  failed,     // exited non-zero, timed out, or did not make an output, on its last attempt
  skipped,    // something it needs failed
  cancelled,  // the run was cancelled before it finished
};

enum class RunStatus { running, succeeded, failed, cancelled };

std::string_view status_name(StepStatus status);
std::string_view status_name(RunStatus status);
Result<StepStatus> parse_step_status(std::string_view text);
Result<RunStatus> parse_run_status(std::string_view text);

// Whether a step's outputs are there for the steps that need it.
inline bool made_outputs(StepStatus status) { return status == StepStatus::succeeded || status == StepStatus::cached; }

struct StepRecord {
  std::string name{};
  StepStatus status = StepStatus::skipped;
  double duration_s = 0;  // wall time of all its attempts (of restoring it, when cached)
  bool cache_hit = false;
  std::optional<int> exit_code{};  // of its last attempt; none when it did not run or was killed
  int attempts = 0;                // 0 when it did not run
  std::string cache_key{};         // "sha256:<hex>" of what it ran; empty when it never got one
  nlohmann::json metrics = nlohmann::json::object();  // its `metrics:` output
  std::string message{};           // why it failed, was skipped or cancelled, or where it was re-used from

  nlohmann::json to_json() const;
};

struct RunRecord {
  std::string id{};
  std::string pipeline{};                   // the pipeline's name
  std::filesystem::path pipeline_file{};    // the file it was read from, if any
  RunStatus status = RunStatus::running;
  std::string started_at{};                 // models::format_time form
  std::string finished_at{};                // empty while running
  nlohmann::json params = nlohmann::json::object();  // every param's value in this run
  std::string git_commit{};                 // empty outside a git repository
  std::string resumed_from{};               // the run --resume named, if any
  std::vector<StepRecord> steps{};          // in pipeline file order

  const StepRecord* find_step(std::string_view name) const;
  // {"run_id", "pipeline", "status", "started_at", "finished_at", "params", "git_commit",
  //  "resumed_from", "steps": [StepRecord::to_json()...]}
  nlohmann::json to_json() const;
};

}  // namespace mlctl::pipeline
