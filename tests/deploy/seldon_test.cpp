#include "served_models.hpp"

#include <mlctl/deploy/seldon.hpp>

#include <gtest/gtest.h>

namespace mlctl::deploy {
namespace {

using Json = nlohmann::json;

TEST(SeldonRenderTest, OneVersionIsOneModelLoadingTheArtifactWithTheFlavorsRuntime) {
  ServedModel model = test::fraud_detector(3, 'a');
  model.resources.memory = "2Gi";
  model.autoscaling = {.min_replicas = 2, .max_replicas = 5, .cpu_utilization = 70};
  auto objects = render_seldon(model);
  ASSERT_TRUE(objects) << objects.error().message();
  ASSERT_EQ(objects->size(), 1u);
  const Json& seldon = (*objects)[0];
  EXPECT_EQ(seldon["apiVersion"], "mlops.seldon.io/v1alpha1");
  EXPECT_EQ(seldon["kind"], "Model");
  EXPECT_EQ(seldon["metadata"]["name"], "fraud-detector-v3");
  EXPECT_EQ(seldon["metadata"]["namespace"], "ml-prod");
  EXPECT_EQ(seldon["metadata"]["labels"]["mlctl.dev/model-version"], "3");
  EXPECT_EQ(seldon["spec"], (Json{{"storageUri", "s3://models/fraud-detector/3/model.pkl"},
                                  {"requirements", {"sklearn"}},
                                  {"memory", "2Gi"},
                                  {"replicas", 2},
                                  {"minReplicas", 2},
                                  {"maxReplicas", 5}}));
}

TEST(SeldonRenderTest, EachRuntimeFlavorIsItsOwnRequirement) {
  for (const char* flavor : {"sklearn", "xgboost", "lightgbm", "pytorch", "tensorflow", "onnx"}) {
    ServedModel model = test::fraud_detector(3, 'a');
    model.flavor = flavor;
    auto objects = render_seldon(model);
    ASSERT_TRUE(objects) << flavor;
    EXPECT_EQ((*objects)[0]["spec"]["requirements"], (Json{flavor}));
  }
}

TEST(SeldonRenderTest, AbRunsBothModelsAndSplitsTheStableEndpointNinetyTen) {
  auto objects = render_seldon(test::ninety_ten());
  ASSERT_TRUE(objects) << objects.error().message();
  ASSERT_EQ(objects->size(), 3u);
  EXPECT_EQ((*objects)[0]["metadata"]["name"], "fraud-detector-v3");
  EXPECT_EQ((*objects)[1]["metadata"]["name"], "fraud-detector-v4");
  EXPECT_EQ((*objects)[1]["spec"]["storageUri"], "s3://models/fraud-detector/4/model.pkl");
  const Json& experiment = (*objects)[2];
  EXPECT_EQ(experiment["kind"], "Experiment");
  EXPECT_EQ(experiment["metadata"]["name"], "fraud-detector");
  EXPECT_EQ(experiment["metadata"]["namespace"], "ml-prod");
  EXPECT_EQ(experiment["spec"], (Json{{"default", "fraud-detector-v3"},
                                      {"candidates",
                                       {{{"name", "fraud-detector-v3"}, {"weight", 90}},
                                        {{"name", "fraud-detector-v4"}, {"weight", 10}}}}}));
}

TEST(SeldonRenderTest, WithoutACandidateTheStableModelAloneIsRendered) {
  TrafficSplit split = test::ninety_ten();
  split.candidate.reset();
  auto alone = render_seldon(split);
  auto model = render_seldon(split.stable);
  ASSERT_TRUE(alone && model);
  EXPECT_EQ(*alone, *model);
  ASSERT_EQ(alone->size(), 1u);
  EXPECT_EQ((*alone)[0]["metadata"]["name"], "fraud-detector-v3");
}

TEST(SeldonRenderTest, WeightsAlwaysSumToAHundred) {
  for (int weight : {0, 1, 50, 99, 100}) {
    TrafficSplit split = test::ninety_ten();
    split.weight = weight;
    auto objects = render_seldon(split);
    ASSERT_TRUE(objects) << weight;
    const Json& candidates = objects->back()["spec"]["candidates"];
    EXPECT_EQ(candidates[0]["weight"].get<int>() + candidates[1]["weight"].get<int>(), 100) << weight;
    EXPECT_EQ(candidates[1]["weight"], weight);
  }
}

TEST(SeldonRenderTest, ShadowAnswersFromStableAndMirrorsTheWeightToTheCandidate) {
  TrafficSplit split = test::ninety_ten();
  split.mode = SplitMode::shadow;
  split.weight = 25;
  auto objects = render_seldon(split);
  ASSERT_TRUE(objects);
  EXPECT_EQ(objects->back()["spec"], (Json{{"default", "fraud-detector-v3"},
                                           {"candidates", {{{"name", "fraud-detector-v3"}, {"weight", 100}}}},
                                           {"mirror", {{"name", "fraud-detector-v4"}, {"percent", 25}}}}));
}

TEST(SeldonRenderTest, RenderingTwiceGivesTheSameBytes) {
  auto first = render_seldon(test::ninety_ten());
  auto second = render_seldon(test::ninety_ten());
  ASSERT_TRUE(first && second);
  EXPECT_EQ(manifest_yaml(*first), manifest_yaml(*second));
  EXPECT_TRUE(manifest_yaml(*first).starts_with("apiVersion: mlops.seldon.io/v1alpha1\nkind: Model\n"));
}

std::string error_of(const ServedModel& model) {
  auto objects = render_seldon(model);
  return objects ? "ok" : objects.error().message();
}

std::string error_of(const TrafficSplit& split) {
  auto objects = render_seldon(split);
  return objects ? "ok" : objects.error().message();
}

TEST(SeldonRenderTest, WhatSeldonCannotServeIsRefusedNamingTheField) {
  ServedModel model = test::fraud_detector(3, 'a');
  model.flavor = "generic";
  EXPECT_EQ(error_of(model), "flavor: Seldon has no runtime for 'generic' models (it serves sklearn, xgboost, "
                             "lightgbm, pytorch, tensorflow, onnx)");
  model = test::fraud_detector(3, 'a');
  model.artifact_uri = "file:///home/me/.mlctl/artifacts/ab/model.pkl";
  EXPECT_EQ(error_of(model), "artifact uri: Seldon's servers cannot fetch 'file:///home/me/.mlctl/artifacts/ab/model.pkl'");
  model.artifact_uri = "oci://registry.example/fraud/model:3";
  EXPECT_EQ(error_of(model), "artifact uri: Seldon's servers cannot fetch 'oci://registry.example/fraud/model:3'");
  model = test::fraud_detector(3, 'a');
  model.resources.memory = "lots";
  EXPECT_EQ(error_of(model), "resources.memory: 'lots' is not a memory quantity");

  TrafficSplit split = test::ninety_ten();
  split.weight = 101;
  EXPECT_EQ(error_of(split), "weight: 101 is not a percentage (0..100)");
  split = test::ninety_ten();
  split.candidate->version = 3;
  EXPECT_EQ(error_of(split), "the candidate is version 3, the stable version itself");
  split = test::ninety_ten();
  split.candidate->flavor = "generic";
  EXPECT_EQ(error_of(split).substr(0, 54), "candidate: flavor: Seldon has no runtime for 'generic'");
  split = test::ninety_ten();
  split.stable.artifact_uri = "oci://registry.example/fraud/model:3";
  EXPECT_EQ(error_of(split), "stable: artifact uri: Seldon's servers cannot fetch 'oci://registry.example/fraud/model:3'");
  split = test::ninety_ten();
  split.route_header = RouteHeader{"x-user-group", "beta"};
  EXPECT_EQ(error_of(split), "route header 'x-user-group': Seldon's experiments split by weight only");
}

}  // namespace
}  // namespace mlctl::deploy
