// Real component files from the kubeflow/pipelines repository (see tests/data/kfp-components/SOURCES.md).

#include <mlctl/pipeline/component.hpp>
#include <mlctl/pipeline/dag.hpp>
#include <mlctl/pipeline/load.hpp>

#include <filesystem>

#include <gtest/gtest.h>

namespace mlctl::pipeline {
namespace {

namespace fs = std::filesystem;
using Strings = std::vector<std::string>;

fs::path component_path(std::string_view name) {
  return fs::path(MLCTL_TEST_DATA) / "kfp-components" / name / "component.yaml";
}

Component load(std::string_view name) {
  ComponentCheck checked = load_component_file(component_path(name));
  EXPECT_TRUE(checked.problems.empty()) << name << ": " << checked.problems.front().to_string();
  return checked.component.value_or(Component{});
}

ResolvedCommand resolve(const Component& component, const ComponentBindings& bindings) {
  auto resolved = resolve_command(component, bindings);
  EXPECT_TRUE(resolved) << resolved.error().message();
  return resolved.value_or(ResolvedCommand{});
}

TEST(RealKfpComponentsTest, GetFilePassesPathsAndValuesToAShellScript) {
  Component c = load("filesystem-get-file");
  EXPECT_EQ(c.name, "Get file");
  EXPECT_EQ(c.image, "alpine");
  ASSERT_EQ(c.inputs.size(), 2u);
  EXPECT_EQ(c.inputs[0].type, "Directory");
  EXPECT_TRUE(c.inputs[1].required());
  EXPECT_EQ(path_inputs(c), Strings{"Directory"});
  ResolvedCommand r = resolve(c, {{{"Subpath", "models/model.pkl"}}, {{"Directory", "/in/dir"}}, {{"File", "/out/File"}}});
  EXPECT_EQ(r.argv(), (Strings{"sh", "-ex", "-c", "mkdir -p \"$(dirname \"$2\")\"\ncp -r \"$0/$1\" \"$2\"\n", "/in/dir",
                               "models/model.pkl", "/out/File"}));
  EXPECT_TRUE(r.args.empty());
  EXPECT_EQ(r.input_files, Strings{"Directory"});
  EXPECT_EQ(r.output_files, Strings{"File"});
}

TEST(RealKfpComponentsTest, DownloadUsesTheDefaultOfAnInputNamedWithASpace) {
  Component c = load("web-download");
  EXPECT_EQ(c.image, "byrnedo/alpine-curl@sha256:548379d0a4a0c08b9e55d9d87a592b7d35d9ab3037f4936f5ccd09d0b625a342");
  ASSERT_EQ(c.inputs.size(), 2u);
  EXPECT_EQ(c.inputs[1].name, "curl options");
  EXPECT_EQ(c.inputs[1].default_value, "--location");
  const std::string script =
      "url=\"$0\"\noutput_path=\"$1\"\ncurl_options=\"$2\"\n\nmkdir -p \"$(dirname \"$output_path\")\"\n"
      "curl --get \"$url\" --output \"$output_path\" $curl_options\n";
  ResolvedCommand r = resolve(c, {{{"Url", "https://example.com/data.csv"}}, {}, {{"Data", "/out/Data"}}});
  EXPECT_EQ(r.argv(), (Strings{"sh", "-exc", script, "https://example.com/data.csv", "/out/Data", "--location"}));
  r = resolve(c, {{{"Url", "https://example.com/x"}, {"curl options", "--retry 3"}}, {}, {{"Data", "/d"}}});
  EXPECT_EQ(r.argv().back(), "--retry 3");
  EXPECT_TRUE(r.input_files.empty());
}

TEST(RealKfpComponentsTest, GitCloneTakesNamesWithSpaces) {
  Component c = load("git-clone");
  EXPECT_EQ(c.description, "Creates a shallow clone of the specified repo branch");
  ASSERT_EQ(c.outputs.size(), 1u);
  EXPECT_EQ(c.outputs[0].name, "Repo dir");
  ResolvedCommand r =
      resolve(c, {{{"Repo URI", "https://github.com/kubeflow/pipelines"}}, {}, {{"Repo dir", "/out/repo"}}});
  EXPECT_EQ(r.argv(), (Strings{"git", "clone", "--depth=1", "--branch", "master",
                               "https://github.com/kubeflow/pipelines", "/out/repo"}));
  EXPECT_EQ(r.output_files, Strings{"Repo dir"});
}

TEST(RealKfpComponentsTest, UploadConcatenatesAndKeepsArgoVariablesAsWritten) {
  Component c = load("gcs-upload-to-unique-uri");
  ASSERT_EQ(c.command.size(), 7u);
  EXPECT_EQ(c.command[5].kind, ArgKind::concat);
  ResolvedCommand r =
      resolve(c, {{{"GCS path prefix", "gs://bucket/models/"}}, {{"Data", "/in/data"}}, {{"GCS path", "/out/path"}}});
  ASSERT_EQ(r.command.size(), 7u);
  EXPECT_EQ((Strings{r.command[4], r.command[5], r.command[6]}),
            (Strings{"/in/data", "gs://bucket/models/{{workflow.uid}}_{{pod.name}}", "/out/path"}));
  EXPECT_TRUE(r.command[3].starts_with("if [ -n \"${GOOGLE_APPLICATION_CREDENTIALS}\" ]; then\n"));
}

TEST(RealKfpComponentsTest, KerasTrainerHasTypesWithPropertiesAndAnInputNamedLikeAnOutput) {
  Component c = load("keras-train-classifier");
  ASSERT_EQ(c.inputs.size(), 7u);
  EXPECT_EQ(c.inputs[0].type, "{GcsPath: {data_type: TSV}}");
  EXPECT_EQ(c.inputs[3].type, "{GcsPath: {data_type: Keras model config json}}");
  ASSERT_TRUE(c.find_input("output_model_uri"));
  ASSERT_TRUE(c.find_output("output_model_uri"));
  ResolvedCommand r = resolve(c, {{{"training_set_features_path", "gs://b/x.tsv"},
                                   {"training_set_labels_path", "gs://b/y.tsv"},
                                   {"output_model_uri", "gs://b/model.h5"},
                                   {"model_config", "{}"},
                                   {"number_of_classes", "3"}},
                                  {},
                                  {{"output_model_uri", "/out/uri"}}});
  EXPECT_EQ(r.argv(), (Strings{"python3", "/pipelines/component/src/train.py", "--training-set-features-path",
                               "gs://b/x.tsv", "--training-set-labels-path", "gs://b/y.tsv", "--output-model-path",
                               "gs://b/model.h5", "--model-config-json", "{}", "--num-classes", "3", "--num-epochs",
                               "100", "--batch-size", "32", "--output-model-path-file", "/out/uri"}));
}

TEST(RealKfpComponentsTest, PytorchLauncherAddsFlagsOnlyForPresentOptionalInputs) {
  Component c = load("pytorch-launcher");
  ASSERT_EQ(c.inputs.size(), 11u);
  EXPECT_EQ(c.inputs[5].default_value, "1440");
  EXPECT_EQ(c.inputs[6].default_value, "True");
  EXPECT_TRUE(c.inputs[8].optional);
  const Strings base = {"python", "/ml/launch_pytorchjob.py", "--name", "mnist", "--namespace", "kubeflow",
                        "--version", "v1", "--masterSpec", "{}", "--workerSpec", "{}", "--jobTimeoutMinutes", "1440",
                        "--deleteAfterDone", "True", "--cleanPodPolicy", "Running"};
  EXPECT_EQ(resolve(c, {{{"name", "mnist"}}, {}, {}}).argv(), base);

  Strings with_backoff = base;
  with_backoff.insert(with_backoff.end(), {"--backoffLimit", "3"});
  EXPECT_EQ(resolve(c, {{{"name", "mnist"}, {"backoff_limit", "3"}}, {}, {}}).argv(), with_backoff);

  auto missing = resolve_command(c, {});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(), "required input 'name' has no value");
}

// All six files as steps of one pipeline: they load, their arguments validate, and references to
// their outputs (names with spaces included) order the steps.
TEST(RealKfpComponentsTest, ComponentsWorkAsPipelineSteps) {
  const std::string text = R"(name: kfp
steps:
  - name: clone
    component: git-clone/component.yaml
    arguments: {Repo URI: "https://github.com/kubeflow/pipelines"}
  - name: get-readme
    component: filesystem-get-file/component.yaml
    arguments: {Directory: "{{steps.clone.outputs.Repo dir}}", Subpath: README.md}
  - name: download
    component: web-download/component.yaml
    arguments: {Url: "https://example.com/data.tsv"}
  - name: upload
    component: gcs-upload-to-unique-uri/component.yaml
    arguments: {Data: "{{steps.get-readme.outputs.File}}", GCS path prefix: "gs://bucket/"}
  - name: train
    component: keras-train-classifier/component.yaml
    arguments:
      training_set_features_path: "{{steps.download.outputs.Data}}"
      training_set_labels_path: "{{steps.download.outputs.Data}}"
      output_model_uri: gs://bucket/model.h5
      model_config: "{}"
      number_of_classes: "2"
  - name: launch
    component: pytorch-launcher/component.yaml
    arguments: {name: "job-{{run.id}}"}
    needs: [train, upload]
)";
  PipelineCheck checked = check_pipeline(text, "kfp.yaml", fs::path(MLCTL_TEST_DATA) / "kfp-components");
  ASSERT_TRUE(checked.problems.empty()) << checked.problems.front().to_string();
  const Pipeline& p = *checked.pipeline;
  EXPECT_EQ(p.steps[0].output_names(), Strings{"Repo dir"});
  EXPECT_EQ(p.steps[0].component_file, component_path("git-clone"));
  Dag dag = build_dag(p);
  EXPECT_EQ(names_of(dag, topological_order(dag).value()),
            (Strings{"clone", "get-readme", "download", "upload", "train", "launch"}));
  EXPECT_EQ(names_of(dag, transitive_dependants(dag, 0)), (Strings{"get-readme", "upload", "launch"}));
}

TEST(RealKfpComponentsTest, MissingAndUnknownArgumentsOfARealComponentAreReported) {
  const std::string text = R"(name: kfp
steps:
  - name: clone
    component: git-clone/component.yaml
    arguments: {Repo uri: "https://example.com/x.git", Branch: main}
)";
  PipelineCheck checked = check_pipeline(text, "kfp.yaml", fs::path(MLCTL_TEST_DATA) / "kfp-components");
  Strings problems;
  for (const auto& problem : checked.problems) problems.push_back(problem.to_string());
  EXPECT_EQ(problems, (Strings{
                          "kfp.yaml:5:27: steps[0].arguments.Repo uri: component 'git-clone/component.yaml' has no "
                          "input 'Repo uri'; did you mean 'Repo URI'?",
                          "kfp.yaml:4:16: steps[0].arguments: missing argument for the required input 'Repo URI' of "
                          "component 'git-clone/component.yaml'",
                      }));
}

}  // namespace
}  // namespace mlctl::pipeline
