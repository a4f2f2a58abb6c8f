#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/pipeline/compile/options.hpp>
#include <mlctl/pipeline/submit/api_client.hpp>
#include <mlctl/pipeline/submit/poll.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlctl::pipeline {

// An Argo Server (argo-server's HTTP API, port 2746 by default).
struct ArgoServer {
  ApiClient api;
};

struct ArgoSubmitted {
  ArgoKind kind = ArgoKind::workflow;  // workflow, cron_workflow or workflow_template
  std::string namespace_name;
  std::string name;  // as the server named it: generateName plus a suffix for a Workflow
  std::string uid;

  bool operator==(const ArgoSubmitted&) const = default;
};

// Creates a compiled Argo document (compile_argo) in `namespace_name`: a Workflow through
// POST /api/v1/workflows/{ns} with {"namespace", "workflow"}, a CronWorkflow through
// /api/v1/cron-workflows/{ns} ("cronWorkflow"), a WorkflowTemplate through
// /api/v1/workflow-templates/{ns} ("template"). Fails invalid, before sending anything, on a
// document that is none of these or names another namespace; precondition when an object of
// that name exists (409).
Result<ArgoSubmitted> submit_argo(const ArgoServer& server, std::string_view namespace_name,
                                  const nlohmann::json& document);

// A workflow's or a node's phase; "" (not yet picked up by the controller) reads as pending.
enum class ArgoPhase { pending, running, succeeded, failed, error, skipped, omitted };

std::string_view to_string(ArgoPhase phase);
// Whether the phase is final: nothing changes after it.
bool is_final(ArgoPhase phase);

// One node of a running workflow: the DAG, each task, each retry of a task.
struct ArgoNode {
  std::string id;
  std::string name;          // "train-x7k2p.train(1)"
  std::string display_name;  // "train(1)"
  std::string type;          // "DAG", "Retry", "Pod", "Skipped", ...
  std::string template_name;
  ArgoPhase phase = ArgoPhase::pending;
  std::string message;
  std::string started_at;  // RFC 3339, "" until it starts
  std::string finished_at;
  std::string pod_name;  // the pod a "Pod" node runs in (for its logs), else ""
  std::map<std::string, std::string> output_parameters;  // outputs.parameters, name -> value

  bool operator==(const ArgoNode&) const = default;
};

struct ArgoStatus {
  std::string namespace_name;
  std::string name;
  std::string uid;
  ArgoPhase phase = ArgoPhase::pending;
  std::string message;
  std::string started_at;
  std::string finished_at;
  std::vector<ArgoNode> nodes;  // by start time, then display name; not yet started ones last
};

// Reads a Workflow object as the server returns it. Pod names follow Argo's naming: the node id
// for workflows annotated with pod-name-format v1, else <workflow>-<template>-<fnv32a(node)>.
// Fails (remote) on an unknown phase or a workflow without a name.
Result<ArgoStatus> parse_argo_workflow(const nlohmann::json& workflow);

// GET /api/v1/workflows/{ns}/{name}. Fails not_found when there is no such workflow.
Result<ArgoStatus> argo_status(const ArgoServer& server, std::string_view namespace_name, std::string_view name);

// Polls argo_status until the workflow's phase is final and returns that status (a failed
// workflow is a result, not an error). `on_poll` hears every status seen. Fails when a poll
// fails, and (failed) when the workflow is still going after options.timeout.
Result<ArgoStatus> argo_wait(const ArgoServer& server, std::string_view namespace_name, std::string_view name,
                             const WaitOptions& options, Clock& clock = steady_clock(),
                             const std::function<void(const ArgoStatus&)>& on_poll = {});

struct ArgoLogOptions {
  std::string step;      // only the pods of this step (each of its retries); empty: every step
  std::string pod_name;  // only this pod
  std::string container = "main";
  std::optional<std::int64_t> tail_lines;  // the last lines of each pod
};

struct ArgoLogLine {
  std::string pod_name;
  std::string content;

  bool operator==(const ArgoLogLine&) const = default;
};

// The logs of a workflow's pods as they are now (not followed):
// GET /api/v1/workflows/{ns}/{name}/log?logOptions.container=main[&podName=...]. A step is
// looked up in the workflow's status first; fails not_found when it has no pod.
Result<std::vector<ArgoLogLine>> argo_logs(const ArgoServer& server, std::string_view namespace_name,
                                           std::string_view name, const ArgoLogOptions& options = {});

// Reads the log stream Argo Server sends: "data: {"result":{"content":...,"podName":...}}"
// lines (server-sent events) or the same JSON without "data: ". An {"error":...} entry fails.
Result<std::vector<ArgoLogLine>> parse_argo_log_stream(std::string_view body);

}  // namespace mlctl::pipeline
