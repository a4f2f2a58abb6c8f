#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/pipeline/compile/options.hpp>
#include <mlctl/pipeline/spec.hpp>

#include <string_view>

#include <nlohmann/json.hpp>

namespace mlctl::pipeline {

// The PipelineSpec schema version KFP v2's compiler writes (api/v2alpha1/pipeline_spec.proto).
inline constexpr std::string_view k_kfp_schema_version = "2.1.0";

// The input parameter through which a step that refers to {{run.id}} receives the run's id
// (KFP fills a task input whose constant is {{$.pipeline_job_uuid}}); no pipeline param may
// have this name.
inline constexpr std::string_view k_kfp_run_id_input = "mlctl-run-id";

// Compiles a validated pipeline to a Kubeflow Pipelines v2 pipeline spec (the IR that KFP's
// compiler writes as YAML): one component, executor and root DAG task per step. Params are
// pipeline input parameters (STRING), outputs are artifacts passed task to task, and every
// {{...}} becomes a KFP placeholder ({{$.inputs.parameters['lr']}},
// {{$.outputs.artifacts['model'].path}}). Schedules are not part of a pipeline spec (a
// recurring run is made when submitting) and neither are step timeouts. Fails (invalid) naming
// the step on what KFP cannot express: a constant passed to a component's {inputPath}, a
// reference inside an environment variable.
Result<nlohmann::json> compile_kfp(const Pipeline& pipeline, const CompileOptions& options);

}  // namespace mlctl::pipeline
