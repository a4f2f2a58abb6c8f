#include <mlctl/models/s3_store.hpp>

#include "s3_fixture.hpp"
#include "tree.hpp"

#include <support/run.hpp>
#include <support/temp_dir.hpp>

#include <gtest/gtest.h>

#include <cstdlib>

namespace mlctl::models {
namespace {

namespace fs = std::filesystem;
using test::describe_tree;
using test::sha256sum;

size_t count(std::string_view text, std::string_view needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string_view::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

class S3StoreTest : public ::testing::Test {
protected:
  S3Config config(std::string key = "S3RVER", std::string secret = "S3RVER") const {
    return {.access_key_id = key, .secret_access_key = secret, .session_token = "session-token-abcdef",
            .region = "eu-west-1", .endpoint = server_.endpoint()};
  }
  std::unique_ptr<ArtifactStore> open(S3Config settings) {
    auto store = open_s3_store("s3://models/team/prod", std::move(settings));
    EXPECT_TRUE(store.has_value()) << store.error().message();
    return std::move(*store);
  }
  // The object as an anonymous client sees it (s3rver serves unsigned reads).
  std::string fetch(std::string_view key) {
    auto got = test::run_command({"curl", "-sS", "--fail", "--max-time", "20", server_.endpoint() + "/models/" + std::string(key),
                                  "-o", (dir_ / "fetched").string()},
                                 dir_.path());
    EXPECT_TRUE(got.ok()) << got.err;
    return dir_.read("fetched");
  }

  test::S3Server server_;
  test::TempDir dir_;
  test::RecordingReporter reporter_;
};

TEST_F(S3StoreTest, FileRoundTripAndASecondPutOnlyChecks) {
  fs::path model = dir_.write("model.pkl", std::string("weights\0\xff", 9));
  std::string digest = sha256sum(model);
  std::string key = "team/prod/sha256/" + digest.substr(7);
  auto store = open(config());
  auto stored = store->put(model, reporter_);
  ASSERT_TRUE(stored) << stored.error().message() << "\n" << server_.log();
  EXPECT_EQ(stored->uri, "s3://models/" + key);
  EXPECT_EQ(stored->digest, digest);
  EXPECT_EQ(stored->size, 9u);
  EXPECT_EQ(fetch(key), std::string("weights\0\xff", 9));
  const std::string stored_line = "Stored object \"" + key + "\"";
  EXPECT_EQ(count(server_.log(), stored_line), 1u) << server_.log();

  auto again = store->put(model, reporter_);
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(again->uri, stored->uri);
  EXPECT_EQ(count(server_.log(), stored_line), 1u) << server_.log();
  EXPECT_EQ(reporter_.debugs, std::vector<std::string>{stored->uri + " is already stored"});

  ASSERT_TRUE(store->get(*stored, dir_ / "pulled.pkl", reporter_));
  EXPECT_EQ(dir_.read("pulled.pkl"), std::string("weights\0\xff", 9));
}

TEST_F(S3StoreTest, DirectoryRoundTripGivesTheSameTree) {
  test::make_model_tree(dir_ / "model");
  auto store = open(config());
  auto stored = store->put(dir_ / "model", reporter_);
  ASSERT_TRUE(stored) << stored.error().message();
  EXPECT_TRUE(stored->directory);
  dir_.write("object.tar", fetch("team/prod/sha256/" + stored->digest.substr(7)));
  EXPECT_EQ(sha256sum(dir_ / "object.tar"), stored->digest);
  ASSERT_TRUE(store->get(*stored, dir_ / "out", reporter_));
  EXPECT_EQ(describe_tree(dir_ / "out"), describe_tree(dir_ / "model"));
}

TEST_F(S3StoreTest, ThroughTheEnvironment) {
  ::setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);
  ::setenv("MLCTL_S3_ENDPOINT", server_.endpoint().c_str(), 1);
  auto store = open_artifact_store("s3://models", {.project_root = dir_.path()});
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  ::unsetenv("MLCTL_S3_ENDPOINT");
  ASSERT_TRUE(store) << store.error().message();
  auto stored = (*store)->put(dir_.write("m.bin", "env"), reporter_);
  ASSERT_TRUE(stored) << stored.error().message();
  EXPECT_EQ(stored->uri, "s3://models/sha256/" + sha256sum(dir_ / "m.bin").substr(7));
  EXPECT_NE(server_.log().find("Stored object \"sha256/"), std::string::npos) << server_.log();
}

TEST_F(S3StoreTest, WrongCredentialsFailWithoutShowingTheSecret) {
  const std::string secret = "very-secret-value-42";
  auto store = open(config("NOT-A-KEY", secret));
  auto stored = store->put(dir_.write("m.bin", "x"), reporter_);
  ASSERT_FALSE(stored);
  EXPECT_EQ(stored.error().code(), Errc::remote);
  // The HEAD that comes first is refused; a HEAD response has no body to name the S3 error code.
  EXPECT_NE(stored.error().message().find(": HTTP 403"), std::string::npos) << stored.error().message();
  EXPECT_EQ(stored.error().message().find(secret), std::string::npos);
  EXPECT_EQ(stored.error().message().find("session-token-abcdef"), std::string::npos);
  for (const auto& line : reporter_.steps) EXPECT_EQ(line.find(secret), std::string::npos);
  for (const auto& line : reporter_.debugs) EXPECT_EQ(line.find(secret), std::string::npos);
}

// s3rver does not check SigV4 signatures, so the same round trip goes through a front that does,
// with botocore (the AWS SDK's signer): every request mlctl signs must verify, and a wrong secret
// (which s3rver alone would accept) must be refused.
TEST_F(S3StoreTest, SignaturesVerifyWithTheAwsSdksOwnSigner) {
  test::SigV4Proxy proxy(server_.endpoint(), "S3RVER", "S3RVER", "eu-west-1");
  S3Config settings = config();
  settings.endpoint = proxy.endpoint();
  auto store = open(settings);
  fs::path model = dir_.write("model.pkl", "signed weights");
  auto stored = store->put(model, reporter_);
  ASSERT_TRUE(stored) << stored.error().message() << "\n" << proxy.log();
  ASSERT_TRUE(store->get(*stored, dir_ / "pulled.pkl", reporter_)) << proxy.log();
  EXPECT_EQ(dir_.read("pulled.pkl"), "signed weights");
  std::string path = "/models/team/prod/sha256/" + stored->digest.substr(7);
  EXPECT_EQ(proxy.log(), "verified HEAD " + path + "\nverified PUT " + path + "\nverified GET " + path + "\n");

  S3Config wrong = settings;
  wrong.secret_access_key = "not-the-secret";
  auto refused = open(wrong)->put(dir_.write("other.bin", "x"), reporter_);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Errc::remote);
  EXPECT_NE(refused.error().message().find(": HTTP 403"), std::string::npos) << refused.error().message();
  EXPECT_EQ(count(proxy.log(), "SignatureDoesNotMatch HEAD /models/team/prod/sha256/"), 1u) << proxy.log();
}

TEST_F(S3StoreTest, AMissingObjectIsNotFoundAndADamagedOneFailsTheCheck) {
  auto store = open(config());
  StoredArtifact missing{.uri = "s3://models/team/prod/sha256/" + std::string(64, 'a'),
                         .digest = "sha256:" + std::string(64, 'a'), .size = 1};
  auto got = store->get(missing, dir_ / "out.bin", reporter_);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), Errc::not_found) << got.error().message();

  auto stored = store->put(dir_.write("m.bin", "real"), reporter_);
  ASSERT_TRUE(stored);
  StoredArtifact lying = *stored;
  lying.digest = "sha256:" + std::string(64, 'b');
  got = store->get(lying, dir_ / "out.bin", reporter_);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), Errc::failed);
  EXPECT_FALSE(fs::exists(dir_ / "out.bin"));
  EXPECT_EQ(test::list_folder(dir_.path()), (std::vector<std::string>{"m.bin"}));
}

TEST(S3LocationTest, ParsesBucketAndPrefix) {
  auto parsed = parse_s3_location("s3://my-bucket/a/b/");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->bucket, "my-bucket");
  EXPECT_EQ(parsed->prefix, "a/b");
  EXPECT_EQ(s3_object_key(*parsed, "ab"), "a/b/sha256/ab");
  EXPECT_FALSE(parse_s3_location("s3://Bad_Bucket/x"));
  EXPECT_FALSE(parse_s3_location("s3://bucket/with space"));
}

}  // namespace
}  // namespace mlctl::models
