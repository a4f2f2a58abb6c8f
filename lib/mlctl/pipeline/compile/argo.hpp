#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/pipeline/compile/options.hpp>
#include <mlctl/pipeline/spec.hpp>

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace mlctl::pipeline {

// Where a step finds its outputs and those of the steps it reads, in every container:
// /mlctl/outputs/<step>/<io_name(output)>. The same path in both artifact modes, so a command
// compiles to the same text whichever is used.
inline constexpr std::string_view k_argo_outputs_dir = "/mlctl/outputs";
// Where a component input given as a value but read from a file is written (a raw artifact).
inline constexpr std::string_view k_argo_inputs_dir = "/mlctl/inputs";

std::string argo_output_path(std::string_view step, std::string_view output);

// Compiles a validated pipeline to an Argo Workflows document (argoproj.io/v1alpha1 Workflow,
// CronWorkflow or WorkflowTemplate, see ArgoKind): a DAG template with one task per step and one
// container template per step. Param references become workflow parameters, {{run.id}} the
// workflow's name, output references file paths. The same pipeline and options always give the
// same document. Fails (invalid) naming the step on what cannot be compiled: a missing image, a
// step name Argo refuses, a reference the pipeline does not declare.
Result<nlohmann::json> compile_argo(const Pipeline& pipeline, const CompileOptions& options);

// The name of the WorkflowTemplate for a pipeline version, "<pipeline>-<version>" as a DNS-1123
// label ("train-1-4-0"), so that each version is its own object. Fails (invalid) when too long.
Result<std::string> argo_template_name(std::string_view pipeline, std::string_view version);

}  // namespace mlctl::pipeline
