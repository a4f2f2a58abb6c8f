#include "served_models.hpp"

#include <mlctl/deploy/kserve.hpp>

#include <gtest/gtest.h>

namespace mlctl::deploy {
namespace {

using Json = nlohmann::json;

using test::find;

KServeService fraud_detector(KServeMode mode = KServeMode::serverless) {
  ServedModel model = test::fraud_detector(4, 'b');
  model.resources = {.cpu = "2", .memory = "4Gi", .gpu = 1};
  model.autoscaling = {.min_replicas = 2, .max_replicas = 6, .cpu_utilization = 60};
  return {.model = model, .mode = mode, .canary_percent = {}};
}

const Json& predictor(const std::vector<Json>& objects) { return find(objects, "InferenceService")["spec"]["predictor"]; }

TEST(KServeRenderTest, AServiceAccountAndOneInferenceServiceNamedAfterTheModel) {
  auto objects = render_kserve(fraud_detector());
  ASSERT_TRUE(objects) << objects.error().message();
  ASSERT_EQ(objects->size(), 2u);
  EXPECT_EQ((*objects)[0]["kind"], "ServiceAccount");
  EXPECT_EQ((*objects)[0]["automountServiceAccountToken"], false);
  const Json& service = (*objects)[1];
  EXPECT_EQ(service["apiVersion"], "serving.kserve.io/v1beta1");
  EXPECT_EQ(service["kind"], "InferenceService");
  for (const auto& object : *objects) {
    EXPECT_EQ(object["metadata"]["name"], "fraud-detector");
    EXPECT_EQ(object["metadata"]["namespace"], "ml-prod");
    EXPECT_EQ(object["metadata"]["labels"]["mlctl.dev/model-version"], "4");
    EXPECT_EQ(object["metadata"]["labels"]["app.kubernetes.io/instance"], "fraud-detector-prod");
  }
  EXPECT_EQ(service["metadata"]["annotations"], (Json{{"serving.kserve.io/deploymentMode", "Serverless"}}));
  const Json& spec = service["spec"]["predictor"];
  EXPECT_EQ(spec["serviceAccountName"], "fraud-detector");
  EXPECT_EQ(spec["minReplicas"], 2);
  EXPECT_EQ(spec["maxReplicas"], 6);
  EXPECT_FALSE(spec.contains("canaryTrafficPercent"));
  EXPECT_EQ(spec["labels"]["mlctl.dev/artifact"], "bbbbbbbbbbbb");
  EXPECT_EQ(spec["annotations"]["mlctl.dev/artifact-digest"], "sha256:" + std::string(64, 'b'));
  EXPECT_EQ(spec["volumes"], (Json{{{"name", "tmp"}, {"emptyDir", {{"sizeLimit", "256Mi"}}}}}));
}

TEST(KServeRenderTest, ThePredictorRunsTheServingImageByDigestAsKnativeAdmitsIt) {
  auto objects = render_kserve(fraud_detector());
  ASSERT_TRUE(objects);
  const Json& containers = predictor(*objects)["containers"];
  ASSERT_EQ(containers.size(), 1u);
  const Json& server = containers[0];
  EXPECT_EQ(server["name"], "kserve-container");
  EXPECT_EQ(server["image"], "registry.example/fraud/server@sha256:" + std::string(64, 'b'));
  EXPECT_EQ(server["ports"], (Json{{{"containerPort", 8080}, {"protocol", "TCP"}}}));
  EXPECT_EQ(server["resources"],
            (Json{{"requests", {{"cpu", "2"}, {"memory", "4Gi"}, {"nvidia.com/gpu", "1"}}},
                  {"limits", {{"memory", "4Gi"}, {"nvidia.com/gpu", "1"}}}}));
  EXPECT_EQ(server["securityContext"],
            (Json{{"allowPrivilegeEscalation", false},
                  {"readOnlyRootFilesystem", true},
                  {"runAsNonRoot", true},
                  {"runAsUser", 65532},
                  {"runAsGroup", 65532},
                  {"seccompProfile", {{"type", "RuntimeDefault"}}},
                  {"capabilities", {{"drop", {"ALL"}}}}}));
  EXPECT_FALSE(predictor(*objects).contains("securityContext"));
  EXPECT_EQ(server["readinessProbe"]["httpGet"], (Json{{"path", "/v2/health/ready"}, {"port", 8080}}));
  EXPECT_EQ(server["livenessProbe"]["httpGet"], (Json{{"path", "/v2/health/live"}, {"port", 8080}}));
  // Knative before 1.15 refuses startup probes; PORT is Knative's own, the server reads MLCTL_PORT.
  EXPECT_FALSE(server.contains("startupProbe"));
  EXPECT_EQ(server["env"], (Json{{{"name", "MLCTL_MODEL_NAME"}, {"value", "fraud-detector"}},
                                 {{"name", "MLCTL_MODEL_VERSION"}, {"value", "4"}},
                                 {{"name", "MLCTL_FLAVOR"}, {"value", "sklearn"}},
                                 {{"name", "MLCTL_PORT"}, {"value", "8080"}}}));
}

TEST(KServeRenderTest, RawDeploymentKeepsTheStartupProbe) {
  auto objects = render_kserve(fraud_detector(KServeMode::raw_deployment));
  ASSERT_TRUE(objects);
  EXPECT_EQ(find(*objects, "InferenceService")["metadata"]["annotations"],
            (Json{{"serving.kserve.io/deploymentMode", "RawDeployment"}}));
  const Json& server = predictor(*objects)["containers"][0];
  EXPECT_EQ(server["startupProbe"], (Json{{"httpGet", {{"path", "/v2/health/ready"}, {"port", 8080}}},
                                          {"periodSeconds", 5},
                                          {"failureThreshold", 60}}));
}

TEST(KServeRenderTest, ACanarySendsItsPercentToThisVersionInServerlessMode) {
  for (int percent : {0, 10, 100}) {
    KServeService service = fraud_detector();
    service.canary_percent = percent;
    auto objects = render_kserve(service);
    ASSERT_TRUE(objects) << percent;
    EXPECT_EQ(predictor(*objects)["canaryTrafficPercent"], percent);
    EXPECT_FALSE(canary_ignored(service));
  }
}

TEST(KServeRenderTest, RawDeploymentLeavesTheCanaryOutAndSaysSo) {
  KServeService service = fraud_detector(KServeMode::raw_deployment);
  EXPECT_FALSE(canary_ignored(service));
  service.canary_percent = 10;
  EXPECT_TRUE(canary_ignored(service));
  auto objects = render_kserve(service);
  ASSERT_TRUE(objects);
  EXPECT_FALSE(predictor(*objects).contains("canaryTrafficPercent"));
}

TEST(KServeRenderTest, RenderingTwiceGivesTheSameBytes) {
  KServeService service = fraud_detector();
  service.canary_percent = 25;
  auto first = render_kserve(service);
  auto second = render_kserve(service);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(manifest_yaml(*first), manifest_yaml(*second));
  EXPECT_NE(manifest_yaml(*first).find("\n---\napiVersion: serving.kserve.io/v1beta1\n"), std::string::npos);
}

std::string error_of(const KServeService& service) {
  auto objects = render_kserve(service);
  return objects ? "ok" : objects.error().message();
}

TEST(KServeRenderTest, BadInputIsRefusedNamingTheField) {
  KServeService service = fraud_detector();
  service.canary_percent = 101;
  EXPECT_EQ(error_of(service), "canary: 101 is not a percentage (0..100)");
  service.canary_percent = -1;
  EXPECT_EQ(error_of(service), "canary: -1 is not a percentage (0..100)");
  service = fraud_detector();
  service.model.image = "registry.example/fraud/server:4";
  EXPECT_EQ(error_of(service), "image: 'registry.example/fraud/server:4' is not pinned by a digest");
  service = fraud_detector();
  service.model.model = "m" + std::string(47, 'x');
  service.model.environment = "p";
  EXPECT_EQ(error_of(service), "model: '" + service.model.model + "' is too long for KServe: '" + service.model.model +
                                   "-predictor-00001' is longer than 63 characters");
  // Without Knative revisions the predictor's own name is the longest.
  service.mode = KServeMode::raw_deployment;
  EXPECT_EQ(error_of(service), "ok");
}

}  // namespace
}  // namespace mlctl::deploy
