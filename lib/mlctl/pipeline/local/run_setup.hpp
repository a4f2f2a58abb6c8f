#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/pipeline/local/run_record.hpp>
#include <mlctl/pipeline/spec.hpp>

#include <filesystem>
#include <map>
#include <string>

namespace mlctl::pipeline {

// The params of a run: the pipeline's defaults, then an earlier run's values (when resuming),
// then the overrides. Fails (invalid) on an override of a param the pipeline does not declare.
Result<std::map<std::string, std::string>> run_params(const Pipeline& pipeline, const RunRecord* resumed,
                                                      const std::map<std::string, std::string>& overrides);

// A new run id: the UTC time and 6 random hex digits, "20240501-123000-4f2a9c", so ids sort by time.
std::string new_run_id();

// HEAD's commit of the repository around `project_root`; empty outside one.
std::string git_commit(const std::filesystem::path& project_root);

}  // namespace mlctl::pipeline
