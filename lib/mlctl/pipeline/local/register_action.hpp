#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/models/registry.hpp>

#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace mlctl::pipeline {

// The project's database and artifact store: runs are recorded there, and `uses: register`
// registers model versions there.
struct RegistryLocation {
  std::filesystem::path database{};  // the SQLite file; empty: runs are not recorded
  std::string artifacts{};           // a models::open_artifact_store location; empty: the local store
  std::string model{};               // what `uses: register` registers when `with` names no model
  std::string flavor = "generic";
  std::string image{};               // REF@DIGEST the model is served with (a release's build), recorded in its lineage
};

// One `uses: register` step, its `with` rendered.
struct RegisterRequest {
  std::string artifact{};  // a file or folder
  std::string metrics{};   // a JSON object of numbers; empty: none
  std::string model{};     // empty: the location's model
  std::string pipeline{};
  std::string run_id{};
  // The commit the run is of, for a step with no git work tree around it (a cluster step):
  // recorded as the lineage's git.commit when project_root gives none.
  std::string git_commit{};
  nlohmann::json params = nlohmann::json::object();  // the run's params, recorded with the version
  std::filesystem::path project_root{};              // its git state goes into the lineage
};

// Stores the artifact (models::ArtifactStore::put) and registers it as the model's next version,
// with the metrics, the run's params, a `pipeline` tag and a lineage naming the run and the git
// commit (models::collect_lineage). With an image in the location (a release's training), a version
// of the same artifact, commit and image registered before is returned instead of a new one.
// Fails (invalid) on a bad model name or metrics file, and
// (precondition) when there is no database or no model name.
Result<models::VersionRecord> register_model(const RegisterRequest& request, const RegistryLocation& location);

// What a cluster step does instead of registering (`mlctl pipeline action register --stage FILE`),
// as the pod has no database to register in: stores the artifact as register_model does and returns
// the version it would register, as JSON ({"model", "params", "metrics", "tags", "lineage",
// "artifact": {"uri", "digest", "size", "directory"}}), for the machine that submitted the run to
// register with register_staged. Needs no database.
Result<nlohmann::json> stage_model(const RegisterRequest& request, const RegistryLocation& location);

// Registers a version stage_model described (`source` names where it came from in errors: "step
// register of workflow train-x7k2p"), with location.flavor, adding location.image to its lineage. A version of the same
// model, artifact and run registered before is returned instead of a new one, so taking a run's
// registrations twice registers them once. Fails (invalid) on a description that is not
// stage_model's, and as register_model does.
Result<models::VersionRecord> register_staged(const nlohmann::json& staged, std::string_view source,
                                              const RegistryLocation& location);

}  // namespace mlctl::pipeline
