#include <mlctl/pipeline/submit/kfp.hpp>

#include <mlctl/oci/remote/url.hpp>
#include <mlctl/pipeline/submit/json_reply.hpp>
#include <mlctl/pipeline/submit/multipart.hpp>

#include <fmt/format.h>

#include <array>

namespace mlctl::pipeline {

namespace {

using oci::remote::add_query;
using oci::remote::percent_encode;

// v2beta1RuntimeState in enum order, so that a number reads too.
constexpr std::array<std::string_view, 9> k_state_names{"RUNTIME_STATE_UNSPECIFIED",
                                                        "PENDING",
                                                        "RUNNING",
                                                        "SUCCEEDED",
                                                        "SKIPPED",
                                                        "FAILED",
                                                        "CANCELING",
                                                        "CANCELED",
                                                        "PAUSED"};

std::string dump(const nlohmann::json& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<KfpState> parse_state(const nlohmann::json& object) {
  auto value = object.find("state");
  if (value == object.end() || value->is_null()) return KfpState::unspecified;
  if (value->is_number_integer()) {
    auto number = value->get<long long>();
    if (number >= 0 && number < static_cast<long long>(k_state_names.size())) return static_cast<KfpState>(number);
  }
  if (value->is_string()) {
    for (size_t i = 0; i < k_state_names.size(); ++i)
      if (k_state_names[i] == value->get_ref<const std::string&>()) return static_cast<KfpState>(i);
  }
  return fail(Errc::remote, fmt::format("unknown state {}", dump(*value)));
}

// The message of a google.rpc.Status member "error".
std::string error_message(const nlohmann::json& object) {
  return reply::text(reply::object(object, "error"), "message");
}

Result<KfpPipeline> read_pipeline(std::string_view body) {
  auto json = reply::parse_object(body, "the pipeline");
  if (!json) return std::unexpected(json.error());
  KfpPipeline pipeline{reply::text(*json, "pipeline_id"), reply::text(*json, "name"),
                       reply::text(*json, "display_name")};
  if (pipeline.pipeline_id.empty()) return fail(Errc::remote, "the server's answer has no pipeline_id");
  return pipeline;
}

Result<KfpPipelineVersion> read_version(std::string_view body, std::string_view pipeline_id) {
  auto json = reply::parse_object(body, "the pipeline version");
  if (!json) return std::unexpected(json.error());
  KfpPipelineVersion version{reply::text(*json, "pipeline_id"), reply::text(*json, "pipeline_version_id"),
                             reply::text(*json, "name"), reply::text(*json, "display_name")};
  if (version.pipeline_version_id.empty()) return fail(Errc::remote, "the server's answer has no pipeline_version_id");
  if (version.pipeline_id.empty()) version.pipeline_id = pipeline_id;
  return version;
}

Result<KfpTask> parse_task(const nlohmann::json& json) {
  KfpTask task{reply::text(json, "task_id"), reply::text(json, "display_name"), KfpState::unspecified,
               error_message(json), reply::text(json, "pod_name")};
  auto state = parse_state(json);
  if (!state) return std::unexpected(state.error().context(fmt::format("task {}", task.display_name)));
  task.state = *state;
  return task;
}

Result<KfpRun> read_run(std::string_view body) {
  auto json = reply::parse_object(body, "the run");
  if (!json) return std::unexpected(json.error());
  return parse_kfp_run(*json);
}

nlohmann::json run_body(const KfpRunRequest& request) {
  nlohmann::json body = {
      {"display_name", request.display_name},
      {"pipeline_version_reference",
       {{"pipeline_id", request.pipeline_id}, {"pipeline_version_id", request.pipeline_version_id}}},
      {"runtime_config", {{"parameters", nlohmann::json::object()}}},
  };
  for (const auto& [name, value] : request.parameters) body["runtime_config"]["parameters"][name] = value;
  if (!request.experiment_id.empty()) body["experiment_id"] = request.experiment_id;
  if (!request.service_account.empty()) body["service_account"] = request.service_account;
  return body;
}

}  // namespace

std::string_view to_string(KfpState state) { return k_state_names[static_cast<size_t>(state)]; }

bool is_final(KfpState state) {
  return state == KfpState::succeeded || state == KfpState::skipped || state == KfpState::failed ||
         state == KfpState::canceled;
}

Result<std::optional<KfpPipeline>> kfp_find_pipeline(const KfpServer& server, std::string_view name,
                                                     std::string_view namespace_name) {
  std::string target = "/apis/v2beta1/pipelines/names/" + percent_encode(name);
  if (!namespace_name.empty()) target = add_query(target, "namespace", namespace_name);
  auto body = server.api.get(target);
  if (!body && body.error().code() == Errc::not_found) return std::optional<KfpPipeline>();
  std::string what = fmt::format("finding pipeline {}", name);
  if (!body) return std::unexpected(body.error().context(what));
  auto pipeline = read_pipeline(*body);
  if (!pipeline) return std::unexpected(pipeline.error().context(what));
  return std::optional(std::move(*pipeline));
}

Result<KfpPipeline> kfp_create_pipeline(const KfpServer& server, std::string_view name,
                                        std::string_view namespace_name) {
  nlohmann::json request = {{"name", std::string(name)}, {"display_name", std::string(name)}};
  if (!namespace_name.empty()) request["namespace"] = std::string(namespace_name);
  std::string what = fmt::format("creating pipeline {}", name);
  auto body = server.api.post("/apis/v2beta1/pipelines", dump(request), "application/json");
  if (!body) return std::unexpected(body.error().context(what));
  return with_context(read_pipeline(*body), what);
}

Result<KfpPipelineVersion> kfp_upload_pipeline_version(const KfpServer& server, std::string_view pipeline_id,
                                                       std::string_view version_name, std::string_view spec_yaml) {
  std::string target = add_query("/apis/v2beta1/pipelines/upload_version", "name", version_name);
  target = add_query(target, "pipelineid", pipeline_id);
  // KFP reads the format from the file name's extension.
  std::array files{FormFile{"uploadfile", "pipeline.yaml", "application/x-yaml", spec_yaml}};
  FormBody form = multipart_form(files);
  std::string what = fmt::format("uploading version {} of pipeline {}", version_name, pipeline_id);
  auto body = server.api.post(target, form.bytes, form.content_type);
  if (!body) {
    Error error = body.error();
    if (error.code() == Errc::precondition)
      error.with_hint("this version was uploaded before: bump the project version, or delete the version in KFP");
    return std::unexpected(error.context(what));
  }
  return with_context(read_version(*body, pipeline_id), what);
}

Result<KfpRun> kfp_create_run(const KfpServer& server, const KfpRunRequest& request) {
  std::string what =
      fmt::format("creating run {} of pipeline version {}", request.display_name, request.pipeline_version_id);
  auto body = server.api.post("/apis/v2beta1/runs", dump(run_body(request)), "application/json");
  if (!body) return std::unexpected(body.error().context(what));
  return with_context(read_run(*body), what);
}

std::string kfp_cron(std::string_view schedule) {
  if (schedule.starts_with('@')) return std::string(schedule);
  return fmt::format("0 {}", schedule);
}

Result<KfpRecurringRun> kfp_create_recurring_run(const KfpServer& server, const KfpRunRequest& request,
                                                 std::string_view schedule) {
  std::string what = fmt::format("creating recurring run {} of pipeline version {}", request.display_name,
                                 request.pipeline_version_id);
  nlohmann::json body = run_body(request);
  body["trigger"] = {{"cron_schedule", {{"cron", kfp_cron(schedule)}}}};
  body["max_concurrency"] = "1";
  body["mode"] = "ENABLE";
  body["no_catchup"] = true;
  auto answer = server.api.post("/apis/v2beta1/recurringruns", dump(body), "application/json");
  if (!answer) return std::unexpected(answer.error().context(what));
  auto json = reply::parse_object(*answer, "the recurring run");
  if (!json) return std::unexpected(json.error().context(what));
  const auto& cron = reply::object(reply::object(*json, "trigger"), "cron_schedule");
  KfpRecurringRun recurring{reply::text(*json, "recurring_run_id"), reply::text(*json, "display_name"),
                            reply::text(cron, "cron"), reply::text(*json, "status")};
  if (recurring.recurring_run_id.empty())
    return fail(Errc::remote, fmt::format("{}: the server's answer has no recurring_run_id", what));
  return recurring;
}

Result<KfpRun> parse_kfp_run(const nlohmann::json& json) {
  KfpRun run;
  run.run_id = reply::text(json, "run_id");
  if (run.run_id.empty()) return fail(Errc::remote, "the run has no run_id");
  run.display_name = reply::text(json, "display_name");
  auto state = parse_state(json);
  if (!state) return std::unexpected(state.error().context(fmt::format("run {}", run.run_id)));
  run.state = *state;
  run.error = error_message(json);
  run.created_at = reply::text(json, "created_at");
  run.finished_at = reply::text(json, "finished_at");
  const auto& details = reply::object(json, "run_details");
  auto tasks = details.find("task_details");
  if (tasks == details.end() || !tasks->is_array()) return run;
  for (const auto& item : *tasks) {
    auto task = parse_task(item);
    if (!task) return std::unexpected(task.error().context(fmt::format("run {}", run.run_id)));
    run.tasks.push_back(std::move(*task));
  }
  return run;
}

Result<KfpRun> kfp_run_status(const KfpServer& server, std::string_view run_id) {
  std::string what = fmt::format("getting run {}", run_id);
  auto body = server.api.get("/apis/v2beta1/runs/" + percent_encode(run_id));
  if (!body) return std::unexpected(body.error().context(what));
  return with_context(read_run(*body), what);
}

Result<KfpRun> kfp_wait_run(const KfpServer& server, std::string_view run_id, const WaitOptions& options, Clock& clock,
                            const std::function<void(const KfpRun&)>& on_poll) {
  return wait_for_final<KfpRun>(
      [&] { return kfp_run_status(server, run_id); }, [](const KfpRun& run) { return is_final(run.state); }, on_poll,
      options, clock, [&](const KfpRun& last) {
        return Error(Errc::failed,
                     fmt::format("waiting for run {}: still {} after {}", run_id, to_string(last.state),
                                 describe_duration(options.timeout)),
                     "the run goes on: ask for its status again later");
      });
}

Result<KfpSubmitted> submit_kfp(const KfpServer& server, const KfpSubmit& submit) {
  KfpSubmitted out;
  auto found = kfp_find_pipeline(server, submit.pipeline_name, submit.namespace_name);
  if (!found) return std::unexpected(found.error());
  if (*found) {
    out.pipeline = std::move(**found);
  } else {
    auto created = kfp_create_pipeline(server, submit.pipeline_name, submit.namespace_name);
    if (!created) return std::unexpected(created.error());
    out.pipeline = std::move(*created);
    out.created_pipeline = true;
  }
  auto version = kfp_upload_pipeline_version(server, out.pipeline.pipeline_id, submit.version_name, submit.spec_yaml);
  if (!version) return std::unexpected(version.error());
  out.version = std::move(*version);
  KfpRunRequest request{submit.run_name,   out.pipeline.pipeline_id, out.version.pipeline_version_id,
                        submit.parameters, submit.experiment_id,     submit.service_account};
  if (!submit.schedule.empty()) {
    auto recurring = kfp_create_recurring_run(server, request, submit.schedule);
    if (!recurring) return std::unexpected(recurring.error());
    out.recurring_run = std::move(*recurring);
    return out;
  }
  auto run = kfp_create_run(server, request);
  if (!run) return std::unexpected(run.error());
  out.run = std::move(*run);
  return out;
}

}  // namespace mlctl::pipeline
