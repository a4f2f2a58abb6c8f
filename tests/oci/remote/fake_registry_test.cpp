#include <mlctl/core/digest.hpp>
#include <mlctl/oci/remote/client.hpp>
#include <mlctl/oci/remote/curl_transport.hpp>

#include "capture_reporter.hpp"
#include "fake_registry.hpp"

#include <support/temp_dir.hpp>

#include <gtest/gtest.h>

namespace mlctl::oci::remote {
namespace {

using std::chrono::milliseconds;
using test::FakeRegistry;

constexpr std::string_view k_password = "s3cret-Pa55word";

// A client of a fake registry whose waits are recorded instead of slept.
class FakeRegistryTest : public ::testing::Test {
protected:
  Client client(const FakeRegistry& registry, std::optional<Credential> credential = std::nullopt,
                ClientOptions options = {}) {
    options.sleep = [this](milliseconds delay) {
      std::lock_guard lock(mutex_);
      sleeps_.push_back(delay);
    };
    options.jitter = [] { return 0.0; };
    return Client(registry.host(), transport_, std::move(credential), std::move(options), reporter_);
  }

  static Blob blob_of(std::string_view content) {
    return Blob{core::sha256_digest(content), content.size(), content};
  }

  // Every message the test saw, to search for secrets.
  std::string everything(const Error& error) const {
    return error.message() + "\n" + error.hint() + "\n" + reporter_.all();
  }

  CurlTransport transport_;
  test::CaptureReporter reporter_;
  std::mutex mutex_;
  std::vector<milliseconds> sleeps_;
};

TEST_F(FakeRegistryTest, BearerChallengeIsAnsweredWithATokenAndTheTokenIsReused) {
  FakeRegistry registry({FakeRegistry::Auth::bearer, "alice", std::string(k_password)});
  auto c = client(registry, Credential{"alice", std::string(k_password), "", "test"});
  std::string content = "config";
  auto pushed = c.push_blob("team/app", blob_of(content));
  ASSERT_TRUE(pushed) << pushed.error().message();
  EXPECT_EQ(pushed->how, BlobPush::How::uploaded);
  EXPECT_EQ(registry.blob("team/app", core::sha256_digest(content)), content);

  auto seen = registry.requests();
  ASSERT_GE(seen.size(), 4u);
  EXPECT_EQ(seen[0].method, "HEAD");
  EXPECT_EQ(seen[0].authorization, "");
  EXPECT_EQ(seen[1].path, "/token");
  EXPECT_EQ(seen[1].authorization, "Basic " + base64_encode("alice:" + std::string(k_password)));
  auto scopes = seen[1].params.equal_range("scope");
  ASSERT_EQ(std::distance(scopes.first, scopes.second), 1);
  EXPECT_EQ(scopes.first->second, "repository:team/app:pull");
  EXPECT_EQ(seen[1].params.find("service")->second, "fake");
  EXPECT_EQ(seen[2].method, "HEAD");
  EXPECT_EQ(seen[2].authorization, "Bearer fake-token-1");

  size_t tokens = 0;
  for (const auto& s : registry.requests()) tokens += s.path == "/token";
  EXPECT_EQ(tokens, 2u);  // one for pull, one for pull,push
  ASSERT_TRUE(c.blob_exists("team/app", core::sha256_digest(content)));
  tokens = 0;
  for (const auto& s : registry.requests()) tokens += s.path == "/token";
  EXPECT_EQ(tokens, 2u);
  EXPECT_EQ(reporter_.all().find(k_password), std::string::npos);
  EXPECT_EQ(reporter_.all().find("fake-token-"), std::string::npos);
}

TEST_F(FakeRegistryTest, ARefusedTokenIsRenewedOnce) {
  FakeRegistry registry({FakeRegistry::Auth::bearer, "alice", std::string(k_password)});
  auto c = client(registry, Credential{"alice", std::string(k_password), "", "test"});
  ASSERT_TRUE(c.put_manifest("app", "v1", "{}", k_oci_manifest));
  registry.revoke_tokens();
  auto digest = c.put_manifest("app", "v2", "{}", k_oci_manifest);
  ASSERT_TRUE(digest) << digest.error().message();
  auto puts = registry.requests("PUT");
  ASSERT_EQ(puts.size(), 4u);  // v1: anonymous, with token 1; v2: token 1 refused, with token 2
  EXPECT_EQ(puts[0].authorization, "");
  EXPECT_EQ(puts[1].authorization, "Bearer fake-token-1");
  EXPECT_EQ(puts[2].authorization, "Bearer fake-token-1");
  EXPECT_EQ(puts[3].authorization, "Bearer fake-token-2");
}

TEST_F(FakeRegistryTest, AnUnauthorizedThatStaysUnauthorizedIsAClearErrorWithoutSecrets) {
  FakeRegistry registry({FakeRegistry::Auth::bearer, "alice", std::string(k_password), false});
  auto c = client(registry, Credential{"alice", std::string(k_password), "", "test"});
  auto blob = blob_of("layer");
  auto pushed = c.push_blob("app", blob);
  ASSERT_FALSE(pushed);
  EXPECT_EQ(pushed.error().code(), Errc::remote);
  EXPECT_EQ(pushed.error().status(), 401);
  EXPECT_FALSE(pushed.error().retryable());
  EXPECT_EQ(pushed.error().message(), "uploading blob " + blob.digest + ": checking blob " + blob.digest +
                                          ": 401 Unauthorized");
  EXPECT_NE(pushed.error().hint().find("MLCTL_REGISTRY_USERNAME"), std::string::npos);
  std::string all = everything(pushed.error());
  EXPECT_EQ(all.find(k_password), std::string::npos) << all;
  EXPECT_EQ(all.find("fake-token-"), std::string::npos) << all;
  EXPECT_EQ(all.find(base64_encode("alice:" + std::string(k_password))), std::string::npos) << all;
}

TEST_F(FakeRegistryTest, WrongPasswordAtTheTokenServiceNamesTheServiceAndHidesThePassword) {
  FakeRegistry registry({FakeRegistry::Auth::bearer, "alice", std::string(k_password)});
  auto c = client(registry, Credential{"alice", "wrong-password-9", "", "test"});
  auto error = c.ping();
  ASSERT_FALSE(error);
  EXPECT_EQ(error.error().message(), "contacting registry " + registry.host() + ": fetching a token from http://" +
                                         registry.host() + "/token: 401 UNAUTHORIZED: invalid username or password");
  EXPECT_EQ(everything(error.error()).find("wrong-password-9"), std::string::npos);
}

TEST_F(FakeRegistryTest, BasicCredentialsEchoedBackAreRedacted) {
  FakeRegistry registry({FakeRegistry::Auth::basic, "alice", std::string(k_password)});
  auto c = client(registry, Credential{"alice", "wrong-password-9", "", "test"});
  auto error = c.ping();
  ASSERT_FALSE(error);
  EXPECT_EQ(error.error().message(), "contacting registry " + registry.host() +
                                         ": 401 UNAUTHORIZED: authentication required, got alice:***");
  EXPECT_EQ(everything(error.error()).find("wrong-password-9"), std::string::npos);
  EXPECT_EQ(registry.requests().size(), 2u);

  auto good = client(registry, Credential{"alice", std::string(k_password), "", "test"});
  ASSERT_TRUE(good.ping());
}

TEST_F(FakeRegistryTest, TooManyRequestsAndUnavailableAreRetriedUntilSuccess) {
  FakeRegistry registry;
  registry.fail_next("HEAD", "/blobs/", 429, 1, 2);
  registry.fail_next("PUT", "/blobs/uploads/", 503, 2);
  auto c = client(registry);
  auto blob = blob_of("weights");
  auto pushed = c.push_blob("app", blob);
  ASSERT_TRUE(pushed) << pushed.error().message();
  EXPECT_EQ(c.retries(), 3u);
  EXPECT_EQ(sleeps_, (std::vector<milliseconds>{milliseconds(2000), milliseconds(125), milliseconds(250)}));
  EXPECT_EQ(registry.requests("POST").size(), 3u);  // each retry starts a fresh upload
  EXPECT_EQ(registry.blob("app", blob.digest), "weights");
}

TEST_F(FakeRegistryTest, OtherClientErrorsAreNotRetried) {
  FakeRegistry registry;
  registry.fail_next("PUT", "/blobs/uploads/", 400);
  auto c = client(registry);
  auto pushed = c.push_blob("app", blob_of("x"));
  ASSERT_FALSE(pushed);
  EXPECT_EQ(pushed.error().status(), 400);
  EXPECT_EQ(pushed.error().message(),
            "uploading blob " + core::sha256_digest("x") + ": 400 UNAVAILABLE: injected failure");
  EXPECT_EQ(c.retries(), 0u);
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(FakeRegistryTest, ConnectionDroppedMidUploadRestartsTheUpload) {
  FakeRegistry registry;
  registry.drop_next("PUT", "/blobs/uploads/");
  auto c = client(registry);
  auto blob = blob_of("model.bin contents");
  auto pushed = c.push_blob("app", blob);
  ASSERT_TRUE(pushed) << pushed.error().message();
  EXPECT_EQ(c.retries(), 1u);
  EXPECT_EQ(registry.requests("POST").size(), 2u);
  EXPECT_EQ(registry.requests("PUT").size(), 2u);
  EXPECT_EQ(registry.blob("app", blob.digest), "model.bin contents");
  EXPECT_NE(reporter_.all().find("retrying after: PUT http://" + registry.host()), std::string::npos);
}

TEST_F(FakeRegistryTest, LargeBlobsGoInOrderedChunksFollowingEachLocation) {
  FakeRegistry registry;
  ClientOptions options;
  options.chunk_threshold = 10;
  options.chunk_size = 4;
  auto c = client(registry, std::nullopt, options);
  std::string content = "0123456789abcdef!";
  test::TempDir dir;
  Blob blob{core::sha256_digest(content), content.size(), dir.write("layer.tar", content)};
  auto pushed = c.push_blob("app", blob);
  ASSERT_TRUE(pushed) << pushed.error().message();
  EXPECT_EQ(pushed->uploaded_bytes, 17u);
  auto patches = registry.requests("PATCH");
  std::vector<std::string> ranges;
  for (const auto& p : patches) ranges.push_back(p.content_range);
  EXPECT_EQ(ranges, (std::vector<std::string>{"0-3", "4-7", "8-11", "12-15", "16-16"}));
  for (size_t i = 0; i < patches.size(); ++i) {
    EXPECT_EQ(patches[i].content_type, "application/octet-stream");
    EXPECT_EQ(patches[i].body_size, i < 4 ? 4u : 1u);
    EXPECT_EQ(patches[i].params.count("_state"), 1u);  // the Location's own query is kept
  }
  auto puts = registry.requests("PUT");
  ASSERT_EQ(puts.size(), 1u);
  EXPECT_EQ(puts[0].body_size, 0u);
  EXPECT_EQ(puts[0].params.find("digest")->second, blob.digest);
  EXPECT_EQ(puts[0].params.count("_state"), 1u);
  EXPECT_EQ(registry.blob("app", blob.digest), content);
  EXPECT_EQ(reporter_.progress(blob.digest), 17u);
}

TEST_F(FakeRegistryTest, MountFromAnotherRepositoryUploadsNothing) {
  FakeRegistry registry;
  registry.put_blob("base", "shared layer");
  auto c = client(registry);
  auto pushed = c.push_blob("app", blob_of("shared layer"), "base");
  ASSERT_TRUE(pushed) << pushed.error().message();
  EXPECT_EQ(pushed->how, BlobPush::How::mounted);
  auto posts = registry.requests("POST");
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].params.find("mount")->second, core::sha256_digest("shared layer"));
  EXPECT_EQ(posts[0].params.find("from")->second, "base");
  EXPECT_TRUE(registry.requests("PUT").empty());
}

TEST_F(FakeRegistryTest, DeclinedMountFallsBackToTheOfferedUpload) {
  FakeRegistry::Options options;
  options.allow_mounts = false;
  FakeRegistry registry(options);
  registry.put_blob("base", "shared layer");
  auto c = client(registry);
  auto pushed = c.push_blob("app", blob_of("shared layer"), "base");
  ASSERT_TRUE(pushed) << pushed.error().message();
  EXPECT_EQ(pushed->how, BlobPush::How::uploaded);
  EXPECT_EQ(registry.requests("POST").size(), 1u);  // the session the 202 offered is used
  EXPECT_EQ(registry.requests("PUT").size(), 1u);
  EXPECT_EQ(registry.blob("app", core::sha256_digest("shared layer")), "shared layer");
}

TEST_F(FakeRegistryTest, BlobsArePushedInParallelAndNotTwice) {
  FakeRegistry registry;
  auto c = client(registry);
  std::vector<std::string> contents;
  for (int i = 0; i < 9; ++i) contents.push_back("blob number " + std::to_string(i));
  std::vector<Blob> blobs;
  for (const auto& content : contents) blobs.push_back(blob_of(content));
  auto first = c.push_blobs("app", blobs);
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(first->uploaded_bytes, 9u * 13u);
  for (size_t i = 0; i < blobs.size(); ++i) {
    EXPECT_EQ(first->blobs[i].digest, blobs[i].digest);
    EXPECT_EQ(registry.blob("app", blobs[i].digest), contents[i]);
  }
  auto second = c.push_blobs("app", blobs);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->uploaded_bytes, 0u);
  for (const auto& pushed : second->blobs) EXPECT_EQ(pushed.how, BlobPush::How::existed);
}

TEST_F(FakeRegistryTest, ParallelPushStopsAtTheFirstFailure) {
  FakeRegistry registry;
  registry.fail_next("POST", "/blobs/uploads/", 403, 100);
  auto c = client(registry);
  std::vector<std::string> contents{"a1", "b2", "c3", "d4", "e5"};
  std::vector<Blob> blobs;
  for (const auto& content : contents) blobs.push_back(blob_of(content));
  auto pushed = c.push_blobs("app", blobs);
  ASSERT_FALSE(pushed);
  EXPECT_EQ(pushed.error().status(), 403);
  EXPECT_TRUE(pushed.error().message().ends_with(": 403 UNAVAILABLE: injected failure")) << pushed.error().message();
}

TEST_F(FakeRegistryTest, ManifestsRoundTripByTagAndDigest) {
  FakeRegistry registry;
  auto c = client(registry);
  std::string bytes = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"})";
  auto digest = c.put_manifest("app", "v1", bytes, k_oci_manifest);
  ASSERT_TRUE(digest) << digest.error().message();
  EXPECT_EQ(*digest, core::sha256_digest(bytes));
  auto got = c.get_manifest("app", *digest);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(got->bytes, bytes);
  EXPECT_EQ(got->media_type, k_oci_manifest);
  auto head = c.head_manifest("app", "v1");
  ASSERT_TRUE(head && *head);
  EXPECT_EQ((*head)->digest, *digest);
  EXPECT_EQ((*head)->media_type, k_oci_manifest);
  EXPECT_EQ((*head)->size, bytes.size());
  auto missing = c.get_manifest("app", "v2");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Errc::not_found);
}

TEST_F(FakeRegistryTest, PulledBlobsAreVerifiedAndWrittenWhole) {
  FakeRegistry registry;
  registry.put_blob("app", std::string(100000, 'w'));
  auto c = client(registry);
  test::TempDir dir;
  auto digest = core::sha256_digest(std::string(100000, 'w'));
  auto size = c.pull_blob("app", digest, dir / "blob");
  ASSERT_TRUE(size) << size.error().message();
  EXPECT_EQ(*size, 100000u);
  EXPECT_EQ(dir.read("blob"), std::string(100000, 'w'));
  auto missing = c.pull_blob("app", core::sha256_digest("nope"), dir / "missing");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Errc::not_found);
  EXPECT_FALSE(std::filesystem::exists(dir / "missing"));
  EXPECT_FALSE(std::filesystem::exists(dir / "missing.part"));
}

TEST_F(FakeRegistryTest, NothingListeningIsARetryableRemoteError) {
  int port = 0;
  {
    FakeRegistry gone;
    port = std::stoi(gone.host().substr(10));
  }
  ClientOptions options;
  options.retry.max_attempts = 2;
  options.sleep = [](milliseconds) {};
  Client c("127.0.0.1:" + std::to_string(port), transport_, std::nullopt, options);
  auto error = c.ping();
  ASSERT_FALSE(error);
  EXPECT_EQ(error.error().code(), Errc::remote);
  EXPECT_TRUE(error.error().retryable());
  EXPECT_EQ(c.retries(), 1u);
  EXPECT_TRUE(error.error().message().starts_with("contacting registry 127.0.0.1:" + std::to_string(port) +
                                                  ": GET http://127.0.0.1:" + std::to_string(port) + "/v2/: "))
      << error.error().message();
}

}  // namespace
}  // namespace mlctl::oci::remote
