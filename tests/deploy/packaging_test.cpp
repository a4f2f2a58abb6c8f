// How a serving pod gets its model (model.packaging): the init container, volumes, mounts and
// environment each packaging adds to the pods of every strategy, and what each refuses.
#include "served_models.hpp"

#include <mlctl/deploy/istio.hpp>
#include <mlctl/deploy/k8s.hpp>
#include <mlctl/deploy/kserve.hpp>
#include <mlctl/deploy/rollouts.hpp>

#include <gtest/gtest.h>

namespace mlctl::deploy {
namespace {

using Json = nlohmann::json;

using test::find;

const std::string k_tool_image = "registry.example/mlctl/tool@sha256:" + std::string(64, '7');
const std::string k_oci_uri = "oci://registry.example/ml/fraud-model@sha256:" + std::string(64, 'f');

ServedModel packaged(std::int64_t version, char digest, Packaging packaging) {
  ServedModel model = test::fraud_detector(version, digest);
  model.packaging = packaging;
  if (packaging == Packaging::init) model.tool_image = k_tool_image;
  if (packaging == Packaging::modelcar) model.artifact_uri = k_oci_uri;
  return model;
}

const Json& pod_spec(const std::vector<Json>& objects, std::string_view kind = "Deployment") {
  return find(objects, kind)["spec"]["template"]["spec"];
}

const Json k_tmp_volume = {{"name", "tmp"}, {"emptyDir", {{"sizeLimit", "256Mi"}}}};
const Json k_tmp_mount = {{"name", "tmp"}, {"mountPath", "/tmp"}};

Json server_env(std::string_view model_path) {
  return {{{"name", "MLCTL_MODEL_NAME"}, {"value", "fraud-detector"}},
          {{"name", "MLCTL_MODEL_VERSION"}, {"value", "3"}},
          {{"name", "MLCTL_FLAVOR"}, {"value", "sklearn"}},
          {{"name", "MLCTL_PORT"}, {"value", "8080"}},
          {{"name", "MLCTL_MODEL_PATH"}, {"value", model_path}}};
}

Json model_pull(const std::string& uri, const std::string& digest, bool directory) {
  Json command = {"mlctl", "model", "fetch", uri, "--digest", digest};
  if (directory) command.push_back("--directory");
  command.push_back("/models/model");
  return {{"name", "model-pull"},
          {"image", k_tool_image},
          {"command", command},
          {"envFrom", {{{"secretRef", {{"name", "mlctl-artifact-store"}, {"optional", true}}}}}},
          {"resources", {{"requests", {{"cpu", "100m"}, {"memory", "128Mi"}}}, {"limits", {{"memory", "256Mi"}}}}},
          {"securityContext",
           {{"allowPrivilegeEscalation", false},
            {"readOnlyRootFilesystem", true},
            {"runAsNonRoot", true},
            {"capabilities", {{"drop", {"ALL"}}}}}},
          {"volumeMounts", {{{"name", "model"}, {"mountPath", "/models"}}, k_tmp_mount}}};
}

TEST(PackagingTest, ImageAddsNothingToThePod) {
  auto objects = render_direct(test::fraud_detector(3, 'a'));
  ASSERT_TRUE(objects) << objects.error().message();
  const Json& spec = pod_spec(*objects);
  EXPECT_FALSE(spec.contains("initContainers"));
  EXPECT_EQ(spec["volumes"], Json::array({k_tmp_volume}));
  EXPECT_EQ(spec["containers"][0]["volumeMounts"], Json::array({k_tmp_mount}));
  EXPECT_EQ(spec["containers"][0]["env"].size(), 4u);
}

TEST(PackagingTest, InitFetchesTheArtifactIntoAVolumeTheServerReadsReadOnly) {
  auto objects = render_direct(packaged(3, 'a', Packaging::init));
  ASSERT_TRUE(objects) << objects.error().message();
  const Json& spec = pod_spec(*objects);
  EXPECT_EQ(spec["initContainers"], Json::array({model_pull("s3://models/fraud-detector/3/model.pkl",
                                                             "sha256:" + std::string(64, 'a'), false)}));
  EXPECT_EQ(spec["volumes"], Json::array({k_tmp_volume, {{"name", "model"}, {"emptyDir", Json::object()}}}));
  const Json& server = spec["containers"][0];
  EXPECT_EQ(server["volumeMounts"],
            Json::array({k_tmp_mount, {{"name", "model"}, {"mountPath", "/models"}, {"readOnly", true}}}));
  EXPECT_EQ(server["env"], server_env("/models/model"));
  // The store's credentials stay in the init container.
  EXPECT_FALSE(server.contains("envFrom"));
  EXPECT_EQ(server["image"], "registry.example/fraud/server@sha256:" + std::string(64, 'a'));
}

TEST(PackagingTest, InitFetchesADirectoryArtifactAsADirectoryFromAnOciStore) {
  ServedModel model = packaged(3, 'a', Packaging::init);
  model.artifact_uri = k_oci_uri;
  model.artifact_directory = true;
  auto objects = render_direct(model);
  ASSERT_TRUE(objects) << objects.error().message();
  EXPECT_EQ(pod_spec(*objects)["initContainers"],
            Json::array({model_pull(k_oci_uri, "sha256:" + std::string(64, 'a'), true)}));
}

TEST(PackagingTest, ModelcarMountsTheArtifactsImageReadOnly) {
  auto objects = render_direct(packaged(3, 'a', Packaging::modelcar));
  ASSERT_TRUE(objects) << objects.error().message();
  const Json& spec = pod_spec(*objects);
  EXPECT_FALSE(spec.contains("initContainers"));
  EXPECT_EQ(spec["volumes"],
            Json::array({k_tmp_volume,
                         {{"name", "model"},
                          {"image",
                           {{"reference", "registry.example/ml/fraud-model@sha256:" + std::string(64, 'f')},
                            {"pullPolicy", "IfNotPresent"}}}}}));
  const Json& server = spec["containers"][0];
  EXPECT_EQ(server["volumeMounts"],
            Json::array({k_tmp_mount, {{"name", "model"}, {"mountPath", "/mnt/model"}, {"readOnly", true}}}));
  EXPECT_EQ(server["env"], server_env("/mnt/model/models"));
}

TEST(PackagingTest, EachVersionOfASplitFetchesItsOwnArtifact) {
  TrafficSplit split = test::ninety_ten();
  split.stable = packaged(3, 'a', Packaging::init);
  split.candidate = packaged(4, 'b', Packaging::init);
  auto objects = render_istio(split);
  ASSERT_TRUE(objects) << objects.error().message();
  std::vector<Json> pulls;
  for (const auto& object : *objects)
    if (object["kind"] == "Deployment") pulls.push_back(object["spec"]["template"]["spec"]["initContainers"]);
  ASSERT_EQ(pulls.size(), 2u);
  EXPECT_EQ(pulls[0], Json::array({model_pull("s3://models/fraud-detector/3/model.pkl",
                                              "sha256:" + std::string(64, 'a'), false)}));
  EXPECT_EQ(pulls[1], Json::array({model_pull("s3://models/fraud-detector/4/model.pkl",
                                              "sha256:" + std::string(64, 'b'), false)}));
}

TEST(PackagingTest, TheCanarysRolloutAndKServesPredictorMountTheModelcar) {
  Canary canary;
  canary.model = packaged(3, 'a', Packaging::modelcar);
  auto rollout = render_canary(canary);
  ASSERT_TRUE(rollout) << rollout.error().message();
  auto direct = render_direct(canary.model);
  ASSERT_TRUE(direct);
  EXPECT_EQ(pod_spec(*rollout, "Rollout"), pod_spec(*direct));

  auto kserve = render_kserve({.model = canary.model, .mode = KServeMode::raw_deployment, .canary_percent = {}});
  ASSERT_TRUE(kserve) << kserve.error().message();
  const Json& predictor = find(*kserve, "InferenceService")["spec"]["predictor"];
  EXPECT_EQ(predictor["volumes"], pod_spec(*direct)["volumes"]);
  EXPECT_EQ(predictor["containers"][0]["volumeMounts"], pod_spec(*direct)["containers"][0]["volumeMounts"]);
  EXPECT_EQ(predictor["containers"][0]["env"], server_env("/mnt/model/models"));
}

TEST(PackagingTest, KServesPredictorFetchesTheModelFirstWithTheInitContainer) {
  ServedModel model = packaged(3, 'a', Packaging::init);
  auto direct = render_direct(model);
  ASSERT_TRUE(direct);
  for (KServeMode mode : {KServeMode::serverless, KServeMode::raw_deployment}) {
    auto kserve = render_kserve({.model = model, .mode = mode, .canary_percent = {}});
    ASSERT_TRUE(kserve) << kserve.error().message();
    const Json& predictor = find(*kserve, "InferenceService")["spec"]["predictor"];
    ASSERT_EQ(predictor["initContainers"].size(), 1u);
    Json init = pod_spec(*direct)["initContainers"][0];
    // KServe keeps no pod securityContext: the pod's user, group and seccomp go on the container.
    init["securityContext"]["runAsUser"] = 65532;
    init["securityContext"]["runAsGroup"] = 65532;
    init["securityContext"]["seccompProfile"] = {{"type", "RuntimeDefault"}};
    EXPECT_EQ(predictor["initContainers"][0], init);
    EXPECT_EQ(predictor["volumes"], pod_spec(*direct)["volumes"]);
    EXPECT_EQ(predictor["containers"][0]["env"], server_env("/models/model"));
  }
  auto serverless = render_kserve(
      {.model = packaged(3, 'a', Packaging::modelcar), .mode = KServeMode::serverless, .canary_percent = {}});
  ASSERT_FALSE(serverless);
  EXPECT_EQ(serverless.error().message(),
            "model.packaging modelcar: Knative (KServe's serverless mode) admits no image volume");
}

std::string error_of(const ServedModel& model) {
  auto objects = render_direct(model);
  return objects ? "ok" : objects.error().message() + " / " + objects.error().hint();
}

TEST(PackagingTest, WhatThePackagingCannotServeIsRefusedNamingTheField) {
  ServedModel local = packaged(3, 'a', Packaging::init);
  local.artifact_uri = "file:///home/ada/.mlctl/artifacts/sha256/" + std::string(64, 'a');
  EXPECT_EQ(error_of(local),
            "artifact uri: packaging init fetches the model in the cluster, which cannot reach '" + local.artifact_uri +
                "' / register the model to an s3:// or oci:// artifact store (--artifact-store, or "
                "registry.artifacts in mlctl.yaml)");
  ServedModel no_tool = packaged(3, 'a', Packaging::init);
  no_tool.tool_image = "";
  EXPECT_EQ(error_of(no_tool), "tool image: packaging init needs the mlctl tool image to fetch the model / "
                               "pass --tool-image REF@sha256:DIGEST (or set MLCTL_TOOL_IMAGE)");
  ServedModel unpinned = packaged(3, 'a', Packaging::init);
  unpinned.tool_image = "registry.example/mlctl/tool:0.1.0";
  EXPECT_EQ(error_of(unpinned), "tool image: 'registry.example/mlctl/tool:0.1.0' is not pinned by a digest / "
                                "pass --tool-image REF@sha256:DIGEST (or set MLCTL_TOOL_IMAGE)");
  ServedModel s3 = packaged(3, 'a', Packaging::modelcar);
  s3.artifact_uri = "s3://models/fraud-detector/3/model.pkl";
  EXPECT_EQ(error_of(s3), "artifact uri: packaging modelcar mounts the model's OCI image, and "
                          "'s3://models/fraud-detector/3/model.pkl' is not one / register the model to an "
                          "oci://REGISTRY/REPOSITORY artifact store, or use packaging init");
  ServedModel tagged = packaged(3, 'a', Packaging::modelcar);
  tagged.artifact_uri = "oci://registry.example/ml/fraud-model:latest";
  EXPECT_EQ(error_of(tagged).substr(0, 79),
            "artifact uri: 'oci://registry.example/ml/fraud-model:latest' is not pinned by a");
  // The tool image only matters to init.
  ServedModel modelcar = packaged(3, 'a', Packaging::modelcar);
  modelcar.tool_image = "not pinned";
  EXPECT_EQ(error_of(modelcar), "ok");

  TrafficSplit split = test::ninety_ten();
  split.candidate = packaged(4, 'b', Packaging::modelcar);
  split.candidate->artifact_uri = "s3://models/fraud-detector/4/model.pkl";
  auto refused = render_istio(split);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Errc::invalid);
  EXPECT_TRUE(refused.error().message().starts_with("candidate: artifact uri: packaging modelcar"))
      << refused.error().message();
}

TEST(PackagingTest, PackagingNamesAreParsed) {
  EXPECT_EQ(parse_packaging("image"), Packaging::image);
  EXPECT_EQ(parse_packaging("init"), Packaging::init);
  EXPECT_EQ(parse_packaging("modelcar"), Packaging::modelcar);
  auto bad = parse_packaging("sidecar");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "packaging: 'sidecar' is not image, init or modelcar");
}

}  // namespace
}  // namespace mlctl::deploy
