// `mlctl deploy render` through the real binary: the registered version and its image, the
// environment's namespace, a file written atomically, the drift check, and what it refuses.
#include <support/run.hpp>
#include <support/temp_dir.hpp>

#include <mlctl/core/fs.hpp>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

namespace mlctl::test {
namespace {

using Json = nlohmann::json;

const std::string k_image = "127.0.0.1:5000/fraud@sha256:" + std::string(64, 'e');

class DeployCliTest : public ::testing::Test {
protected:
  DeployCliTest() {
    dir_.write("mlctl.yaml", "name: fraud\nversion: 1.0.0\nenvironments:\n  prod: {namespace: ml-prod, branch: main}\n"
                             "  dev: {namespace: ml-dev, branch: develop}\n");
    dir_.write("model.bin", "weights v1");
    auto registered = run_mlctl({"model", "register", "fraud-detector", "--artifact", "model.bin", "--image", k_image},
                                dir_.path());
    EXPECT_EQ(registered.exit_code, 0) << registered.err;
    dir_.write("model.bin", "weights v2");
    EXPECT_EQ(run_mlctl({"model", "register", "fraud-detector", "--artifact", "model.bin"}, dir_.path()).exit_code, 0);
    EXPECT_EQ(run_mlctl({"model", "alias", "set", "fraud-detector", "production", "1"}, dir_.path()).exit_code, 0);
  }
  TempDir dir_;
};

TEST_F(DeployCliTest, RendersTheAliasedVersionWithItsRegisteredImageIntoTheEnvironmentsNamespace) {
  auto rendered = run_mlctl({"-o", "json", "deploy", "render", "fraud-detector@production", "--env", "prod"}, dir_.path());
  ASSERT_EQ(rendered.exit_code, 0) << rendered.err;
  Json objects = Json::parse(rendered.out);
  ASSERT_EQ(objects.size(), 6u);
  const Json& deployment = objects[1];
  EXPECT_EQ(deployment["kind"], "Deployment");
  EXPECT_EQ(deployment["metadata"]["namespace"], "ml-prod");
  EXPECT_EQ(deployment["metadata"]["labels"]["mlctl.dev/model-version"], "1");
  EXPECT_EQ(deployment["spec"]["template"]["spec"]["containers"][0]["image"], k_image);

  auto text = run_mlctl({"deploy", "render", "fraud-detector@production", "--env", "prod"}, dir_.path());
  EXPECT_TRUE(text.out.starts_with("apiVersion: v1\nautomountServiceAccountToken: false\nkind: ServiceAccount\n"));
  EXPECT_EQ(text.out, run_mlctl({"deploy", "render", "fraud-detector@1", "--env", "prod"}, dir_.path()).out)
      << "rendering twice gives the same bytes";
}

TEST_F(DeployCliTest, ServingSettingsInMlctlYamlShapeThePods) {
  dir_.write("mlctl.yaml", "name: fraud\nversion: 1.0.0\nenvironments:\n  prod: {namespace: ml-prod, branch: main}\n"
                           "serving:\n  resources: {cpu: '2', memory: 8Gi, gpu: 1}\n  autoscaling: {min: 2, max: 10, cpu: 50}\n");
  auto rendered = run_mlctl({"-o", "json", "deploy", "render", "fraud-detector@production", "--env", "prod"}, dir_.path());
  ASSERT_EQ(rendered.exit_code, 0) << rendered.err;
  Json objects = Json::parse(rendered.out);
  EXPECT_EQ(objects[1]["spec"]["replicas"], 2);
  EXPECT_EQ(objects[1]["spec"]["template"]["spec"]["containers"][0]["resources"],
            (Json{{"requests", {{"cpu", "2"}, {"memory", "8Gi"}, {"nvidia.com/gpu", "1"}}},
                  {"limits", {{"memory", "8Gi"}, {"nvidia.com/gpu", "1"}}}}));
  EXPECT_EQ(objects[3]["spec"]["maxReplicas"], 10);
  EXPECT_EQ(objects[3]["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"], 50);
}

TEST_F(DeployCliTest, CheckExitsFourWhenTheFileOnDiskDrifted) {
  auto wrote = run_mlctl({"-o", "json", "deploy", "render", "fraud-detector@production", "--env", "dev", "-o",
                          "deploy/dev.yaml"},
                         dir_.path());
  ASSERT_EQ(wrote.exit_code, 0) << wrote.err;
  EXPECT_EQ(Json::parse(wrote.out),
            (Json{{"model", "fraud-detector"}, {"version", 1}, {"environment", "dev"}, {"namespace", "ml-dev"},
                  {"image", k_image}, {"objects", 6}, {"strategy", "direct"}, {"files", {"deploy/dev.yaml"}},
                  {"changed", {"deploy/dev.yaml"}}}));
  auto clean = run_mlctl({"deploy", "render", "fraud-detector@production", "--env", "dev", "-o", "deploy/dev.yaml",
                          "--check"},
                         dir_.path());
  EXPECT_EQ(clean.exit_code, 0) << clean.err;
  EXPECT_EQ(clean.out, "deploy/dev.yaml: up to date\n");
  auto again = run_mlctl({"deploy", "render", "fraud-detector@production", "--env", "dev", "-o", "deploy/dev.yaml"},
                         dir_.path());
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, "deploy/dev.yaml: up to date, nothing written (fraud-detector version 1 for dev (6 objects))\n");

  const std::string rendered = dir_.read("deploy/dev.yaml");
  std::string edited = rendered;
  edited.replace(edited.find("replicas: 1"), 11, "replicas: 4");
  dir_.write("deploy/dev.yaml", edited);
  auto drift = run_mlctl({"deploy", "render", "fraud-detector@production", "--env", "dev", "-o", "deploy/dev.yaml",
                          "--check"},
                         dir_.path());
  EXPECT_EQ(drift.exit_code, 4);
  EXPECT_EQ(drift.err, "mlctl: error: deploy/dev.yaml differs from what fraud-detector@1 renders for dev\n"
                       "hint: render it again (without --check) and commit the result\n");
  EXPECT_EQ(dir_.read("deploy/dev.yaml"), edited) << "--check writes nothing";
  auto mended = run_mlctl({"deploy", "render", "fraud-detector@production", "--env", "dev", "-o", "deploy/dev.yaml"},
                          dir_.path());
  EXPECT_EQ(mended.exit_code, 0) << mended.err;
  EXPECT_EQ(mended.out, "wrote deploy/dev.yaml: fraud-detector version 1 for dev (6 objects)\n");
  EXPECT_EQ(dir_.read("deploy/dev.yaml"), rendered) << "the hand edit is undone";
  // Moving the alias is drift too: the file serves the old version.
  ASSERT_EQ(run_mlctl({"model", "alias", "set", "fraud-detector", "production", "2"}, dir_.path()).exit_code, 0);
  auto moved = run_mlctl({"deploy", "render", "fraud-detector@production", "--env", "dev", "--image", k_image, "-o",
                          "deploy/dev.yaml", "--check"},
                         dir_.path());
  EXPECT_EQ(moved.exit_code, 4);
}

TEST_F(DeployCliTest, SeveralModelsRenderInOneProcessExactlyAsEachAlone) {
  dir_.write("churn.bin", "churn weights");
  ASSERT_EQ(run_mlctl({"model", "register", "churn", "--artifact", "churn.bin", "--image", k_image}, dir_.path()).exit_code, 0);
  // One at a time, into a layout...
  for (const char* ref : {"fraud-detector@1", "churn@1"})
    ASSERT_EQ(run_mlctl({"deploy", "render", ref, "--env", "prod", "-o", "alone/"}, dir_.path()).exit_code, 0);
  // ...and together: the same files, byte for byte.
  auto together = run_mlctl({"-o", "json", "deploy", "render", "fraud-detector@1", "churn@1", "--env", "prod", "-o",
                             "together/"},
                            dir_.path());
  ASSERT_EQ(together.exit_code, 0) << together.err;
  for (const char* file : {"base/kustomization.yaml", "overlays/prod/fraud-detector.yaml", "overlays/prod/churn.yaml",
                           "overlays/prod/kustomization.yaml"})
    EXPECT_EQ(dir_.read(std::string("together/") + file), dir_.read(std::string("alone/") + file)) << file;
  Json summary = Json::parse(together.out);
  EXPECT_EQ(summary["environment"], "prod");
  EXPECT_EQ(summary["namespace"], "ml-prod");
  ASSERT_EQ(summary["models"].size(), 2u);
  EXPECT_EQ(summary["models"][1]["model"], "churn");
  EXPECT_EQ(summary["models"][1]["objects"], 6);
  EXPECT_EQ(summary["changed"], (Json{"together/base/kustomization.yaml", "together/overlays/prod/fraud-detector.yaml",
                                      "together/overlays/prod/churn.yaml", "together/overlays/prod/kustomization.yaml"}));
  auto again = run_mlctl({"deploy", "render", "fraud-detector@1", "churn@1", "--env", "prod", "-o", "together/"}, dir_.path());
  EXPECT_EQ(again.out, "wrote 2 models for prod (12 objects) to together/: 0 of 3 files changed\n");

  // To stdout or one file: the models' streams one after the other.
  auto both = run_mlctl({"deploy", "render", "fraud-detector@1", "churn@1", "--env", "prod"}, dir_.path());
  EXPECT_EQ(both.out, run_mlctl({"deploy", "render", "fraud-detector@1", "--env", "prod"}, dir_.path()).out + "---\n" +
                          run_mlctl({"deploy", "render", "churn@1", "--env", "prod"}, dir_.path()).out);
  ASSERT_EQ(run_mlctl({"deploy", "render", "fraud-detector@1", "churn@1", "--env", "prod", "-o", "all.yaml"}, dir_.path())
                .exit_code,
            0);
  EXPECT_EQ(dir_.read("all.yaml"), both.out);

  auto twice = run_mlctl({"deploy", "render", "fraud-detector@1", "fraud-detector@production", "--env", "prod", "-o",
                          "twice/"},
                         dir_.path());
  EXPECT_EQ(twice.exit_code, 2);
  EXPECT_EQ(twice.err, "mlctl: error: fraud-detector@1 and fraud-detector@production are the same model: render one "
                       "version of a model at a time\n");
  auto image = run_mlctl({"deploy", "render", "fraud-detector@1", "churn@1", "--env", "prod", "--image", k_image}, dir_.path());
  EXPECT_EQ(image.exit_code, 2);
  EXPECT_EQ(image.err, "mlctl: error: --image is one model's image: render that model on its own\n");
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "twice")) << "nothing is written when one model fails";
}

TEST_F(DeployCliTest, AbSplitsBetweenTheAliasedVersionAndTheCandidateOnIstio) {
  const std::string image2 = "127.0.0.1:5000/fraud@sha256:" + std::string(64, 'f');
  dir_.write("model.bin", "weights v3");
  ASSERT_EQ(run_mlctl({"model", "register", "fraud-detector", "--artifact", "model.bin", "--image", image2}, dir_.path())
                .exit_code,
            0);
  auto rendered = run_mlctl({"-o", "json", "deploy", "render", "fraud-detector@production", "--env", "prod", "--strategy",
                             "ab", "--candidate", "@3", "--weight", "25", "--route-header", "x-user-group=beta"},
                            dir_.path());
  ASSERT_EQ(rendered.exit_code, 0) << rendered.err;
  Json objects = Json::parse(rendered.out);
  ASSERT_EQ(objects.size(), 11u);
  EXPECT_EQ(objects[1]["metadata"]["name"], "fraud-detector-v1");
  EXPECT_EQ(objects[2]["metadata"]["name"], "fraud-detector-v3");
  EXPECT_EQ(objects[2]["spec"]["template"]["spec"]["containers"][0]["image"], image2);
  const Json& http = objects[10]["spec"]["http"];
  EXPECT_EQ(http[0]["match"][0]["headers"]["x-user-group"]["exact"], "beta");
  EXPECT_EQ(http[1]["route"][0]["weight"], 75);
  EXPECT_EQ(http[1]["route"][0]["destination"]["subset"], "v1");
  EXPECT_EQ(http[1]["route"][1]["weight"], 25);
  EXPECT_EQ(http[1]["route"][1]["destination"]["subset"], "v3");

  auto wrong_target = run_mlctl({"deploy", "render", "fraud-detector@production", "--env", "prod", "--strategy", "ab",
                                 "--target", "k8s", "--candidate", "@3", "-o", "x.yaml"},
                                dir_.path());
  EXPECT_EQ(wrong_target.exit_code, 2);
  EXPECT_EQ(wrong_target.err, "mlctl: error: plain Kubernetes cannot do --strategy ab: it does direct\n"
                               "hint: use --target istio or seldon\n");
  auto weight = run_mlctl({"deploy", "render", "fraud-detector@production", "--env", "prod", "--strategy", "ab",
                           "--candidate", "@3", "--weight", "101", "-o", "x.yaml"},
                          dir_.path());
  EXPECT_EQ(weight.exit_code, 2);
  EXPECT_EQ(weight.err, "mlctl: error: --weight 101: the candidate's percent is 0..100\n");
  auto same = run_mlctl({"deploy", "render", "fraud-detector@production", "--env", "prod", "--strategy", "shadow",
                         "--candidate", "@production", "-o", "x.yaml"},
                        dir_.path());
  EXPECT_EQ(same.exit_code, 2);
  EXPECT_TRUE(same.err.starts_with("mlctl: error: the candidate is version 1, the stable version itself\n")) << same.err;
  auto missing = run_mlctl({"deploy", "render", "fraud-detector@production", "--env", "prod", "--strategy", "ab",
                            "--candidate", "@7", "-o", "x.yaml"},
                           dir_.path());
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "x.yaml"));
}

TEST_F(DeployCliTest, CanaryRollsTheNamedVersionOutWithArgoRollouts) {
  auto rendered = run_mlctl({"-o", "json", "deploy", "render", "fraud-detector@1", "--env", "prod", "--strategy", "canary"},
                            dir_.path());
  ASSERT_EQ(rendered.exit_code, 0) << rendered.err;
  Json objects = Json::parse(rendered.out);
  ASSERT_EQ(objects.size(), 9u);
  EXPECT_EQ(objects[1]["kind"], "Rollout");
  EXPECT_EQ(objects[1]["spec"]["template"]["spec"]["containers"][0]["image"], k_image);
  EXPECT_EQ(objects[1]["spec"]["strategy"]["canary"]["steps"],
            (Json{{{"setWeight", 10}}, {{"pause", {{"duration", "5m"}}}}, {{"setWeight", 50}},
                  {{"pause", {{"duration", "10m"}}}}}));
  EXPECT_EQ(objects[8]["kind"], "AnalysisTemplate");
  auto istio = run_mlctl({"deploy", "render", "fraud-detector@1", "--env", "prod", "--strategy", "canary", "--target",
                          "istio"},
                         dir_.path());
  EXPECT_EQ(istio.exit_code, 2);
  EXPECT_EQ(istio.err, "mlctl: error: Istio cannot do --strategy canary: it does ab, shadow\n"
                       "hint: use --target argo-rollouts or kserve\n");
}

TEST_F(DeployCliTest, KServeCanarySendsTheWeightToTheNamedVersion) {
  auto rendered = run_mlctl({"-o", "json", "deploy", "render", "fraud-detector@1", "--env", "prod", "--strategy", "canary",
                             "--target", "kserve", "--weight", "20"},
                            dir_.path());
  ASSERT_EQ(rendered.exit_code, 0) << rendered.err;
  EXPECT_EQ(rendered.err, "");
  Json objects = Json::parse(rendered.out);
  ASSERT_EQ(objects.size(), 2u);
  const Json& service = objects[1];
  EXPECT_EQ(service["kind"], "InferenceService");
  EXPECT_EQ(service["metadata"]["namespace"], "ml-prod");
  EXPECT_EQ(service["metadata"]["annotations"]["serving.kserve.io/deploymentMode"], "Serverless");
  EXPECT_EQ(service["spec"]["predictor"]["canaryTrafficPercent"], 20);
  EXPECT_EQ(service["spec"]["predictor"]["containers"][0]["image"], k_image);

  auto raw = run_mlctl({"-o", "json", "deploy", "render", "fraud-detector@1", "--env", "prod", "--strategy", "canary",
                        "--target", "kserve", "--kserve-mode", "raw-deployment"},
                       dir_.path());
  ASSERT_EQ(raw.exit_code, 0) << raw.err;
  EXPECT_EQ(raw.err, "mlctl: warning: KServe ignores canaryTrafficPercent in RawDeployment mode: this version takes "
                     "all the traffic once ready (use --kserve-mode serverless for a canary)\n");
  EXPECT_FALSE(Json::parse(raw.out)[1]["spec"]["predictor"].contains("canaryTrafficPercent"));

  auto mode_elsewhere = run_mlctl({"deploy", "render", "fraud-detector@1", "--env", "prod", "--kserve-mode",
                                   "raw-deployment"},
                                  dir_.path());
  EXPECT_EQ(mode_elsewhere.exit_code, 2);
  EXPECT_EQ(mode_elsewhere.err, "mlctl: error: --kserve-mode is for --target kserve\n");
}

TEST_F(DeployCliTest, SeldonNeedsAFlavorItsRuntimesLoadAndAnArtifactTheyCanFetch) {
  auto generic = run_mlctl({"deploy", "render", "fraud-detector@1", "--env", "prod", "--target", "seldon", "-o", "x.yaml"},
                           dir_.path());
  EXPECT_EQ(generic.exit_code, 2);
  EXPECT_TRUE(generic.err.starts_with("mlctl: error: flavor: Seldon has no runtime for 'generic' models")) << generic.err;
  dir_.write("model.bin", "weights sklearn");
  ASSERT_EQ(run_mlctl({"model", "register", "fraud-detector", "--artifact", "model.bin", "--flavor", "sklearn", "--image",
                       k_image},
                      dir_.path())
                .exit_code,
            0);
  auto local = run_mlctl({"deploy", "render", "fraud-detector@3", "--env", "prod", "--target", "seldon", "-o", "x.yaml"},
                         dir_.path());
  EXPECT_EQ(local.exit_code, 2);
  EXPECT_NE(local.err.find("file://"), std::string::npos) << local.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "x.yaml"));
  auto canary = run_mlctl({"deploy", "render", "fraud-detector@1", "--env", "prod", "--target", "seldon", "--strategy",
                           "canary"},
                          dir_.path());
  EXPECT_EQ(canary.exit_code, 2);
  EXPECT_EQ(canary.err, "mlctl: error: Seldon Core 2 cannot do --strategy canary: it does direct, ab, shadow\n"
                        "hint: use --target argo-rollouts or kserve\n");
}

TEST_F(DeployCliTest, ServiceMonitorIsAddedOnRequest) {
  auto rendered = run_mlctl({"-o", "json", "deploy", "render", "fraud-detector@1", "--env", "prod", "--service-monitor"},
                            dir_.path());
  ASSERT_EQ(rendered.exit_code, 0) << rendered.err;
  Json objects = Json::parse(rendered.out);
  ASSERT_EQ(objects.size(), 7u);
  EXPECT_EQ(objects[6]["kind"], "ServiceMonitor");
  const Json& service = objects[2];
  ASSERT_EQ(service["kind"], "Service");
  EXPECT_EQ(objects[6]["spec"]["selector"]["matchLabels"], service["spec"]["selector"]);
  EXPECT_EQ(objects[6]["spec"]["endpoints"][0]["port"], "http");
  EXPECT_EQ(service["spec"]["ports"][0]["name"], "http");
}

TEST_F(DeployCliTest, BadInputIsAClearErrorAndWritesNothing) {
  auto unknown_version = run_mlctl({"deploy", "render", "fraud-detector@9", "--env", "prod", "-o", "x.yaml"}, dir_.path());
  EXPECT_EQ(unknown_version.exit_code, 3);
  auto unknown_alias = run_mlctl({"deploy", "render", "fraud-detector@canary", "--env", "prod", "-o", "x.yaml"},
                                 dir_.path());
  EXPECT_EQ(unknown_alias.exit_code, 3);
  auto unknown_env = run_mlctl({"deploy", "render", "fraud-detector", "--env", "staging", "-o", "x.yaml"}, dir_.path());
  EXPECT_EQ(unknown_env.exit_code, 3);
  EXPECT_EQ(unknown_env.err, "mlctl: error: no environment 'staging' in mlctl.yaml\nhint: its environments: prod, dev\n");
  auto no_image = run_mlctl({"deploy", "render", "fraud-detector@2", "--env", "prod", "-o", "x.yaml"}, dir_.path());
  EXPECT_EQ(no_image.exit_code, 4);
  EXPECT_TRUE(no_image.err.starts_with("mlctl: error: fraud-detector version 2 records no serving image\n"))
      << no_image.err;
  auto tag_only = run_mlctl({"deploy", "render", "fraud-detector@2", "--env", "prod", "--image", "fraud:latest", "-o",
                             "x.yaml"},
                            dir_.path());
  EXPECT_EQ(tag_only.exit_code, 2);
  EXPECT_TRUE(tag_only.err.starts_with("mlctl: error: image: 'fraud:latest' is not pinned by a digest\n"))
      << tag_only.err;
  auto check_without_file = run_mlctl({"deploy", "render", "fraud-detector", "--env", "prod", "--check"}, dir_.path());
  EXPECT_EQ(check_without_file.exit_code, 2);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "x.yaml"));
}

}  // namespace
}  // namespace mlctl::test
