#include <mlctl/pipeline/local/run_setup.hpp>

#include <mlctl/models/lineage.hpp>

#include <chrono>
#include <random>
#include <vector>

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace mlctl::pipeline {

Result<std::map<std::string, std::string>> run_params(const Pipeline& pipeline, const RunRecord* resumed,
                                                      const std::map<std::string, std::string>& overrides) {
  std::map<std::string, std::string> params;
  for (const auto& param : pipeline.params) params[param.name] = param.default_value;
  if (resumed)
    for (auto& [name, value] : params)
      if (auto it = resumed->params.find(name); it != resumed->params.end() && it->is_string())
        value = it->get<std::string>();
  for (const auto& [name, value] : overrides) {
    auto it = params.find(name);
    if (it == params.end()) {
      std::vector<std::string> known;
      for (const auto& param : pipeline.params) known.push_back(param.name);
      return fail(Errc::invalid, fmt::format("pipeline {} has no param '{}'", pipeline.name.value, name),
                  known.empty() ? "it declares no params"
                                : fmt::format("its params are: {}", fmt::join(known, ", ")));
    }
    it->second = value;
  }
  return params;
}

std::string new_run_id() {
  auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  std::random_device random;
  return fmt::format("{:%Y%m%d-%H%M%S}-{:06x}", now, random() & 0xffffff);
}

std::string git_commit(const std::filesystem::path& project_root) {
  auto lineage = models::collect_lineage(project_root, {});
  if (!lineage) return {};
  const auto& git = lineage->value("git", nlohmann::json::object());
  return git.value("commit", "");
}

}  // namespace mlctl::pipeline
