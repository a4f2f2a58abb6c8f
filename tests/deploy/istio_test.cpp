#include "served_models.hpp"

#include <mlctl/deploy/istio.hpp>

#include <gtest/gtest.h>

namespace mlctl::deploy {
namespace {

using Json = nlohmann::json;

std::vector<std::string> names(const std::vector<Json>& objects) {
  std::vector<std::string> out;
  for (const auto& object : objects)
    out.push_back(object["kind"].get<std::string>() + "/" + object["metadata"]["name"].get<std::string>());
  return out;
}

TEST(IstioRenderTest, AbRunsBothVersionsSideBySideAndSplitsNinetyTen) {
  auto objects = render_istio(test::ninety_ten());
  ASSERT_TRUE(objects) << objects.error().message();
  EXPECT_EQ(names(*objects),
            (std::vector<std::string>{"ServiceAccount/fraud-detector", "Deployment/fraud-detector-v3",
                                      "Deployment/fraud-detector-v4", "HorizontalPodAutoscaler/fraud-detector-v3",
                                      "HorizontalPodAutoscaler/fraud-detector-v4",
                                      "PodDisruptionBudget/fraud-detector-v3", "PodDisruptionBudget/fraud-detector-v4",
                                      "Service/fraud-detector", "NetworkPolicy/fraud-detector",
                                      "DestinationRule/fraud-detector", "VirtualService/fraud-detector"}));
  const Json& candidate = (*objects)[2];
  EXPECT_EQ(candidate["spec"]["selector"]["matchLabels"]["mlctl.dev/model-version"], "4");
  EXPECT_EQ(candidate["spec"]["template"]["metadata"]["labels"]["mlctl.dev/model-version"], "4");
  EXPECT_EQ(candidate["spec"]["template"]["spec"]["containers"][0]["image"],
            "registry.example/fraud/server@sha256:" + std::string(64, 'b'));
  EXPECT_EQ((*objects)[4]["spec"]["scaleTargetRef"]["name"], "fraud-detector-v4");
  // The Service picks both versions' pods; Istio picks among them.
  EXPECT_FALSE((*objects)[7]["spec"]["selector"].contains("mlctl.dev/model-version"));

  const Json& rule = (*objects)[9]["spec"];
  EXPECT_EQ(rule["host"], "fraud-detector.ml-prod.svc.cluster.local");
  EXPECT_EQ(rule["subsets"], (Json{{{"name", "v3"}, {"labels", {{"mlctl.dev/model-version", "3"}}}},
                                   {{"name", "v4"}, {"labels", {{"mlctl.dev/model-version", "4"}}}}}));
  const Json& service = (*objects)[10]["spec"];
  EXPECT_EQ(service["hosts"], (Json{"fraud-detector.ml-prod.svc.cluster.local"}));
  ASSERT_EQ(service["http"].size(), 1u);
  const Json& routes = service["http"][0]["route"];
  EXPECT_EQ(routes[0]["destination"]["subset"], "v3");
  EXPECT_EQ(routes[0]["weight"], 90);
  EXPECT_EQ(routes[1]["destination"]["subset"], "v4");
  EXPECT_EQ(routes[1]["weight"], 10);
}

TEST(IstioRenderTest, WeightsAlwaysSumToAHundred) {
  for (int weight : {0, 1, 50, 99, 100}) {
    TrafficSplit split = test::ninety_ten();
    split.weight = weight;
    auto objects = render_istio(split);
    ASSERT_TRUE(objects);
    const Json& routes = objects->back()["spec"]["http"][0]["route"];
    EXPECT_EQ(routes[0]["weight"].get<int>() + routes[1]["weight"].get<int>(), 100) << weight;
    EXPECT_EQ(routes[1]["weight"], weight);
  }
}

TEST(IstioRenderTest, ARouteHeaderPinsACohortToTheCandidateBeforeTheSplit) {
  TrafficSplit split = test::ninety_ten();
  split.route_header = RouteHeader{"x-user-group", "beta"};
  auto objects = render_istio(split);
  ASSERT_TRUE(objects);
  const Json& http = objects->back()["spec"]["http"];
  ASSERT_EQ(http.size(), 2u);
  EXPECT_EQ(http[0]["name"], "cohort");
  EXPECT_EQ(http[0]["match"], (Json{{{"headers", {{"x-user-group", {{"exact", "beta"}}}}}}}));
  EXPECT_EQ(http[0]["route"], (Json{{{"destination", {{"host", "fraud-detector.ml-prod.svc.cluster.local"},
                                                      {"subset", "v4"},
                                                      {"port", {{"number", 80}}}}}}}));
  EXPECT_EQ(http[1]["name"], "split");
}

TEST(IstioRenderTest, ShadowServesFromStableAndMirrorsTheWeightToTheCandidate) {
  TrafficSplit split = test::ninety_ten();
  split.mode = SplitMode::shadow;
  split.weight = 25;
  auto objects = render_istio(split);
  ASSERT_TRUE(objects);
  const Json& http = objects->back()["spec"]["http"][0];
  EXPECT_EQ(http["route"], (Json{{{"destination", {{"host", "fraud-detector.ml-prod.svc.cluster.local"},
                                                   {"subset", "v3"},
                                                   {"port", {{"number", 80}}}}},
                                 {"weight", 100}}}));
  EXPECT_EQ(http["mirror"]["subset"], "v4");
  EXPECT_EQ(http["mirrorPercentage"], (Json{{"value", 25}}));
}

std::string error_of(const TrafficSplit& split) {
  auto objects = render_istio(split);
  return objects ? "ok" : objects.error().message();
}

TEST(IstioRenderTest, WhatCannotBeSplitIsRefused) {
  TrafficSplit split = test::ninety_ten();
  split.weight = 101;
  EXPECT_EQ(error_of(split), "weight: 101 is not a percentage (0..100)");
  split.weight = -1;
  EXPECT_EQ(error_of(split), "weight: -1 is not a percentage (0..100)");
  split = test::ninety_ten();
  split.candidate->version = 3;
  EXPECT_EQ(error_of(split), "the candidate is version 3, the stable version itself");
  split = test::ninety_ten();
  split.candidate->namespace_name = "ml-dev";
  EXPECT_EQ(error_of(split), "a split is between versions of one model in one place, not "
                             "fraud-detector/prod/ml-prod and fraud-detector/prod/ml-dev");
  split = test::ninety_ten();
  split.candidate->image = "registry.example/fraud/server:4";
  EXPECT_EQ(error_of(split), "candidate: image: 'registry.example/fraud/server:4' is not pinned by a digest");
  split = test::ninety_ten();
  split.route_header = RouteHeader{"X-User-Group", "beta"};
  EXPECT_EQ(error_of(split), "route header 'X-User-Group=beta': give a lower-case header name and a value");
  split.route_header = RouteHeader{"x-user-group", "beta"};
  split.mode = SplitMode::shadow;
  EXPECT_EQ(error_of(split), "a shadow gets a copy of the traffic; a route header would send users to it");
  split = test::ninety_ten();
  split.candidate.reset();
  split.route_header = RouteHeader{"x-user-group", "beta"};
  EXPECT_EQ(error_of(split), "a route header sends a cohort to a candidate: name one");
}

TEST(IstioRenderTest, WithoutACandidateTheStableVersionGetsEverything) {
  TrafficSplit split = test::ninety_ten();
  split.candidate.reset();
  split.route_header.reset();
  auto objects = render_istio(split);
  ASSERT_TRUE(objects) << objects.error().message();
  std::vector<std::string> kinds;
  for (const auto& object : *objects) kinds.push_back(object["kind"].get<std::string>() + "/" + object["metadata"]["name"].get<std::string>());
  EXPECT_EQ(kinds, (std::vector<std::string>{"ServiceAccount/fraud-detector", "Deployment/fraud-detector-v3",
                                             "HorizontalPodAutoscaler/fraud-detector-v3",
                                             "PodDisruptionBudget/fraud-detector-v3", "Service/fraud-detector",
                                             "NetworkPolicy/fraud-detector", "DestinationRule/fraud-detector",
                                             "VirtualService/fraud-detector"}));
  EXPECT_EQ(test::find(*objects, "DestinationRule")["spec"]["subsets"],
            Json::parse(R"([{"name":"v3","labels":{"mlctl.dev/model-version":"3"}}])"));
  EXPECT_EQ(test::find(*objects, "VirtualService")["spec"]["http"],
            Json::parse(R"([{"name":"split","route":[{"destination":{"host":"fraud-detector.ml-prod.svc.cluster.local",
                        "port":{"number":80},"subset":"v3"},"weight":100}]}])"));
}

}  // namespace
}  // namespace mlctl::deploy
