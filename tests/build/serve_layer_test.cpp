// The serving image (`mlctl build --serve`) offline: the serve and model layers, the config that
// starts the server, the Dockerfile that says so, and the model artifact fetched into the cache.
#include <mlctl/build/dockerfile.hpp>
#include <mlctl/build/image_build.hpp>
#include <mlctl/build/serve_layer.hpp>
#include <mlctl/core/fs.hpp>
#include <mlctl/oci/tar_reader.hpp>

#include <support/temp_dir.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>

#include <gtest/gtest.h>

namespace mlctl::build {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr std::int64_t k_epoch = 1700000000;
const std::string k_digest = "sha256:" + std::string(64, 'a');

// What a layer holds: path -> (mode, content or link target), with the mtime checked on the way.
struct Tree {
  std::map<std::string, std::pair<unsigned, std::string>> entries;
  bool all_at_epoch = true;
};

Tree read_layer(const LayerCache& cache, const std::string& digest) {
  Tree tree;
  auto blob = cache.blobs().path(digest);
  EXPECT_TRUE(blob);
  if (!blob) return tree;
  auto read = oci::read_tar(*blob, [&](const oci::TarHeaderInfo& header, oci::ContentReader& content) {
    auto bytes = content.read_all(1 << 20);
    EXPECT_TRUE(bytes);
    tree.entries[header.path] = {header.mode, header.type == '2' ? header.link_target : bytes.value_or("")};
    tree.all_at_epoch = tree.all_at_epoch && header.mtime == k_epoch && header.uid == 0 && header.gid == 0;
    return true;
  });
  EXPECT_TRUE(read) << read.error().message();
  return tree;
}

ServedModel model(const fs::path& artifact, bool directory = false) {
  return {.name = "fraud", .version = 3, .flavor = "sklearn", .digest = k_digest, .directory = directory,
          .artifact = artifact};
}

class ServeLayerTest : public ::testing::Test {
protected:
  ServePlan plan(std::optional<ServedModel> served = std::nullopt) const {
    return {.server = {{.path = "server.py", .content = "# the server\n"},
                       {.path = "mlctl_http.py", .content = "# http\n"}},
            .predict = std::nullopt,
            .model = std::move(served),
            .port = 8080,
            .uid = 65532};
  }

  test::TempDir dir_;
};

TEST_F(ServeLayerTest, ServerFilesGoToOptMlctlServe) {
  auto entries = serve_entries(plan());
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].path, "opt/mlctl/serve/server.py");
  EXPECT_EQ(entries[0].content, "# the server\n");
  EXPECT_FALSE(entries[0].executable);
  EXPECT_EQ(entries[1].path, "opt/mlctl/serve/mlctl_http.py");
  EXPECT_EQ(entries[1].content, "# http\n");
}

TEST_F(ServeLayerTest, ProjectPredictHookGoesNextToTheServer) {
  fs::path hook = dir_.write("predict.py", "def predict(model, inputs):\n    return inputs[0]\n");
  ASSERT_EQ(find_predict_hook(dir_.path()), hook);
  ServePlan with_hook = plan();
  with_hook.predict = hook;
  auto entries = serve_entries(with_hook);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[2].path, "opt/mlctl/serve/predict.py");
  EXPECT_EQ(entries[2].source, hook);
}

TEST_F(ServeLayerTest, NoPredictHookWithoutARegularPredictPy) {
  EXPECT_EQ(find_predict_hook(dir_.path()), std::nullopt);
  fs::create_directory(dir_ / "predict.py");
  EXPECT_EQ(find_predict_hook(dir_.path()), std::nullopt) << "a folder is not a hook";
  test::TempDir other;
  other.write("real.py", "def predict(model, inputs):\n    return []\n");
  fs::create_symlink("real.py", other / "predict.py");
  EXPECT_EQ(find_predict_hook(other.path()), std::nullopt) << "a symlink is not followed";
}

TEST_F(ServeLayerTest, FileModelIsModelPklUnderOptMlctlModel) {
  fs::path artifact = dir_.write("fetched/whatever.bin", "pickle bytes");
  auto entries = model_entries(model(artifact));
  ASSERT_TRUE(entries) << entries.error().message();
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].path, "opt/mlctl/model/model.pkl");
  EXPECT_EQ((*entries)[0].source, artifact);
  EXPECT_EQ(served_model_path(model(artifact)), "/opt/mlctl/model/model.pkl");
}

TEST_F(ServeLayerTest, DirectoryModelKeepsItsTreeUnderOptMlctlModel) {
  dir_.write("model/model.pkl", "pickle bytes");
  dir_.write("model/vocab/words.txt", "a\nb\n");
  fs::create_symlink("vocab/words.txt", dir_ / "model/words");
  auto entries = model_entries(model(dir_ / "model", true));
  ASSERT_TRUE(entries) << entries.error().message();
  std::map<std::string, oci::TarEntry::Kind> kinds;
  for (const auto& entry : *entries) kinds[entry.path] = entry.kind;
  EXPECT_EQ(kinds, (std::map<std::string, oci::TarEntry::Kind>{
                       {"opt/mlctl/model/model.pkl", oci::TarEntry::Kind::file},
                       {"opt/mlctl/model/vocab", oci::TarEntry::Kind::directory},
                       {"opt/mlctl/model/vocab/words.txt", oci::TarEntry::Kind::file},
                       {"opt/mlctl/model/words", oci::TarEntry::Kind::symlink}}));
  EXPECT_EQ(served_model_path(model(dir_ / "model", true)), "/opt/mlctl/model");
}

TEST_F(ServeLayerTest, ModelThatWasNotFetchedIsAPrecondition) {
  auto entries = model_entries(model({}));
  ASSERT_FALSE(entries);
  EXPECT_EQ(entries.error().code(), Errc::precondition);
  EXPECT_EQ(entries.error().message(), "the artifact of fraud@3 was not fetched");
}

TEST_F(ServeLayerTest, ConfigStartsTheServerAsTheServingUser) {
  oci::ContainerConfig config{.user = "root",
                              .exposed_ports = {"9000/tcp"},
                              .env = {"PATH=/usr/bin:/bin", "MLCTL_PORT=1"},
                              .entrypoint = std::vector<std::string>{"python3", "predict.py"},
                              .cmd = std::vector<std::string>{"/bin/sh"},
                              .volumes = {},
                              .working_dir = "/app",
                              .labels = {{"org.opencontainers.image.version", "1.0.0"}},
                              .stop_signal = {}};
  apply_serve_config(plan(model("/x")), config);
  EXPECT_EQ(config, (oci::ContainerConfig{
                        .user = "65532",
                        .exposed_ports = {"8080/tcp", "9000/tcp"},
                        .env = {"PATH=/usr/bin:/bin", "MLCTL_PORT=8080", "PYTHONDONTWRITEBYTECODE=1",
                                "MLCTL_MODEL_PATH=/opt/mlctl/model/model.pkl", "MLCTL_MODEL_NAME=fraud",
                                "MLCTL_MODEL_VERSION=3", "MLCTL_FLAVOR=sklearn"},
                        .entrypoint = std::vector<std::string>{"python3", "/opt/mlctl/serve/server.py"},
                        .cmd = std::nullopt,
                        .volumes = {},
                        .working_dir = "/app",
                        .labels = {{"org.opencontainers.image.version", "1.0.0"},
                                   {"dev.mlctl.serve", "oip-v2"},
                                   {"dev.mlctl.model", "fraud@3"}},
                        .stop_signal = {}}));
}

TEST_F(ServeLayerTest, WithoutAModelTheServerLooksInTheModelDirectory) {
  oci::ContainerConfig config;
  apply_serve_config(plan(), config);
  EXPECT_EQ(config.env, (std::vector<std::string>{"PYTHONDONTWRITEBYTECODE=1", "MLCTL_PORT=8080",
                                                  "MLCTL_MODEL_PATH=/opt/mlctl/model"}));
  EXPECT_EQ(config.labels, (std::map<std::string, std::string>{{"dev.mlctl.serve", "oip-v2"}}));
}

TEST_F(ServeLayerTest, DockerfileCopiesTheServerAndModelAndStartsTheServer) {
  core::ImageConfig image;
  image.base = "python:3.11-slim";
  image.env = {{"OMP_NUM_THREADS", "1"}};
  image.user = "1000";
  image.entrypoint = {"python3", "predict.py"};
  image.cmd = {"--rows", "5"};
  ContextEntry predict{"predict.py", {}, ContextEntry::Kind::file, 1, false, ""};
  ServePlan serve = plan(model({}));
  serve.predict = "/project/predict.py";
  EXPECT_EQ(render_dockerfile(image, {{predict}, {}}, {{"org.opencontainers.image.version", "1.4.0"}}, serve),
            "# The Dockerfile equivalent to `mlctl build`; mlctl itself needs neither it nor a daemon.\n"
            "FROM python:3.11-slim\n"
            "WORKDIR /app\n"
            "COPY [\"predict.py\", \"/app/\"]\n"
            "# Not in the project: the model server (mlctl's templates/serve/) and the model (model.pkl: "
            "mlctl model pull fraud@3 model.pkl).\n"
            "COPY [\"server.py\", \"mlctl_http.py\", \"/opt/mlctl/serve/\"]\n"
            "COPY [\"predict.py\", \"/opt/mlctl/serve/\"]\n"
            "COPY [\"model.pkl\", \"/opt/mlctl/model/\"]\n"
            "ENV OMP_NUM_THREADS=\"1\"\n"
            "ENV PYTHONDONTWRITEBYTECODE=\"1\" MLCTL_PORT=\"8080\" MLCTL_MODEL_PATH=\"/opt/mlctl/model/model.pkl\" "
            "MLCTL_MODEL_NAME=\"fraud\" MLCTL_MODEL_VERSION=\"3\" MLCTL_FLAVOR=\"sklearn\"\n"
            "EXPOSE 8080/tcp\n"
            "LABEL org.opencontainers.image.version=\"1.4.0\" dev.mlctl.serve=\"oip-v2\" dev.mlctl.model=\"fraud@3\"\n"
            "USER 65532\n"
            "ENTRYPOINT [\"python3\",\"/opt/mlctl/serve/server.py\"]\n");
}

TEST_F(ServeLayerTest, DockerfileOfADirectoryModelCopiesTheFolder) {
  core::ImageConfig image;
  image.base = "scratch";
  std::string dockerfile = render_dockerfile(image, {}, {}, plan(model({}, true)));
  EXPECT_NE(dockerfile.find("COPY [\"model/\", \"/opt/mlctl/model/\"]\n"), std::string::npos) << dockerfile;
  EXPECT_NE(dockerfile.find(" MLCTL_MODEL_PATH=\"/opt/mlctl/model\" "), std::string::npos) << dockerfile;
}

class CachedModelArtifactTest : public ::testing::Test {
protected:
  CachedModelArtifactTest() : cache_(dir_.path()) {}

  // A fetch that writes `content` and counts its calls.
  FetchArtifact writing(std::string content) {
    return [this, content](const fs::path& destination) -> Result<void> {
      ++fetches_;
      return core::write_file_atomic(destination, content);
    };
  }

  std::vector<std::string> listing(const fs::path& folder) const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(folder)) names.push_back(entry.path().filename().string());
    std::ranges::sort(names);
    return names;
  }

  test::TempDir dir_;
  LayerCache cache_;
  int fetches_ = 0;
};

TEST_F(CachedModelArtifactTest, FetchedOnceThenTakenFromTheCache) {
  auto first = cached_model_artifact(cache_, model({}), writing("pickle bytes"));
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(*first, dir_ / ("models/sha256-" + std::string(64, 'a')) / "model.pkl");
  EXPECT_EQ(dir_.read(first->lexically_relative(dir_.path()).string()), "pickle bytes");
  auto second = cached_model_artifact(cache_, model({}), writing("other bytes"));
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_EQ(*second, *first);
  EXPECT_EQ(fetches_, 1);
  EXPECT_EQ(listing(dir_ / "models"), (std::vector<std::string>{"sha256-" + std::string(64, 'a')}));
}

TEST_F(CachedModelArtifactTest, DirectoryArtifactIsFetchedAsAFolder) {
  auto fetched = cached_model_artifact(cache_, model({}, true), [](const fs::path& destination) -> Result<void> {
    return core::write_file_atomic(destination / "model.pkl", "pickle bytes");
  });
  ASSERT_TRUE(fetched) << fetched.error().message();
  EXPECT_EQ(fetched->filename(), "model");
  EXPECT_TRUE(fs::is_regular_file(*fetched / "model.pkl"));
}

TEST_F(CachedModelArtifactTest, FailedFetchLeavesNothing) {
  auto fetched = cached_model_artifact(cache_, model({}), [](const fs::path& destination) -> Result<void> {
    if (auto written = core::write_file_atomic(destination, "half"); !written) return written;
    return fail(Errc::failed, "digest mismatch");
  });
  ASSERT_FALSE(fetched);
  EXPECT_EQ(fetched.error().message(), "digest mismatch");
  EXPECT_EQ(listing(dir_ / "models"), std::vector<std::string>{});
  auto again = cached_model_artifact(cache_, model({}), writing("pickle bytes"));
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(fetches_, 1) << "a failed fetch is not remembered";
}

TEST_F(CachedModelArtifactTest, MalformedDigestIsRefusedBeforeAnyPathIsMade) {
  ServedModel bad = model({});
  bad.digest = "sha256:../../etc";
  auto fetched = cached_model_artifact(cache_, bad, writing("x"));
  ASSERT_FALSE(fetched);
  EXPECT_EQ(fetched.error().code(), Errc::invalid);
  EXPECT_EQ(fetches_, 0);
  EXPECT_FALSE(fs::exists(dir_ / "models"));
}

// build_image with --serve on a scratch base: everything but the base, offline.
class ServeImageTest : public ::testing::Test {
protected:
  ServeImageTest() {
    project_.write("mlctl.yaml", "name: fraud\nversion: 1.4.0\nimage:\n  repository: 127.0.0.1:5000/fraud\n"
                                 "  base: scratch\n  entrypoint: [python3, predict.py]\n  user: \"1000\"\n");
    project_.write("predict.py", "def predict(model, inputs):\n    return [1]\n");
    project_.write("model/model.pkl", "pickle bytes");
    project_.write("model/extra/labels.txt", "no\nyes\n");
  }

  Result<BuiltImage> build(const fs::path& cache_dir, std::optional<ServedModel> served) {
    auto project = core::load_project(project_ / "mlctl.yaml", [](const std::string&) -> std::optional<std::string> {
      return std::nullopt;
    });
    if (!project) return std::unexpected(project.error());
    auto plan = plan_build(*project, k_epoch);
    if (!plan) return std::unexpected(plan.error());
    plan->serve = ServePlan{.server = {{.path = "server.py", .content = "# the server\n"}},
                            .predict = find_predict_hook(project->root),
                            .model = std::move(served),
                            .port = 8080,
                            .uid = 65532};
    LayerCache cache(cache_dir);
    cache.racy_window = 0ns;
    return build_image(*project, *plan, {.cache = &cache, .source_date_epoch = k_epoch}, core::silent_reporter());
  }

  test::TempDir project_;
  test::TempDir cache_;
};

TEST_F(ServeImageTest, ServeAndModelLayersComeAfterTheCode) {
  auto built = build(cache_.path(), model(project_ / "model", true));
  ASSERT_TRUE(built) << built.error().message();
  std::vector<std::string> names;
  for (const auto& layer : built->layers) names.push_back(layer.name);
  EXPECT_EQ(names, (std::vector<std::string>{"code", "serve", "model"}));
  LayerCache cache(cache_.path());

  Tree serve = read_layer(cache, built->layers[1].descriptor.digest);
  EXPECT_TRUE(serve.all_at_epoch);
  EXPECT_EQ(serve.entries,
            (std::map<std::string, std::pair<unsigned, std::string>>{
                {"opt/", {0755, ""}},
                {"opt/mlctl/", {0755, ""}},
                {"opt/mlctl/serve/", {0755, ""}},
                {"opt/mlctl/serve/predict.py", {0644, "def predict(model, inputs):\n    return [1]\n"}},
                {"opt/mlctl/serve/server.py", {0644, "# the server\n"}}}));

  Tree model_layer = read_layer(cache, built->layers[2].descriptor.digest);
  EXPECT_TRUE(model_layer.all_at_epoch);
  EXPECT_EQ(model_layer.entries, (std::map<std::string, std::pair<unsigned, std::string>>{
                                     {"opt/", {0755, ""}},
                                     {"opt/mlctl/", {0755, ""}},
                                     {"opt/mlctl/model/", {0755, ""}},
                                     {"opt/mlctl/model/extra/", {0755, ""}},
                                     {"opt/mlctl/model/extra/labels.txt", {0644, "no\nyes\n"}},
                                     {"opt/mlctl/model/model.pkl", {0644, "pickle bytes"}}}));
}

TEST_F(ServeImageTest, ConfigRunsTheServerWhateverMlctlYamlSays) {
  auto built = build(cache_.path(), model(project_ / "model/model.pkl"));
  ASSERT_TRUE(built) << built.error().message();
  const oci::ContainerConfig& config = built->image.config.config;
  EXPECT_EQ(config.entrypoint, (std::vector<std::string>{"python3", "/opt/mlctl/serve/server.py"}));
  EXPECT_EQ(config.cmd, std::nullopt);
  EXPECT_EQ(config.user, "65532");
  EXPECT_EQ(config.working_dir, "/app");
  EXPECT_EQ(config.exposed_ports, (std::set<std::string>{"8080/tcp"}));
  EXPECT_EQ(config.env, (std::vector<std::string>{"PYTHONDONTWRITEBYTECODE=1", "MLCTL_PORT=8080",
                                                  "MLCTL_MODEL_PATH=/opt/mlctl/model/model.pkl",
                                                  "MLCTL_MODEL_NAME=fraud", "MLCTL_MODEL_VERSION=3",
                                                  "MLCTL_FLAVOR=sklearn"}));
  EXPECT_EQ(config.labels.at("dev.mlctl.serve"), "oip-v2");
  EXPECT_EQ(config.labels.at("dev.mlctl.model"), "fraud@3");
  EXPECT_EQ(config.labels.at("org.opencontainers.image.version"), "1.4.0");
  ASSERT_EQ(built->image.config.history.size(), 3u);
  EXPECT_EQ(built->image.config.history[1].created_by, "mlctl build: serve");
  EXPECT_EQ(built->image.config.history[2].created_by, "mlctl build: model");
  // As the OCI config writes it.
  EXPECT_NE(built->image.config_json.find("\"ExposedPorts\":{\"8080/tcp\":{}}"), std::string::npos)
      << built->image.config_json;
}

TEST_F(ServeImageTest, SameInputsGiveSameDigestAndTheSecondBuildIsCached) {
  auto first = build(cache_.path(), model(project_ / "model/model.pkl"));
  ASSERT_TRUE(first) << first.error().message();
  auto again = build(cache_.path(), model(project_ / "model/model.pkl"));
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_TRUE(again->layers[1].cached);
  EXPECT_TRUE(again->layers[2].cached);
  // Another cache, and the artifact fetched to another place: the same bytes all the same.
  test::TempDir other_cache;
  test::TempDir elsewhere;
  fs::copy_file(project_ / "model/model.pkl", elsewhere / "model.pkl");
  auto fresh = build(other_cache.path(), model(elsewhere / "model.pkl"));
  ASSERT_TRUE(fresh) << fresh.error().message();
  EXPECT_FALSE(fresh->layers[2].cached);
  EXPECT_EQ(fresh->image.descriptor().digest, first->image.descriptor().digest);
  EXPECT_EQ(again->image.descriptor().digest, first->image.descriptor().digest);
}

TEST_F(ServeImageTest, AnotherModelVersionChangesOnlyTheModelLayerAndConfig) {
  auto first = build(cache_.path(), model(project_ / "model/model.pkl"));
  ASSERT_TRUE(first) << first.error().message();
  project_.write("model-4.pkl", "other pickle bytes");
  ServedModel next = model(project_ / "model-4.pkl");
  next.version = 4;
  auto second = build(cache_.path(), next);
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_EQ(second->layers[1].descriptor.digest, first->layers[1].descriptor.digest) << "serve";
  EXPECT_TRUE(second->layers[1].cached);
  EXPECT_NE(second->layers[2].descriptor.digest, first->layers[2].descriptor.digest) << "model";
  EXPECT_EQ(second->image.config.config.labels.at("dev.mlctl.model"), "fraud@4");
}

TEST_F(ServeImageTest, WithoutServeTheImageIsUnchanged) {
  auto project = core::load_project(project_ / "mlctl.yaml", [](const std::string&) -> std::optional<std::string> {
    return std::nullopt;
  });
  ASSERT_TRUE(project) << project.error().message();
  auto plan = plan_build(*project, k_epoch);
  ASSERT_TRUE(plan) << plan.error().message();
  EXPECT_FALSE(plan->serve.has_value());
  LayerCache cache(cache_.path());
  auto built = build_image(*project, *plan, {.cache = &cache, .source_date_epoch = k_epoch}, core::silent_reporter());
  ASSERT_TRUE(built) << built.error().message();
  ASSERT_EQ(built->layers.size(), 1u);
  EXPECT_EQ(built->image.config.config.entrypoint, (std::vector<std::string>{"python3", "predict.py"}));
  EXPECT_EQ(built->image.config.config.user, "1000");
  EXPECT_FALSE(built->image.config.config.labels.contains("dev.mlctl.serve"));
}

}  // namespace
}  // namespace mlctl::build
