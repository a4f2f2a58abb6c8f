#include <mlctl/core/digest.hpp>
#include <mlctl/oci/remote/client.hpp>

#include "capture_reporter.hpp"
#include "fake_transport.hpp"

#include <support/temp_dir.hpp>

#include <gtest/gtest.h>

namespace mlctl::oci::remote {
namespace {

using test::FakeTransport;
using test::respond;

constexpr std::string_view k_password = "pa55-w0rd-secret";

ClientOptions quick_options() {
  ClientOptions options;
  options.sleep = [](std::chrono::milliseconds) {};
  options.jitter = [] { return 0.0; };
  return options;
}

std::optional<Credential> credential() { return Credential{"alice", std::string(k_password), "", "test"}; }

TEST(ClientTransportTest, RedirectToStorageDropsAuthorization) {
  std::string blob = "layer bytes";
  std::string digest = core::sha256_digest(blob);
  FakeTransport transport([&](const Request& r) -> RegistryResult<Response> {
    if (r.url.starts_with("https://storage.example.com/")) return respond(r, 200, {}, blob);
    if (!find_header(r.headers, "Authorization")) return respond(r, 401, {{"WWW-Authenticate", R"(Basic realm="r")"}});
    return respond(r, 307, {{"Location", "https://storage.example.com/blob?X-Amz-Signature=sig"}});
  });
  test::TempDir dir;
  Client client("reg.example.com", transport, credential(), quick_options());
  auto pulled = client.pull_blob("app", digest, dir / "blob");
  ASSERT_TRUE(pulled) << pulled.error().message();
  EXPECT_EQ(*pulled, blob.size());
  EXPECT_EQ(dir.read("blob"), blob);
  auto sent = transport.sent();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[0].url, "https://reg.example.com/v2/app/blobs/" + digest);
  EXPECT_FALSE(find_header(sent[0].headers, "Authorization"));
  EXPECT_EQ(find_header(sent[1].headers, "Authorization"), "Basic " + base64_encode("alice:" + std::string(k_password)));
  EXPECT_EQ(sent[2].url, "https://storage.example.com/blob?X-Amz-Signature=sig");
  EXPECT_FALSE(find_header(sent[2].headers, "Authorization"));
}

TEST(ClientTransportTest, PlainHttpToAnotherMachineIsRefused) {
  FakeTransport transport([](const Request& r) -> RegistryResult<Response> {
    return respond(r, 302, {{"Location", "http://storage.example.com/blob"}});
  });
  test::TempDir dir;
  Client client("reg.example.com", transport, std::nullopt, quick_options());
  auto pulled = client.pull_blob("app", core::sha256_digest("x"), dir / "blob");
  ASSERT_FALSE(pulled);
  EXPECT_EQ(pulled.error().code(), Errc::invalid);
  EXPECT_EQ(pulled.error().message(),
            "downloading blob " + core::sha256_digest("x") + ": refusing plain http to http://storage.example.com");
  EXPECT_FALSE(std::filesystem::exists(dir / "blob"));
  EXPECT_FALSE(std::filesystem::exists(dir / "blob.part"));
}

TEST(ClientTransportTest, LoopbackIsPlainHttpAndOtherHostsAreVerifiedHttps) {
  FakeTransport transport([](const Request& r) -> RegistryResult<Response> { return respond(r, 200); });
  ASSERT_TRUE(Client("127.0.0.1:5000", transport, std::nullopt, quick_options()).ping());
  ASSERT_TRUE(Client("reg.example.com", transport, std::nullopt, quick_options()).ping());
  auto sent = transport.sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].url, "http://127.0.0.1:5000/v2/");
  EXPECT_EQ(sent[1].url, "https://reg.example.com/v2/");
  EXPECT_TRUE(sent[1].verify_tls);
}

// What curl reports when an https request reaches a server that speaks plain http.
RegistryResult<Response> tls_handshake_failure(const Request& r) {
  RegistryError error(Errc::remote, r.method + " " + r.url + ": wrong version number", 0, {}, false);
  error.set_tls_handshake_failed();
  return std::unexpected(error);
}

TEST(ClientTransportTest, InsecureSkipsTheCertificateCheckOfTheRegistryOnly) {
  std::string digest = core::sha256_digest("blob");
  FakeTransport transport([](const Request& r) -> RegistryResult<Response> {
    if (r.url.starts_with("https://reg.example.com/v2/app/blobs/"))
      return respond(r, 307, {{"Location", "https://storage.example.com/blob"}});
    return respond(r, 200, {}, "blob");
  });
  auto options = quick_options();
  options.insecure = Insecure::yes;
  Client client("reg.example.com", transport, std::nullopt, options);
  test::TempDir dir;
  ASSERT_TRUE(client.pull_blob("app", digest, dir / "blob"));
  auto sent = transport.sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].url, "https://reg.example.com/v2/app/blobs/" + digest);
  EXPECT_FALSE(sent[0].verify_tls);
  EXPECT_EQ(sent[1].url, "https://storage.example.com/blob");
  EXPECT_TRUE(sent[1].verify_tls);
}

TEST(ClientTransportTest, InsecureFallsBackToPlainHttpOnceWhenTheRegistryDoesNotSpeakTls) {
  FakeTransport transport([](const Request& r) -> RegistryResult<Response> {
    if (r.url.starts_with("https://")) return tls_handshake_failure(r);
    return respond(r, 200);
  });
  auto options = quick_options();
  options.insecure = Insecure::yes;
  Client client("reg.example.com", transport, std::nullopt, options);
  ASSERT_TRUE(client.ping());
  ASSERT_TRUE(client.ping());
  auto sent = transport.sent();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[0].url, "https://reg.example.com/v2/");
  EXPECT_EQ(sent[1].url, "http://reg.example.com/v2/");
  EXPECT_EQ(sent[2].url, "http://reg.example.com/v2/");

  // Without --insecure the same failure is the answer: nothing is tried over plain http.
  Client strict("reg.example.com", transport, std::nullopt, quick_options());
  auto refused = strict.ping();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message(),
            "contacting registry reg.example.com: GET https://reg.example.com/v2/: wrong version number");
  EXPECT_EQ(transport.sent().size(), 4u);
}

TEST(ClientTransportTest, ManifestComesBackWithTypeAndDigest) {
  std::string bytes = R"({"schemaVersion":2})";
  FakeTransport transport([&](const Request& r) -> RegistryResult<Response> {
    return respond(r, 200,
                   {{"Content-Type", std::string(k_oci_manifest) + "; charset=utf-8"},
                    {"Docker-Content-Digest", core::sha256_digest(bytes)}},
                   bytes);
  });
  Client client("reg.example.com", transport, std::nullopt, quick_options());
  auto manifest = client.get_manifest("app", "v1");
  ASSERT_TRUE(manifest) << manifest.error().message();
  EXPECT_EQ(manifest->bytes, bytes);
  EXPECT_EQ(manifest->media_type, k_oci_manifest);
  EXPECT_EQ(manifest->digest, core::sha256_digest(bytes));
  auto accept = find_header(transport.sent().at(0).headers, "Accept");
  ASSERT_TRUE(accept);
  for (auto type : {k_oci_manifest, k_oci_index, k_docker_manifest, k_docker_manifest_list})
    EXPECT_NE(accept->find(type), std::string::npos) << type;
}

TEST(ClientTransportTest, ManifestWhoseDigestDisagreesIsRefused) {
  FakeTransport transport([&](const Request& r) -> RegistryResult<Response> {
    return respond(r, 200, {{"Docker-Content-Digest", core::sha256_digest("other")}}, "{}");
  });
  Client client("reg.example.com", transport, std::nullopt, quick_options());
  auto manifest = client.get_manifest("app", "v1");
  ASSERT_FALSE(manifest);
  EXPECT_EQ(manifest.error().message(), "fetching manifest app:v1: the registry says the digest is " +
                                            core::sha256_digest("other") + " but the content has " +
                                            core::sha256_digest("{}"));
  auto by_digest = client.get_manifest("app", core::sha256_digest("wanted"));
  ASSERT_FALSE(by_digest);
}

TEST(ClientTransportTest, MissingManifestIsNotFound) {
  FakeTransport transport([](const Request& r) -> RegistryResult<Response> {
    return respond(r, 404, {}, R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]})");
  });
  Client client("reg.example.com", transport, std::nullopt, quick_options());
  auto manifest = client.get_manifest("app", "v1");
  ASSERT_FALSE(manifest);
  EXPECT_EQ(manifest.error().code(), Errc::not_found);
  EXPECT_EQ(manifest.error().status(), 404);
  EXPECT_EQ(manifest.error().message(), "fetching manifest app:v1: 404 MANIFEST_UNKNOWN: manifest unknown");
  auto head = client.head_manifest("app", "v1");
  ASSERT_TRUE(head);
  EXPECT_FALSE(*head);
}

TEST(ClientTransportTest, BrokenConnectionsAreRetriedThenReported) {
  FakeTransport transport([](const Request& r) -> RegistryResult<Response> {
    return std::unexpected(RegistryError(Errc::remote, r.method + " " + r.url + ": Connection reset by peer", 0, {}, true));
  });
  Client client("reg.example.com", transport, std::nullopt, quick_options());
  auto exists = client.blob_exists("app", core::sha256_digest("x"));
  ASSERT_FALSE(exists);
  EXPECT_EQ(exists.error().code(), Errc::remote);
  EXPECT_TRUE(exists.error().retryable());
  EXPECT_EQ(transport.sent().size(), 5u);
  EXPECT_EQ(client.retries(), 4u);
}

TEST(ClientTransportTest, IdentityTokenIsPostedToTheRealmAsARefreshToken) {
  FakeTransport transport([](const Request& r) -> RegistryResult<Response> {
    if (r.url.starts_with("https://auth.example.com/token")) return respond(r, 200, {}, R"({"access_token":"bearer-tok-1"})");
    if (find_header(r.headers, "Authorization") == "Bearer bearer-tok-1") return respond(r, 200);
    return respond(r, 401, {{"WWW-Authenticate", R"(Bearer realm="https://auth.example.com/token",service="reg")"}});
  });
  test::CaptureReporter reporter;
  Client client("reg.example.com", transport, Credential{"", "", "refresh-me-please", "test"}, quick_options(), reporter);
  ASSERT_TRUE(client.blob_exists("team/app", core::sha256_digest("x")));
  auto sent = transport.sent();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[1].method, "POST");
  EXPECT_EQ(sent[1].url, "https://auth.example.com/token");
  EXPECT_EQ(sent[1].body,
            "grant_type=refresh_token&service=reg&client_id=mlctl&scope=repository%3Ateam%2Fapp%3Apull"
            "&refresh_token=refresh-me-please");
  EXPECT_FALSE(find_header(sent[1].headers, "Authorization"));
  EXPECT_EQ(reporter.all().find("refresh-me-please"), std::string::npos);
  EXPECT_EQ(reporter.all().find("bearer-tok-1"), std::string::npos);
}

TEST(ClientTransportTest, SecretsEchoedByTheServerAreRedacted) {
  FakeTransport transport([](const Request& r) -> RegistryResult<Response> {
    std::string echoed = find_header(r.headers, "Authorization").value_or("none");
    return respond(r, 401, {{"WWW-Authenticate", R"(Basic realm="r")"}},
                   R"({"errors":[{"code":"UNAUTHORIZED","message":"bad credentials )" + echoed + " alice:" +
                       std::string(k_password) + R"("}]})");
  });
  test::CaptureReporter reporter;
  Client client("reg.example.com", transport, credential(), quick_options(), reporter);
  auto pushed = client.put_manifest("app", "v1", "{}", k_oci_manifest);
  ASSERT_FALSE(pushed);
  std::string basic = base64_encode("alice:" + std::string(k_password));
  EXPECT_EQ(pushed.error().message(), "pushing manifest app:v1: 401 UNAUTHORIZED: bad credentials Basic *** alice:***");
  for (const auto& text : {pushed.error().message(), pushed.error().hint(), reporter.all()}) {
    EXPECT_EQ(text.find(k_password), std::string::npos) << text;
    EXPECT_EQ(text.find(basic), std::string::npos) << text;
  }
  EXPECT_EQ(transport.sent().size(), 2u);  // anonymous, then Basic once: refused credentials are not resent
}

TEST(ClientTransportTest, InvalidNamesAreRefusedBeforeAnyRequest) {
  FakeTransport transport([](const Request& r) -> RegistryResult<Response> { return respond(r, 200); });
  Client client("reg.example.com", transport, std::nullopt, quick_options());
  auto exists = client.blob_exists("../etc", core::sha256_digest("x"));
  ASSERT_FALSE(exists);
  EXPECT_EQ(exists.error().message(), "invalid repository name '../etc'");
  Blob blob{"sha256:abc", 1, std::string_view("x")};
  auto pushed = client.push_blob("app", blob);
  ASSERT_FALSE(pushed);
  EXPECT_EQ(pushed.error().message(), "uploading blob sha256:abc: 'sha256:abc' is not a sha256 digest");
  EXPECT_TRUE(transport.sent().empty());
}

}  // namespace
}  // namespace mlctl::oci::remote
