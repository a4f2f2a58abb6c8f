#include <mlctl/core/config.hpp>

#include <support/temp_dir.hpp>

#include <map>

#include <gtest/gtest.h>

namespace mlctl::core {
namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::vector<std::string> problems_of(std::string_view text, std::map<std::string, std::string> vars = {}) {
  std::vector<std::string> out;
  for (const auto& problem : parse_project(text, "mlctl.yaml", env_of(std::move(vars))).problems)
    out.push_back(problem.to_string());
  return out;
}

constexpr std::string_view k_full = R"(name: fraud-detector
version: 1.4.0
image:
  repository: ${REGISTRY:-registry.example.com}/ml/fraud-detector
  base: python:3.11-slim
  python: {requirements: requirements.txt, version: "3.11"}
  system_packages: [libgomp1]
  include: [src/, configs/]
  exclude: ["**/__pycache__"]
  env: {OMP_NUM_THREADS: "1", MODE: serve}
  entrypoint: [python, -m, src.serve]
  cmd: [--port, "8080"]
  user: "1000"
pipelines:
  train: pipelines/train.yaml
model:
  name: fraud
  flavor: sklearn
environments:
  dev:  {namespace: ml-dev,  branch: develop}
  prod: {namespace: ml-prod, branch: main}
)";

TEST(ConfigTest, FullProjectParsesEveryField) {
  auto checked = parse_project(k_full, "mlctl.yaml", env_of({}));
  ASSERT_TRUE(checked.problems.empty()) << checked.problems.front().to_string();
  const Project& p = *checked.project;
  EXPECT_EQ(p.name, "fraud-detector");
  EXPECT_EQ(p.version, "1.4.0");
  ASSERT_TRUE(p.image);
  EXPECT_EQ(p.image->repository, "registry.example.com/ml/fraud-detector");
  EXPECT_EQ(p.image->base, "python:3.11-slim");
  EXPECT_EQ(p.image->python_requirements.value, "requirements.txt");
  EXPECT_EQ(p.image->python_requirements.line, 6);
  EXPECT_EQ(p.image->python_version, "3.11");
  EXPECT_EQ(p.image->cmd, (std::vector<std::string>{"--port", "8080"}));
  EXPECT_EQ(p.image->user, "1000");
  EXPECT_EQ(p.image->system_packages, std::vector<std::string>{"libgomp1"});
  EXPECT_EQ(p.image->include, (std::vector<std::string>{"src/", "configs/"}));
  EXPECT_EQ(p.image->exclude, std::vector<std::string>{"**/__pycache__"});
  using Env = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(p.image->env, (Env{{"OMP_NUM_THREADS", "1"}, {"MODE", "serve"}}));
  EXPECT_EQ(p.image->entrypoint, (std::vector<std::string>{"python", "-m", "src.serve"}));
  ASSERT_EQ(p.pipelines.size(), 1u);
  EXPECT_EQ(p.pipelines[0].first, "train");
  EXPECT_EQ(p.pipelines[0].second.value, "pipelines/train.yaml");
  EXPECT_EQ(p.pipelines[0].second.line, 15);
  EXPECT_EQ(p.pipelines[0].second.column, 10);
  EXPECT_EQ(p.model.name, "fraud");
  EXPECT_EQ(p.model.flavor, "sklearn");
  ASSERT_EQ(p.environments.size(), 2u);
  EXPECT_EQ(p.environments[0].name, "dev");
  EXPECT_EQ(p.environments[0].namespace_name, "ml-dev");
  EXPECT_EQ(p.environments[0].branch, "develop");
  EXPECT_EQ(p.environments[1].name, "prod");
  EXPECT_EQ(p.environments[1].branch, "main");
}

TEST(ConfigTest, MinimalProjectGetsDefaults) {
  auto checked = parse_project("name: demo\nversion: 0.1.0\n", "mlctl.yaml", env_of({}));
  ASSERT_TRUE(checked.project);
  EXPECT_FALSE(checked.project->image);
  EXPECT_EQ(checked.project->model.name, "demo");
  EXPECT_EQ(checked.project->model.flavor, "generic");
}

TEST(ConfigTest, RegistryKeysAreReadAndOptional) {
  auto checked = parse_project("name: demo\nversion: 0.1.0\nregistry:\n  database: state/models.db\n"
                               "  artifacts: s3://ml-artifacts/demo\n",
                               "mlctl.yaml", env_of({}));
  ASSERT_TRUE(checked.project);
  EXPECT_EQ(checked.project->registry.database, "state/models.db");
  EXPECT_EQ(checked.project->registry.artifacts, "s3://ml-artifacts/demo");
  auto minimal = parse_project("name: demo\nversion: 0.1.0\nregistry: {}\n", "mlctl.yaml", env_of({}));
  ASSERT_TRUE(minimal.project);
  EXPECT_EQ(minimal.project->registry.database, "");
  EXPECT_EQ(problems_of("name: a\nversion: 1.0.0\nregistry:\n  databse: x.db\n"),
            std::vector<std::string>{"mlctl.yaml:4:3: registry.databse: unknown key; did you mean 'database'?"});
}

TEST(ConfigTest, ServingKeysAreReadCheckedAndOptional) {
  auto checked = parse_project("name: demo\nversion: 0.1.0\nserving:\n  resources: {cpu: 1500m, memory: 6Gi, gpu: 1}\n"
                               "  autoscaling: {min: 2, max: 8, cpu: 55}\n",
                               "mlctl.yaml", env_of({}));
  ASSERT_TRUE(checked.project);
  const ServingConfig& serving = checked.project->serving;
  EXPECT_EQ(serving.cpu, "1500m");
  EXPECT_EQ(serving.memory, "6Gi");
  EXPECT_EQ(serving.gpu, 1);
  EXPECT_EQ(serving.min_replicas, 2);
  EXPECT_EQ(serving.max_replicas, 8);
  EXPECT_EQ(serving.cpu_utilization, 55);
  auto defaults = parse_project("name: demo\nversion: 0.1.0\nserving: {resources: {gpu: 2}}\n", "mlctl.yaml", env_of({}));
  ASSERT_TRUE(defaults.project);
  EXPECT_EQ(defaults.project->serving.cpu, "500m");
  EXPECT_EQ(defaults.project->serving.memory, "1Gi");
  EXPECT_EQ(defaults.project->serving.gpu, 2);
  EXPECT_EQ(defaults.project->serving.max_replicas, 3);
  EXPECT_EQ(problems_of("name: a\nversion: 1.0.0\nserving:\n  resources: {cpu: 2 cores, gpu: -1}\n"
                        "  autoscaling: {min: 4, max: 2, cpu: 0}\n  replicas: 3\n"),
            (std::vector<std::string>{
                "mlctl.yaml:6:3: serving.replicas: unknown key (valid keys: resources, autoscaling, canary)",
                "mlctl.yaml:4:20: serving.resources.cpu: '2 cores' is not a CPU quantity",
                "mlctl.yaml:4:34: serving.resources.gpu: '-1' is not a whole number from 0 to 64",
                "mlctl.yaml:5:38: serving.autoscaling.cpu: '0' is not a whole number from 1 to 100",
                "mlctl.yaml:5:16: serving.autoscaling: max (2) is below min (4)"}));
}

TEST(ConfigTest, CanaryStepsAndAnalysisAreReadAndChecked) {
  auto checked = parse_project("name: demo\nversion: 0.1.0\nserving:\n  canary:\n    steps:\n"
                               "      - {weight: 5, pause: 2m}\n      - {weight: 40}\n      - {weight: 80, pause: 1h30m}\n"
                               "    analysis: {prometheus: 'http://prom:9090', success_rate: 0.995, p95_latency_ms: 250}\n",
                               "mlctl.yaml", env_of({}));
  ASSERT_TRUE(checked.project) << (checked.problems.empty() ? "" : checked.problems[0].to_string());
  const ServingConfig& serving = checked.project->serving;
  EXPECT_EQ(serving.canary_steps,
            (std::vector<std::pair<int, std::string>>{{5, "2m"}, {40, ""}, {80, "1h30m"}}));
  EXPECT_EQ(serving.prometheus, "http://prom:9090");
  EXPECT_EQ(serving.min_success_rate, 0.995);
  EXPECT_EQ(serving.max_p95_latency_ms, 250);
  auto defaults = parse_project("name: demo\nversion: 0.1.0\n", "mlctl.yaml", env_of({}));
  EXPECT_TRUE(defaults.project->serving.canary_steps.empty());
  EXPECT_EQ(defaults.project->serving.min_success_rate, std::nullopt);
  EXPECT_EQ(problems_of("name: a\nversion: 1.0.0\nserving:\n  canary:\n    steps:\n      - {weight: 50, pause: 5 min}\n"
                        "      - {weight: 20}\n      - {pause: 1m}\n    analysis: {prometheus: prom:9090, success_rate: 2}\n"),
            (std::vector<std::string>{
                "mlctl.yaml:6:29: serving.canary.steps[0].pause: '5 min' is not a duration",
                "mlctl.yaml:7:18: serving.canary.steps[1].weight: 20 does not rise above the step before (50)",
                "mlctl.yaml:8:9: serving.canary.steps[2].weight: every step needs a weight",
                "mlctl.yaml:9:28: serving.canary.analysis.prometheus: 'prom:9090' is not an http(s) URL",
                "mlctl.yaml:9:53: serving.canary.analysis.success_rate: '2' is not a fraction in (0, 1], e.g. 0.99"}));
}

TEST(ConfigTest, ModelPackagingAndServeImageAreChecked) {
  auto checked = parse_project("name: demo\nversion: 0.1.0\nimage: {repository: r/x, base: scratch, serve: true}\n"
                               "model: {packaging: init}\n",
                               "mlctl.yaml", env_of({}));
  ASSERT_TRUE(checked.project);
  EXPECT_TRUE(checked.project->image->serve);
  EXPECT_EQ(checked.project->model.packaging, "init");
  auto defaults = parse_project("name: demo\nversion: 0.1.0\nimage: {repository: r/x, base: scratch}\n", "mlctl.yaml",
                                env_of({}));
  EXPECT_FALSE(defaults.project->image->serve);
  EXPECT_EQ(defaults.project->model.packaging, "image");
  EXPECT_EQ(problems_of("name: a\nversion: 1.0.0\nimage: {repository: r/x, base: scratch, serve: yes}\n"
                        "model: {packaging: sidecar}\n"),
            (std::vector<std::string>{
                "mlctl.yaml:3:48: image.serve: 'yes' is not true or false",
                "mlctl.yaml:4:20: model.packaging: unknown packaging 'sidecar' (one of: image, init, modelcar)"}));
}

TEST(ConfigTest, UnknownKeyNamesLineColumnAndSuggestsNearest) {
  EXPECT_EQ(problems_of("name: a\nversion: 1.0.0\nimage:\n  repositry: x\n  base: scratch\n"),
            (std::vector<std::string>{
                "mlctl.yaml:4:3: image.repositry: unknown key; did you mean 'repository'?",
                "mlctl.yaml:4:3: image.repository: required field is missing"}));
}

TEST(ConfigTest, UnknownKeyFarFromAnyListsValidKeys) {
  EXPECT_EQ(problems_of("name: a\nversion: 1.0.0\nzzzzzzzz: 1\n"),
            std::vector<std::string>{"mlctl.yaml:3:1: zzzzzzzz: unknown key (valid keys: name, version, image, "
                                     "pipelines, model, environments, registry, serving, release)"});
}

TEST(ConfigTest, WrongTypeNamesFieldAndExpectedType) {
  EXPECT_EQ(problems_of("name: [a, b]\nversion: 1.0.0\n"),
            std::vector<std::string>{"mlctl.yaml:1:7: name: expected a string, got a list"});
  EXPECT_EQ(problems_of("name: a\nversion: 1.0.0\nimage: registry/x\n"),
            std::vector<std::string>{"mlctl.yaml:3:8: image: expected a mapping, got a string"});
  EXPECT_EQ(problems_of("name: a\nversion: 1.0.0\nimage: {repository: r, base: b, include: src}\n"),
            std::vector<std::string>{"mlctl.yaml:3:42: image.include: expected a list of strings, got a string"});
}

TEST(ConfigTest, MissingRequiredFieldsAreNamed) {
  EXPECT_EQ(problems_of("image: {repository: r, base: b}\n"),
            (std::vector<std::string>{"mlctl.yaml:1:1: name: required field is missing",
                                      "mlctl.yaml:1:1: version: required field is missing"}));
  EXPECT_EQ(problems_of("name: a\nversion: 1.0.0\nenvironments:\n  prod: {namespace: ml}\n"),
            std::vector<std::string>{"mlctl.yaml:4:9: environments.prod.branch: required field is missing"});
}

TEST(ConfigTest, InvalidValuesExplainTheRule) {
  EXPECT_EQ(problems_of("name: Fraud_Detector\nversion: 1.4\n"),
            (std::vector<std::string>{
                "mlctl.yaml:1:7: name: 'Fraud_Detector' is not a valid name: 'F' is not allowed",
                "mlctl.yaml:2:10: version: '1.4' is not a semantic version: it needs three numbers, MAJOR.MINOR.PATCH"}));
  EXPECT_EQ(problems_of("name: a\nversion: 1.0.0\nmodel: {flavor: sklern}\n"),
            std::vector<std::string>{"mlctl.yaml:3:17: model.flavor: unknown flavor 'sklern'; did you mean 'sklearn'?"});
}

TEST(ConfigTest, EnvironmentVariablesExpandWithDefaults) {
  auto checked = parse_project("name: ${NAME}\nversion: ${VERSION:-2.0.0}\n", "mlctl.yaml", env_of({{"NAME", "svc"}}));
  ASSERT_TRUE(checked.project);
  EXPECT_EQ(checked.project->name, "svc");
  EXPECT_EQ(checked.project->version, "2.0.0");
}

TEST(ConfigTest, UnsetOrMalformedVariableIsAnError) {
  EXPECT_EQ(problems_of("name: ${NAME}\nversion: 1.0.0\n"),
            std::vector<std::string>{
                "mlctl.yaml:1:7: name: environment variable NAME is not set (use ${NAME:-default} for a default)"});
  EXPECT_EQ(problems_of("name: a\nversion: ${VERSION\n"),
            std::vector<std::string>{"mlctl.yaml:2:10: version: unterminated '${' in '${VERSION'"});
  EXPECT_EQ(problems_of("name: ${1X}\nversion: 1.0.0\n"),
            std::vector<std::string>{"mlctl.yaml:1:7: name: '${1X}' is not a valid variable reference"});
}

TEST(ConfigTest, DuplicateKeyIsAnError) {
  EXPECT_EQ(problems_of("name: a\nversion: 1.0.0\nname: b\n"),
            std::vector<std::string>{"mlctl.yaml:3:1: name: duplicate key"});
}

TEST(ConfigTest, MalformedYamlNamesThePosition) {
  EXPECT_EQ(problems_of("name: a\nversion: [1.0.0\n"),
            std::vector<std::string>{"mlctl.yaml:3:1: invalid YAML: end of sequence flow not found"});
  EXPECT_EQ(problems_of(""), std::vector<std::string>{"mlctl.yaml: the file is empty; it needs at least 'name' and 'version'"});
  EXPECT_EQ(problems_of("- a\n- b\n"), std::vector<std::string>{"mlctl.yaml:1:1: expected a mapping, got a list"});
}

TEST(ConfigTest, CheckFileReportsMissingPipelineAndRequirements) {
  test::TempDir dir;
  dir.write("mlctl.yaml", "name: a\nversion: 1.0.0\nimage:\n  repository: r\n  base: b\n"
                          "  python: {requirements: req.txt}\npipelines:\n  train: p/train.yaml\n");
  auto checked = check_project_file(dir / "mlctl.yaml", env_of({}));
  EXPECT_FALSE(checked.project);
  ASSERT_EQ(checked.problems.size(), 2u);
  EXPECT_EQ(checked.problems[0].field, "pipelines.train");
  EXPECT_EQ(checked.problems[0].line, 8);
  EXPECT_EQ(checked.problems[0].message, "pipeline file 'p/train.yaml' does not exist");
  EXPECT_EQ(checked.problems[1].field, "image.python.requirements");
  EXPECT_EQ(checked.problems[1].line, 6);
  EXPECT_EQ(checked.problems[1].message, "requirements file 'req.txt' does not exist");

  dir.write("p/train.yaml", "name: train\n");
  dir.write("req.txt", "numpy\n");
  auto fixed = check_project_file(dir / "mlctl.yaml", env_of({}));
  ASSERT_TRUE(fixed.project);
  EXPECT_EQ(fixed.project->root, dir.path());
}

TEST(ConfigTest, LoadProjectSummarisesProblemsInOneError) {
  test::TempDir dir;
  dir.write("mlctl.yaml", "nme: a\nversion: x\n");
  auto loaded = load_project(dir / "mlctl.yaml", env_of({}));
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code(), Errc::invalid);
  EXPECT_TRUE(loaded.error().message().ends_with("nme: unknown key; did you mean 'name'? (and 2 more problems)"))
      << loaded.error().message();
  EXPECT_EQ(loaded.error().hint(), "run 'mlctl validate' to see every problem");
  auto missing = load_project(dir / "other.yaml", env_of({}));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Errc::not_found);
}

TEST(ConfigTest, LocateFindsTheNearestProjectFileUpward) {
  test::TempDir dir;
  dir.write("mlctl.yaml", "name: a\nversion: 1.0.0\n");
  std::filesystem::create_directories(dir / "src/deep");
  auto found = locate_project_file(dir / "src/deep", std::nullopt);
  ASSERT_TRUE(found);
  EXPECT_EQ(*found, dir / "mlctl.yaml");

  test::TempDir empty;
  auto missing = locate_project_file(empty.path(), std::nullopt);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Errc::not_found);
  auto explicit_missing = locate_project_file(empty.path(), empty / "other.yaml");
  ASSERT_FALSE(explicit_missing);
  EXPECT_EQ(explicit_missing.error().message(), (empty / "other.yaml").string() + ": no such file");
}

TEST(ConfigTest, PythonVersionMustBeMajorDotMinor) {
  constexpr std::string_view project = R"(name: demo
version: 0.1.0
image:
  repository: r.example.com/demo
  base: scratch
  python: {version: "3"}
)";
  EXPECT_EQ(problems_of(project), std::vector<std::string>{
                                      "mlctl.yaml:6:21: image.python.version: '3' is not a Python version; "
                                      "write MAJOR.MINOR, e.g. \"3.11\""});
}

}  // namespace
}  // namespace mlctl::core

namespace mlctl::core {
namespace {

constexpr std::string_view k_release = R"(name: fraud
version: 1.0.0
pipelines: {train: train.yaml, nightly: nightly.yaml}
release:
  pipeline: nightly
  tag: "fraud-v{version}"
  gate:
    promote_to: staging
    require: ["metrics.auc >= 0.9", "tags.team == fraud"]
    better_than: production
    on: auc
  gitops: {repo: ../gitops, dir: clusters/prod}
)";

TEST(ConfigReleaseTest, ReadsEveryKeyWithWhereItWasWritten) {
  auto checked = parse_project(k_release, "mlctl.yaml", env_of({}));
  ASSERT_TRUE(checked.project) << checked.problems.front().to_string();
  const ReleaseConfig& release = checked.project->release;
  EXPECT_EQ(release.pipeline.value, "nightly");
  EXPECT_EQ(release.pipeline.line, 5);
  EXPECT_EQ(release.tag.value, "fraud-v{version}");
  EXPECT_EQ(release.gate.promote_to, "staging");
  ASSERT_EQ(release.gate.require.size(), 2u);
  EXPECT_EQ(release.gate.require[1].value, "tags.team == fraud");
  EXPECT_EQ(release.gate.require[1].line, 9);
  EXPECT_EQ(release.gate.require[1].column, 37);
  EXPECT_EQ(release.gate.better_than, "production");
  EXPECT_EQ(release.gate.on, "auc");
  ASSERT_TRUE(release.gitops);
  EXPECT_EQ(release.gitops->repo.value, "../gitops");
  EXPECT_EQ(release.gitops->dir, "clusters/prod");
}

TEST(ConfigReleaseTest, DefaultsWithoutAReleaseSection) {
  auto checked = parse_project("name: fraud\nversion: 1.0.0\n", "mlctl.yaml", env_of({}));
  ASSERT_TRUE(checked.project);
  const ReleaseConfig& release = checked.project->release;
  EXPECT_EQ(release.pipeline.value, "");
  EXPECT_EQ(release.tag.value, "v{version}");
  EXPECT_EQ(release.gate.promote_to, "production");
  EXPECT_TRUE(release.gate.require.empty());
  EXPECT_FALSE(release.gitops);
  EXPECT_EQ(release.train.backend, "local");
  EXPECT_EQ(release.train.namespace_name, "default");
  EXPECT_EQ(release.train.artifacts, "volume");
  EXPECT_EQ(release.train.timeout, "1h");
}

TEST(ConfigReleaseTest, TrainingOnArgoReadsItsServerNamespaceArtifactsAndTimeout) {
  auto checked = parse_project("name: a\nversion: 1.0.0\nrelease:\n  train:\n    backend: argo\n"
                               "    server: https://argo.example.com:2746\n    namespace: ml-dev\n    artifacts: s3\n"
                               "    timeout: 3h\n",
                               "mlctl.yaml", env_of({}));
  ASSERT_TRUE(checked.project) << checked.problems.front().to_string();
  const TrainConfig& train = checked.project->release.train;
  EXPECT_EQ(train.backend, "argo");
  EXPECT_EQ(train.server, "https://argo.example.com:2746");
  EXPECT_EQ(train.namespace_name, "ml-dev");
  EXPECT_EQ(train.artifacts, "s3");
  EXPECT_EQ(train.timeout, "3h");
}

TEST(ConfigReleaseTest, TrainingProblemsAreNamedWithTheirLines) {
  EXPECT_EQ(problems_of("name: a\nversion: 1.0.0\nrelease:\n  train: {backend: kfp, server: argo:2746, namespace: ML,"
                        " artifacts: nfs, retries: 2}\n"),
            (std::vector<std::string>{
                "mlctl.yaml:4:75: release.train.retries: unknown key (valid keys: backend, server, namespace, "
                "artifacts, timeout)",
                "mlctl.yaml:4:20: release.train.backend: a release cannot train on Kubeflow Pipelines yet (local or "
                "argo); `mlctl pipeline submit --backend kfp` runs the pipeline there",
                "mlctl.yaml:4:33: release.train.server: 'argo:2746' is not an http(s):// URL",
                "mlctl.yaml:4:55: release.train.namespace: 'ML' is not a valid name: 'M' is not allowed",
                "mlctl.yaml:4:70: release.train.artifacts: unknown artifact passing 'nfs' (volume or s3)"}));
  EXPECT_EQ(problems_of("name: a\nversion: 1.0.0\nrelease:\n  train: {backend: slurm}\n"),
            (std::vector<std::string>{"mlctl.yaml:4:20: release.train.backend: unknown backend 'slurm' (local or argo)"}));
}

TEST(ConfigReleaseTest, EachProblemIsNamedWithItsLine) {
  EXPECT_EQ(problems_of("name: a\nversion: 1.0.0\npipelines: {train: t.yaml}\nrelease:\n  pipeline: trian\n"
                        "  tag: release\n  gate: {promote_to: Prod, better_than: production}\n"
                        "  gitops: {dir: ../out}\n  promote: x\n"),
            (std::vector<std::string>{
                "mlctl.yaml:9:3: release.promote: unknown key (valid keys: pipeline, tag, gate, gitops, train)",
                "mlctl.yaml:5:13: release.pipeline: no pipeline 'trian' in pipelines (there: train)",
                "mlctl.yaml:6:8: release.tag: 'release' has no {version}: every release would get the same tag",
                "mlctl.yaml:7:22: release.gate.promote_to: 'Prod' is not a valid name: 'P' is not allowed",
                "mlctl.yaml:7:9: release.gate: better_than and on go together: the alias to beat and the metric "
                "compared",
                "mlctl.yaml:8:11: release.gitops.repo: required field is missing",
                "mlctl.yaml:8:17: release.gitops.dir: '../out' must be a folder inside the GitOps repository "
                "(relative, no '..' or '.git')"}));
}

}  // namespace
}  // namespace mlctl::core
