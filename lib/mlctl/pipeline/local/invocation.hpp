#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/pipeline/spec.hpp>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace mlctl::pipeline {

// What the {{...}} references of a step stand for in one run. The runner resolves each step
// twice: with real paths to run it, and with placeholders for every path (symbolic_paths) to
// compute its cache key, so that the key does not depend on the run's folder.
struct Scope {
  const std::map<std::string, std::string>* params = nullptr;
  std::string run_id{};
  std::string pipeline_name{};
  std::function<std::string(const std::string& output)> output{};
  std::function<std::string(const std::string& step, const std::string& output)> step_output{};
  // Where a component input given as a value but read from a file ({inputPath: X}) is written.
  std::function<std::string(const std::string& input)> input_file{};
};

// Sets a scope's path functions to "{{outputs.X}}", "{{steps.S.outputs.X}}" and "{{inputs.X}}".
void use_symbolic_paths(Scope& scope);

// A component input the runner writes to a file before the step starts.
struct InputFile {
  std::string input{};
  std::string path{};
  std::string content{};
};

// A step with its references replaced: what to run, or (for `uses:`) the action's arguments.
struct Invocation {
  std::vector<std::string> argv{};                          // command and component steps
  std::vector<std::pair<std::string, std::string>> env{};   // the step's `env`, then the component's
  std::string image{};                                      // as written; empty: none given
  std::vector<std::pair<std::string, std::string>> outputs{};  // output name -> path, declaration order
  std::vector<InputFile> input_files{};
  std::vector<std::pair<std::string, std::string>> with{};  // uses steps
};

// Renders the step's command, env, arguments and `with`; for a component step, binds its inputs
// (an argument that is exactly one {{steps.S.outputs.X}} is passed as that file when the component
// reads the input from a path) and expands its placeholders with resolve_command.
// Fails (invalid) when a reference cannot be rendered or the component cannot be resolved.
Result<Invocation> resolve_invocation(const Step& step, const Scope& scope);

// The other steps' outputs a step refers to, as (step, output).
std::set<std::pair<std::string, std::string>> referenced_outputs(const Step& step);

}  // namespace mlctl::pipeline
