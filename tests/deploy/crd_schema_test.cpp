// Rendered KServe, Seldon Core 2 and Prometheus Operator objects against the upstream CRD schemas
// (strict: unknown fields are refused), read back from the YAML mlctl writes by PyYAML.
#include "served_models.hpp"

#include <mlctl/deploy/istio.hpp>
#include <mlctl/deploy/k8s.hpp>
#include <mlctl/deploy/kserve.hpp>
#include <mlctl/deploy/monitoring.hpp>
#include <mlctl/deploy/seldon.hpp>

#include <support/run.hpp>
#include <support/temp_dir.hpp>

#include <gtest/gtest.h>

namespace mlctl::deploy {
namespace {

const std::vector<std::string> k_validator{"/usr/bin/python3", MLCTL_SOURCE_DIR "/tests/support/validate_schemas.py",
                                           MLCTL_TEST_DATA "/schemas"};

TEST(CrdSchemaTest, EveryRenderedObjectValidatesAgainstTheUpstreamSchema) {
  std::vector<std::pair<std::string, Result<std::vector<nlohmann::json>>>> rendered;
  for (KServeMode mode : {KServeMode::serverless, KServeMode::raw_deployment}) {
    for (int gpu : {0, 2}) {
      ServedModel model = test::fraud_detector(12, 'c');
      model.image = "127.0.0.1:5000/fraud/server:0.1.0@sha256:" + std::string(64, 'd');
      model.resources = {.cpu = "250m", .memory = "512Mi", .gpu = gpu};
      std::string name = mode == KServeMode::serverless ? "kserve-serverless-gpu-" : "kserve-raw-gpu-";
      rendered.emplace_back(name + std::to_string(gpu) + ".yaml",
                            render_kserve({.model = model, .mode = mode, .canary_percent = 10}));
    }
  }
  TrafficSplit split{.stable = test::fraud_detector(3, 'a'), .candidate = test::fraud_detector(4, 'b'),
                     .weight = 10, .mode = SplitMode::ab, .route_header = {}};
  rendered.emplace_back("seldon-model.yaml", render_seldon(split.stable));
  rendered.emplace_back("seldon-ab.yaml", render_seldon(split));
  split.mode = SplitMode::shadow;
  rendered.emplace_back("seldon-shadow.yaml", render_seldon(split));
  auto monitor = service_monitor(split.stable);
  ASSERT_TRUE(monitor) << monitor.error().message();
  rendered.emplace_back("monitor.yaml", std::vector<nlohmann::json>{*monitor});

  mlctl::test::TempDir dir;
  std::vector<std::string> argv = k_validator;
  for (const auto& [name, objects] : rendered) {
    ASSERT_TRUE(objects) << name << ": " << objects.error().message();
    argv.push_back(dir.write(name, manifest_yaml(*objects)).string());
  }
  auto checked = mlctl::test::run_command(argv, dir.path());
  EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err;
  EXPECT_EQ(checked.out, "");
  EXPECT_EQ(argv.size(), k_validator.size() + 8);
}

// The validator is not blind to the new kinds: a wrong type, a missing required field and a
// malformed duration are each refused.
TEST(CrdSchemaTest, TheValidatorRefusesBadObjectsOfTheNewKinds) {
  mlctl::test::TempDir dir;
  auto validate = [&](const std::string& name, const std::string& yaml) {
    dir.write(name, yaml);
    std::vector<std::string> argv = k_validator;
    argv.push_back((dir / name).string());
    return mlctl::test::run_command(argv, dir.path());
  };
  auto canary = validate("canary.yaml", "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\n"
                                        "metadata: {name: x}\nspec: {predictor: {canaryTrafficPercent: '10'}}\n");
  EXPECT_EQ(canary.exit_code, 1);
  EXPECT_NE(canary.out.find("spec/predictor/canaryTrafficPercent: '10' is not of type 'integer'"), std::string::npos)
      << canary.out;
  auto experiment = validate("experiment.yaml", "apiVersion: mlops.seldon.io/v1alpha1\nkind: Experiment\n"
                                                "metadata: {name: x}\nspec: {default: a, candidates: [{name: a}]}\n");
  EXPECT_EQ(experiment.exit_code, 1);
  EXPECT_NE(experiment.out.find("spec/candidates/0: 'weight' is a required property"), std::string::npos)
      << experiment.out;
  auto monitor = validate("monitor.yaml", "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\n"
                                          "metadata: {name: x}\nspec: {selector: {}, endpoints: [{interval: 30 seconds}]}\n");
  EXPECT_EQ(monitor.exit_code, 1);
  EXPECT_NE(monitor.out.find("spec/endpoints/0/interval: '30 seconds' does not match"), std::string::npos) << monitor.out;
}

}  // namespace
}  // namespace mlctl::deploy
