#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/core/yaml_reader.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mlctl::pipeline {

// A Kubeflow Pipelines v1 component (component.yaml), the container kind. The spec is
// https://www.kubeflow.org/docs/components/pipelines/v1/reference/component-spec/.

struct ComponentInput {
  std::string name;
  std::string type;  // as written; a type with properties ({GcsPath: {data_type: TSV}}) in flow YAML
  std::string description;
  std::optional<std::string> default_value;
  bool optional = false;
  int line = 0;
  int column = 0;

  // An input without a default that is not optional must be given an argument.
  bool required() const { return !default_value && !optional; }
};

struct ComponentOutput {
  std::string name;
  std::string type;
  std::string description;
  int line = 0;
  int column = 0;
};

enum class ArgKind {
  constant,     // a plain string
  input_value,  // {inputValue: NAME}: the input's value
  input_path,   // {inputPath: NAME}: a path to a file that holds the input's value
  output_path,  // {outputPath: NAME}: a path where the program writes the output
  concat,       // {concat: [...]}: the items joined into one argument
  if_then,      // {if: {cond: ..., then: [...], else: [...]}}
};

enum class CondKind {
  constant,     // cond: true / false / "true" / "false"
  is_present,   // cond: {isPresent: NAME}: the input has a value (an argument or a default)
  input_value,  // cond: {inputValue: NAME}: the input's value is "true" (any case)
};

struct Condition {
  CondKind kind = CondKind::constant;
  bool constant = false;
  std::string input;
};

// One item of a container's command or args: a constant or a placeholder.
struct Arg {
  ArgKind kind = ArgKind::constant;
  std::string text;                // the constant, or the input or output name
  std::vector<Arg> items;          // concat: the parts; if_then: the `then` branch
  std::vector<Arg> otherwise;      // if_then: the `else` branch
  Condition condition;             // if_then only
  int line = 0;
  int column = 0;
};

struct Component {
  std::string source;  // how the file is named in diagnostics
  std::string name;
  std::string description;
  std::vector<ComponentInput> inputs;
  std::vector<ComponentOutput> outputs;
  std::string image;
  std::vector<Arg> command;
  std::vector<Arg> args;
  std::vector<std::pair<std::string, std::string>> env;  // in file order

  const ComponentInput* find_input(std::string_view name) const;
  const ComponentOutput* find_output(std::string_view name) const;
};

// The outcome of reading a component file: every problem found, and the component when none was.
struct ComponentCheck {
  std::optional<Component> component;
  std::vector<core::Diagnostic> problems;
};

// Parses component.yaml text; `display_name` names the file in diagnostics. Checks the
// structure and that every placeholder names a declared input or output.
ComponentCheck parse_component(std::string_view text, const std::string& display_name);
ComponentCheck load_component_file(const std::filesystem::path& file);

// The names of the inputs a component reads from files ({inputPath: X} anywhere), in first-use
// order: a runner writes those inputs' values to files, or passes an upstream output's file.
std::vector<std::string> path_inputs(const Component& component);

// What a runner knows when it starts a component step.
struct ComponentBindings {
  std::map<std::string, std::string> values;        // input name -> argument value
  std::map<std::string, std::string> input_paths;   // input name -> file holding its value
  std::map<std::string, std::string> output_paths;  // output name -> where the program writes it
};

struct ResolvedCommand {
  std::vector<std::string> command;
  std::vector<std::string> args;
  std::vector<std::string> input_files;   // inputs that were passed as paths, in first-use order
  std::vector<std::string> output_files;  // outputs that were passed as paths, in first-use order

  // The full command line: command then args.
  std::vector<std::string> argv() const;
};

// Expands the placeholders of a component's command and args as KFP does. An input's value is
// its argument, else its default; an optional input with neither is absent, and a placeholder of
// an absent input expands to nothing. Fails (invalid) when a required input has no value, or an
// inputPath / outputPath has no path in `bindings`.
Result<ResolvedCommand> resolve_command(const Component& component, const ComponentBindings& bindings);

}  // namespace mlctl::pipeline
