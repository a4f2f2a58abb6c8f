#include "served_models.hpp"

#include <mlctl/deploy/rollouts.hpp>

#include <gtest/gtest.h>

namespace mlctl::deploy {
namespace {

using Json = nlohmann::json;

using test::find;

Canary fraud_canary() {
  Canary canary;
  canary.model = test::fraud_detector(5, 'e');
  return canary;
}

TEST(RolloutsRenderTest, TheRolloutStepsTheWeightsThroughIstioUnderAnalysis) {
  Canary canary = fraud_canary();
  canary.steps = {{10, "5m"}, {50, ""}};
  auto objects = render_canary(canary);
  ASSERT_TRUE(objects) << objects.error().message();
  std::vector<std::string> kinds;
  for (const auto& object : *objects) kinds.push_back(object["kind"]);
  EXPECT_EQ(kinds, (std::vector<std::string>{"ServiceAccount", "Rollout", "HorizontalPodAutoscaler", "PodDisruptionBudget",
                                             "Service", "NetworkPolicy", "DestinationRule", "VirtualService",
                                             "AnalysisTemplate"}));
  const Json& rollout = find(*objects, "Rollout")["spec"];
  EXPECT_EQ(rollout["template"]["spec"]["containers"][0]["image"], canary.model.image);
  const Json& strategy = rollout["strategy"]["canary"];
  EXPECT_EQ(strategy["steps"], (Json{{{"setWeight", 10}}, {{"pause", {{"duration", "5m"}}}},
                                     {{"setWeight", 50}}, {{"pause", Json::object()}}}));
  EXPECT_EQ(strategy["trafficRouting"]["istio"],
            (Json{{"virtualService", {{"name", "fraud-detector"}, {"routes", {"primary"}}}},
                  {"destinationRule",
                   {{"name", "fraud-detector"}, {"canarySubsetName", "canary"}, {"stableSubsetName", "stable"}}}}));
  EXPECT_EQ(strategy["analysis"]["templates"], (Json{{{"templateName", "fraud-detector"}}}));
  EXPECT_EQ(strategy["analysis"]["args"][0]["value"], "fraud-detector.ml-prod.svc.cluster.local");
  EXPECT_EQ(find(*objects, "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"],
            (Json{{"apiVersion", "argoproj.io/v1alpha1"}, {"kind", "Rollout"}, {"name", "fraud-detector"}}));
  const Json& route = find(*objects, "VirtualService")["spec"]["http"][0];
  EXPECT_EQ(route["name"], "primary");
  EXPECT_EQ(route["route"][0]["destination"]["subset"], "stable");
  EXPECT_EQ(route["route"][0]["weight"], 100);
  EXPECT_EQ(route["route"][1]["destination"]["subset"], "canary");
  EXPECT_EQ(route["route"][1]["weight"], 0);
}

TEST(RolloutsRenderTest, TheAnalysisAbortsOnErrorsOrSlowAnswers) {
  Canary canary = fraud_canary();
  canary.analysis = {.prometheus = "http://prometheus.monitoring:9090", .min_success_rate = 0.995, .max_p95_latency_ms = 250};
  auto objects = render_canary(canary);
  ASSERT_TRUE(objects);
  const Json& metrics = find(*objects, "AnalysisTemplate")["spec"]["metrics"];
  ASSERT_EQ(metrics.size(), 2u);
  EXPECT_EQ(metrics[0]["name"], "success-rate");
  EXPECT_EQ(metrics[0]["successCondition"], "result[0] >= 0.995");
  EXPECT_EQ(metrics[0]["failureLimit"], 2);
  EXPECT_EQ(metrics[0]["provider"]["prometheus"]["address"], "http://prometheus.monitoring:9090");
  EXPECT_EQ(metrics[0]["provider"]["prometheus"]["query"],
            "sum(rate(istio_requests_total{destination_service=\"{{args.service}}\",response_code!~\"5.*\"}[2m])) / "
            "sum(rate(istio_requests_total{destination_service=\"{{args.service}}\"}[2m]))");
  EXPECT_EQ(metrics[1]["name"], "latency-p95");
  EXPECT_EQ(metrics[1]["successCondition"], "result[0] <= 250");
}

std::string error_of(const Canary& canary) {
  auto objects = render_canary(canary);
  return objects ? "ok" : objects.error().message();
}

TEST(RolloutsRenderTest, StepsMustRiseAndPausesBeDurations) {
  Canary canary = fraud_canary();
  canary.steps = {{50, "5m"}, {20, "5m"}};
  EXPECT_EQ(error_of(canary), "canary step 2: weight 20 must rise, within 1..100");
  canary.steps = {{0, "5m"}};
  EXPECT_EQ(error_of(canary), "canary step 1: weight 0 must rise, within 1..100");
  canary.steps = {{10, "five minutes"}};
  EXPECT_EQ(error_of(canary), "canary step 1: pause 'five minutes' is not a duration");
  canary.steps = {};
  EXPECT_EQ(error_of(canary), "a canary needs at least one step");
  canary = fraud_canary();
  canary.analysis.min_success_rate = 1.5;
  EXPECT_EQ(error_of(canary), "success rate 1.5 is not within (0, 1]");
  canary = fraud_canary();
  canary.analysis.prometheus = "prometheus:9090";
  EXPECT_EQ(error_of(canary), "the Prometheus address 'prometheus:9090' is not an http(s) URL");
}

}  // namespace
}  // namespace mlctl::deploy
