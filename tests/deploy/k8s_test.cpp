#include "served_models.hpp"

#include <mlctl/deploy/k8s.hpp>

#include <gtest/gtest.h>

namespace mlctl::deploy {
namespace {

using Json = nlohmann::json;

using test::find;

const std::string k_digest = "sha256:" + std::string(64, 'a');
const std::string k_image = "registry.example/fraud/server@sha256:" + std::string(64, 'a');

ServedModel fraud_detector() {
  ServedModel model = test::fraud_detector(3, 'a');
  model.resources = {.cpu = "2", .memory = "4Gi", .gpu = 1};
  model.autoscaling = {.min_replicas = 2, .max_replicas = 6, .cpu_utilization = 60};
  return model;
}

TEST(K8sRenderTest, DirectRendersTheObjectsInApplyOrderWithOneNameAndLabels) {
  auto objects = render_direct(fraud_detector());
  ASSERT_TRUE(objects) << objects.error().message();
  std::vector<std::string> kinds;
  for (const auto& object : *objects) {
    kinds.push_back(object["apiVersion"].get<std::string>() + " " + object["kind"].get<std::string>());
    EXPECT_EQ(object["metadata"]["name"], "fraud-detector");
    EXPECT_EQ(object["metadata"]["namespace"], "ml-prod");
    EXPECT_EQ(object["metadata"]["labels"],
              (Json{{"app.kubernetes.io/name", "fraud-detector"},
                    {"app.kubernetes.io/instance", "fraud-detector-prod"},
                    {"app.kubernetes.io/version", "3"},
                    {"app.kubernetes.io/component", "model-server"},
                    {"app.kubernetes.io/managed-by", "mlctl"},
                    {"app.kubernetes.io/part-of", "fraud"},
                    {"mlctl.dev/model", "fraud-detector"},
                    {"mlctl.dev/model-version", "3"},
                    {"mlctl.dev/environment", "prod"}}));
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"v1 ServiceAccount", "apps/v1 Deployment", "v1 Service",
                                             "autoscaling/v2 HorizontalPodAutoscaler", "policy/v1 PodDisruptionBudget",
                                             "networking.k8s.io/v1 NetworkPolicy"}));
}

TEST(K8sRenderTest, TheDeploymentPinsTheImageRunsLockedDownAndWaitsForTheModel) {
  auto objects = render_direct(fraud_detector());
  ASSERT_TRUE(objects);
  const Json& deployment = find(*objects, "Deployment");
  const Json& pod = deployment["spec"]["template"];
  const Json& server = pod["spec"]["containers"][0];
  EXPECT_EQ(server["image"], k_image);
  EXPECT_EQ(deployment["spec"]["replicas"], 2);
  EXPECT_EQ(deployment["spec"]["selector"]["matchLabels"],
            (Json{{"app.kubernetes.io/name", "fraud-detector"}, {"app.kubernetes.io/instance", "fraud-detector-prod"}}));
  EXPECT_EQ(pod["metadata"]["annotations"]["mlctl.dev/artifact-digest"], k_digest);
  EXPECT_EQ(pod["metadata"]["labels"]["mlctl.dev/artifact"], "aaaaaaaaaaaa");
  EXPECT_EQ(pod["metadata"]["annotations"]["prometheus.io/scrape"], "true");
  EXPECT_EQ(pod["metadata"]["annotations"]["prometheus.io/port"], "8080");
  EXPECT_EQ(pod["spec"]["securityContext"]["runAsNonRoot"], true);
  EXPECT_EQ(pod["spec"]["securityContext"]["runAsUser"], 65532);
  EXPECT_EQ(pod["spec"]["automountServiceAccountToken"], false);
  EXPECT_EQ(server["securityContext"],
            (Json{{"allowPrivilegeEscalation", false},
                  {"readOnlyRootFilesystem", true},
                  {"runAsNonRoot", true},
                  {"capabilities", {{"drop", {"ALL"}}}}}));
  EXPECT_EQ(server["readinessProbe"]["httpGet"], (Json{{"path", "/v2/health/ready"}, {"port", "http"}}));
  EXPECT_EQ(server["livenessProbe"]["httpGet"], (Json{{"path", "/v2/health/live"}, {"port", "http"}}));
  EXPECT_EQ(server["resources"],
            (Json{{"requests", {{"cpu", "2"}, {"memory", "4Gi"}, {"nvidia.com/gpu", "1"}}},
                  {"limits", {{"memory", "4Gi"}, {"nvidia.com/gpu", "1"}}}}));

  const Json& hpa = find(*objects, "HorizontalPodAutoscaler");
  EXPECT_EQ(hpa["spec"]["minReplicas"], 2);
  EXPECT_EQ(hpa["spec"]["maxReplicas"], 6);
  EXPECT_EQ(hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"], 60);
  EXPECT_EQ(find(*objects, "Service")["spec"]["ports"][0],
            (Json{{"name", "http"}, {"port", 80}, {"targetPort", "http"}, {"protocol", "TCP"}}));
  EXPECT_EQ(find(*objects, "PodDisruptionBudget")["spec"]["maxUnavailable"], 1);
}

TEST(K8sRenderTest, WithoutAGpuNoGpuIsAskedFor) {
  ServedModel model = fraud_detector();
  model.resources.gpu = 0;
  auto objects = render_direct(model);
  ASSERT_TRUE(objects);
  EXPECT_EQ(find(*objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]["resources"],
            (Json{{"requests", {{"cpu", "2"}, {"memory", "4Gi"}}}, {"limits", {{"memory", "4Gi"}}}}));
}

TEST(K8sRenderTest, RenderingTwiceGivesTheSameBytes) {
  auto first = render_direct(fraud_detector());
  auto second = render_direct(fraud_detector());
  ASSERT_TRUE(first && second);
  std::string yaml = manifest_yaml(*first);
  EXPECT_EQ(yaml, manifest_yaml(*second));
  // Keys in sorted order, whatever order the renderer built them in.
  EXPECT_TRUE(yaml.starts_with("apiVersion: v1\nautomountServiceAccountToken: false\nkind: ServiceAccount\n"))
      << yaml.substr(0, 100);
  size_t separators = 0;
  for (size_t at = yaml.find("\n---\n"); at != std::string::npos; at = yaml.find("\n---\n", at + 1)) ++separators;
  EXPECT_EQ(separators, 5u);
}

std::string error_of(ServedModel model) {
  auto objects = render_direct(model);
  return objects ? "ok" : objects.error().message();
}

TEST(K8sRenderTest, BadInputIsRefusedNamingTheField) {
  ServedModel model = fraud_detector();
  model.image = "registry.example/fraud/server:1.0";
  EXPECT_EQ(error_of(model), "image: 'registry.example/fraud/server:1.0' is not pinned by a digest");
  model = fraud_detector();
  model.model = "Fraud_Detector";
  EXPECT_EQ(error_of(model).substr(0, 24), "model: 'Fraud_Detector' ");
  model = fraud_detector();
  model.model = "3d-model";
  EXPECT_EQ(error_of(model), "model: '3d-model' must start with a letter to name a Service");
  model = fraud_detector();
  model.namespace_name = "ml prod";
  EXPECT_EQ(error_of(model).substr(0, 20), "namespace: 'ml prod'");
  model = fraud_detector();
  model.version = 0;
  EXPECT_EQ(error_of(model), "version: 0 is not a registered version");
  model = fraud_detector();
  model.artifact_digest = "md5:abc";
  EXPECT_EQ(error_of(model).substr(0, 17), "artifact digest: ");
  model = fraud_detector();
  model.resources.memory = "4 GB";
  EXPECT_EQ(error_of(model), "resources.memory: '4 GB' is not a memory quantity");
  model = fraud_detector();
  model.autoscaling = {.min_replicas = 3, .max_replicas = 2, .cpu_utilization = 70};
  EXPECT_EQ(error_of(model), "autoscaling: replicas 3..2: need 1 <= min <= max");
  model = fraud_detector();
  model.autoscaling.cpu_utilization = 150;
  EXPECT_EQ(error_of(model), "autoscaling.cpu: 150% is not within 1..100");
  model = fraud_detector();
  model.environment = std::string(50, 'e');
  EXPECT_EQ(error_of(model).substr(0, 22), "model and environment:");
}

}  // namespace
}  // namespace mlctl::deploy
