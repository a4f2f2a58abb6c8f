#pragma once

#include <mlctl/core/yaml_reader.hpp>
#include <mlctl/pipeline/spec.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace mlctl::pipeline {

// A pipeline as far as it could be read, with the problems of its structure: YAML syntax, unknown
// keys, wrong types, missing fields, a step with none or several of command / component / uses.
// What the values mean (references, names, durations) is validate()'s job; component files are
// loaded by check_pipeline().
struct ParsedPipeline {
  Pipeline pipeline;
  std::vector<core::Diagnostic> problems;
};

// Parses pipeline YAML text; `display_name` names the file in diagnostics. Reads no files.
ParsedPipeline parse_pipeline(std::string_view text, const std::string& display_name);

}  // namespace mlctl::pipeline
