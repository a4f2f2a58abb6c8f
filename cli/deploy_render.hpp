#pragma once

#include "context.hpp"
#include "registry_location.hpp"

#include <mlctl/deploy/k8s.hpp>
#include <mlctl/deploy/rollouts.hpp>
#include <mlctl/models/registry.hpp>

#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

// What `mlctl deploy` and `mlctl rollout` share: where model versions come from, how one is
// served in an environment, and how manifests are written (a file, or a kustomize layout).
namespace mlctl::cli {

// The registry and the environment (from mlctl.yaml) a command renders for.
struct DeployPlace {
  RegistryPlace registry;
  core::Environment environment;
  std::string tool_image;  // model.packaging init: the mlctl image whose init container fetches the model
};

// Fatal (not_found) without an mlctl.yaml or without the environment, listing the ones there are.
DeployPlace deploy_place(const Context& context, const std::string& registry_db, const std::string& environment,
                         const std::string& tool_image);

// Adds --tool-image (MLCTL_TOOL_IMAGE) to a command that renders manifests.
void add_tool_image_option(CLI::App* command, std::string& tool_image);

// A model version as the cluster should serve it in the environment: NAME[@VERSION|@ALIAS], the
// image registered with the version unless `image` is given (Fatal, precondition, when neither).
deploy::ServedModel served_model(const DeployPlace& place, models::Registry& registry, const std::string& ref,
                                 const std::string& image = {});

// A canary of `model` with the steps and analysis of serving.canary in mlctl.yaml, or mlctl's.
deploy::Canary configured_canary(const DeployPlace& place, deploy::ServedModel model);

// The objects that serve a rollout's state: for "ab", Istio routing `weight` percent to the
// candidate (100% to stable without one); for "canary", an Argo Rollout of the candidate held at
// `weight` percent until promoted (without one: the stable version with the configured steps).
std::vector<nlohmann::json> render_rollout(const DeployPlace& place, models::Registry& registry,
                                           const models::RolloutState& state);

// Where manifests go: a FILE, or with a trailing '/' or an existing directory DIR a kustomize
// layout: DIR/base/kustomization.yaml (written once, for objects every environment shares, and
// never changed by mlctl) and DIR/overlays/<env>/<model>.yaml with the overlay's
// kustomization.yaml (the environment's namespace; base and every model file there).
struct ManifestTarget {
  std::string path;
  std::string environment;
  std::string namespace_name;
};

// One model's rendered objects as a YAML stream.
struct ModelManifest {
  std::string model;
  std::string yaml;
};

struct ManifestFiles {
  std::vector<std::string> files;    // what was written or compared, in order
  std::vector<std::string> changed;  // those whose content differed (with check: would differ)
};

// Writes the models' manifests (a FILE holds them all, in order; a layout a file per model), each
// file atomically and all flushed to disk together, or with `check` only compares. A layout's
// base kustomization is not part of a check.
ManifestFiles write_manifests(const ManifestTarget& target, std::span<const ModelManifest> models, bool check);

}  // namespace mlctl::cli
