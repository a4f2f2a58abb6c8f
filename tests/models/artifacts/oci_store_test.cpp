#include <mlctl/core/digest.hpp>
#include <mlctl/models/archive.hpp>
#include <mlctl/models/oci_artifact_store.hpp>
#include <mlctl/oci/platform.hpp>
#include <mlctl/oci/remote/curl_transport.hpp>

#include "registry_fixture.hpp"
#include "tree.hpp"

#include <support/run.hpp>
#include <support/temp_dir.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace mlctl::models {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class OciStoreTest : public ::testing::Test {
protected:
  std::unique_ptr<ArtifactStore> open() {
    auto store = open_artifact_store("oci://" + registry_.host() + "/ml/fraud-model",
                                     {.project_root = dir_.path(), .transport = &transport_, .credentials = &credentials_});
    EXPECT_TRUE(store.has_value()) << store.error().message();
    return std::move(*store);
  }
  json skopeo(std::vector<std::string> args) {
    args.insert(args.begin(), {"skopeo", "inspect", "--tls-verify=false"});
    auto done = test::run_command(args, dir_.path());
    EXPECT_TRUE(done.ok()) << done.err;
    return json::parse(done.out);
  }

  test::RegistryServer registry_;
  oci::remote::CurlTransport transport_;
  oci::remote::CredentialSources credentials_;
  test::TempDir dir_;
  test::RecordingReporter reporter_;
};

TEST_F(OciStoreTest, DirectoryIsPushedAsAModelcarImageAndPulledBack) {
  test::make_model_tree(dir_ / "model");
  auto store = open();
  auto stored = store->put(dir_ / "model", reporter_);
  ASSERT_TRUE(stored) << stored.error().message() << "\n" << registry_.log();
  auto tree = directory_digest(dir_ / "model");
  ASSERT_TRUE(tree);
  EXPECT_EQ(stored->digest, tree->digest);
  EXPECT_TRUE(stored->directory);
  std::string prefix = "oci://" + registry_.host() + "/ml/fraud-model@sha256:";
  ASSERT_TRUE(stored->uri.starts_with(prefix)) << stored->uri;
  std::string manifest_digest = stored->uri.substr(prefix.size() - 7);

  std::string tagged = "docker://" + registry_.host() + "/ml/fraud-model:sha256-" + stored->digest.substr(7);
  auto raw = test::run_command({"skopeo", "inspect", "--raw", "--tls-verify=false", tagged}, dir_.path());
  ASSERT_TRUE(raw.ok()) << raw.err;
  EXPECT_EQ(core::sha256_digest(raw.out), manifest_digest);
  json manifest = json::parse(raw.out);
  EXPECT_EQ(manifest["annotations"]["io.mlctl.artifact.digest"], stored->digest);
  EXPECT_EQ(manifest["annotations"]["io.mlctl.artifact.kind"], "directory");
  ASSERT_EQ(manifest["layers"].size(), 1u);
  EXPECT_EQ(manifest["layers"][0]["mediaType"], "application/vnd.oci.image.layer.v1.tar");
  json inspected = skopeo({tagged});
  EXPECT_EQ(inspected["Os"], "linux");
  EXPECT_EQ(inspected["Architecture"], oci::host_platform().architecture);

  // The layer holds the files under models/, where KServe's modelcar looks for them.
  test::TempDir copy;
  auto copied = test::run_command({"skopeo", "copy", "--src-tls-verify=false", tagged, "dir:" + (copy / "img").string()},
                                  dir_.path());
  ASSERT_TRUE(copied.ok()) << copied.err;
  std::string layer = manifest["layers"][0]["digest"].get<std::string>().substr(7);
  auto listed = test::run_command({"tar", "-tvf", (copy / "img" / layer).string()}, dir_.path());
  ASSERT_TRUE(listed.ok()) << listed.err;
  EXPECT_NE(listed.out.find("models/weights/layer0/w.bin"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("models/serve.sh"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("models/current.bin -> weights/layer0/w.bin"), std::string::npos) << listed.out;

  auto got = store->get(*stored, dir_ / "out" / "model", reporter_);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(test::describe_tree(dir_ / "out" / "model"), test::describe_tree(dir_ / "model"));
  EXPECT_EQ(test::list_folder(dir_ / "out"), std::vector<std::string>{"model"});

  auto again = store->put(dir_ / "model", reporter_);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->uri, stored->uri);
}

TEST_F(OciStoreTest, FileRoundTrip) {
  fs::path model = dir_.write("model.onnx", std::string("\0onnx-bytes\xff", 12));
  auto store = open();
  auto stored = store->put(model, reporter_);
  ASSERT_TRUE(stored) << stored.error().message();
  EXPECT_EQ(stored->digest, test::sha256sum(model));
  EXPECT_EQ(stored->size, 12u);
  EXPECT_FALSE(stored->directory);
  auto got = store->get(*stored, dir_ / "pulled.onnx", reporter_);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(dir_.read("pulled.onnx"), std::string("\0onnx-bytes\xff", 12));

  StoredArtifact lying = *stored;
  lying.digest = "sha256:" + std::string(64, 'c');
  got = store->get(lying, dir_ / "other.onnx", reporter_);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), Errc::failed);
  EXPECT_FALSE(fs::exists(dir_ / "other.onnx"));
}

TEST_F(OciStoreTest, ALocationWithATagIsRefused) {
  auto store = open_artifact_store("oci://" + registry_.host() + "/ml/model:v1", {.project_root = dir_.path()});
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code(), Errc::invalid);
}

}  // namespace
}  // namespace mlctl::models
