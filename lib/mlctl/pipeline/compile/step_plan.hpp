#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/pipeline/compile/options.hpp>
#include <mlctl/pipeline/spec.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

// What the Argo and KFP compilers share: a step's image and its command with every {{...}}
// reference replaced by the backend's own placeholder, and what the step reads.
namespace mlctl::pipeline {

// Output and input names as both backends take them (Argo artifact names, KFP keys, file names):
// any character but letters, digits, '-' and '_' becomes '_' ("Repo dir" -> "Repo_dir").
std::string io_name(std::string_view name);

// The name under which a step receives another step's output: "<step>_<output>". Unambiguous,
// because step names (DNS labels) hold no '_'.
std::string upstream_key(std::string_view step, std::string_view output);

// How a backend spells what a step's strings refer to. Outputs are given by io_name.
struct Placeholders {
  std::function<std::string(std::string_view param)> param;
  std::function<std::string(std::string_view step, std::string_view output)> own_output;
  std::function<std::string(std::string_view step, std::string_view output)> upstream_output;
  std::string run_id;
  // Where a component input known when compiling, but read from a file ({inputPath: X}), is put.
  // Fails on a backend that cannot pass a constant as a file.
  std::function<Result<std::string>(std::string_view input)> value_file;
};

// Another step's output that a step reads.
struct UpstreamOutput {
  size_t step = 0;     // the producer's index
  std::string output;  // as the producer declares it
  auto operator<=>(const UpstreamOutput&) const = default;
};

// A component input read from a file whose content is known when compiling.
struct ValueFile {
  std::string name;  // io_name of the input
  std::string path;
  std::string content;
};

struct EnvVar {
  std::string name;
  std::string value;
  bool runtime = false;  // refers to a param, an output or the run id: known only when running
};

struct StepPlan {
  std::string image;
  std::vector<std::string> command;
  std::vector<std::string> args;
  std::vector<EnvVar> env;
  std::vector<std::string> outputs;       // declared names, in order
  std::vector<UpstreamOutput> upstream;   // sorted, unique
  std::vector<std::string> params;        // names, sorted, unique
  std::vector<ValueFile> value_files;
  bool reads_run_id = false;
  // A staged `uses: register` (CompileOptions::stage_registrations): its last output is
  // k_registration_output, the version to register.
  bool stages_registration = false;
};


// What compiling every step needs; built once per pipeline.
class StepPlanner {
public:
  StepPlanner(const Pipeline& pipeline, const CompileOptions& options, Placeholders placeholders);

  // A command step runs its command; a component step the component's command and args with
  // the placeholders expanded; a `uses:` step runs, in the tool image,
  // `mlctl pipeline action NAME --run-id ID --pipeline PIPELINE [--git-commit SHA] --KEY VALUE...`
  // with its `with:` as the KEY VALUE flags, in file order. Fails (invalid) naming the step and
  // field on a reference the pipeline does not declare, on a missing image, and on component
  // inputs that cannot be bound.
  Result<StepPlan> plan(size_t index) const;

private:
  Result<std::string> render(const Step& step, const core::Located& text, std::string_view field,
                             StepPlan& plan, bool* runtime = nullptr) const;
  Result<void> plan_command(const Step& step, StepPlan& plan) const;
  Result<void> plan_component(const Step& step, StepPlan& plan) const;
  Result<void> plan_action(const Step& step, StepPlan& plan) const;
  Result<void> plan_env(const Step& step, StepPlan& plan) const;
  Result<void> check_names(const StepPlan& plan) const;
  Result<std::string> image_of(const Step& step) const;
  Result<std::string> self_image(std::string_view why) const;

  const Pipeline& pipeline_;
  const CompileOptions& options_;
  Placeholders placeholders_;
  std::unordered_map<std::string_view, size_t> index_;
  Result<void> self_image_check_;  // whether options_.self_image is pinned by a digest
};

// The pipeline's params with the overrides of `options` applied, in file order. Fails
// (invalid) on an override of a param the pipeline does not declare.
Result<std::vector<std::pair<std::string, std::string>>> param_values(const Pipeline& pipeline,
                                                                      const CompileOptions& options);

// The labels every compiled document carries: mlctl.dev/pipeline, and mlctl.dev/pipeline-version
// and mlctl.dev/git-commit when known.
std::vector<std::pair<std::string, std::string>> pipeline_labels(const Pipeline& pipeline,
                                                                 const CompileOptions& options);

// The Kubernetes resource quantity of a step's GPUs.
inline constexpr std::string_view k_gpu_resource = "nvidia.com/gpu";

}  // namespace mlctl::pipeline
