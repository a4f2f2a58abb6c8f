#include <mlctl/pipeline/compile/argo.hpp>

#include <mlctl/core/text.hpp>
#include <mlctl/pipeline/compile/step_plan.hpp>
#include <mlctl/pipeline/dag.hpp>

#include <algorithm>
#include <optional>

#include <fmt/format.h>

namespace mlctl::pipeline {

namespace {

using Json = nlohmann::json;

constexpr std::string_view k_api_version = "argoproj.io/v1alpha1";
constexpr std::string_view k_run_volume = "mlctl";       // volume mode: the run's volume
constexpr std::string_view k_outputs_volume = "outputs";  // s3 mode: the step's own output folder

std::string output_dir(std::string_view step) { return fmt::format("{}/{}", k_argo_outputs_dir, step); }

Placeholders argo_placeholders() {
  return {
      .param = [](std::string_view name) { return fmt::format("{{{{workflow.parameters.{}}}}}", name); },
      .own_output = argo_output_path,
      .upstream_output = argo_output_path,
      .run_id = "{{workflow.name}}",
      .value_file = [](std::string_view input) -> Result<std::string> {
        return fmt::format("{}/{}", k_argo_inputs_dir, input);
      },
  };
}

// Argo refuses DAG task names that start with a digit, which DNS labels allow.
Result<void> check_task_name(const std::string& step) {
  if (!step.empty() && step[0] >= '0' && step[0] <= '9')
    return fail(Errc::invalid, fmt::format("step '{}': Argo task names cannot start with a digit", step),
                "rename the step to start with a letter");
  return {};
}

// The DAG template's name: "main", unless a step already has it.
std::string entry_name(const Pipeline& pipeline) {
  std::string name = "main";
  for (int n = 1; pipeline.find_step(name); ++n) name = fmt::format("main-{}", n);
  return name;
}

Json resources(const Resources& wanted) {
  Json requests = Json::object();
  if (wanted.cpu) requests["cpu"] = wanted.cpu->value;
  if (wanted.memory) requests["memory"] = wanted.memory->value;
  Json limits = requests;
  if (int gpus = wanted.gpu_count(); gpus > 0) limits[k_gpu_resource] = gpus;
  Json out = Json::object();
  if (!requests.empty()) out["requests"] = std::move(requests);
  if (!limits.empty()) out["limits"] = std::move(limits);
  return out;
}

// Volume mode: the step writes its own folder of the run's volume (Kubernetes creates a subPath
// that does not exist) and reads the folders of the steps it needs, read-only.
Json volume_mounts(const Pipeline& pipeline, const Step& step, const StepPlan& plan, ArtifactPassing passing) {
  Json mounts = Json::array();
  const std::string& name = step.name.value;
  if (!plan.outputs.empty()) {
    if (passing == ArtifactPassing::s3) mounts.push_back({{"name", k_outputs_volume}, {"mountPath", output_dir(name)}});
    else mounts.push_back({{"name", k_run_volume}, {"mountPath", output_dir(name)}, {"subPath", "outputs/" + name}});
  }
  if (passing == ArtifactPassing::volume) {
    size_t previous = pipeline.steps.size();
    for (const auto& up : plan.upstream) {
      if (up.step == previous) continue;
      previous = up.step;
      const std::string& producer = pipeline.steps[up.step].name.value;
      mounts.push_back({{"name", k_run_volume},
                        {"mountPath", output_dir(producer)},
                        {"subPath", "outputs/" + producer},
                        {"readOnly", true}});
    }
  }
  return mounts;
}

Json container(const Pipeline& pipeline, const Step& step, const StepPlan& plan, const CompileOptions& options) {
  Json c = {{"image", plan.image}};
  if (!plan.command.empty()) c["command"] = plan.command;
  if (!plan.args.empty()) c["args"] = plan.args;
  if (!plan.env.empty()) {
    Json env = Json::array();
    for (const auto& var : plan.env) env.push_back({{"name", var.name}, {"value", var.value}});
    c["env"] = std::move(env);
  }
  if (Json wanted = resources(step.resources); !wanted.empty()) c["resources"] = std::move(wanted);
  if (Json mounts = volume_mounts(pipeline, step, plan, options.artifacts); !mounts.empty())
    c["volumeMounts"] = std::move(mounts);
  return c;
}

Json input_artifacts(const Pipeline& pipeline, const StepPlan& plan, ArtifactPassing passing) {
  Json artifacts = Json::array();
  if (passing == ArtifactPassing::s3) {
    for (const auto& up : plan.upstream) {
      const std::string& producer = pipeline.steps[up.step].name.value;
      artifacts.push_back(
          {{"name", upstream_key(producer, up.output)}, {"path", argo_output_path(producer, io_name(up.output))}});
    }
  }
  for (const auto& file : plan.value_files)
    artifacts.push_back({{"name", file.name}, {"path", file.path}, {"raw", {{"data", file.content}}}});
  return artifacts;
}

Json output_artifacts(const Step& step, const StepPlan& plan, const CompileOptions& options) {
  Json artifacts = Json::array();
  if (options.artifacts != ArtifactPassing::s3) return artifacts;
  const std::string& name = step.name.value;
  std::string prefix = options.s3_key_prefix.empty() ? "" : options.s3_key_prefix + "/";
  for (const auto& output : plan.outputs) {
    std::string io = io_name(output);
    artifacts.push_back({{"name", io},
                         {"path", argo_output_path(name, io)},
                         {"s3", {{"key", fmt::format("{}{{{{workflow.name}}}}/{}/{}.tgz", prefix, name, io)}}}});
  }
  return artifacts;
}

Json step_template(const Pipeline& pipeline, const Step& step, const StepPlan& plan, const CompileOptions& options) {
  const std::string& name = step.name.value;
  Json t = {{"name", name}, {"container", container(pipeline, step, plan, options)}};
  if (Json in = input_artifacts(pipeline, plan, options.artifacts); !in.empty()) t["inputs"]["artifacts"] = in;
  if (Json out = output_artifacts(step, plan, options); !out.empty()) t["outputs"]["artifacts"] = out;
  // The metrics output is also an output parameter, so `argo get` and the UI show it.
  // So is a staged registration, which the submitter reads from the workflow's status.
  std::optional<std::string> parameter;
  if (step.metrics) parameter = io_name(step.metrics->value);
  if (plan.stages_registration) parameter = std::string(k_registration_output);
  if (parameter)
    t["outputs"]["parameters"] =
        Json::array({{{"name", *parameter}, {"valueFrom", {{"path", argo_output_path(name, *parameter)}}}}});
  if (int retries = step.retry_count(); retries > 0) t["retryStrategy"] = {{"limit", retries}};
  if (auto seconds = step.timeout_seconds()) t["activeDeadlineSeconds"] = *seconds;
  if (options.artifacts == ArtifactPassing::s3 && !plan.outputs.empty())
    t["volumes"] = Json::array({{{"name", k_outputs_volume}, {"emptyDir", Json::object()}}});
  return t;
}

Json dag_task(const Pipeline& pipeline, const Dag& dag, size_t index, const StepPlan& plan,
              ArtifactPassing passing) {
  const std::string& name = pipeline.steps[index].name.value;
  Json task = {{"name", name}, {"template", name}};
  if (!dag.needs[index].empty()) task["dependencies"] = names_of(dag, dag.needs[index]);
  if (passing == ArtifactPassing::s3 && !plan.upstream.empty()) {
    Json artifacts = Json::array();
    for (const auto& up : plan.upstream) {
      const std::string& producer = pipeline.steps[up.step].name.value;
      artifacts.push_back({{"name", upstream_key(producer, up.output)},
                           {"from", fmt::format("{{{{tasks.{}.outputs.artifacts.{}}}}}", producer, io_name(up.output))}});
    }
    task["arguments"]["artifacts"] = std::move(artifacts);
  }
  return task;
}

Json volume_claim(const VolumeOptions& volume) {
  Json spec = {{"accessModes", Json::array({volume.access_mode})},
               {"resources", {{"requests", {{"storage", volume.size}}}}}};
  if (!volume.storage_class.empty()) spec["storageClassName"] = volume.storage_class;
  return {{"metadata", {{"name", k_run_volume}}}, {"spec", std::move(spec)}};
}

Result<Json> workflow_spec(const Pipeline& pipeline, const CompileOptions& options) {
  Dag dag = build_dag(pipeline);
  if (auto order = topological_order(dag); !order) return std::unexpected(order.error());
  auto params = param_values(pipeline, options);
  if (!params) return std::unexpected(params.error());

  StepPlanner planner(pipeline, options, argo_placeholders());
  const std::string entry = entry_name(pipeline);
  Json tasks = Json::array();
  Json templates = Json::array({{{"name", entry}}});
  bool any_outputs = false;
  for (size_t i = 0; i < pipeline.steps.size(); ++i) {
    if (auto named = check_task_name(pipeline.steps[i].name.value); !named) return std::unexpected(named.error());
    auto plan = planner.plan(i);
    if (!plan) return std::unexpected(plan.error());
    any_outputs = any_outputs || !plan->outputs.empty();
    tasks.push_back(dag_task(pipeline, dag, i, *plan, options.artifacts));
    templates.push_back(step_template(pipeline, pipeline.steps[i], *plan, options));
  }
  templates[0]["dag"]["tasks"] = std::move(tasks);

  Json spec = {{"entrypoint", entry}, {"templates", std::move(templates)}};
  if (!params->empty()) {
    Json list = Json::array();
    for (const auto& [name, value] : *params) list.push_back({{"name", name}, {"value", value}});
    spec["arguments"]["parameters"] = std::move(list);
  }
  if (options.artifacts == ArtifactPassing::volume && any_outputs)
    spec["volumeClaimTemplates"] = Json::array({volume_claim(options.volume)});
  if (options.artifacts == ArtifactPassing::s3 && !options.artifact_repository.config_map.empty()) {
    spec["artifactRepositoryRef"] = {{"configMap", options.artifact_repository.config_map}};
    if (!options.artifact_repository.key.empty()) spec["artifactRepositoryRef"]["key"] = options.artifact_repository.key;
  }
  if (!options.service_account.empty()) spec["serviceAccountName"] = options.service_account;
  return spec;
}

Result<ArgoKind> resolve_kind(const Pipeline& pipeline, const CompileOptions& options) {
  switch (options.kind) {
    case ArgoKind::automatic: return pipeline.schedule ? ArgoKind::cron_workflow : ArgoKind::workflow;
    case ArgoKind::cron_workflow:
      if (!pipeline.schedule)
        return fail(Errc::invalid, fmt::format("pipeline '{}' has no schedule, which a CronWorkflow needs",
                                               pipeline.name.value),
                    "add `schedule:` to the pipeline file");
      break;
    case ArgoKind::workflow_template:
      if (options.pipeline_version.empty())
        return fail(Errc::invalid, "a WorkflowTemplate is named with the pipeline version, but none was given",
                    "set `version` in mlctl.yaml");
      break;
    case ArgoKind::workflow: break;
  }
  return options.kind;
}

Result<Json> argo_document(const Pipeline& pipeline, const CompileOptions& options) {
  auto kind = resolve_kind(pipeline, options);
  if (!kind) return std::unexpected(kind.error());
  auto spec = workflow_spec(pipeline, options);
  if (!spec) return std::unexpected(spec.error());

  Json labels = Json::object();
  for (const auto& [key, value] : pipeline_labels(pipeline, options)) labels[key] = value;
  Json metadata = {{"labels", labels}};
  if (!options.namespace_name.empty()) metadata["namespace"] = options.namespace_name;
  Json document = {{"apiVersion", k_api_version}};
  switch (*kind) {
    case ArgoKind::automatic:
    case ArgoKind::workflow:
      document["kind"] = "Workflow";
      metadata["generateName"] = pipeline.name.value + "-";
      document["spec"] = std::move(*spec);
      break;
    case ArgoKind::cron_workflow:
      document["kind"] = "CronWorkflow";
      metadata["name"] = pipeline.name.value;
      // An overrunning training run must not be joined by the next one.
      document["spec"] = {{"schedules", Json::array({pipeline.schedule->value})},
                          {"concurrencyPolicy", "Forbid"},
                          {"workflowMetadata", {{"labels", labels}}},
                          {"workflowSpec", std::move(*spec)}};
      break;
    case ArgoKind::workflow_template: {
      auto name = argo_template_name(pipeline.name.value, options.pipeline_version);
      if (!name) return std::unexpected(name.error());
      document["kind"] = "WorkflowTemplate";
      metadata["name"] = *name;
      (*spec)["workflowMetadata"] = {{"labels", labels}};
      document["spec"] = std::move(*spec);
      break;
    }
  }
  document["metadata"] = std::move(metadata);
  return document;
}

}  // namespace

std::string argo_output_path(std::string_view step, std::string_view output) {
  return fmt::format("{}/{}/{}", k_argo_outputs_dir, step, output);
}

Result<std::string> argo_template_name(std::string_view pipeline, std::string_view version) {
  std::string wanted = fmt::format("{}-{}", pipeline, version);
  auto name = core::to_dns1123_label(wanted);
  if (!name || wanted.size() > 63)
    return fail(Errc::invalid, fmt::format("'{}' is too long for a WorkflowTemplate name (63 characters)", wanted),
                "shorten the pipeline name");
  return *name;
}

Result<nlohmann::json> compile_argo(const Pipeline& pipeline, const CompileOptions& options) {
  auto document = argo_document(pipeline, options);
  if (!document) document.error().context(fmt::format("compiling pipeline '{}' for Argo", pipeline.name.value));
  return document;
}

}  // namespace mlctl::pipeline
