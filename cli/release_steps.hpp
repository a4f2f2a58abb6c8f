#pragma once

#include "context.hpp"
#include "registry_location.hpp"

#include <mlctl/models/registry.hpp>
#include <mlctl/release/plan.hpp>

#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

// The steps of `mlctl release`, each composed of what `mlctl build`, `pipeline run`, `model
// promote` and `deploy render` do, and the git module's tag and commit.
namespace mlctl::cli {

// Every flag of `mlctl release`.
struct ReleaseFlags {
  std::string environment;
  bool dry_run = false;
  std::string only;
  std::string since;
  bool ci = false;
  bool force = false;
  bool push = false;
  bool allow_dirty = false;
  bool keep_tag = false;
  bool from_hook = false;
  bool insecure = false;
  std::string registry_db;
  std::string tool_image;
  std::string server;      // release.train.backend argo: the Argo Server (over release.train.server)
  std::string token_file;
};

// Everything the steps need, settled before the first one runs.
struct ReleaseSetup {
  core::Project project;
  git::RepoState repo;
  release::ReleaseDecision decision;
  RegistryPlace registry;                    // the model versions and the release records
  std::string pipeline_name;                 // what the train step runs; empty: no pipeline
  std::filesystem::path pipeline_file;
  std::filesystem::path manifests;           // .mlctl/releases/<version>/
  std::optional<std::filesystem::path> gitops_root;  // release.gitops.repo, resolved
  // The release was left running by a process that died: git locks of its tag and GitOps commit
  // are that process's, and are removed before those steps run again.
  bool taking_over = false;
};

// The promotion gate of release.gate; Fatal (invalid), naming the file, line and field, for a
// condition that does not parse.
models::Gate release_gate(const core::Project& project);

// Runs one step (release::StepAction); any failure comes back as the step's error.
Result<nlohmann::json> run_release_step(Context& context, const ReleaseFlags& flags, const ReleaseSetup& setup,
                                        release::Step step, const nlohmann::json& earlier,
                                        const release::StepProgress& progress);

// The 7-character id git shows for a commit.
inline std::string short_commit(const std::string& id) { return id.substr(0, 7); }

// What the step will do, for --dry-run; what it did, from its output, for the summary.
std::string step_plan(const ReleaseFlags& flags, const ReleaseSetup& setup, release::Step step);
std::string step_summary(release::Step step, const nlohmann::json& output);

}  // namespace mlctl::cli
