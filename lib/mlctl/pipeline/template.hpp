#pragma once

#include <mlctl/core/error.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace mlctl::pipeline {

// What a {{...}} reference in a pipeline string stands for.
enum class RefKind {
  param,          // {{params.NAME}}: a pipeline param's value
  output,         // {{outputs.NAME}}: the path where this step writes its output NAME
  step_output,    // {{steps.STEP.outputs.NAME}}: the path of another step's output (a dependency)
  run_id,         // {{run.id}}: the id of the current run
  pipeline_name,  // {{pipeline.name}}
};

struct Reference {
  RefKind kind = RefKind::param;
  std::string step;  // step_output only
  std::string name;  // param and output names; empty for run_id and pipeline_name
  std::string text;  // as written between the braces, trimmed: "steps.train.outputs.model"
};

// A pipeline string split into literal text and references, in order.
using TemplatePart = std::variant<std::string, Reference>;
using Template = std::vector<TemplatePart>;

// Splits `text` at {{...}}; spaces inside the braces are ignored and "\{{" is a literal "{{".
// Fails (invalid) on an unterminated or empty reference and on one of an unknown form.
Result<Template> parse_template(std::string_view text);

// The value of one reference; a failure stops the rendering.
using ReferenceValue = std::function<Result<std::string>(const Reference&)>;

// Joins the parts of a template, asking `value` for each reference.
Result<std::string> render(const Template& parts, const ReferenceValue& value);

// The references of a template, in order.
std::vector<Reference> references(const Template& parts);

}  // namespace mlctl::pipeline
