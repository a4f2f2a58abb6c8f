#include <mlctl/pipeline/compile/kfp.hpp>

#include <mlctl/pipeline/compile/step_plan.hpp>
#include <mlctl/pipeline/dag.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>
#include <utility>

#include <fmt/format.h>

namespace mlctl::pipeline {

namespace {

using Json = nlohmann::json;

constexpr std::string_view k_artifact_schema_version = "0.0.1";

std::string component_key(std::string_view step) { return fmt::format("comp-{}", step); }
std::string executor_key(std::string_view step) { return fmt::format("exec-{}", step); }

Placeholders kfp_placeholders() {
  return {
      .param = [](std::string_view name) { return fmt::format("{{{{$.inputs.parameters['{}']}}}}", name); },
      .own_output = [](std::string_view, std::string_view output) {
        return fmt::format("{{{{$.outputs.artifacts['{}'].path}}}}", output);
      },
      .upstream_output = [](std::string_view step, std::string_view output) {
        return fmt::format("{{{{$.inputs.artifacts['{}'].path}}}}", upstream_key(step, output));
      },
      .run_id = fmt::format("{{{{$.inputs.parameters['{}']}}}}", k_kfp_run_id_input),
      .value_file = [](std::string_view) -> Result<std::string> {
        return fail(Errc::invalid, "KFP passes only other steps' outputs as files ({inputPath}), not values",
                    "give the argument as {{steps.STEP.outputs.NAME}}, or compile for Argo");
      },
  };
}

// The artifact type of an output, as KFP's compiler maps a v1 component's output types.
std::string_view artifact_schema(const Step& producer, std::string_view output) {
  if (producer.metrics && producer.metrics->value == output) return "system.Metrics";
  if (!producer.component_spec) return "system.Artifact";
  const ComponentOutput* spec = producer.component_spec->find_output(output);
  std::string type = spec ? spec->type : "";
  std::ranges::transform(type, type.begin(), [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; });
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 7> k_types = {{
      {"model", "system.Model"},
      {"dataset", "system.Dataset"},
      {"metrics", "system.Metrics"},
      {"html", "system.HTML"},
      {"markdown", "system.Markdown"},
      {"classificationmetrics", "system.ClassificationMetrics"},
      {"slicedclassificationmetrics", "system.SlicedClassificationMetrics"},
  }};
  auto it = std::ranges::find(k_types, type, &std::pair<std::string_view, std::string_view>::first);
  return it == k_types.end() ? "system.Artifact" : it->second;
}

Json artifact_type(std::string_view schema) {
  return {{"artifactType", {{"schemaTitle", schema}, {"schemaVersion", k_artifact_schema_version}}}};
}

std::optional<double> number(std::string_view text) {
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// KFP's older resource fields: cores, and memory in GB ("4Gi" -> 4.294967296), as its SDK writes.
std::optional<double> cpu_cores(std::string_view quantity) {
  bool milli = quantity.ends_with('m');
  auto value = number(milli ? quantity.substr(0, quantity.size() - 1) : quantity);
  return value && milli ? *value / 1000 : value;
}

std::optional<double> memory_gb(std::string_view quantity) {
  static constexpr std::array<std::pair<std::string_view, double>, 12> k_units = {{
      {"Ki", 0x1p10}, {"Mi", 0x1p20}, {"Gi", 0x1p30}, {"Ti", 0x1p40}, {"Pi", 0x1p50}, {"Ei", 0x1p60},
      {"k", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {"P", 1e15}, {"E", 1e18},
  }};
  double unit = 1;
  for (const auto& [suffix, bytes] : k_units)
    if (quantity.ends_with(suffix)) {
      quantity.remove_suffix(suffix.size());
      unit = bytes;
      break;
    }
  auto value = number(quantity);
  if (!value) return std::nullopt;
  return *value * unit / 1e9;
}

// Requests equal limits, as on Argo.
Json resources(const Resources& wanted) {
  Json out = Json::object();
  if (wanted.cpu) {
    out["resourceCpuLimit"] = out["resourceCpuRequest"] = wanted.cpu->value;
    if (auto cores = cpu_cores(wanted.cpu->value)) out["cpuLimit"] = out["cpuRequest"] = *cores;
  }
  if (wanted.memory) {
    out["resourceMemoryLimit"] = out["resourceMemoryRequest"] = wanted.memory->value;
    if (auto gb = memory_gb(wanted.memory->value)) out["memoryLimit"] = out["memoryRequest"] = *gb;
  }
  if (int gpus = wanted.gpu_count(); gpus > 0) {
    std::string count = std::to_string(gpus);
    out["accelerator"] = {{"type", k_gpu_resource}, {"resourceType", k_gpu_resource},
                          {"count", count}, {"resourceCount", count}};
  }
  return out;
}

Result<Json> executor(const Step& step, const StepPlan& plan) {
  Json container = {{"image", plan.image}};
  if (!plan.command.empty()) container["command"] = plan.command;
  if (!plan.args.empty()) container["args"] = plan.args;
  if (!plan.env.empty()) {
    Json env = Json::array();
    for (const auto& var : plan.env) {
      if (var.runtime)
        return fail(Errc::invalid,
                    fmt::format("step '{}': env.{}: KFP does not fill in references in environment variables",
                                step.name.value, var.name),
                    "pass the value in the command instead");
      env.push_back({{"name", var.name}, {"value", var.value}});
    }
    container["env"] = std::move(env);
  }
  if (Json wanted = resources(step.resources); !wanted.empty()) container["resources"] = std::move(wanted);
  return Json{{"container", std::move(container)}};
}

Json component(const Pipeline& pipeline, const Step& step, const StepPlan& plan) {
  Json c = {{"executorLabel", executor_key(step.name.value)}};
  for (const auto& param : plan.params) c["inputDefinitions"]["parameters"][param] = {{"parameterType", "STRING"}};
  if (plan.reads_run_id) c["inputDefinitions"]["parameters"][k_kfp_run_id_input] = {{"parameterType", "STRING"}};
  for (const auto& up : plan.upstream) {
    const Step& producer = pipeline.steps[up.step];
    c["inputDefinitions"]["artifacts"][upstream_key(producer.name.value, up.output)] =
        artifact_type(artifact_schema(producer, up.output));
  }
  for (const auto& output : plan.outputs)
    c["outputDefinitions"]["artifacts"][io_name(output)] = artifact_type(artifact_schema(step, output));
  return c;
}

Json task(const Pipeline& pipeline, const Dag& dag, size_t index, const StepPlan& plan) {
  const Step& step = pipeline.steps[index];
  // A built-in action changes the registry: running it again must not be skipped as cached.
  Json t = {{"cachingOptions", {{"enableCache", step.kind != StepKind::uses}}},
            {"componentRef", {{"name", component_key(step.name.value)}}},
            {"taskInfo", {{"name", step.name.value}}}};
  if (!dag.needs[index].empty()) {
    auto needed = names_of(dag, dag.needs[index]);
    std::ranges::sort(needed);
    t["dependentTasks"] = needed;
  }
  for (const auto& param : plan.params) t["inputs"]["parameters"][param] = {{"componentInputParameter", param}};
  if (plan.reads_run_id)
    t["inputs"]["parameters"][k_kfp_run_id_input] = {{"runtimeValue", {{"constant", "{{$.pipeline_job_uuid}}"}}}};
  for (const auto& up : plan.upstream) {
    const std::string& producer = pipeline.steps[up.step].name.value;
    t["inputs"]["artifacts"][upstream_key(producer, up.output)] = {
        {"taskOutputArtifact", {{"producerTask", producer}, {"outputArtifactKey", io_name(up.output)}}}};
  }
  if (int retries = step.retry_count(); retries > 0) t["retryPolicy"] = {{"maxRetryCount", retries}};
  return t;
}

Result<Json> root_inputs(const Pipeline& pipeline, const CompileOptions& options) {
  if (pipeline.find_param(k_kfp_run_id_input))
    return fail(Errc::invalid, fmt::format("the param name '{}' is reserved for KFP's run id", k_kfp_run_id_input),
                "rename the param");
  auto params = param_values(pipeline, options);
  if (!params) return std::unexpected(params.error());
  Json inputs = Json::object();
  for (const auto& [name, value] : *params)
    inputs["parameters"][name] = {{"parameterType", "STRING"}, {"defaultValue", value}, {"isOptional", true}};
  return inputs;
}

Json pipeline_info(const Pipeline& pipeline, const CompileOptions& options) {
  Json info = {{"name", pipeline.name.value}};
  std::vector<std::string> about;
  if (!options.pipeline_version.empty()) about.push_back(fmt::format("version {}", options.pipeline_version));
  if (!options.git_commit.empty()) about.push_back(fmt::format("git commit {}", options.git_commit));
  if (!about.empty()) info["description"] = fmt::format("{}", fmt::join(about, ", "));
  return info;
}

Result<Json> pipeline_spec(const Pipeline& pipeline, const CompileOptions& options) {
  Dag dag = build_dag(pipeline);
  if (auto order = topological_order(dag); !order) return std::unexpected(order.error());
  auto inputs = root_inputs(pipeline, options);
  if (!inputs) return std::unexpected(inputs.error());

  StepPlanner planner(pipeline, options, kfp_placeholders());
  Json components = Json::object();
  Json executors = Json::object();
  Json tasks = Json::object();
  for (size_t i = 0; i < pipeline.steps.size(); ++i) {
    const std::string& name = pipeline.steps[i].name.value;
    auto plan = planner.plan(i);
    if (!plan) return std::unexpected(plan.error());
    auto exec = executor(pipeline.steps[i], *plan);
    if (!exec) return std::unexpected(exec.error());
    executors[executor_key(name)] = std::move(*exec);
    components[component_key(name)] = component(pipeline, pipeline.steps[i], *plan);
    tasks[name] = task(pipeline, dag, i, *plan);
  }
  Json root = {{"dag", {{"tasks", std::move(tasks)}}}};
  if (!inputs->empty()) root["inputDefinitions"] = std::move(*inputs);
  Json spec = {{"components", std::move(components)},
               {"deploymentSpec", {{"executors", std::move(executors)}}},
               {"pipelineInfo", pipeline_info(pipeline, options)},
               {"root", std::move(root)},
               {"schemaVersion", k_kfp_schema_version},
               {"sdkVersion", options.tool_version.empty() ? "mlctl" : "mlctl-" + options.tool_version}};
  if (!options.pipeline_root.empty()) spec["defaultPipelineRoot"] = options.pipeline_root;
  return spec;
}

}  // namespace

Result<nlohmann::json> compile_kfp(const Pipeline& pipeline, const CompileOptions& options) {
  auto spec = pipeline_spec(pipeline, options);
  if (!spec) return std::unexpected(spec.error().context(fmt::format("compiling pipeline '{}' for KFP", pipeline.name.value)));
  return spec;
}

}  // namespace mlctl::pipeline
