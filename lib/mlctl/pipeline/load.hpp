#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/core/yaml_reader.hpp>
#include <mlctl/pipeline/spec.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mlctl::pipeline {

// The outcome of checking a pipeline file: every problem found (in the pipeline file and in the
// component files it uses), and the pipeline when none was.
struct PipelineCheck {
  std::optional<Pipeline> pipeline;
  std::vector<core::Diagnostic> problems;
  Errc code = Errc::invalid;  // not_found when the pipeline file itself could not be found
};

// Parses pipeline text, loads its component files (paths relative to `base_dir`), and validates.
PipelineCheck check_pipeline(std::string_view text, const std::string& display_name,
                             const std::filesystem::path& base_dir);

// Reads a pipeline file and checks it; component paths are relative to the file's folder.
PipelineCheck check_pipeline_file(const std::filesystem::path& file);

// Like check_pipeline_file, but a failure is one Error naming the first problem and how many
// more there are; check_pipeline_file lists them all.
Result<Pipeline> load_pipeline(const std::filesystem::path& file);

}  // namespace mlctl::pipeline
