#include <mlctl/deploy/objects.hpp>

#include <fmt/format.h>

namespace mlctl::deploy {

namespace {

constexpr std::string_view k_model_volume = "model";
// packaging init: the init container fetches the artifact to k_fetched_model in the volume.
constexpr std::string_view k_fetch_mount = "/models";
constexpr std::string_view k_fetched_model = "/models/model";
// packaging modelcar: the image holds the artifact under models/ (see models/oci_artifact_store.hpp).
constexpr std::string_view k_modelcar_mount = "/mnt/model";
constexpr std::string_view k_modelcar_model = "/mnt/model/models";
constexpr std::string_view k_oci_scheme = "oci://";

Json http_probe(std::string_view path, int period, int failures) {
  return {{"httpGet", {{"path", path}, {"port", "http"}}}, {"periodSeconds", period}, {"failureThreshold", failures}};
}

Json locked_down() {
  return {{"allowPrivilegeEscalation", false},
          {"readOnlyRootFilesystem", true},
          {"runAsNonRoot", true},
          {"capabilities", {{"drop", {"ALL"}}}}};
}

// Where the server reads the model the pod brings, and the volume it sits in.
void read_model_from_volume(const ServedModel& model, Json& server) {
  bool init = model.packaging == Packaging::init;
  server["env"].push_back({{"name", "MLCTL_MODEL_PATH"}, {"value", init ? k_fetched_model : k_modelcar_model}});
  server["volumeMounts"].push_back(
      {{"name", k_model_volume}, {"mountPath", init ? k_fetch_mount : k_modelcar_mount}, {"readOnly", true}});
}

// packaging init: fetches the artifact from its store with the tool image, verifying its digest.
Json model_pull(const ServedModel& model) {
  Json command = {"mlctl", "model", "fetch", model.artifact_uri, "--digest", model.artifact_digest};
  if (model.artifact_directory) command.push_back("--directory");
  command.push_back(k_fetched_model);
  return {{"name", "model-pull"},
          {"image", model.tool_image},
          {"command", command},
          // The store's credentials reach only this container; without the Secret, none (a public store).
          {"envFrom", {{{"secretRef", {{"name", k_artifact_store_secret}, {"optional", true}}}}}},
          {"resources", {{"requests", {{"cpu", "100m"}, {"memory", "128Mi"}}}, {"limits", {{"memory", "256Mi"}}}}},
          {"securityContext", locked_down()},
          {"volumeMounts",
           {{{"name", k_model_volume}, {"mountPath", k_fetch_mount}}, {{"name", "tmp"}, {"mountPath", "/tmp"}}}}};
}

Json volumes(const ServedModel& model) {
  Json all = {{{"name", "tmp"}, {"emptyDir", {{"sizeLimit", "256Mi"}}}}};
  if (model.packaging == Packaging::init) all.push_back({{"name", k_model_volume}, {"emptyDir", Json::object()}});
  if (model.packaging == Packaging::modelcar)
    all.push_back({{"name", k_model_volume},
                   {"image",
                    {{"reference", model.artifact_uri.substr(k_oci_scheme.size())}, {"pullPolicy", "IfNotPresent"}}}});
  return all;
}

// The server container: the image by digest, locked down, probed on the Open Inference Protocol.
Json container(const ServedModel& model) {
  Json requests = {{"cpu", model.resources.cpu}, {"memory", model.resources.memory}};
  Json limits = {{"memory", model.resources.memory}};
  if (model.resources.gpu > 0) {
    requests["nvidia.com/gpu"] = std::to_string(model.resources.gpu);
    limits["nvidia.com/gpu"] = std::to_string(model.resources.gpu);
  }
  Json server = {
      {"name", "server"},
      {"image", model.image},
      {"ports", {{{"name", "http"}, {"containerPort", k_http_port}, {"protocol", "TCP"}}}},
      // What the model server (templates/serve/server.py) reads.
      {"env",
       {{{"name", "MLCTL_MODEL_NAME"}, {"value", model.model}},
        {{"name", "MLCTL_MODEL_VERSION"}, {"value", std::to_string(model.version)}},
        {{"name", "MLCTL_FLAVOR"}, {"value", model.flavor}},
        {{"name", "MLCTL_PORT"}, {"value", std::to_string(k_http_port)}}}},
      // Ready only once the model is loaded; the startup probe gives a large model five minutes
      // to load before liveness counts.
      {"readinessProbe", http_probe("/v2/health/ready", 5, 3)},
      {"startupProbe", http_probe("/v2/health/ready", 5, 60)},
      {"livenessProbe", http_probe("/v2/health/live", 10, 3)},
      {"resources", {{"requests", requests}, {"limits", limits}}},
      {"securityContext", locked_down()},
      // The one writable place a read-only root file system leaves: Python and the server's temp files.
      {"volumeMounts", {{{"name", "tmp"}, {"mountPath", "/tmp"}}}},
  };
  if (model.packaging != Packaging::image) read_model_from_volume(model, server);
  return server;
}

}  // namespace

// What every object carries, and what selects the model's pods.
Json selector_labels(const ServedModel& model) {
  return {{"app.kubernetes.io/name", model.model}, {"app.kubernetes.io/instance", model.model + "-" + model.environment}};
}

Json labels(const ServedModel& model) {
  Json all = selector_labels(model);
  all["app.kubernetes.io/version"] = std::to_string(model.version);
  all["app.kubernetes.io/component"] = "model-server";
  all["app.kubernetes.io/managed-by"] = "mlctl";
  if (!model.project.empty()) all["app.kubernetes.io/part-of"] = model.project;
  all["mlctl.dev/model"] = model.model;
  all["mlctl.dev/model-version"] = std::to_string(model.version);
  all["mlctl.dev/environment"] = model.environment;
  return all;
}

Json object(std::string api_version, std::string kind, const ServedModel& model, const std::string& name) {
  return {{"apiVersion", std::move(api_version)},
          {"kind", std::move(kind)},
          {"metadata", {{"name", name}, {"namespace", model.namespace_name}, {"labels", labels(model)}}}};
}

Json object(std::string api_version, std::string kind, const ServedModel& model) {
  return object(std::move(api_version), std::move(kind), model, model.model);
}


Json deployment(const Workload& workload) {
  const ServedModel& model = workload.model;
  std::string hex = model.artifact_digest.substr(model.artifact_digest.find(':') + 1);
  Json pod_labels = labels(model);
  pod_labels["mlctl.dev/artifact"] = hex.substr(0, 12);
  Json pod = {
      {"metadata",
       {{"labels", pod_labels},
        {"annotations",
         {{"mlctl.dev/artifact-digest", model.artifact_digest},
          {"prometheus.io/scrape", "true"},
          {"prometheus.io/port", std::to_string(k_http_port)},
          {"prometheus.io/path", "/metrics"}}}}},
      {"spec",
       {{"serviceAccountName", model.model},
        {"automountServiceAccountToken", false},
        {"securityContext",
         {{"runAsNonRoot", true},
          {"runAsUser", k_serving_uid},
          {"runAsGroup", k_serving_uid},
          {"fsGroup", k_serving_uid},
          {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
        {"containers", {container(model)}},
        {"volumes", volumes(model)}}}};
  if (model.packaging == Packaging::init) pod["spec"]["initContainers"] = {model_pull(model)};
  Json result = object("apps/v1", "Deployment", model, workload.name);
  result["spec"] = {{"replicas", model.autoscaling.min_replicas},
                    {"revisionHistoryLimit", 5},
                    {"selector", {{"matchLabels", workload.selector}}},
                    {"strategy", {{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxSurge", 1}, {"maxUnavailable", 0}}}}},
                    {"template", pod}};
  return result;
}

Json service(const ServedModel& model) {
  Json result = object("v1", "Service", model);
  result["spec"] = {{"type", "ClusterIP"},
                    {"selector", selector_labels(model)},
                    {"ports", {{{"name", "http"}, {"port", 80}, {"targetPort", "http"}, {"protocol", "TCP"}}}}};
  return result;
}

std::string mesh_host(const ServedModel& model) {
  return fmt::format("{}.{}.svc.cluster.local", model.model, model.namespace_name);
}

Json service_account(const ServedModel& model) {
  Json result = object("v1", "ServiceAccount", model);
  result["automountServiceAccountToken"] = false;
  return result;
}

Json autoscaler(const Workload& workload) {
  const ServedModel& model = workload.model;
  Json result = object("autoscaling/v2", "HorizontalPodAutoscaler", model, workload.name);
  result["spec"] = {
      {"scaleTargetRef", {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", workload.name}}},
      {"minReplicas", model.autoscaling.min_replicas},
      {"maxReplicas", model.autoscaling.max_replicas},
      {"metrics",
       {{{"type", "Resource"},
         {"resource",
          {{"name", "cpu"},
           {"target", {{"type", "Utilization"}, {"averageUtilization", model.autoscaling.cpu_utilization}}}}}}}}};
  return result;
}

// maxUnavailable rather than minAvailable: with one replica, minAvailable 1 would block every
// node drain.
Json disruption_budget(const Workload& workload) {
  Json result = object("policy/v1", "PodDisruptionBudget", workload.model, workload.name);
  result["spec"] = {{"maxUnavailable", 1}, {"selector", {{"matchLabels", workload.selector}}}};
  return result;
}

Json network_policy(const ServedModel& model) {
  Json result = object("networking.k8s.io/v1", "NetworkPolicy", model);
  result["spec"] = {
      {"podSelector", {{"matchLabels", selector_labels(model)}}},
      {"policyTypes", {"Ingress"}},
      {"ingress",
       {{{"from",
          {{{"podSelector", Json::object()}},
           {{"namespaceSelector", {{"matchLabels", {{"mlctl.dev/serving-clients", "true"}}}}}}}},
         {"ports", {{{"port", k_http_port}, {"protocol", "TCP"}}}}}}}};
  return result;
}

Workload whole_model(const ServedModel& model) { return {model, model.model, selector_labels(model)}; }

Workload one_version(const ServedModel& model) {
  Json selector = selector_labels(model);
  selector["mlctl.dev/model-version"] = std::to_string(model.version);
  return {model, fmt::format("{}-v{}", model.model, model.version), selector};
}

}  // namespace mlctl::deploy
