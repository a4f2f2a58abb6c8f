#include "fixtures.hpp"

#include <mlctl/pipeline/compile/kfp.hpp>
#include <mlctl/core/yaml_out.hpp>

#include <gtest/gtest.h>

namespace mlctl::pipeline {
namespace {

using Json = nlohmann::json;
using Strings = std::vector<std::string>;
using namespace mlctl::pipeline::fixtures;

Json compile(const Pipeline& pipeline, const CompileOptions& options) {
  auto spec = compile_kfp(pipeline, options);
  EXPECT_TRUE(spec) << spec.error().message();
  return spec.value_or(Json());
}

Error compile_error(const Pipeline& pipeline, const CompileOptions& options) {
  auto spec = compile_kfp(pipeline, options);
  EXPECT_FALSE(spec);
  return spec ? Error(Errc::failed, "compiled") : spec.error();
}

Strings keys(const Json& object) {
  Strings names;
  for (auto it = object.begin(); it != object.end(); ++it) names.push_back(it.key());
  return names;
}

TEST(KfpCompileTest, DiamondCompilesToTheExpectedPipelineSpec) {
  EXPECT_EQ(core::to_yaml(compile(parse(k_diamond), full_options())), golden("diamond.kfp.yaml"));
}

// The field names of api/v2alpha1/pipeline_spec.proto in their JSON form (PipelineSpec,
// ComponentSpec, PipelineTaskSpec, PipelineContainerSpec).
TEST(KfpCompileTest, DocumentUsesThePipelineSpecProtoFields) {
  Json spec = compile(parse(k_diamond), full_options());
  EXPECT_EQ(keys(spec), (Strings{"components", "deploymentSpec", "pipelineInfo", "root", "schemaVersion", "sdkVersion"}));
  EXPECT_EQ(spec["schemaVersion"], "2.1.0");
  EXPECT_EQ(spec["sdkVersion"], "mlctl-0.1.0");
  EXPECT_EQ(keys(spec["root"]), (Strings{"dag", "inputDefinitions"}));
  EXPECT_EQ(keys(spec["root"]["dag"]["tasks"]), (Strings{"join", "left", "right", "source"}));
  EXPECT_EQ(spec["root"]["dag"]["tasks"]["join"], Json::parse(R"({
    "cachingOptions": {"enableCache": true},
    "componentRef": {"name": "comp-join"},
    "dependentTasks": ["left", "right"],
    "inputs": {"artifacts": {
      "left_upper": {"taskOutputArtifact": {"producerTask": "left", "outputArtifactKey": "upper"}},
      "right_reversed": {"taskOutputArtifact": {"producerTask": "right", "outputArtifactKey": "reversed"}}}},
    "taskInfo": {"name": "join"}})"));
  EXPECT_EQ(spec["root"]["dag"]["tasks"]["source"]["inputs"],
            Json::parse(R"({"parameters": {"greeting": {"componentInputParameter": "greeting"}}})"));
  EXPECT_EQ(spec["root"]["inputDefinitions"], Json::parse(R"({"parameters": {
    "greeting": {"parameterType": "STRING", "defaultValue": "hello", "isOptional": true}}})"));
  EXPECT_EQ(spec["components"]["comp-source"], Json::parse(R"({
    "executorLabel": "exec-source",
    "inputDefinitions": {"parameters": {"greeting": {"parameterType": "STRING"}}},
    "outputDefinitions": {"artifacts": {"text": {"artifactType":
      {"schemaTitle": "system.Artifact", "schemaVersion": "0.0.1"}}}}})"));
  EXPECT_EQ(spec["deploymentSpec"]["executors"]["exec-source"], Json::parse(R"({"container": {
    "image": "registry.example.com/ml/train@sha256:1111111111111111111111111111111111111111111111111111111111111111",
    "command": ["sh", "-c",
                "echo {{$.inputs.parameters['greeting']}} > {{$.outputs.artifacts['text'].path}}"]}})"));
  EXPECT_EQ(spec["pipelineInfo"], Json::parse(R"({"name": "diamond",
    "description": "version 1.4.0, git commit 0123456789abcdef0123456789abcdef01234567"})"));
}

TEST(KfpCompileTest, IssueExampleCompiles) {
  EXPECT_EQ(core::to_yaml(compile(train_pipeline(), full_options())), golden("train.kfp.yaml"));
}

TEST(KfpCompileTest, TrainExecutorHasResourcesAndTaskRetries) {
  Json spec = compile(train_pipeline(), full_options());
  EXPECT_EQ(spec["deploymentSpec"]["executors"]["exec-train"]["container"]["resources"], Json::parse(R"({
    "resourceCpuLimit": "2", "resourceCpuRequest": "2", "cpuLimit": 2.0, "cpuRequest": 2.0,
    "resourceMemoryLimit": "4Gi", "resourceMemoryRequest": "4Gi",
    "memoryLimit": 4.294967296, "memoryRequest": 4.294967296,
    "accelerator": {"type": "nvidia.com/gpu", "resourceType": "nvidia.com/gpu", "count": "1", "resourceCount": "1"}})"));
  EXPECT_EQ(spec["root"]["dag"]["tasks"]["train"]["retryPolicy"], Json::parse(R"({"maxRetryCount": 2})"));
  EXPECT_EQ(spec["components"]["comp-train"]["outputDefinitions"]["artifacts"]["metrics"]["artifactType"]["schemaTitle"],
            "system.Metrics");
}

TEST(KfpCompileTest, ActionStepGetsTheRunIdAndIsNeverCached) {
  Json task = compile(train_pipeline(), full_options())["root"]["dag"]["tasks"]["register"];
  EXPECT_EQ(task["cachingOptions"]["enableCache"], false);
  EXPECT_EQ(task["inputs"]["parameters"]["mlctl-run-id"],
            Json::parse(R"({"runtimeValue": {"constant": "{{$.pipeline_job_uuid}}"}})"));
}

TEST(KfpCompileTest, CpuAndMemoryQuantitiesConvertToKfpsOlderFields) {
  Pipeline pipeline = parse(R"(name: sizes
steps:
  - {name: small, image: alpine, command: [echo], resources: {cpu: 500m, memory: 512Mi}}
  - {name: decimal, image: alpine, command: [echo], resources: {cpu: "1.5", memory: 1G}}
)");
  Json executors = compile(pipeline, CompileOptions{})["deploymentSpec"]["executors"];
  const Json& small = executors["exec-small"]["container"]["resources"];
  EXPECT_EQ(small["cpuLimit"], 0.5);
  EXPECT_EQ(small["memoryLimit"], 0.536870912);
  EXPECT_EQ(small["resourceCpuLimit"], "500m");
  const Json& decimal = executors["exec-decimal"]["container"]["resources"];
  EXPECT_EQ(decimal["cpuRequest"], 1.5);
  EXPECT_EQ(decimal["memoryRequest"], 1.0);
  EXPECT_FALSE(decimal.contains("accelerator"));
}

TEST(KfpCompileTest, RealKfpComponentsCompile) {
  Json spec = compile(parse(k_components), full_options());
  EXPECT_EQ(core::to_yaml(spec), golden("components.kfp.yaml"));
  EXPECT_EQ(spec["root"]["dag"]["tasks"]["get-file"]["inputs"]["artifacts"]["clone_Repo_dir"],
            Json::parse(R"({"taskOutputArtifact": {"producerTask": "clone", "outputArtifactKey": "Repo_dir"}})"));
  EXPECT_EQ(spec["deploymentSpec"]["executors"]["exec-launch"]["container"]["args"][1],
            "train-{{$.inputs.parameters['mlctl-run-id']}}");
}

TEST(KfpCompileTest, ParamOverridesAndPipelineRootAreWritten) {
  CompileOptions options = full_options();
  options.params = {{"lr", "0.01"}};
  options.pipeline_root = "minio://mlpipeline/v2/artifacts";
  Json spec = compile(train_pipeline(), options);
  EXPECT_EQ(spec["root"]["inputDefinitions"]["parameters"]["lr"]["defaultValue"], "0.01");
  EXPECT_EQ(spec["defaultPipelineRoot"], "minio://mlpipeline/v2/artifacts");
}

TEST(KfpCompileTest, SameInputGivesByteIdenticalOutput) {
  EXPECT_EQ(core::to_yaml(compile(parse(k_components), full_options())),
            core::to_yaml(compile(parse(k_components), full_options())));
}

TEST(KfpCompileTest, AValueForAFileInputFailsNamingTheStep) {
  Pipeline pipeline = parse(R"(name: value
steps:
  - name: evaluate
    component: ../pipelines/train/components/evaluate/component.yaml
    arguments: {model: /models/model.pkl}
)");
  Error error = compile_error(pipeline, full_options());
  EXPECT_EQ(error.code(), Errc::invalid);
  EXPECT_EQ(error.message(), "compiling pipeline 'value' for KFP: step 'evaluate': arguments.model: KFP passes only "
                             "other steps' outputs as files ({inputPath}), not values");
  EXPECT_EQ(error.hint(), "give the argument as {{steps.STEP.outputs.NAME}}, or compile for Argo");
}

TEST(KfpCompileTest, AReferenceInAnEnvironmentVariableFails) {
  Pipeline pipeline = parse(R"(name: env
params: {level: debug}
steps:
  - {name: run, image: alpine, command: [env], env: {NAME: "{{pipeline.name}}", LEVEL: "{{params.level}}"}}
)");
  EXPECT_EQ(compile_error(pipeline, full_options()).message(),
            "compiling pipeline 'env' for KFP: step 'run': env.LEVEL: KFP does not fill in references in environment "
            "variables");
}

TEST(KfpCompileTest, TheRunIdInputNameIsReserved) {
  Pipeline pipeline = parse("name: reserved\nparams: {mlctl-run-id: x}\nsteps:\n  - {name: a, image: alpine, command: [echo]}\n");
  EXPECT_EQ(compile_error(pipeline, full_options()).message(),
            "compiling pipeline 'reserved' for KFP: the param name 'mlctl-run-id' is reserved for KFP's run id");
}

TEST(KfpCompileTest, MissingProjectImageNamesTheStep) {
  CompileOptions options = full_options();
  options.self_image.clear();
  EXPECT_EQ(compile_error(train_pipeline(), options).message(),
            "compiling pipeline 'train' for KFP: step 'prepare': a step without an image runs in the project image, "
            "but none was given");
}

}  // namespace
}  // namespace mlctl::pipeline
