#include "served_models.hpp"

#include <mlctl/deploy/istio.hpp>
#include <mlctl/deploy/k8s.hpp>
#include <mlctl/deploy/monitoring.hpp>

#include <gtest/gtest.h>

namespace mlctl::deploy {
namespace {

using Json = nlohmann::json;

using test::find;

TEST(MonitoringRenderTest, TheServiceMonitorScrapesTheModelsServiceEveryThirtySeconds) {
  auto monitor = service_monitor(test::fraud_detector(3, 'a'));
  ASSERT_TRUE(monitor) << monitor.error().message();
  EXPECT_EQ((*monitor)["apiVersion"], "monitoring.coreos.com/v1");
  EXPECT_EQ((*monitor)["kind"], "ServiceMonitor");
  EXPECT_EQ((*monitor)["metadata"]["name"], "fraud-detector");
  EXPECT_EQ((*monitor)["metadata"]["namespace"], "ml-prod");
  EXPECT_EQ((*monitor)["metadata"]["labels"]["app.kubernetes.io/managed-by"], "mlctl");
  EXPECT_EQ((*monitor)["spec"],
            (Json{{"selector",
                   {{"matchLabels",
                     {{"app.kubernetes.io/name", "fraud-detector"}, {"app.kubernetes.io/instance", "fraud-detector-prod"}}}}},
                  {"podTargetLabels", {"mlctl.dev/model-version"}},
                  {"endpoints", {{{"port", "http"}, {"path", "/metrics"}, {"interval", "30s"}, {"scheme", "http"}}}}}));
}

// The monitor is only as good as its match: the Service it selects, the port by name, and the
// pods behind it carrying the label it copies.
TEST(MonitoringRenderTest, ItSelectsTheServiceTheStrategiesRenderAndItsNamedPort) {
  TrafficSplit split{.stable = test::fraud_detector(3, 'a'), .candidate = test::fraud_detector(4, 'b'),
                     .weight = 10, .mode = SplitMode::ab, .route_header = {}};
  auto direct = render_direct(split.stable);
  auto istio = render_istio(split);
  auto monitor = service_monitor(split.stable);
  ASSERT_TRUE(direct) << direct.error().message();
  ASSERT_TRUE(istio) << istio.error().message();
  ASSERT_TRUE(monitor) << monitor.error().message();
  for (const auto* objects : {&*direct, &*istio}) {
    const Json& service = find(*objects, "Service");
    for (const auto& [label, value] : (*monitor)["spec"]["selector"]["matchLabels"].items())
      EXPECT_EQ(service["metadata"]["labels"][label], value) << label;
    EXPECT_EQ(service["spec"]["ports"][0]["name"], (*monitor)["spec"]["endpoints"][0]["port"]);
  }
  EXPECT_EQ((*istio)[2]["spec"]["template"]["metadata"]["labels"]["mlctl.dev/model-version"], "4");
}

TEST(MonitoringRenderTest, RenderingTwiceGivesTheSameBytesAndBadInputIsRefused) {
  auto first = service_monitor(test::fraud_detector(3, 'a'));
  auto second = service_monitor(test::fraud_detector(3, 'a'));
  ASSERT_TRUE(first && second);
  EXPECT_EQ(manifest_yaml({*first}), manifest_yaml({*second}));
  ServedModel model = test::fraud_detector(3, 'a');
  model.namespace_name = "";
  auto refused = service_monitor(model);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message().substr(0, 11), "namespace: ");
}

}  // namespace
}  // namespace mlctl::deploy
