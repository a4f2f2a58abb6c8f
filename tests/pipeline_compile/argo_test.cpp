#include "fixtures.hpp"

#include <mlctl/pipeline/compile/argo.hpp>
#include <mlctl/core/yaml_out.hpp>
#include <mlctl/pipeline/load.hpp>
#include <mlctl/pipeline/parse.hpp>

#include <support/temp_dir.hpp>

#include <gtest/gtest.h>

namespace mlctl::pipeline {
namespace {

using Json = nlohmann::json;
using namespace mlctl::pipeline::fixtures;

Json compile(const Pipeline& pipeline, const CompileOptions& options) {
  auto document = compile_argo(pipeline, options);
  EXPECT_TRUE(document) << document.error().message();
  return document.value_or(Json());
}

Error compile_error(const Pipeline& pipeline, const CompileOptions& options) {
  auto document = compile_argo(pipeline, options);
  EXPECT_FALSE(document);
  return document ? Error(Errc::failed, "compiled") : document.error();
}

const Json& workflow_spec(const Json& document) {
  return document["kind"] == "CronWorkflow" ? document["spec"]["workflowSpec"] : document["spec"];
}

Json find_template(const Json& document, std::string_view name) {
  for (const Json& t : workflow_spec(document)["templates"])
    if (t["name"] == name) return t;
  ADD_FAILURE() << "no template " << name;
  return Json();
}

TEST(ArgoCompileTest, DiamondCompilesToTheExpectedWorkflow) {
  EXPECT_EQ(core::to_yaml(compile(parse(k_diamond), full_options())), golden("diamond.argo.yaml"));
}

TEST(ArgoCompileTest, DiamondWithS3ArtifactsPassesOutputsAsArtifacts) {
  CompileOptions options = full_options();
  options.artifacts = ArtifactPassing::s3;
  Json document = compile(parse(k_diamond), options);
  EXPECT_EQ(core::to_yaml(document), golden("diamond.argo-s3.yaml"));
  EXPECT_FALSE(document["spec"].contains("volumeClaimTemplates"));
  Json join = find_template(document, "join");
  EXPECT_EQ(join["inputs"]["artifacts"], Json::parse(R"([
    {"name": "left_upper", "path": "/mlctl/outputs/left/upper"},
    {"name": "right_reversed", "path": "/mlctl/outputs/right/reversed"}])"));
  EXPECT_EQ(join["outputs"]["artifacts"][0]["s3"]["key"], "mlctl/{{workflow.name}}/join/joined.tgz");
}

TEST(ArgoCompileTest, IssueExampleCompilesToACronWorkflow) {
  EXPECT_EQ(core::to_yaml(compile(train_pipeline(), full_options())), golden("train.argo.yaml"));
}

TEST(ArgoCompileTest, TrainStepCarriesResourcesRetriesTimeoutAndMetrics) {
  Json train = find_template(compile(train_pipeline(), full_options()), "train");
  EXPECT_EQ(train["container"]["resources"], Json::parse(R"({
    "requests": {"cpu": "2", "memory": "4Gi"},
    "limits": {"cpu": "2", "memory": "4Gi", "nvidia.com/gpu": 1}})"));
  EXPECT_EQ(train["retryStrategy"], Json::parse(R"({"limit": 2})"));
  EXPECT_EQ(train["activeDeadlineSeconds"], 3600);
  EXPECT_EQ(train["outputs"]["parameters"],
            Json::parse(R"([{"name": "metrics", "valueFrom": {"path": "/mlctl/outputs/train/metrics"}}])"));
  EXPECT_EQ(train["container"]["image"], k_project_image);
  EXPECT_EQ(train["container"]["command"][5], "{{workflow.parameters.lr}}");
}

TEST(ArgoCompileTest, StagedRegistrationIsStoredThenPutOutAsAParameter) {
  CompileOptions options = full_options();
  options.stage_registrations = true;
  options.artifact_store = "oci://registry.example.com/ml/models";
  options.model = "fraud";
  Json document = compile(train_pipeline(), options);
  Json register_step = find_template(document, "register");
  EXPECT_EQ(register_step["container"]["args"], Json::parse(R"([
    "--run-id", "{{workflow.name}}", "--pipeline", "train",
    "--git-commit", "0123456789abcdef0123456789abcdef01234567",
    "--artifact", "/mlctl/outputs/train/model", "--metrics", "/mlctl/outputs/train/metrics",
    "--model", "fraud", "--artifact-store", "oci://registry.example.com/ml/models",
    "--stage", "/mlctl/outputs/register/registration"])"));
  EXPECT_EQ(register_step["outputs"]["parameters"],
            Json::parse(R"([{"name": "registration", "valueFrom": {"path": "/mlctl/outputs/register/registration"}}])"));
  EXPECT_EQ(register_step["container"]["volumeMounts"][0],
            Json::parse(R"({"mountPath": "/mlctl/outputs/register", "name": "mlctl", "subPath": "outputs/register"})"));
  // Without staging the step registers in the pod, as before.
  EXPECT_FALSE(find_template(compile(train_pipeline(), full_options()), "register").contains("outputs"));
}

TEST(ArgoCompileTest, DependenciesComeFromNeedsWithoutMountingAnything) {
  Pipeline pipeline = parse(R"(name: order
steps:
  - {name: first, image: alpine, command: [touch, /tmp/x]}
  - {name: second, image: alpine, command: [echo, done], needs: [first]}
)");
  Json document = compile(pipeline, CompileOptions{});
  EXPECT_EQ(document["spec"]["templates"][0]["dag"]["tasks"], Json::parse(R"([
    {"name": "first", "template": "first"},
    {"name": "second", "template": "second", "dependencies": ["first"]}])"));
  EXPECT_EQ(find_template(document, "second")["container"], Json::parse(R"(
    {"image": "alpine", "command": ["echo", "done"]})"));
  EXPECT_FALSE(document["spec"].contains("volumeClaimTemplates"));
  EXPECT_FALSE(document["spec"].contains("arguments"));
}

TEST(ArgoCompileTest, KindFollowsTheScheduleUnlessChosen) {
  Json diamond = compile(parse(k_diamond), full_options());
  EXPECT_EQ(diamond["kind"], "Workflow");
  EXPECT_EQ(diamond["metadata"]["generateName"], "diamond-");
  EXPECT_FALSE(diamond["metadata"].contains("name"));

  CompileOptions options = full_options();
  options.kind = ArgoKind::workflow;
  Json once = compile(train_pipeline(), options);
  EXPECT_EQ(once["kind"], "Workflow");
  EXPECT_EQ(once["spec"]["entrypoint"], "main");
  EXPECT_FALSE(once["spec"].contains("schedules"));
}

TEST(ArgoCompileTest, WorkflowTemplatesOfTwoVersionsHaveTwoNames) {
  CompileOptions options = full_options();
  options.kind = ArgoKind::workflow_template;
  options.namespace_name = "ml-dev";
  Json v1 = compile(train_pipeline(), options);
  options.pipeline_version = "2.0.0";
  Json v2 = compile(train_pipeline(), options);
  EXPECT_EQ(v1["kind"], "WorkflowTemplate");
  EXPECT_EQ(v1["metadata"]["name"], "train-1-4-0");
  EXPECT_EQ(v2["metadata"]["name"], "train-2-0-0");
  EXPECT_EQ(v1["metadata"]["namespace"], "ml-dev");
  EXPECT_EQ(v2["spec"]["workflowMetadata"]["labels"], Json::parse(R"({
    "mlctl.dev/pipeline": "train", "mlctl.dev/pipeline-version": "2.0.0",
    "mlctl.dev/git-commit": "0123456789abcdef0123456789abcdef01234567"})"));
  EXPECT_EQ(v2["metadata"]["labels"], v2["spec"]["workflowMetadata"]["labels"]);
}

TEST(ArgoCompileTest, TemplateNamesAreDnsLabels) {
  EXPECT_EQ(argo_template_name("train", "1.4.0-rc.1+build.5").value_or(""), "train-1-4-0-rc-1-build-5");
  auto too_long = argo_template_name(std::string(60, 'a'), "1.4.0");
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.error().message(),
            "'" + std::string(60, 'a') + "-1.4.0' is too long for a WorkflowTemplate name (63 characters)");
}

TEST(ArgoCompileTest, LabelValuesFollowKubernetesRules) {
  CompileOptions options = full_options();
  options.pipeline_version = "1.4.0+build.5";
  options.git_commit.clear();
  EXPECT_EQ(compile(parse(k_diamond), options)["metadata"]["labels"], Json::parse(R"({
    "mlctl.dev/pipeline": "diamond", "mlctl.dev/pipeline-version": "1.4.0_build.5"})"));
}

TEST(ArgoCompileTest, ParamOverridesReplaceDefaults) {
  CompileOptions options = full_options();
  options.params = {{"lr", "0.01"}};
  Json document = compile(train_pipeline(), options);
  EXPECT_EQ(document["spec"]["workflowSpec"]["arguments"]["parameters"],
            Json::parse(R"([{"name": "lr", "value": "0.01"}])"));
}

TEST(ArgoCompileTest, VolumeAndArtifactOptionsReachTheSpec) {
  CompileOptions options = full_options();
  options.volume = {"20Gi", "fast-ssd", "ReadWriteMany"};
  options.service_account = "trainer";
  Json spec = compile(parse(k_diamond), options)["spec"];
  EXPECT_EQ(spec["volumeClaimTemplates"], Json::parse(R"([{"metadata": {"name": "mlctl"}, "spec": {
    "accessModes": ["ReadWriteMany"], "storageClassName": "fast-ssd",
    "resources": {"requests": {"storage": "20Gi"}}}}])"));
  EXPECT_EQ(spec["serviceAccountName"], "trainer");

  options.artifacts = ArtifactPassing::s3;
  options.artifact_repository = {"artifact-repositories", "s3-models"};
  options.s3_key_prefix = "runs";
  spec = compile(parse(k_diamond), options)["spec"];
  EXPECT_EQ(spec["artifactRepositoryRef"], Json::parse(R"({"configMap": "artifact-repositories", "key": "s3-models"})"));
  EXPECT_EQ(spec["templates"][1]["outputs"]["artifacts"][0]["s3"]["key"], "runs/{{workflow.name}}/source/text.tgz");
}

// A component whose variable is overridden by the step, and an input read from a file that
// the pipeline gives as a value.
constexpr std::string_view k_evaluate = R"(name: env
params: {level: debug}
steps:
  - name: evaluate
    component: ../pipelines/train/components/evaluate/component.yaml
    arguments: {model: /models/model.pkl, report format: html}
    env: {PYTHONUNBUFFERED: "0", LOG_LEVEL: "{{params.level}}"}
)";

TEST(ArgoCompileTest, StepEnvOverridesTheComponentsAndTakesParams) {
  Json evaluate = find_template(compile(parse(k_evaluate), full_options()), "evaluate");
  EXPECT_EQ(evaluate["container"]["env"], Json::parse(R"([
    {"name": "PYTHONUNBUFFERED", "value": "0"},
    {"name": "LOG_LEVEL", "value": "{{workflow.parameters.level}}"}])"));
}

TEST(ArgoCompileTest, ComponentValueReadFromAFileBecomesARawArtifact) {
  Json evaluate = find_template(compile(parse(k_evaluate), full_options()), "evaluate");
  EXPECT_EQ(evaluate["inputs"]["artifacts"], Json::parse(R"([
    {"name": "model", "path": "/mlctl/inputs/model", "raw": {"data": "/models/model.pkl"}}])"));
  EXPECT_EQ(evaluate["container"]["args"], Json::parse(R"([
    "--model", "/mlctl/inputs/model", "--threshold=0.5", "--format", "html", "--metrics",
    "/mlctl/outputs/evaluate/metrics"])"));
  EXPECT_EQ(evaluate["container"]["image"], "python:3.11-slim");
}

TEST(ArgoCompileTest, RealKfpComponentsCompile) {
  Json document = compile(parse(k_components), full_options());
  EXPECT_EQ(core::to_yaml(document), golden("components.argo.yaml"));
  Json get_file = find_template(document, "get-file");
  EXPECT_EQ(get_file["container"]["command"][4], "/mlctl/outputs/clone/Repo_dir");
  EXPECT_EQ(get_file["container"]["volumeMounts"][1],
            Json::parse(R"({"name": "mlctl", "mountPath": "/mlctl/outputs/clone", "subPath": "outputs/clone",
                            "readOnly": true})"));
  EXPECT_EQ(find_template(document, "launch")["container"]["args"][1], "train-{{workflow.name}}");
}

TEST(ArgoCompileTest, SameInputGivesByteIdenticalOutput) {
  CompileOptions options = full_options();
  std::string first = core::to_yaml(compile(parse(k_components), options));
  std::string second = core::to_yaml(compile(parse(k_components), options));
  EXPECT_EQ(first, second);
  options.artifacts = ArtifactPassing::s3;
  EXPECT_EQ(compile(train_pipeline(), options).dump(), compile(train_pipeline(), options).dump());
}

TEST(ArgoCompileTest, MissingProjectImageNamesTheStep) {
  CompileOptions options = full_options();
  options.self_image.clear();
  Error error = compile_error(train_pipeline(), options);
  EXPECT_EQ(error.code(), Errc::invalid);
  EXPECT_EQ(error.message(),
            "compiling pipeline 'train' for Argo: step 'prepare': a step without an image runs in the project "
            "image, but none was given");
  EXPECT_EQ(error.hint(), "build and push it with `mlctl build --push`, then pass it as --image REF@sha256:DIGEST");

  Pipeline one = parse(R"(name: one
steps:
  - {name: fetch, image: alpine, command: [echo]}
  - {name: train, image: self, command: [python3, train.py]}
)");
  EXPECT_EQ(compile_error(one, options).message(),
            "compiling pipeline 'one' for Argo: step 'train': image: self is the project image, but none was given");
  options.self_image = "registry.example.com/ml/train:1.4.0";
  EXPECT_EQ(compile_error(one, options).message(),
            "compiling pipeline 'one' for Argo: step 'train': the project image "
            "'registry.example.com/ml/train:1.4.0' is not pinned by a digest");
}

TEST(ArgoCompileTest, MissingToolImageNamesTheActionStep) {
  CompileOptions options = full_options();
  options.tool_image.clear();
  EXPECT_EQ(compile_error(train_pipeline(), options).message(),
            "compiling pipeline 'train' for Argo: step 'register': the built-in action 'register' runs in the mlctl "
            "image, but none was given");
}

TEST(ArgoCompileTest, UnknownParamOverrideSuggestsTheNearest) {
  CompileOptions options = full_options();
  options.params = {{"rl", "0.2"}};
  Error error = compile_error(train_pipeline(), options);
  EXPECT_EQ(error.message(), "compiling pipeline 'train' for Argo: pipeline 'train' has no param 'rl'");
  EXPECT_EQ(error.hint(), "did you mean 'lr'?");
}

TEST(ArgoCompileTest, KindsThatCannotBeMadeFail) {
  CompileOptions options = full_options();
  options.kind = ArgoKind::cron_workflow;
  EXPECT_EQ(compile_error(parse(k_diamond), options).message(),
            "compiling pipeline 'diamond' for Argo: pipeline 'diamond' has no schedule, which a CronWorkflow needs");
  options.kind = ArgoKind::workflow_template;
  options.pipeline_version.clear();
  EXPECT_EQ(compile_error(parse(k_diamond), options).message(),
            "compiling pipeline 'diamond' for Argo: a WorkflowTemplate is named with the pipeline version, but none "
            "was given");
}

TEST(ArgoCompileTest, StepNamesStartingWithADigitFail) {
  Pipeline pipeline = parse("name: digits\nsteps:\n  - {name: 1st, image: alpine, command: [echo]}\n");
  Error error = compile_error(pipeline, CompileOptions{});
  EXPECT_EQ(error.message(), "compiling pipeline 'digits' for Argo: step '1st': Argo task names cannot start with a digit");
  EXPECT_EQ(error.hint(), "rename the step to start with a letter");
}

TEST(ArgoCompileTest, ACycleFailsNamingIt) {
  // parse_pipeline does not validate, so the cycle reaches the compiler.
  ParsedPipeline parsed = parse_pipeline(R"(name: loop
steps:
  - {name: a, image: alpine, command: [cat, "{{steps.b.outputs.x}}"], outputs: [y]}
  - {name: b, image: alpine, command: [cat, "{{steps.a.outputs.y}}"], outputs: [x]}
)", "loop.yaml");
  ASSERT_TRUE(parsed.problems.empty());
  EXPECT_EQ(compile_error(parsed.pipeline, CompileOptions{}).message(),
            "compiling pipeline 'loop' for Argo: cycle: a -> b -> a");
}

TEST(ArgoCompileTest, OutputsThatCollideAsFileNamesFail) {
  mlctl::test::TempDir dir;
  dir.write("component.yaml", R"(name: Two outputs
outputs:
- {name: out put}
- {name: out_put}
implementation:
  container:
    image: alpine
    command: [sh, -c, "touch $0 $1", {outputPath: out put}, {outputPath: out_put}]
)");
  PipelineCheck checked = check_pipeline("name: clash\nsteps:\n  - {name: make, component: component.yaml}\n",
                                         "pipeline.yaml", dir.path());
  ASSERT_TRUE(checked.pipeline) << checked.problems.front().to_string();
  Error error = compile_error(*checked.pipeline, CompileOptions{});
  EXPECT_EQ(error.message(),
            "compiling pipeline 'clash' for Argo: step 'make': two outputs are both named 'out_put' once made file "
            "names");
}

}  // namespace
}  // namespace mlctl::pipeline
