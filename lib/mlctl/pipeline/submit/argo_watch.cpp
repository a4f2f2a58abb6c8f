#include <mlctl/pipeline/submit/argo.hpp>

#include <mlctl/oci/remote/url.hpp>
#include <mlctl/pipeline/submit/json_reply.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <set>
#include <tuple>

namespace mlctl::pipeline {

namespace {

constexpr std::string_view k_pod_name_format = "workflows.argoproj.io/pod-name-format";
// Argo keeps a pod name within Kubernetes' 253 characters: the prefix, a dash, a 10-digit hash.
constexpr size_t k_max_pod_prefix = 253 - 10 - 1;

struct PhaseName {
  ArgoPhase phase;
  std::string_view name;
};

constexpr std::array k_phases{
    PhaseName{ArgoPhase::pending, "Pending"},     PhaseName{ArgoPhase::running, "Running"},
    PhaseName{ArgoPhase::succeeded, "Succeeded"}, PhaseName{ArgoPhase::failed, "Failed"},
    PhaseName{ArgoPhase::error, "Error"},         PhaseName{ArgoPhase::skipped, "Skipped"},
    PhaseName{ArgoPhase::omitted, "Omitted"},
};

Result<ArgoPhase> parse_phase(std::string_view text) {
  if (text.empty()) return ArgoPhase::pending;
  for (const auto& [phase, name] : k_phases)
    if (name == text) return phase;
  return fail(Errc::remote, fmt::format("unknown phase '{}'", text));
}

std::uint32_t fnv1a32(std::string_view text) {
  std::uint32_t hash = 2166136261u;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 16777619u;
  }
  return hash;
}

// Argo's GeneratePodName (workflow/util/pod_name.go), which the API does not return.
std::string pod_name(std::string_view workflow, const ArgoNode& node, bool node_id_names) {
  if (node_id_names) return node.id;
  if (workflow == node.name) return std::string(workflow);
  std::string prefix(workflow);
  if (!node.template_name.empty()) prefix += "-" + node.template_name;
  if (prefix.size() > k_max_pod_prefix) prefix.resize(k_max_pod_prefix);
  return fmt::format("{}-{}", prefix, fnv1a32(node.name));
}

Result<ArgoNode> parse_node(const std::string& key, const nlohmann::json& json, std::string_view workflow,
                            bool node_id_names) {
  ArgoNode node;
  node.id = reply::text(json, "id");
  if (node.id.empty()) node.id = key;
  node.name = reply::text(json, "name");
  node.display_name = reply::text(json, "displayName");
  if (node.display_name.empty()) node.display_name = node.name;
  node.type = reply::text(json, "type");
  node.template_name = reply::text(json, "templateName");
  if (node.template_name.empty()) node.template_name = reply::text(reply::object(json, "templateRef"), "template");
  auto phase = parse_phase(reply::text(json, "phase"));
  if (!phase) return std::unexpected(phase.error().context(fmt::format("node {}", node.id)));
  node.phase = *phase;
  node.message = reply::text(json, "message");
  node.started_at = reply::text(json, "startedAt");
  node.finished_at = reply::text(json, "finishedAt");
  if (node.type == "Pod") node.pod_name = pod_name(workflow, node, node_id_names);
  nlohmann::json parameters = reply::object(json, "outputs").value("parameters", nlohmann::json::array());
  if (!parameters.is_array()) return fail(Errc::remote, fmt::format("node {}: outputs.parameters is not a list", node.id));
  for (const auto& parameter : parameters) {
    std::string name = parameter.is_object() ? reply::text(parameter, "name") : "";
    if (!name.empty()) node.output_parameters[name] = reply::text(parameter, "value");
  }
  return node;
}

bool earlier(const ArgoNode& a, const ArgoNode& b) {
  return std::tuple(a.started_at.empty(), a.started_at, a.display_name, a.id) <
         std::tuple(b.started_at.empty(), b.started_at, b.display_name, b.id);
}

std::string workflow_target(std::string_view namespace_name, std::string_view name) {
  return fmt::format("/api/v1/workflows/{}/{}", oci::remote::percent_encode(namespace_name),
                     oci::remote::percent_encode(name));
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
  return text;
}

// One line of the log stream; nothing for blank lines and server-sent-event fields other than data.
Result<std::optional<ArgoLogLine>> parse_log_entry(std::string_view line, size_t number) {
  line = trim(line);
  if (line.starts_with("data:")) {
    line = trim(line.substr(5));
  } else if (!line.starts_with('{')) {
    return std::nullopt;
  }
  if (line.empty()) return std::nullopt;
  auto json = nlohmann::json::parse(line, nullptr, false);
  if (json.is_discarded() || !json.is_object())
    return fail(Errc::remote, fmt::format("line {} of the log stream is not a JSON object", number));
  if (auto error = json.find("error"); error != json.end()) {
    std::string message = error->is_string() ? error->get<std::string>() : reply::text(*error, "message");
    return fail(Errc::remote, fmt::format("the log stream failed: \"{}\"", message));
  }
  const auto& result = reply::object(json, "result");
  return ArgoLogLine{reply::text(result, "podName"), reply::text(result, "content")};
}

// The pods of a step: its Pod node, or one per retry ("train(0)", "train(1)").
Result<std::set<std::string>> step_pods(const ArgoServer& server, std::string_view namespace_name,
                                        std::string_view name, std::string_view step) {
  auto status = argo_status(server, namespace_name, name);
  if (!status) return std::unexpected(status.error());
  std::set<std::string> pods;
  std::set<std::string> steps;
  for (const auto& node : status->nodes) {
    if (node.pod_name.empty()) continue;
    std::string_view base = std::string_view(node.display_name).substr(0, node.display_name.find('('));
    steps.emplace(base);
    if (base == step) pods.insert(node.pod_name);
  }
  if (!pods.empty()) return pods;
  return fail(Errc::not_found, fmt::format("workflow {} has no pod for step {}", name, step),
              steps.empty() ? "no step has started yet" : fmt::format("steps with pods: {}", fmt::join(steps, ", ")));
}

}  // namespace

std::string_view to_string(ArgoPhase phase) {
  for (const auto& [value, name] : k_phases)
    if (value == phase) return name;
  return "Pending";
}

bool is_final(ArgoPhase phase) { return phase != ArgoPhase::pending && phase != ArgoPhase::running; }

Result<ArgoStatus> parse_argo_workflow(const nlohmann::json& workflow) {
  const auto& metadata = reply::object(workflow, "metadata");
  const auto& status = reply::object(workflow, "status");
  ArgoStatus out;
  out.namespace_name = reply::text(metadata, "namespace");
  out.name = reply::text(metadata, "name");
  out.uid = reply::text(metadata, "uid");
  if (out.name.empty()) return fail(Errc::remote, "the workflow has no metadata.name");
  auto phase = parse_phase(reply::text(status, "phase"));
  if (!phase) return std::unexpected(phase.error().context(fmt::format("workflow {}", out.name)));
  out.phase = *phase;
  out.message = reply::text(status, "message");
  out.started_at = reply::text(status, "startedAt");
  out.finished_at = reply::text(status, "finishedAt");
  bool node_id_names = reply::text(reply::object(metadata, "annotations"), k_pod_name_format) == "v1";
  for (const auto& [key, json] : reply::object(status, "nodes").items()) {
    auto node = parse_node(key, json, out.name, node_id_names);
    if (!node) return std::unexpected(node.error().context(fmt::format("workflow {}", out.name)));
    out.nodes.push_back(std::move(*node));
  }
  std::ranges::sort(out.nodes, earlier);
  return out;
}

Result<ArgoStatus> argo_status(const ArgoServer& server, std::string_view namespace_name, std::string_view name) {
  std::string what = fmt::format("getting workflow {} in namespace {}", name, namespace_name);
  auto body = server.api.get(workflow_target(namespace_name, name));
  if (!body) return std::unexpected(body.error().context(what));
  auto json = reply::parse_object(*body, "the workflow");
  if (!json) return std::unexpected(json.error().context(what));
  return with_context(parse_argo_workflow(*json), what);
}

Result<ArgoStatus> argo_wait(const ArgoServer& server, std::string_view namespace_name, std::string_view name,
                             const WaitOptions& options, Clock& clock,
                             const std::function<void(const ArgoStatus&)>& on_poll) {
  return wait_for_final<ArgoStatus>(
      [&] { return argo_status(server, namespace_name, name); },
      [](const ArgoStatus& status) { return is_final(status.phase); }, on_poll, options, clock,
      [&](const ArgoStatus& last) {
        return Error(Errc::failed,
                     fmt::format("waiting for workflow {} in namespace {}: still {} after {}", name, namespace_name,
                                 to_string(last.phase), describe_duration(options.timeout)),
                     "the workflow goes on running: ask for its status again later");
      });
}

Result<std::vector<ArgoLogLine>> parse_argo_log_stream(std::string_view body) {
  std::vector<ArgoLogLine> lines;
  size_t number = 0;
  while (!body.empty()) {
    auto end = body.find('\n');
    auto entry = parse_log_entry(body.substr(0, end), ++number);
    if (!entry) return std::unexpected(entry.error());
    if (*entry) lines.push_back(std::move(**entry));
    body = end == std::string_view::npos ? std::string_view() : body.substr(end + 1);
  }
  return lines;
}

Result<std::vector<ArgoLogLine>> argo_logs(const ArgoServer& server, std::string_view namespace_name,
                                           std::string_view name, const ArgoLogOptions& options) {
  using oci::remote::add_query;
  std::string what = fmt::format("getting the logs of workflow {} in namespace {}", name, namespace_name);
  std::set<std::string> pods;
  if (!options.step.empty()) {
    auto found = step_pods(server, namespace_name, name, options.step);
    if (!found) return std::unexpected(found.error().context(what));
    pods = std::move(*found);
  }
  std::string target = workflow_target(namespace_name, name) + "/log";
  if (!options.pod_name.empty()) target = add_query(target, "podName", options.pod_name);
  target = add_query(target, "logOptions.container", options.container);
  if (options.tail_lines) target = add_query(target, "logOptions.tailLines", std::to_string(*options.tail_lines));
  // Server-sent events, as the argo CLI asks for them.
  auto body = server.api.get(target, "text/event-stream");
  if (!body) return std::unexpected(body.error().context(what));
  auto lines = parse_argo_log_stream(*body);
  if (!lines)
    return fail(lines.error().code(), fmt::format("{}: {}", what, server.api.redact(lines.error().message())));
  if (!pods.empty()) std::erase_if(*lines, [&](const ArgoLogLine& line) { return !pods.contains(line.pod_name); });
  return lines;
}

}  // namespace mlctl::pipeline
