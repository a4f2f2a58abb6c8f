// `mlctl rollout` through the real binary: every command moves the weights in the manifests it
// re-renders (a kustomize layout under deploy/), records the change with actor and reason, and
// refuses bad input without recording or writing anything.
#include <support/run.hpp>
#include <support/temp_dir.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

namespace mlctl::test {
namespace {

using Json = nlohmann::json;

const std::string k_image1 = "127.0.0.1:5000/fraud@sha256:" + std::string(64, '1');
const std::string k_image2 = "127.0.0.1:5000/fraud@sha256:" + std::string(64, '2');
const std::string k_overlay = "deploy/overlays/prod/fraud-detector.yaml";

class RolloutCliTest : public ::testing::Test {
protected:
  // fraud-detector 1 (production) and 2 with serving images, 3 without one.
  RolloutCliTest() {
    dir_.write("mlctl.yaml", "name: fraud\nversion: 1.0.0\nenvironments:\n  prod: {namespace: ml-prod, branch: main}\n"
                             "  dev: {namespace: ml-dev, branch: develop}\n");
    for (const std::string& image : {k_image1, k_image2, std::string()}) {
      dir_.write("model.bin", "weights " + image);
      std::vector<std::string> args{"model", "register", "fraud-detector", "--artifact", "model.bin"};
      if (!image.empty()) args.insert(args.end(), {"--image", image});
      EXPECT_EQ(mlctl(args).exit_code, 0);
    }
    EXPECT_EQ(mlctl({"model", "alias", "set", "fraud-detector", "production", "1"}).exit_code, 0);
  }

  core::Completed mlctl(const std::vector<std::string>& args) const {
    return run_mlctl(args, dir_.path(), {{"MLCTL_ACTOR", "alice"}});
  }

  // What `deploy render` gives for the same split: the rollout's manifests must be exactly that.
  std::string rendered_split(const std::string& candidate, int weight) const {
    auto rendered = mlctl({"deploy", "render", "fraud-detector@1", "--env", "prod", "--strategy", "ab", "--candidate",
                           candidate, "--weight", std::to_string(weight)});
    EXPECT_EQ(rendered.exit_code, 0) << rendered.err;
    return rendered.out;
  }

  // The rollout entries of the audit log.
  Json rollout_log() const {
    auto history = mlctl({"-o", "json", "model", "history", "fraud-detector"});
    EXPECT_EQ(history.exit_code, 0) << history.err;
    Json entries = Json::array();
    for (const auto& entry : Json::parse(history.out))
      if (entry["action"].get<std::string>().starts_with("rollout.")) entries.push_back(entry);
    return entries;
  }

  TempDir dir_;
};

TEST_F(RolloutCliTest, SetWeightMovesTheVirtualServiceWeightsAndAuditsEachChange) {
  auto ten = mlctl({"-o", "json", "rollout", "set-weight", "fraud-detector", "--candidate", "2", "--weight", "10",
                    "--reason", "try v2"});
  ASSERT_EQ(ten.exit_code, 0) << ten.err;
  Json state = Json::parse(ten.out);
  EXPECT_EQ(state["stable"], 1);
  EXPECT_EQ(state["candidate"], 2);
  EXPECT_EQ(state["weight"], 10);
  EXPECT_EQ(state["environment"], "prod");
  EXPECT_EQ(state["files"], (Json{"deploy/base/kustomization.yaml", k_overlay, "deploy/overlays/prod/kustomization.yaml"}))
      << "relative to the project: " << state["files"];
  EXPECT_EQ(dir_.read(k_overlay), rendered_split("@2", 10));

  auto fifty = mlctl({"rollout", "set-weight", "fraud-detector", "--candidate", "@2", "--weight", "50"});
  ASSERT_EQ(fifty.exit_code, 0) << fifty.err;
  EXPECT_EQ(fifty.out, fmt::format("fraud-detector in prod: version 1 takes 50%, candidate 2 takes 50% (ab)\n"
                                   "wrote {}\n",
                                   k_overlay))
      << "only the file that changed";
  EXPECT_EQ(dir_.read(k_overlay), rendered_split("@2", 50));

  Json log = rollout_log();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0]["action"], "rollout.weight");
  EXPECT_EQ(log[0]["actor"], "alice");
  EXPECT_EQ(log[0]["reason"], "try v2");
  EXPECT_EQ(Json::parse(log[1]["old_value"].get<std::string>())["weight"], 10);
  EXPECT_EQ(Json::parse(log[1]["new_value"].get<std::string>())["weight"], 50);

  auto status = mlctl({"-o", "json", "rollout", "status", "fraud-detector"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  Json states = Json::parse(status.out);
  ASSERT_EQ(states.size(), 1u);
  EXPECT_EQ(states[0]["weight"], 50);
  EXPECT_EQ(states[0]["candidate"], 2);
}

TEST_F(RolloutCliTest, PromoteMovesTheProductionAliasAndServesTheCandidateAlone) {
  ASSERT_EQ(mlctl({"rollout", "set-weight", "fraud-detector", "--candidate", "2", "--weight", "30"}).exit_code, 0);
  auto promoted = mlctl({"-o", "json", "rollout", "promote", "fraud-detector", "--reason", "v2 wins"});
  ASSERT_EQ(promoted.exit_code, 0) << promoted.err;
  Json state = Json::parse(promoted.out);
  EXPECT_EQ(state["stable"], 2);
  EXPECT_EQ(state["candidate"], nullptr);
  auto production = mlctl({"model", "uri", "fraud-detector@production"});
  EXPECT_EQ(production.out, mlctl({"model", "uri", "fraud-detector@2"}).out);

  std::string manifests = dir_.read(k_overlay);
  EXPECT_NE(manifests.find("name: fraud-detector-v2\n"), std::string::npos);
  EXPECT_EQ(manifests.find("fraud-detector-v1"), std::string::npos) << "version 1 no longer runs";
  EXPECT_EQ(manifests.find(k_image1), std::string::npos);
  EXPECT_NE(manifests.find("subset: v2\n      weight: 100\n"), std::string::npos) << manifests;

  Json log = rollout_log();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[1]["action"], "rollout.promote");
  EXPECT_EQ(log[1]["reason"], "v2 wins");
}

TEST_F(RolloutCliTest, AbortRestoresEveryRequestToTheStableVersion) {
  ASSERT_EQ(mlctl({"rollout", "set-weight", "fraud-detector", "--candidate", "2", "--weight", "30"}).exit_code, 0);
  auto aborted = mlctl({"rollout", "abort", "fraud-detector", "--reason", "latency"});
  ASSERT_EQ(aborted.exit_code, 0) << aborted.err;
  EXPECT_EQ(aborted.out.substr(0, aborted.out.find('\n')), "fraud-detector in prod: version 1 takes 100% (ab)");
  std::string manifests = dir_.read(k_overlay);
  EXPECT_NE(manifests.find("subset: v1\n      weight: 100\n"), std::string::npos) << manifests;
  EXPECT_EQ(manifests.find("fraud-detector-v2"), std::string::npos);
  EXPECT_EQ(mlctl({"model", "uri", "fraud-detector@production"}).out, mlctl({"model", "uri", "fraud-detector@1"}).out);
  EXPECT_EQ(rollout_log().back()["action"], "rollout.abort");
}

TEST_F(RolloutCliTest, ACanaryIsAnArgoRolloutOfTheCandidateHeldAtTheWeight) {
  dir_.write("mlctl.yaml", dir_.read("mlctl.yaml") + "serving:\n  canary:\n    steps: [{weight: 20, pause: 1m}]\n");
  auto canary = mlctl({"rollout", "set-weight", "fraud-detector", "--candidate", "2", "--weight", "30", "--strategy",
                       "canary", "-o", "out/"});
  ASSERT_EQ(canary.exit_code, 0) << canary.err;
  std::string manifests = dir_.read("out/overlays/prod/fraud-detector.yaml");
  EXPECT_NE(manifests.find("kind: Rollout\n"), std::string::npos);
  EXPECT_NE(manifests.find("image: " + k_image2 + "\n"), std::string::npos);
  EXPECT_NE(manifests.find("      - setWeight: 30\n      - pause: {}\n"), std::string::npos) << manifests;
  // Aborted, the Rollout goes back to the stable pods, with the steps of mlctl.yaml for next time.
  ASSERT_EQ(mlctl({"rollout", "abort", "fraud-detector", "-o", "out/"}).exit_code, 0);
  manifests = dir_.read("out/overlays/prod/fraud-detector.yaml");
  EXPECT_NE(manifests.find("image: " + k_image1 + "\n"), std::string::npos);
  EXPECT_NE(manifests.find("      - setWeight: 20\n      - pause:\n          duration: 1m\n"), std::string::npos)
      << manifests;
}

TEST_F(RolloutCliTest, TheKustomizeLayoutHasABaseAndAnOverlayPerEnvironment) {
  ASSERT_EQ(mlctl({"rollout", "set-weight", "fraud-detector", "--candidate", "2", "--weight", "10"}).exit_code, 0);
  ASSERT_EQ(mlctl({"deploy", "render", "fraud-detector@1", "--env", "dev", "-o", "deploy/"}).exit_code, 0);
  EXPECT_EQ(dir_.read("deploy/base/kustomization.yaml"),
            "# Objects every environment shares (a ConfigMap, a PriorityClass...): list them here.\n"
            "# mlctl writes this file once and never changes it.\n"
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n");
  EXPECT_EQ(dir_.read("deploy/overlays/dev/kustomization.yaml"),
            "# Written by mlctl deploy render and mlctl rollout.\n"
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: ml-dev\n"
            "resources:\n- ../../base\n- fraud-detector.yaml\n");
  // Another model in the same environment joins the overlay's resources.
  ASSERT_EQ(mlctl({"model", "register", "churn", "--artifact", "model.bin", "--image", k_image1}).exit_code, 0);
  ASSERT_EQ(mlctl({"deploy", "render", "churn@1", "--env", "prod", "-o", "deploy/"}).exit_code, 0);
  EXPECT_EQ(dir_.read("deploy/overlays/prod/kustomization.yaml"),
            "# Written by mlctl deploy render and mlctl rollout.\n"
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: ml-prod\n"
            "resources:\n- ../../base\n- churn.yaml\n- fraud-detector.yaml\n");
  // The drift check covers the layout: a hand edit of the overlay is caught.
  EXPECT_EQ(mlctl({"deploy", "render", "fraud-detector@1", "--env", "dev", "-o", "deploy/", "--check"}).exit_code, 0);
  dir_.write("deploy/overlays/dev/fraud-detector.yaml", dir_.read("deploy/overlays/dev/fraud-detector.yaml") + "# edit\n");
  auto drift = mlctl({"deploy", "render", "fraud-detector@1", "--env", "dev", "-o", "deploy/", "--check"});
  EXPECT_EQ(drift.exit_code, 4);
  EXPECT_NE(drift.err.find("deploy/overlays/dev/fraud-detector.yaml differs"), std::string::npos) << drift.err;
}

TEST_F(RolloutCliTest, BadInputIsAClearErrorAndRecordsAndWritesNothing) {
  auto expect_refused = [&](std::vector<std::string> args, int code, const std::string& error) {
    auto result = mlctl(args);
    EXPECT_EQ(result.exit_code, code) << fmt::format("{}", fmt::join(args, " "));
    EXPECT_EQ(result.err.substr(0, result.err.find('\n')), "mlctl: error: " + error);
  };
  expect_refused({"rollout", "set-weight", "nope", "--candidate", "2", "--weight", "10"}, 3,
                 "no model 'nope' in the registry");
  expect_refused({"rollout", "set-weight", "fraud-detector", "--candidate", "9", "--weight", "10"}, 3,
                 "model 'fraud-detector' has no version 9");
  expect_refused({"rollout", "set-weight", "fraud-detector", "--candidate", "@beta", "--weight", "10"}, 3,
                 "model 'fraud-detector' has no alias 'beta'");
  expect_refused({"rollout", "set-weight", "fraud-detector", "--candidate", "2", "--weight", "101"}, 2,
                 "--weight 101: the candidate's percent is 0..100");
  expect_refused({"rollout", "set-weight", "fraud-detector", "--candidate", "2", "--weight", "10", "--env", "qa"}, 3,
                 "no environment 'qa' in mlctl.yaml");
  expect_refused({"rollout", "set-weight", "fraud-detector", "--candidate", "2", "--weight", "10", "--strategy",
                  "shadow"},
                 2, "--strategy shadow: expected ab (Istio) or canary (Argo Rollouts)");
  expect_refused({"rollout", "set-weight", "fraud-detector", "--candidate", "3", "--weight", "10"}, 4,
                 "fraud-detector version 3 records no serving image");
  expect_refused({"rollout", "promote", "fraud-detector"}, 4, "fraud-detector has no candidate in prod to promote");
  expect_refused({"rollout", "abort", "fraud-detector"}, 4, "fraud-detector has no candidate in prod to abort");
  EXPECT_EQ(rollout_log().size(), 0u);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "deploy"));
  auto status = mlctl({"rollout", "status", "fraud-detector"});
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_EQ(status.out, "fraud-detector has no rollout; start one with 'mlctl rollout set-weight fraud-detector "
                        "--candidate VERSION --weight N'\n");
}

}  // namespace
}  // namespace mlctl::test
