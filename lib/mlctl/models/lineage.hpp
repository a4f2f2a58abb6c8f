#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/core/yaml_reader.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlctl::models {

struct LineageInputs {
  std::string image{};                  // REF@sha256:...
  std::string run{};                    // a pipeline run id
  std::vector<std::string> datasets{};  // NAME=sha256:...
};

// Where a version came from: the git state of `project_root` (remote URL without credentials,
// commit, branch, dirty; omitted outside a repository), the image, the run and the datasets.
Result<nlohmann::json> collect_lineage(const std::filesystem::path& project_root, const LineageInputs& inputs);

// Who is making a change: MLCTL_ACTOR, else git's user.name, else the OS user.
std::string default_actor(const core::EnvLookup& env);

}  // namespace mlctl::models
