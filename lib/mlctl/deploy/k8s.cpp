#include <mlctl/deploy/k8s.hpp>

#include <mlctl/core/digest.hpp>
#include <mlctl/core/quantity.hpp>
#include <mlctl/core/text.hpp>
#include <mlctl/core/yaml_out.hpp>
#include <mlctl/oci/remote/reference.hpp>

#include <cctype>

#include <fmt/format.h>

namespace mlctl::deploy {

namespace {

using Json = nlohmann::json;

Result<void> check_field(Result<void> checked, std::string_view field) {
  if (!checked) return fail(Errc::invalid, fmt::format("{}: {}", field, checked.error().message()), checked.error().hint());
  return {};
}

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

Json metadata(const ServedModel& model) {
  return {{"name", model.model}, {"namespace", model.namespace_name}, {"labels", labels(model)}};
}

Json object(std::string api_version, std::string kind, const ServedModel& model) {
  return {{"apiVersion", std::move(api_version)}, {"kind", std::move(kind)}, {"metadata", metadata(model)}};
}

Json http_probe(std::string_view path, int period, int failures) {
  return {{"httpGet", {{"path", path}, {"port", "http"}}}, {"periodSeconds", period}, {"failureThreshold", failures}};
}

Json container(const ServedModel& model) {
  Json requests = {{"cpu", model.resources.cpu}, {"memory", model.resources.memory}};
  Json limits = {{"memory", model.resources.memory}};
  if (model.resources.gpu > 0) {
    requests["nvidia.com/gpu"] = std::to_string(model.resources.gpu);
    limits["nvidia.com/gpu"] = std::to_string(model.resources.gpu);
  }
  return {
      {"name", "server"},
      {"image", model.image},
      {"ports", {{{"name", "http"}, {"containerPort", k_http_port}, {"protocol", "TCP"}}}},
      {"env",
       {{{"name", "MODEL_NAME"}, {"value", model.model}},
        {{"name", "MODEL_VERSION"}, {"value", std::to_string(model.version)}},
        {{"name", "PORT"}, {"value", std::to_string(k_http_port)}}}},
      // Ready only once the model is loaded; the startup probe gives a large model five minutes
      // to load before liveness counts.
      {"readinessProbe", http_probe("/v2/health/ready", 5, 3)},
      {"startupProbe", http_probe("/v2/health/ready", 5, 60)},
      {"livenessProbe", http_probe("/v2/health/live", 10, 3)},
      {"resources", {{"requests", requests}, {"limits", limits}}},
      {"securityContext",
       {{"allowPrivilegeEscalation", false},
        {"readOnlyRootFilesystem", true},
        {"runAsNonRoot", true},
        {"capabilities", {{"drop", {"ALL"}}}}}},
      // The one writable place a read-only root file system leaves: Python and the server's temp files.
      {"volumeMounts", {{{"name", "tmp"}, {"mountPath", "/tmp"}}}},
  };
}

Json deployment(const ServedModel& model) {
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
        {"volumes", {{{"name", "tmp"}, {"emptyDir", {{"sizeLimit", "256Mi"}}}}}}}}};
  Json result = object("apps/v1", "Deployment", model);
  result["spec"] = {{"replicas", model.autoscaling.min_replicas},
                    {"revisionHistoryLimit", 5},
                    {"selector", {{"matchLabels", selector_labels(model)}}},
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

Json service_account(const ServedModel& model) {
  Json result = object("v1", "ServiceAccount", model);
  result["automountServiceAccountToken"] = false;
  return result;
}

Json autoscaler(const ServedModel& model) {
  Json result = object("autoscaling/v2", "HorizontalPodAutoscaler", model);
  result["spec"] = {
      {"scaleTargetRef", {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", model.model}}},
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
Json disruption_budget(const ServedModel& model) {
  Json result = object("policy/v1", "PodDisruptionBudget", model);
  result["spec"] = {{"maxUnavailable", 1}, {"selector", {{"matchLabels", selector_labels(model)}}}};
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

}  // namespace

Result<void> check_served_model(const ServedModel& model) {
  if (auto ok = check_field(core::check_dns1123_label(model.model), "model"); !ok) return ok;
  // A Service name must also start with a letter (DNS-1035).
  if (!std::isalpha(static_cast<unsigned char>(model.model.front())))
    return fail(Errc::invalid, fmt::format("model: '{}' must start with a letter to name a Service", model.model));
  if (auto ok = check_field(core::check_dns1123_label(model.environment), "environment"); !ok) return ok;
  if (auto ok = check_field(core::check_dns1123_label(model.namespace_name), "namespace"); !ok) return ok;
  if (model.model.size() + 1 + model.environment.size() > 63)
    return fail(Errc::invalid, fmt::format("model and environment: '{}-{}' (the instance label) is longer than 63 "
                                           "characters", model.model, model.environment));
  if (!model.project.empty())
    if (auto ok = check_field(core::check_dns1123_label(model.project), "project"); !ok) return ok;
  if (model.version < 1) return fail(Errc::invalid, fmt::format("version: {} is not a registered version", model.version));
  if (auto ok = check_field(core::check_sha256_digest(model.artifact_digest), "artifact digest"); !ok) return ok;
  auto image = oci::remote::parse_reference(model.image);
  if (!image) return check_field(std::unexpected(image.error()), "image");
  if (image->digest.empty())
    return fail(Errc::invalid, fmt::format("image: '{}' is not pinned by a digest", model.image),
                "give it as REF@sha256:DIGEST, as `mlctl build --push` prints it");
  if (auto ok = check_field(core::check_cpu(model.resources.cpu), "resources.cpu"); !ok) return ok;
  if (auto ok = check_field(core::check_memory(model.resources.memory), "resources.memory"); !ok) return ok;
  if (model.resources.gpu < 0) return fail(Errc::invalid, "resources.gpu: must be 0 or more");
  const Autoscaling& scaling = model.autoscaling;
  if (scaling.min_replicas < 1 || scaling.max_replicas < scaling.min_replicas)
    return fail(Errc::invalid, fmt::format("autoscaling: replicas {}..{}: need 1 <= min <= max", scaling.min_replicas,
                                           scaling.max_replicas));
  if (scaling.cpu_utilization < 1 || scaling.cpu_utilization > 100)
    return fail(Errc::invalid, fmt::format("autoscaling.cpu: {}% is not within 1..100", scaling.cpu_utilization));
  return {};
}

Result<std::vector<nlohmann::json>> render_direct(const ServedModel& model) {
  if (auto ok = check_served_model(model); !ok) return std::unexpected(ok.error());
  return std::vector<Json>{service_account(model), deployment(model),        service(model),
                           autoscaler(model),      disruption_budget(model), network_policy(model)};
}

std::string manifest_yaml(const std::vector<nlohmann::json>& objects) {
  std::string out;
  for (const auto& document : objects) {
    if (!out.empty()) out += "---\n";
    out += core::to_yaml(document);
  }
  return out;
}

}  // namespace mlctl::deploy
