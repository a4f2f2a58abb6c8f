#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/pipeline/submit/api_client.hpp>
#include <mlctl/pipeline/submit/poll.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlctl::pipeline {

// A Kubeflow Pipelines API server (ml-pipeline, the v2beta1 API).
struct KfpServer {
  ApiClient api;
};

struct KfpPipeline {
  std::string pipeline_id;
  std::string name;
  std::string display_name;

  bool operator==(const KfpPipeline&) const = default;
};

struct KfpPipelineVersion {
  std::string pipeline_id;
  std::string pipeline_version_id;
  std::string name;
  std::string display_name;

  bool operator==(const KfpPipelineVersion&) const = default;
};

// GET /apis/v2beta1/pipelines/names/{name}[?namespace=]: the pipeline, or none when the server
// has no pipeline of that name. An empty namespace is the server's default.
Result<std::optional<KfpPipeline>> kfp_find_pipeline(const KfpServer& server, std::string_view name,
                                                     std::string_view namespace_name = {});

// POST /apis/v2beta1/pipelines {"name", "display_name"[, "namespace"]}: a pipeline without
// versions yet. Fails precondition when one of that name exists.
Result<KfpPipeline> kfp_create_pipeline(const KfpServer& server, std::string_view name,
                                        std::string_view namespace_name = {});

// POST /apis/v2beta1/pipelines/upload_version?name=...&pipelineid=... with the pipeline spec
// (compile_kfp written with core::to_yaml) as the multipart/form-data file "uploadfile". Fails
// precondition when the pipeline has a version of that name (409).
Result<KfpPipelineVersion> kfp_upload_pipeline_version(const KfpServer& server, std::string_view pipeline_id,
                                                       std::string_view version_name, std::string_view spec_yaml);

struct KfpRunRequest {
  std::string display_name;
  std::string pipeline_id;
  std::string pipeline_version_id;
  std::map<std::string, std::string> parameters;  // the pipeline's STRING input parameters
  std::string experiment_id;                      // empty: the default experiment
  std::string service_account;                    // empty: the namespace's default
};

// A run's or a task's state (v2beta1RuntimeState).
enum class KfpState { unspecified, pending, running, succeeded, skipped, failed, canceling, canceled, paused };

// "RUNNING", as the API spells it.
std::string_view to_string(KfpState state);
// Whether the state is final: succeeded, skipped, failed or canceled.
bool is_final(KfpState state);

struct KfpTask {
  std::string task_id;
  std::string display_name;
  KfpState state = KfpState::unspecified;
  std::string error;  // the task's error message, when it failed
  std::string pod_name;

  bool operator==(const KfpTask&) const = default;
};

struct KfpRun {
  std::string run_id;
  std::string display_name;
  KfpState state = KfpState::unspecified;
  std::string error;
  std::string created_at;
  std::string finished_at;
  std::vector<KfpTask> tasks;  // in the server's order
};

// POST /apis/v2beta1/runs {"display_name", "pipeline_version_reference", "runtime_config"}.
Result<KfpRun> kfp_create_run(const KfpServer& server, const KfpRunRequest& request);

// Reads a v2beta1Run; the state may be its name or its number. Fails (remote) on an unknown
// state or a run without an id.
Result<KfpRun> parse_kfp_run(const nlohmann::json& run);

// GET /apis/v2beta1/runs/{run_id}. Fails not_found when there is no such run.
Result<KfpRun> kfp_run_status(const KfpServer& server, std::string_view run_id);

// Polls kfp_run_status until the run's state is final and returns that run (a failed run is a
// result, not an error); `on_poll` hears every state seen. Fails (failed) after options.timeout.
Result<KfpRun> kfp_wait_run(const KfpServer& server, std::string_view run_id, const WaitOptions& options,
                            Clock& clock = steady_clock(), const std::function<void(const KfpRun&)>& on_poll = {});

// A recurring run: KFP starts a run of the pipeline version on its cron schedule.
struct KfpRecurringRun {
  std::string recurring_run_id;
  std::string display_name;
  std::string cron;    // as KFP reads it: six fields, seconds first
  std::string status;  // "ENABLED", "DISABLED"

  bool operator==(const KfpRecurringRun&) const = default;
};

// A pipeline's five-field cron schedule as KFP reads it (robfig/cron, seconds first):
// "0 3 * * *" -> "0 0 3 * * *"; "@daily" and the other macros as they are.
std::string kfp_cron(std::string_view schedule);

// POST /apis/v2beta1/recurringruns {"display_name", "pipeline_version_reference",
// "runtime_config", "trigger": {"cron_schedule": {"cron"}}, "max_concurrency": "1",
// "mode": "ENABLE", "no_catchup": true}: one run at a time, no catching up on missed schedules,
// as the Argo CronWorkflow (concurrencyPolicy Forbid). `schedule` is the pipeline's (kfp_cron
// converts it).
Result<KfpRecurringRun> kfp_create_recurring_run(const KfpServer& server, const KfpRunRequest& request,
                                                 std::string_view schedule);

// What `mlctl pipeline submit --backend kfp` sends.
struct KfpSubmit {
  std::string pipeline_name;   // created on the first submit
  std::string namespace_name;  // empty: the server's default (single-user KFP)
  std::string version_name;    // each version is uploaded once: the project version
  std::string spec_yaml;
  std::string run_name;
  std::map<std::string, std::string> parameters;
  std::string experiment_id;
  std::string service_account;
  std::string schedule;  // a cron schedule: a recurring run instead of one run now
};

struct KfpSubmitted {
  KfpPipeline pipeline;
  bool created_pipeline = false;
  KfpPipelineVersion version;
  KfpRun run;                                    // empty for a recurring run
  std::optional<KfpRecurringRun> recurring_run;  // with a schedule
};

// Finds (or creates) the pipeline, uploads the version, then starts a run of it, or with a
// schedule creates a recurring run of it.
Result<KfpSubmitted> submit_kfp(const KfpServer& server, const KfpSubmit& submit);

}  // namespace mlctl::pipeline
