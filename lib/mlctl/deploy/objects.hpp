#pragma once

#include <mlctl/deploy/k8s.hpp>

#include <string>

#include <nlohmann/json.hpp>

// The Kubernetes objects every strategy is made of (deploy's own; not a public interface).
namespace mlctl::deploy {

using Json = nlohmann::json;

// What a Deployment, its autoscaler and its disruption budget run: the model's pods, or (for a
// traffic split) one version's pods.
struct Workload {
  const ServedModel& model;
  std::string name;  // of the Deployment, the HorizontalPodAutoscaler and the PodDisruptionBudget
  Json selector;     // the labels that pick its pods
};

// All the model's pods, under the model's name (the direct strategy).
Workload whole_model(const ServedModel& model);
// One version's pods, as <model>-v<version>, for strategies that run versions side by side.
Workload one_version(const ServedModel& model);

// name and instance: what picks every pod of the model in the environment.
Json selector_labels(const ServedModel& model);
// The app.kubernetes.io labels and the model's name, version and environment.
Json labels(const ServedModel& model);
// apiVersion, kind and metadata (named after the model unless `name` is given).
Json object(std::string api_version, std::string kind, const ServedModel& model, const std::string& name);
Json object(std::string api_version, std::string kind, const ServedModel& model);

// The Service's in-mesh name, the host clients call, so routes apply to every caller in the cluster.
std::string mesh_host(const ServedModel& model);

Json service_account(const ServedModel& model);
Json deployment(const Workload& workload);
Json service(const ServedModel& model);
Json autoscaler(const Workload& workload);
Json disruption_budget(const Workload& workload);
Json network_policy(const ServedModel& model);

}  // namespace mlctl::deploy
