#pragma once

#include <mlctl/core/yaml_reader.hpp>
#include <mlctl/pipeline/spec.hpp>

#include <string_view>
#include <vector>

namespace mlctl::pipeline {

// A built-in action a step can run with `uses:`, and the keys its `with:` takes.
struct Action {
  std::string_view name;
  std::vector<std::string_view> required;
  std::vector<std::string_view> optional;
};

// register: records `artifact` (a file or folder) as a new version of the project's model, or of
// `model` when given, with the metrics in the JSON file `metrics`, and the run as its lineage.
const std::vector<Action>& builtin_actions();

// Checks what the values of a parsed pipeline mean, and returns every problem found, each naming
// the file, line, column and field:
// - names: the pipeline's and the steps' are DNS-1123 labels (they become Argo names), step
//   names are unique, params and outputs are identifiers;
// - references: every {{...}} is well formed and names a declared param, one of this step's
//   outputs, or an output of another step (not the same step through steps.SELF);
// - dependencies: `needs` names other existing steps, and there is no cycle;
// - components: the arguments name inputs of the component, and every required input has one;
// - actions: `uses` names a built-in action and `with` gives its keys;
// - values: the schedule, durations, retries, CPU, memory and GPU counts, `metrics` naming an
//   output, env variable names.
std::vector<core::Diagnostic> validate(const Pipeline& pipeline);

}  // namespace mlctl::pipeline
