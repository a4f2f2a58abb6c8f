#include "fake_api_server.hpp"
#include "submit_support.hpp"

#include <mlctl/pipeline/submit/api_client.hpp>
#include <mlctl/pipeline/submit/multipart.hpp>
#include <mlctl/pipeline/submit/poll.hpp>

#include <oci/remote/fake_transport.hpp>
#include <support/free_port.hpp>
#include <support/temp_dir.hpp>

#include <gtest/gtest.h>
#include <httplib.h>

namespace mlctl::pipeline {
namespace {

using std::chrono::milliseconds;
using submit_test::FakeClock;

constexpr std::string_view k_token = "tok-7f3a9c2e5b81";

nlohmann::json echo_unauthorized(const std::string& given) { return {{"code", 16}, {"message", "bad token " + given}}; }

TEST(TokenFileTest, TokenIsTrimmedAndBearerPrefixDropped) {
  test::TempDir dir;
  EXPECT_EQ(read_token_file(dir.write("sa", "  eyJhbGciOi.abc-def_123\n")).value(), "eyJhbGciOi.abc-def_123");
  // What `argo auth token` prints.
  EXPECT_EQ(read_token_file(dir.write("argo", "Bearer v2:abc/def=\n")).value(), "v2:abc/def=");
}

TEST(TokenFileTest, EmptyFileIsInvalid) {
  test::TempDir dir;
  auto path = dir.write("token", " \n");
  auto token = read_token_file(path);
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().code(), Errc::invalid);
  EXPECT_EQ(token.error().message(), "the token file " + path.string() + " is empty");
}

TEST(TokenFileTest, SeveralLinesAreInvalidAndNotShown) {
  test::TempDir dir;
  auto path = dir.write("token", "first-secret-token\nsecond-secret-token\n");
  auto token = read_token_file(path);
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().code(), Errc::invalid);
  EXPECT_EQ(token.error().message(),
            "the token file " + path.string() +
                " holds spaces, several lines or control characters where one token was expected");
}

TEST(TokenFileTest, MissingFileIsNotFound) {
  test::TempDir dir;
  auto token = read_token_file(dir / "token");
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().code(), Errc::not_found);
  EXPECT_EQ(token.error().message(), "reading the token file: " + (dir / "token").string() + ": no such file");
}

TEST(ApiClientTest, BaseUrlKeepsItsPathWithoutTrailingSlash) {
  auto client = ApiClient::create("https://kubeflow.example.com/pipeline/", submit_test::transport(), "t0ken-value");
  ASSERT_TRUE(client) << client.error().message();
  EXPECT_EQ(client->base_url(), "https://kubeflow.example.com/pipeline");
}

TEST(ApiClientTest, TokenOverPlainHttpToAnotherMachineIsRefused) {
  auto& transport = submit_test::transport();
  auto refused = ApiClient::create("http://argo.example.com:2746", transport, "t0ken-value");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Errc::invalid);
  EXPECT_EQ(refused.error().message(), "refusing to send the token to http://argo.example.com:2746 over plain http");
  EXPECT_EQ(refused.error().hint(), "use an https URL, or allow plain http explicitly");

  ApiOptions insecure;
  insecure.insecure = oci::remote::Insecure::yes;
  EXPECT_TRUE(ApiClient::create("http://argo.example.com:2746", transport, "t0ken-value", insecure));
  EXPECT_TRUE(ApiClient::create("http://argo.example.com:2746", transport, ""));
  EXPECT_TRUE(ApiClient::create("http://127.0.0.1:2746", transport, "t0ken-value"));
}

TEST(ApiClientTest, InsecureSkipsTheCertificateCheckAndOnlyThen) {
  test::FakeTransport transport([](const oci::remote::Request&) -> oci::remote::RegistryResult<oci::remote::Response> {
    return oci::remote::Response{.status = 200, .headers = {}, .body = "{}"};
  });
  ApiOptions insecure;
  insecure.insecure = oci::remote::Insecure::yes;
  auto loose = ApiClient::create("https://argo.example.com:2746", transport, "t0ken-value", insecure);
  auto strict = ApiClient::create("https://argo.example.com:2746", transport, "t0ken-value");
  ASSERT_TRUE(loose && strict);
  ASSERT_TRUE(loose->get("/api/v1/info"));
  ASSERT_TRUE(strict->get("/api/v1/info"));
  auto sent = transport.sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].url, "https://argo.example.com:2746/api/v1/info");
  EXPECT_FALSE(sent[0].verify_tls) << "--insecure";
  EXPECT_TRUE(sent[1].verify_tls);
}

TEST(ApiClientTest, UrlWithQueryIsInvalid) {
  auto client = ApiClient::create("https://argo.example.com/?x=1", submit_test::transport());
  ASSERT_FALSE(client);
  EXPECT_EQ(client.error().code(), Errc::invalid);
  EXPECT_EQ(client.error().message(), "invalid server URL 'https://argo.example.com/?x=***': a base URL has no query");
}

class ApiServerTest : public ::testing::Test {
protected:
  ApiServerTest() {
    server_.route("GET", "/thing", [](const httplib::Request&, httplib::Response& res, const std::smatch&) {
      test::reply(res, 200, {{"ok", true}});
    });
    server_.route("POST", "/thing", [](const httplib::Request& req, httplib::Response& res, const std::smatch&) {
      test::reply(res, 200, {{"echo", req.body}});
    });
  }

  test::FakeApiServer server_{std::string(k_token), echo_unauthorized};
  std::vector<milliseconds> sleeps_;
  ApiClient client_ = submit_test::client(server_.url(), k_token, sleeps_);
};

TEST_F(ApiServerTest, RequestCarriesTheTokenAndContentType) {
  auto body = client_.post("/thing", R"({"a":1})", "application/json");
  ASSERT_TRUE(body) << body.error().message();
  EXPECT_EQ(*body, R"({"echo":"{\"a\":1}"})");
  auto seen = server_.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(seen[0].path, "/thing");
  EXPECT_EQ(seen[0].authorization, "Bearer " + std::string(k_token));
  EXPECT_EQ(seen[0].content_type, "application/json");
  EXPECT_EQ(seen[0].accept, "application/json");
}

TEST_F(ApiServerTest, ReadIsRetriedAfter503) {
  server_.fail_next("GET", "/thing", 503, {{"code", 14}, {"message", "unavailable"}});
  auto body = client_.get("/thing");
  ASSERT_TRUE(body) << body.error().message();
  EXPECT_EQ(*body, R"({"ok":true})");
  EXPECT_EQ(server_.requests().size(), 2u);
  EXPECT_EQ(sleeps_, std::vector<milliseconds>{milliseconds(187)});
}

TEST_F(ApiServerTest, CreateIsNotRetried) {
  server_.fail_next("POST", "/thing", 503, {{"code", 14}, {"message", "unavailable"}});
  auto body = client_.post("/thing", "{}", "application/json");
  ASSERT_FALSE(body);
  EXPECT_EQ(body.error().code(), Errc::remote);
  EXPECT_EQ(body.error().message(), "POST " + server_.url() + "/thing: 503 Service Unavailable: \"unavailable\"");
  EXPECT_EQ(server_.requests().size(), 1u);
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(ApiServerTest, EchoedTokenIsMasked) {
  std::vector<milliseconds> sleeps;
  std::string expired = "expired-6c1d0e4f";
  ApiClient client = submit_test::client(server_.url(), expired, sleeps);
  auto body = client.get("/thing");
  ASSERT_FALSE(body);
  EXPECT_EQ(body.error().code(), Errc::remote);
  EXPECT_EQ(body.error().message(), "GET " + server_.url() + "/thing: 401 Unauthorized: \"bad token Bearer ***\"");
  EXPECT_EQ(body.error().hint(),
            "the server did not accept the token: check the token file, and that the token has not expired");
  EXPECT_EQ(body.error().message().find(expired), std::string::npos);
}

TEST_F(ApiServerTest, RefusedConnectionIsRemote) {
  std::vector<milliseconds> sleeps;
  std::string url = "http://127.0.0.1:" + std::to_string(test::free_port());
  ApiClient client = submit_test::client(url, k_token, sleeps);
  auto body = client.get("/thing");
  ASSERT_FALSE(body);
  EXPECT_EQ(body.error().code(), Errc::remote);
  EXPECT_TRUE(body.error().message().starts_with("GET " + url + "/thing: ")) << body.error().message();
  EXPECT_EQ(sleeps.size(), 4u);  // five attempts
}

TEST_F(ApiServerTest, StalledReadIsAskedAgain) {
  server_.stall_next("GET", "/thing", milliseconds(5000));
  auto start = std::chrono::steady_clock::now();
  auto body = client_.get("/thing");
  ASSERT_TRUE(body) << body.error().message();
  EXPECT_EQ(*body, R"({"ok":true})");
  EXPECT_EQ(server_.requests().size(), 2u);
  EXPECT_EQ(sleeps_, std::vector<milliseconds>{milliseconds(187)});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
}

TEST_F(ApiServerTest, StalledAnswerTimesOut) {
  server_.stall_next("GET", "/thing", milliseconds(5000), 2);
  ApiOptions once;
  once.retry.max_attempts = 1;
  auto client = ApiClient::create(server_.url(), submit_test::transport(), std::string(k_token), once).value();
  auto start = std::chrono::steady_clock::now();
  auto body = client.get("/thing");
  ASSERT_FALSE(body);
  EXPECT_EQ(body.error().code(), Errc::remote);
  EXPECT_EQ(
      body.error().message(),
      "GET " + server_.url() + "/thing: Operation too slow. Less than 1 bytes/sec transferred the last 1 seconds");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
}

TEST(MultipartTest, SameFilesGiveTheSameBytes) {
  std::array files{FormFile{"uploadfile", "pipeline.yaml", "application/x-yaml", "key: value\n"}};
  FormBody body = multipart_form(files);
  std::string prefix = "multipart/form-data; boundary=";
  ASSERT_TRUE(body.content_type.starts_with(prefix));
  std::string boundary = body.content_type.substr(prefix.size());
  EXPECT_EQ(boundary.size(), 38u);
  EXPECT_TRUE(boundary.starts_with("mlctl-"));
  EXPECT_EQ(body.bytes, "--" + boundary +
                            "\r\nContent-Disposition: form-data; name=\"uploadfile\"; filename=\"pipeline.yaml\"\r\n"
                            "Content-Type: application/x-yaml\r\n\r\nkey: value\n\r\n--" +
                            boundary + "--\r\n");
  EXPECT_EQ(multipart_form(files).bytes, body.bytes);
  std::array other{FormFile{"uploadfile", "pipeline.yaml", "application/x-yaml", "key: other\n"}};
  EXPECT_NE(multipart_form(other).content_type, body.content_type);
}

TEST(MultipartTest, QuotesAndLineBreaksInNamesAreEncoded) {
  std::array files{FormFile{"upload\"file", "a\"b\r\n.yaml", "text/plain", "x"}};
  FormBody body = multipart_form(files);
  EXPECT_NE(body.bytes.find("name=\"upload%22file\"; filename=\"a%22b%0D%0A.yaml\"\r\n"), std::string::npos)
      << body.bytes;
}

TEST(PollTest, StopsAtTheFirstDonePoll) {
  FakeClock clock;
  auto polled = poll_until_done([] { return Result<bool>(true); }, WaitOptions{}, clock);
  EXPECT_EQ(polled, Polled::done);
  EXPECT_TRUE(clock.sleeps.empty());
}

TEST(PollTest, IntervalDoublesUpToTheLongest) {
  FakeClock clock;
  int polls = 0;
  WaitOptions options{milliseconds(1000), milliseconds(4000), std::chrono::hours(1)};
  auto polled = poll_until_done([&] { return Result<bool>(++polls == 5); }, options, clock);
  EXPECT_EQ(polled, Polled::done);
  EXPECT_EQ(clock.sleeps, (std::vector<milliseconds>{milliseconds(1000), milliseconds(2000), milliseconds(4000),
                                                     milliseconds(4000)}));
}

TEST(PollTest, LastPollIsAtTheDeadline) {
  FakeClock clock;
  int polls = 0;
  WaitOptions options{milliseconds(1000), milliseconds(4000), milliseconds(10000)};
  auto polled = poll_until_done(
      [&] {
        ++polls;
        return Result<bool>(false);
      },
      options, clock);
  EXPECT_EQ(polled, Polled::timed_out);
  EXPECT_EQ(polls, 5);
  EXPECT_EQ(clock.sleeps, (std::vector<milliseconds>{milliseconds(1000), milliseconds(2000), milliseconds(4000),
                                                     milliseconds(3000)}));
}

TEST(PollTest, FailedPollEndsTheWait) {
  FakeClock clock;
  auto polled = poll_until_done([]() -> Result<bool> { return fail(Errc::remote, "gone"); }, WaitOptions{}, clock);
  ASSERT_FALSE(polled);
  EXPECT_EQ(polled.error().code(), Errc::remote);
  EXPECT_EQ(polled.error().message(), "gone");
  EXPECT_TRUE(clock.sleeps.empty());
}

TEST(PollTest, IntervalMustBePositive) {
  FakeClock clock;
  auto polled = poll_until_done([] { return Result<bool>(false); }, WaitOptions{milliseconds(0)}, clock);
  ASSERT_FALSE(polled);
  EXPECT_EQ(polled.error().code(), Errc::invalid);
  EXPECT_EQ(polled.error().message(), "the polling interval must be positive, not 0ms");
}

TEST(PollTest, DurationsUseTheLargestWholeUnit) {
  EXPECT_EQ(describe_duration(std::chrono::hours(2)), "2h");
  EXPECT_EQ(describe_duration(std::chrono::minutes(90)), "90m");
  EXPECT_EQ(describe_duration(milliseconds(90000)), "90s");
  EXPECT_EQ(describe_duration(milliseconds(1500)), "1500ms");
  EXPECT_EQ(describe_duration(milliseconds(0)), "0ms");
}

}  // namespace
}  // namespace mlctl::pipeline
