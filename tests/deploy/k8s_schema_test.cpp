// Rendered objects against the upstream Kubernetes schemas (strict: unknown fields are refused),
// read back from the YAML mlctl writes by PyYAML.
#include "served_models.hpp"

#include <mlctl/deploy/istio.hpp>
#include <mlctl/deploy/k8s.hpp>
#include <mlctl/deploy/kserve.hpp>
#include <mlctl/deploy/rollouts.hpp>

#include <support/run.hpp>
#include <support/temp_dir.hpp>

#include <gtest/gtest.h>

namespace mlctl::deploy {
namespace {

TEST(K8sSchemaTest, EveryRenderedObjectValidatesAgainstTheUpstreamSchema) {
  mlctl::test::TempDir dir;
  std::vector<std::string> files;
  for (int gpu : {0, 2}) {
    ServedModel model = test::fraud_detector(12, 'c');
    model.image = "127.0.0.1:5000/fraud/server:0.1.0@sha256:" + std::string(64, 'd');
    model.resources = {.cpu = "250m", .memory = "512Mi", .gpu = gpu};
    auto objects = render_direct(model);
    ASSERT_TRUE(objects) << objects.error().message();
    files.push_back(dir.write("gpu-" + std::to_string(gpu) + ".yaml", manifest_yaml(*objects)).string());
  }
  for (SplitMode mode : {SplitMode::ab, SplitMode::shadow}) {
    TrafficSplit split{.stable = test::fraud_detector(3, 'a'),
                       .candidate = test::fraud_detector(4, 'b'),
                       .weight = 10,
                       .mode = mode,
                       .route_header = {}};
    if (mode == SplitMode::ab) split.route_header = RouteHeader{"x-user-group", "beta"};
    auto objects = render_istio(split);
    ASSERT_TRUE(objects) << objects.error().message();
    files.push_back(dir.write(mode == SplitMode::ab ? "ab.yaml" : "shadow.yaml", manifest_yaml(*objects)).string());
  }
  {
    Canary canary;
    canary.model = test::fraud_detector(5, 'e');
    canary.model.resources = {.cpu = "1", .memory = "2Gi", .gpu = 1};
    canary.steps = {{5, "2m"}, {25, ""}, {60, "1h"}};
    auto objects = render_canary(canary);
    ASSERT_TRUE(objects) << objects.error().message();
    files.push_back(dir.write("canary.yaml", manifest_yaml(*objects)).string());
  }
  auto checked = test::validate_schemas(files, dir.path());
  EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err;
  EXPECT_EQ(checked.out, "");

  EXPECT_EQ(files.size(), 5u);
  // The validator is not blind: an unknown field is refused.
  dir.write("bad.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {portz: []}\n");
  auto bad = test::validate_schemas({(dir / "bad.yaml").string()}, dir.path());
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.out.find("'portz' was unexpected"), std::string::npos) << bad.out;
  dir.write("bad-route.yaml", "apiVersion: networking.istio.io/v1beta1\nkind: VirtualService\nmetadata: {name: x}\n"
                              "spec: {hosts: [a], http: [{route: [{destination: {host: a}, weight: '90'}]}]}\n");
  auto bad_route = test::validate_schemas({(dir / "bad-route.yaml").string()}, dir.path());
  EXPECT_EQ(bad_route.exit_code, 1);
  EXPECT_NE(bad_route.out.find("weight: '90' is not of type 'integer'"), std::string::npos) << bad_route.out;
}

// The init container and the emptyDir (packaging init) and the image volume (modelcar, the
// schema of Kubernetes 1.31+) in every kind of object that carries the pods.
TEST(K8sSchemaTest, PackagedModelsValidateAgainstTheUpstreamSchema) {
  mlctl::test::TempDir dir;
  auto packaged = [](std::int64_t version, char digest, Packaging packaging) {
    ServedModel model = test::fraud_detector(version, digest);
    model.packaging = packaging;
    model.tool_image = "127.0.0.1:5000/mlctl/tool:0.1.0@sha256:" + std::string(64, '7');
    model.artifact_directory = packaging == Packaging::init;
    if (packaging == Packaging::modelcar)
      model.artifact_uri = "oci://127.0.0.1:5000/ml/fraud-model@sha256:" + std::string(64, 'f');
    return model;
  };
  std::vector<std::string> files;
  auto add = [&](const std::string& name, const Result<std::vector<nlohmann::json>>& objects) {
    ASSERT_TRUE(objects) << name << ": " << objects.error().message();
    files.push_back(dir.write(name, manifest_yaml(*objects)).string());
  };
  add("init.yaml", render_direct(packaged(3, 'a', Packaging::init)));
  add("modelcar.yaml", render_direct(packaged(3, 'a', Packaging::modelcar)));
  add("split.yaml", render_istio({.stable = packaged(3, 'a', Packaging::init),
                                  .candidate = packaged(4, 'b', Packaging::modelcar),
                                  .weight = 10,
                                  .mode = SplitMode::ab,
                                  .route_header = {}}));
  Canary canary;
  canary.model = packaged(5, 'e', Packaging::init);
  add("canary.yaml", render_canary(canary));
  add("kserve.yaml", render_kserve({.model = packaged(6, 'c', Packaging::modelcar),
                                    .mode = KServeMode::raw_deployment,
                                    .canary_percent = {}}));
  ASSERT_EQ(files.size(), 5u);
  auto checked = test::validate_schemas(files, dir.path());
  EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err;
  EXPECT_EQ(checked.out, "");

  // The validator knows the image volume's fields: a misspelt one is refused.
  dir.write("bad-volume.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n"
                               "  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n"
                               "    spec:\n      containers: [{name: c, image: i}]\n"
                               "      volumes: [{name: model, image: {ref: r}}]\n");
  auto bad = test::validate_schemas({(dir / "bad-volume.yaml").string()}, dir.path());
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.out.find("'ref' was unexpected"), std::string::npos) << bad.out;
}

}  // namespace
}  // namespace mlctl::deploy
