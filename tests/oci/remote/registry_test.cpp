#include <mlctl/core/digest.hpp>
#include <mlctl/oci/remote/client.hpp>
#include <mlctl/oci/remote/curl_transport.hpp>

#include "capture_reporter.hpp"
#include "registry_fixture.hpp"

#include <support/run.hpp>
#include <support/temp_dir.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>

namespace mlctl::oci::remote {
namespace {

using test::RegistryServer;
using nlohmann::json;

// A small image: two layers in files (one big enough to be pushed in chunks), its config in
// memory, and the OCI manifest naming them.
struct Image {
  std::vector<std::string> layers;
  std::string config;
  std::string manifest;
  std::vector<Blob> blobs;  // layers then config

  explicit Image(const test::TempDir& dir, std::string_view seed) {
    layers = {"layer one " + std::string(seed), std::string(300000, 'x') + std::string(seed)};
    json diff_ids = json::array();
    for (const auto& layer : layers) diff_ids.push_back(core::sha256_digest(layer));
    config = json{{"architecture", "amd64"}, {"os", "linux"}, {"config", json::object()},
                  {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}}
                 .dump();
    json layer_descriptors = json::array();
    for (const auto& layer : layers)
      layer_descriptors.push_back({{"mediaType", "application/vnd.oci.image.layer.v1.tar"},
                                   {"digest", core::sha256_digest(layer)},
                                   {"size", layer.size()}});
    manifest = json{{"schemaVersion", 2},
                    {"mediaType", k_oci_manifest},
                    {"config",
                     {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                      {"digest", core::sha256_digest(config)},
                      {"size", config.size()}}},
                    {"layers", layer_descriptors}}
                   .dump();
    auto file = [&](std::string_view name, const std::string& content) {
      return dir.write(std::string(seed) + std::string(name), content);
    };
    blobs.push_back({core::sha256_digest(layers[0]), layers[0].size(), file("-small.tar", layers[0])});
    blobs.push_back({core::sha256_digest(layers[1]), layers[1].size(), file("-big.tar", layers[1])});
    blobs.push_back({core::sha256_digest(config), config.size(), std::string_view(config)});
  }
};

ClientOptions small_chunks() {
  ClientOptions options;
  options.chunk_threshold = 100000;
  options.chunk_size = 64 * 1024;
  return options;
}

class RegistryTest : public ::testing::Test {
protected:
  CurlTransport transport_;
  test::CaptureReporter reporter_;
  test::TempDir dir_;
};

TEST_F(RegistryTest, PushedImageIsWhatSkopeoSeesAndPullsBackIntact) {
  RegistryServer registry;
  Client client(registry.host(), transport_, std::nullopt, small_chunks(), reporter_);
  ASSERT_TRUE(client.ping());
  Image image(dir_, "a");
  auto pushed = client.push_blobs("ml/model", image.blobs);
  ASSERT_TRUE(pushed) << pushed.error().message();
  EXPECT_EQ(pushed->uploaded_bytes, image.layers[0].size() + image.layers[1].size() + image.config.size());
  auto digest = client.put_manifest("ml/model", "v1", image.manifest, k_oci_manifest);
  ASSERT_TRUE(digest) << digest.error().message();
  EXPECT_EQ(*digest, core::sha256_digest(image.manifest));
  EXPECT_NE(reporter_.all().find("debug: PATCH http://" + registry.host() + "/v2/ml/model/blobs/uploads/"),
            std::string::npos);  // the big layer went in chunks

  std::string ref = "docker://" + registry.host() + "/ml/model:v1";
  auto raw = test::run_command({"skopeo", "inspect", "--raw", "--tls-verify=false", ref}, dir_.path());
  ASSERT_TRUE(raw.ok()) << raw.err;
  EXPECT_EQ(core::sha256_digest(raw.out), *digest);
  auto inspected = test::run_command({"skopeo", "inspect", "--tls-verify=false", ref}, dir_.path());
  ASSERT_TRUE(inspected.ok()) << inspected.err;
  auto info = json::parse(inspected.out);
  EXPECT_EQ(info["Digest"], *digest);
  EXPECT_EQ(info["Architecture"], "amd64");
  EXPECT_EQ(info["Layers"], (json{core::sha256_digest(image.layers[0]), core::sha256_digest(image.layers[1])}));

  auto manifest = client.get_manifest("ml/model", "v1");
  ASSERT_TRUE(manifest) << manifest.error().message();
  EXPECT_EQ(manifest->bytes, image.manifest);
  EXPECT_EQ(manifest->media_type, k_oci_manifest);
  EXPECT_EQ(manifest->digest, *digest);
  auto head = client.head_manifest("ml/model", "v1");
  ASSERT_TRUE(head && *head);
  EXPECT_EQ((*head)->digest, *digest);
  EXPECT_EQ((*head)->size, image.manifest.size());
  for (const auto& blob : image.blobs) {
    EXPECT_TRUE(*client.blob_exists("ml/model", blob.digest));
    auto pulled = client.pull_blob("ml/model", blob.digest, dir_ / "pulled");
    ASSERT_TRUE(pulled) << pulled.error().message();
    EXPECT_EQ(*pulled, blob.size);
    EXPECT_EQ(core::sha256_digest(dir_.read("pulled")), blob.digest);
  }
}

TEST_F(RegistryTest, SecondPushOfTheSameBlobsUploadsNothing) {
  RegistryServer registry;
  Client client(registry.host(), transport_, std::nullopt, small_chunks(), reporter_);
  Image image(dir_, "b");
  ASSERT_TRUE(client.push_blobs("app", image.blobs));
  auto again = client.push_blobs("app", image.blobs);
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(again->uploaded_bytes, 0u);
  for (const auto& blob : again->blobs) EXPECT_EQ(blob.how, BlobPush::How::existed) << blob.digest;
}

TEST_F(RegistryTest, BlobsAreMountedAcrossRepositories) {
  RegistryServer registry;
  Client client(registry.host(), transport_, std::nullopt, small_chunks(), reporter_);
  Image image(dir_, "c");
  ASSERT_TRUE(client.push_blobs("team/base", image.blobs));
  auto mounted = client.push_blobs("team/app", image.blobs, "team/base");
  ASSERT_TRUE(mounted) << mounted.error().message();
  EXPECT_EQ(mounted->uploaded_bytes, 0u);
  for (const auto& blob : mounted->blobs) EXPECT_EQ(blob.how, BlobPush::How::mounted) << blob.digest;
  auto pulled = client.pull_blob("team/app", image.blobs[1].digest, dir_ / "big");
  ASSERT_TRUE(pulled) << pulled.error().message();
  EXPECT_EQ(dir_.read("big"), image.layers[1]);
}

TEST_F(RegistryTest, UnknownManifestAndBlobAreNotFound) {
  RegistryServer registry;
  Client client(registry.host(), transport_, std::nullopt, {}, reporter_);
  auto manifest = client.get_manifest("app", "missing");
  ASSERT_FALSE(manifest);
  EXPECT_EQ(manifest.error().code(), Errc::not_found);
  EXPECT_EQ(manifest.error().status(), 404);
  EXPECT_TRUE(manifest.error().has_code("MANIFEST_UNKNOWN") || manifest.error().has_code("NAME_UNKNOWN"));
  auto exists = client.blob_exists("app", core::sha256_digest("nope"));
  ASSERT_TRUE(exists);
  EXPECT_FALSE(*exists);
  auto pulled = client.pull_blob("app", core::sha256_digest("nope"), dir_ / "nope");
  ASSERT_FALSE(pulled);
  EXPECT_EQ(pulled.error().code(), Errc::not_found);
}

// Sets MLCTL_REGISTRY_USERNAME and MLCTL_REGISTRY_PASSWORD for one scope.
class CredentialEnvironment {
public:
  CredentialEnvironment(const std::string& username, const std::string& password) {
    ::setenv("MLCTL_REGISTRY_USERNAME", username.c_str(), 1);
    ::setenv("MLCTL_REGISTRY_PASSWORD", password.c_str(), 1);
  }
  ~CredentialEnvironment() {
    ::unsetenv("MLCTL_REGISTRY_USERNAME");
    ::unsetenv("MLCTL_REGISTRY_PASSWORD");
  }
};

TEST_F(RegistryTest, HtpasswdRegistryAcceptsBasicCredentialsFromTheEnvironment) {
  RegistryServer registry(RegistryServer::Htpasswd{"mluser", "Corr3ct-Horse-Battery"});
  CredentialEnvironment env("mluser", "Corr3ct-Horse-Battery");
  auto reference = parse_reference(registry.host() + "/ml/model:v1");
  ASSERT_TRUE(reference);
  auto client = make_client(*reference, transport_, CredentialSources::from_environment(), small_chunks(), reporter_);
  ASSERT_TRUE(client) << client.error().message();
  Image image(dir_, "d");
  auto pushed = client->push_blobs(reference->repository, image.blobs);
  ASSERT_TRUE(pushed) << pushed.error().message();
  auto digest = client->put_manifest(reference->repository, reference->tag, image.manifest, k_oci_manifest);
  ASSERT_TRUE(digest) << digest.error().message();
  EXPECT_EQ(reporter_.all().find("Corr3ct-Horse-Battery"), std::string::npos);
}

TEST_F(RegistryTest, HtpasswdRegistryRefusesAWrongPasswordClearlyAndWithoutIt) {
  RegistryServer registry(RegistryServer::Htpasswd{"mluser", "Corr3ct-Horse-Battery"});
  CredentialEnvironment env("mluser", "Wr0ng-Pa55word-Here");
  auto reference = parse_reference(registry.host() + "/ml/model:v1");
  auto client = make_client(*reference, transport_, CredentialSources::from_environment(), {}, reporter_);
  ASSERT_TRUE(client) << client.error().message();
  std::string config = "{}";
  auto pushed = client->push_blob("ml/model", Blob{core::sha256_digest(config), config.size(), std::string_view(config)});
  ASSERT_FALSE(pushed);
  EXPECT_EQ(pushed.error().code(), Errc::remote);
  EXPECT_EQ(pushed.error().status(), 401);
  EXPECT_EQ(pushed.error().message(), "uploading blob " + core::sha256_digest(config) + ": checking blob " +
                                          core::sha256_digest(config) + ": 401 Unauthorized");
  auto put = client->put_manifest("ml/model", "v1", "{}", k_oci_manifest);
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().message(), "pushing manifest ml/model:v1: 401 UNAUTHORIZED: authentication required");
  for (const auto& text : {pushed.error().message(), put.error().message(), put.error().hint(), reporter_.all()}) {
    EXPECT_EQ(text.find("Wr0ng-Pa55word-Here"), std::string::npos) << text;
    EXPECT_EQ(text.find(base64_encode("mluser:Wr0ng-Pa55word-Here")), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace mlctl::oci::remote
