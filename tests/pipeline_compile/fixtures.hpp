#pragma once

#include <mlctl/pipeline/compile/options.hpp>
#include <mlctl/pipeline/spec.hpp>

#include <filesystem>
#include <string>
#include <string_view>

// Pipelines and options shared by the compiler tests.
namespace mlctl::pipeline::fixtures {

inline constexpr std::string_view k_project_image =
    "registry.example.com/ml/train@sha256:1111111111111111111111111111111111111111111111111111111111111111";
inline constexpr std::string_view k_tool_image =
    "ghcr.io/mlctl/mlctl@sha256:2222222222222222222222222222222222222222222222222222222222222222";
inline constexpr std::string_view k_commit = "0123456789abcdef0123456789abcdef01234567";

// Four steps: source feeds left and right, which both feed join.
inline constexpr std::string_view k_diamond = R"(name: diamond
params: {greeting: hello}
steps:
  - name: source
    command: [sh, -c, "echo {{params.greeting}} > {{outputs.text}}"]
    outputs: [text]
  - name: left
    command: [sh, -c, "tr a-z A-Z < $0 > $1", "{{steps.source.outputs.text}}", "{{outputs.upper}}"]
    outputs: [upper]
  - name: right
    command: [sh, -c, "rev < $0 > $1", "{{steps.source.outputs.text}}", "{{outputs.reversed}}"]
    outputs: [reversed]
  - name: join
    command: [sh, -c, "cat $0 $1 > $2", "{{steps.left.outputs.upper}}", "{{steps.right.outputs.reversed}}",
              "{{outputs.joined}}"]
    outputs: [joined]
)";

// The six real KFP components of tests/data/kfp-components, wired to each other where their
// inputs and outputs allow.
inline constexpr std::string_view k_components = R"(name: components
params: {repo: "https://github.com/kubeflow/pipelines"}
steps:
  - name: download
    component: web-download/component.yaml
    arguments: {Url: "https://example.com/data.csv"}
  - name: upload
    component: gcs-upload-to-unique-uri/component.yaml
    arguments: {Data: "{{steps.download.outputs.Data}}", GCS path prefix: "gs://bucket/data-"}
  - name: clone
    component: git-clone/component.yaml
    arguments: {Repo URI: "{{params.repo}}"}
  - name: get-file
    component: filesystem-get-file/component.yaml
    arguments: {Directory: "{{steps.clone.outputs.Repo dir}}", Subpath: README.md}
  - name: train
    component: keras-train-classifier/component.yaml
    arguments:
      training_set_features_path: gs://bucket/features.tsv
      training_set_labels_path: gs://bucket/labels.tsv
      output_model_uri: gs://bucket/model.h5
      model_config: "{}"
      number_of_classes: "3"
  - name: launch
    component: pytorch-launcher/component.yaml
    arguments: {name: "train-{{run.id}}", backoff_limit: "2"}
    needs: [train]
)";

// Parses and checks a pipeline; component paths are relative to tests/data/kfp-components.
Pipeline parse(std::string_view text);

// The issue's example, tests/data/pipelines/train/pipeline.yaml.
Pipeline train_pipeline();

// Every image given, version 1.4.0, commit k_commit.
CompileOptions full_options();

// The content of tests/pipeline_compile/golden/<name>.
std::string golden(std::string_view name);

}  // namespace mlctl::pipeline::fixtures
