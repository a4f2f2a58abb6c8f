#pragma once

#include <mlctl/core/config.hpp>
#include <mlctl/pipeline/component.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mlctl::pipeline {

// Values keep where they were written (core::Located: value, line, column), so that checks made
// after parsing can point at them. Values that must be numbers or durations are kept as written;
// validate() reports the bad ones and the accessors below read the good ones.

using LocatedMap = std::vector<std::pair<std::string, core::Located>>;  // in file order

// The image name that stands for the project's own image, built by `mlctl build`.
inline constexpr std::string_view k_self_image = "self";

struct Param {
  std::string name;
  std::string default_value;
  int line = 0;  // of the name
  int column = 0;
};

struct Resources {
  std::optional<core::Located> cpu;     // a Kubernetes CPU quantity: "2", "500m"
  std::optional<core::Located> memory;  // a Kubernetes memory quantity: "4Gi"
  std::optional<core::Located> gpu;     // a whole number of GPUs

  int gpu_count() const;  // 0 when unset or not a whole number
};

// What a step runs: exactly one of these per step.
enum class StepKind {
  command,    // `command:` runs a program
  component,  // `component:` runs a KFP v1 component.yaml
  uses,       // `uses:` runs a built-in action (register)
};

struct Step {
  core::Located name;
  int line = 0;  // of the step's mapping
  int column = 0;
  StepKind kind = StepKind::command;

  std::vector<core::Located> command;
  std::optional<core::Located> image;    // "self": the project image; unset: the runner's default
  std::vector<core::Located> outputs;    // command steps; component steps take the component's
  std::optional<core::Located> metrics;  // an output that holds a JSON object of metrics
  Resources resources;
  std::optional<core::Located> retries;  // a whole number >= 0
  std::optional<core::Located> timeout;  // a duration: 30s, 5m, 1h30m
  LocatedMap env;
  std::vector<core::Located> needs;      // explicit dependencies, by step name
  // Project files and folders (relative to the project root) whose content goes into the local
  // cache key, so that editing train.py re-runs the step that runs it.
  std::vector<core::Located> inputs;

  core::Located component;                  // the component file as written, relative to the pipeline file
  std::filesystem::path component_file;     // the component file, resolved
  std::optional<Component> component_spec;  // set when the component file loaded
  LocatedMap arguments;                     // component input name -> value

  core::Located uses;  // the built-in action
  LocatedMap with;     // the action's arguments

  bool uses_self_image() const { return image && image->value == k_self_image; }
  int retry_count() const;                              // 0 when unset or invalid
  std::optional<std::int64_t> timeout_seconds() const;  // unset when none or invalid
  // The names this step's outputs can be referred to by: its `outputs`, or its component's.
  std::vector<std::string> output_names() const;
  bool has_output(std::string_view output) const;
};

struct Pipeline {
  std::string source;             // how the file is named in diagnostics
  std::filesystem::path file;     // the file that was read; empty when parsed from text
  core::Located name;
  std::optional<core::Located> schedule;  // a cron schedule; unset: run on demand only
  std::vector<Param> params;              // in file order
  std::vector<Step> steps;                // in file order

  const Step* find_step(std::string_view step) const;
  const Param* find_param(std::string_view param) const;
};

// A string of a step that may hold {{...}} references, and the field it came from
// ("steps[1].command[3]"), for diagnostics and for finding dependencies.
struct TemplateField {
  std::string field;
  const core::Located* text = nullptr;
};

// Every templated string of the step at `index`: command items, env values, arguments, with.
std::vector<TemplateField> template_fields(const Step& step, size_t index);

// "steps[2]", the prefix of every field of a step.
std::string step_path(size_t index);

}  // namespace mlctl::pipeline
