#include <mlctl/models/lineage.hpp>

#include <mlctl/core/digest.hpp>
#include <mlctl/git/repo.hpp>
#include <mlctl/models/filter.hpp>

#include <pwd.h>
#include <unistd.h>

#include <fmt/format.h>

namespace mlctl::models {

Result<nlohmann::json> collect_lineage(const std::filesystem::path& project_root, const LineageInputs& inputs) {
  nlohmann::json lineage = nlohmann::json::object();
  auto repo = git::repo_state(project_root);
  if (repo) {
    nlohmann::json git = {{"dirty", repo->dirty}};
    if (repo->remote_url) git["repository"] = *repo->remote_url;
    if (repo->commit) git["commit"] = *repo->commit;
    if (repo->branch) git["branch"] = *repo->branch;
    lineage["git"] = git;
  } else if (repo.error().code() != Errc::not_found) {
    return std::unexpected(repo.error().context("reading the git state for lineage"));
  }
  if (!inputs.image.empty()) {
    auto at = inputs.image.rfind('@');
    if (at == std::string::npos || !core::check_sha256_digest(inputs.image.substr(at + 1)))
      return fail(Errc::invalid, fmt::format("--image '{}' has no digest", inputs.image),
                  "give the image as REPOSITORY@sha256:<64 hex>, so the record names exact bytes");
    lineage["image"] = inputs.image;
  }
  if (!inputs.run.empty()) lineage["run"] = inputs.run;
  if (!inputs.datasets.empty()) {
    nlohmann::json datasets = nlohmann::json::object();
    for (const auto& dataset : inputs.datasets) {
      auto eq = dataset.find('=');
      std::string name = dataset.substr(0, eq);
      if (eq == std::string::npos || !check_key(name) || !core::check_sha256_digest(dataset.substr(eq + 1)))
        return fail(Errc::invalid, fmt::format("--dataset '{}' is not NAME=sha256:<64 hex>", dataset));
      datasets[name] = dataset.substr(eq + 1);
    }
    lineage["datasets"] = datasets;
  }
  return lineage;
}

std::string default_actor(const core::EnvLookup& env) {
  if (auto actor = env("MLCTL_ACTOR"); actor && !actor->empty()) return *actor;
  if (auto name = git::config_user_name()) return *name;
  if (const passwd* user = getpwuid(getuid()); user && user->pw_name) return user->pw_name;
  if (auto user = env("USER"); user && !user->empty()) return *user;
  return "unknown";
}

}  // namespace mlctl::models
