#include <mlctl/deploy/kserve.hpp>

#include <mlctl/deploy/objects.hpp>

#include <fmt/format.h>

namespace mlctl::deploy {

namespace {

const char* mode_name(KServeMode mode) { return mode == KServeMode::serverless ? "Serverless" : "RawDeployment"; }

// Knative admits no pod securityContext unless an operator turns it on, so the pod's user, group
// and seccomp profile move to each container.
Json with_pod_security(Json container, const Json& pod_spec) {
  for (const char* key : {"runAsUser", "runAsGroup", "seccompProfile"})
    container["securityContext"][key] = pod_spec["securityContext"][key];
  return container;
}

// The direct strategy's server container made a KServe predictor's. Knative admits one port,
// unnamed or h2c/http1. Probes go to the port number, which names the port in both modes.
Json predictor_container(const Json& pod_spec, KServeMode mode) {
  Json server = with_pod_security(pod_spec["containers"][0], pod_spec);
  server["name"] = "kserve-container";
  server["ports"] = {{{"containerPort", k_http_port}, {"protocol", "TCP"}}};
  for (const char* probe : {"readinessProbe", "startupProbe", "livenessProbe"})
    if (server.contains(probe)) server[probe]["httpGet"]["port"] = k_http_port;
  if (mode == KServeMode::serverless) {
    // Knative admits startup probes only from 1.15; its own readiness probing and progress
    // deadline (ten minutes) already wait for the model to load.
    server.erase("startupProbe");
  }
  return server;
}

Json inference_service(const KServeService& service) {
  const ServedModel& model = service.model;
  // The pods exactly as the direct strategy runs them.
  Json pod = deployment(whole_model(model))["spec"]["template"];
  Json predictor = {{"serviceAccountName", pod["spec"]["serviceAccountName"]},
                    {"minReplicas", model.autoscaling.min_replicas},
                    {"maxReplicas", model.autoscaling.max_replicas},
                    {"labels", pod["metadata"]["labels"]},
                    {"annotations", pod["metadata"]["annotations"]},
                    {"containers", {predictor_container(pod["spec"], service.mode)}},
                    {"volumes", pod["spec"]["volumes"]}};
  if (pod["spec"].contains("initContainers")) {  // model.packaging init: the model fetched first
    Json init = Json::array();
    for (const auto& container : pod["spec"]["initContainers"]) init.push_back(with_pod_security(container, pod["spec"]));
    predictor["initContainers"] = init;
  }
  if (service.canary_percent && !canary_ignored(service)) predictor["canaryTrafficPercent"] = *service.canary_percent;
  Json result = object("serving.kserve.io/v1beta1", "InferenceService", model);
  result["metadata"]["annotations"] = {{"serving.kserve.io/deploymentMode", mode_name(service.mode)}};
  result["spec"] = {{"predictor", predictor}};
  return result;
}

Result<void> check_kserve(const KServeService& service) {
  if (auto ok = check_served_model(service.model); !ok) return ok;
  // KServe names the predictor's objects <model>-predictor, and Knative its revisions
  // <model>-predictor-00001 on: each name must stay a 63-character label.
  std::string longest =
      service.model.model + (service.mode == KServeMode::serverless ? "-predictor-00001" : "-predictor");
  if (longest.size() > 63)
    return fail(Errc::invalid, fmt::format("model: '{}' is too long for KServe: '{}' is longer than 63 characters",
                                           service.model.model, longest));
  if (service.model.packaging == Packaging::modelcar && service.mode == KServeMode::serverless)
    return fail(Errc::invalid, "model.packaging modelcar: Knative (KServe's serverless mode) admits no image volume",
                "use --kserve-mode raw-deployment, or model.packaging init");
  if (service.canary_percent && (*service.canary_percent < 0 || *service.canary_percent > 100))
    return fail(Errc::invalid, fmt::format("canary: {} is not a percentage (0..100)", *service.canary_percent));
  return {};
}

}  // namespace

bool canary_ignored(const KServeService& service) {
  return service.canary_percent && service.mode == KServeMode::raw_deployment;
}

Result<std::vector<nlohmann::json>> render_kserve(const KServeService& service) {
  if (auto ok = check_kserve(service); !ok) return std::unexpected(ok.error());
  return std::vector<Json>{service_account(service.model), inference_service(service)};
}

}  // namespace mlctl::deploy
