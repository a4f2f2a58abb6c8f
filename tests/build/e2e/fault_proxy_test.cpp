// The fault proxy the e2e tests put in front of the registry, checked against the real registry
// with plain HTTP requests, so that an e2e failure can be blamed on mlctl and not on the proxy.
#include <mlctl/core/digest.hpp>
#include <mlctl/oci/remote/curl_transport.hpp>

#include "../../oci/remote/registry_fixture.hpp"

#include <support/fault_proxy.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>

#include <gtest/gtest.h>

namespace mlctl::test {
namespace {

using oci::remote::CurlTransport;
using oci::remote::Request;
using Clock = std::chrono::steady_clock;

const FaultRule k_upload_rule{.action = FaultRule::Action::drop,
                              .methods = {"PATCH", "PUT"},
                              .path_contains = "/blobs/uploads/",
                              .times = 1,
                              .after_bytes = 1000};

// Sends `request` as it is to `host` ("127.0.0.1:PORT") and returns every byte that came back
// before the connection closed (or 10 s passed): exactly what a client would have seen.
std::string exchange(const std::string& host, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(host.substr(host.rfind(':') + 1))));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string received;
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
    auto deadline = Clock::now() + std::chrono::seconds(10);
    char chunk[4096];
    pollfd entry{.fd = fd, .events = POLLIN, .revents = 0};
    while (Clock::now() < deadline && ::poll(&entry, 1, 100) >= 0) {
      if (!(entry.revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
      if (got <= 0) break;
      received.append(chunk, static_cast<std::size_t>(got));
    }
  }
  if (fd >= 0) ::close(fd);
  return received;
}

class FaultProxyTest : public ::testing::Test {
protected:
  // POST /v2/NAME/blobs/uploads/ through `host`; the upload URL the registry hands back.
  std::string start_upload(const std::string& host) {
    auto started = transport_.send(Request("POST", "http://" + host + "/v2/demo/blobs/uploads/"));
    EXPECT_TRUE(started) << started.error().message();
    if (!started) return {};
    EXPECT_EQ(started->status, 202) << started->body;
    return started->header("Location").value_or("");
  }

  // A monolithic upload of `blob_` (PUT LOCATION?digest=...) through `host`; the status, or -1
  // when no response came back.
  int put_blob(const std::string& host) {
    std::string location = start_upload(host);
    std::string url = location.starts_with("/") ? "http://" + host + location : location;
    Request put("PUT", url + (url.find('?') == std::string::npos ? "?" : "&") + "digest=" + digest_);
    put.headers = {{"Content-Type", "application/octet-stream"}};
    put.body = std::string_view(blob_);
    auto done = transport_.send(put);
    return done ? done->status : -1;
  }

  int head_blob(const std::string& host) {
    auto head = transport_.send(Request("HEAD", "http://" + host + "/v2/demo/blobs/" + digest_));
    return head ? head->status : -1;
  }

  CurlTransport transport_{oci::remote::CurlOptions{.connect_timeout = std::chrono::seconds(5),
                                                    .low_speed_limit = 1,
                                                    .low_speed_time = std::chrono::seconds(20)}};
  std::string blob_ = std::string(10000, 'b');
  std::string digest_ = core::sha256_digest(blob_);
};

TEST_F(FaultProxyTest, PassesRequestsThroughAndKeepsUploadUrlsOnTheProxy) {
  RegistryServer registry;
  FaultProxy proxy(registry.host(), {});
  std::string location = start_upload(proxy.host());
  EXPECT_TRUE(location.starts_with("http://" + proxy.host() + "/v2/demo/blobs/uploads/") ||
              location.starts_with("/v2/demo/blobs/uploads/"))
      << location;
  EXPECT_EQ(location.find(registry.host()), std::string::npos) << location;
  EXPECT_EQ(put_blob(proxy.host()), 201);
  EXPECT_EQ(head_blob(registry.host()), 200) << "the blob reached the registry";
  auto requests = proxy.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0], "POST /v2/demo/blobs/uploads/");
  EXPECT_EQ(requests[1], "POST /v2/demo/blobs/uploads/");
  EXPECT_TRUE(requests[2].starts_with("PUT /v2/demo/blobs/uploads/")) << requests[2];
  EXPECT_TRUE(proxy.faults().empty());
}

TEST_F(FaultProxyTest, DropsAnUploadMidBodyTheGivenNumberOfTimes) {
  RegistryServer registry;
  FaultProxy proxy(registry.host(), {k_upload_rule});
  EXPECT_EQ(put_blob(proxy.host()), -1) << "the connection was closed before any response";
  EXPECT_EQ(proxy.fired(0), 1);
  ASSERT_EQ(proxy.faults().size(), 1u);
  EXPECT_TRUE(proxy.faults()[0].starts_with("PUT /v2/demo/blobs/uploads/")) << proxy.faults()[0];
  EXPECT_TRUE(proxy.faults()[0].ends_with(" dropped after 1000 bytes")) << proxy.faults()[0];
  EXPECT_EQ(head_blob(registry.host()), 404) << "half a blob is not a blob";
  EXPECT_EQ(put_blob(proxy.host()), 201) << "the rule had one turn";
  EXPECT_EQ(proxy.fired(0), 1);
  EXPECT_EQ(head_blob(registry.host()), 200);
}

TEST_F(FaultProxyTest, CutsASmallBodyInItsMiddle) {
  RegistryServer registry;
  FaultRule rule = k_upload_rule;
  rule.after_bytes = 1 << 20;
  FaultProxy proxy(registry.host(), {rule});
  EXPECT_EQ(put_blob(proxy.host()), -1);
  ASSERT_EQ(proxy.faults().size(), 1u);
  EXPECT_TRUE(proxy.faults()[0].ends_with(" dropped after 5000 bytes")) << proxy.faults()[0];
}

TEST_F(FaultProxyTest, DropsEveryUploadWhenToldTo) {
  RegistryServer registry;
  FaultRule rule = k_upload_rule;
  rule.times = -1;
  FaultProxy proxy(registry.host(), {rule});
  for (int i = 0; i < 3; ++i) EXPECT_EQ(put_blob(proxy.host()), -1);
  EXPECT_EQ(proxy.fired(0), 3);
  EXPECT_EQ(head_blob(registry.host()), 404);
}

TEST_F(FaultProxyTest, AnswersAnErrorStatusTheGivenNumberOfTimes) {
  RegistryServer registry;
  FaultProxy proxy(registry.host(), {{.action = FaultRule::Action::status, .methods = {"GET"},
                                      .path_contains = "/v2/", .times = 2, .status = 503}});
  std::vector<int> statuses;
  for (int i = 0; i < 3; ++i) {
    auto response = transport_.send(Request("GET", "http://" + proxy.host() + "/v2/"));
    ASSERT_TRUE(response) << response.error().message();
    statuses.push_back(response->status);
    if (response->status == 503) {
      EXPECT_EQ(response->header("Retry-After"), "1");
      EXPECT_NE(response->body.find(R"("code":"UNAVAILABLE")"), std::string::npos) << response->body;
    }
  }
  EXPECT_EQ(statuses, (std::vector<int>{503, 503, 200}));
  EXPECT_EQ(proxy.fired(0), 2);
  EXPECT_EQ(proxy.faults(), (std::vector<std::string>{"GET /v2/ answered 503", "GET /v2/ answered 503"}));
}

TEST_F(FaultProxyTest, AnswersBeforeReadingABodyTheClientHoldsBack) {
  RegistryServer registry;
  FaultProxy proxy(registry.host(), {{.action = FaultRule::Action::status, .methods = {"PUT"},
                                      .path_contains = "/blobs/uploads/", .times = 1, .status = 429}});
  EXPECT_EQ(put_blob(proxy.host()), 429);
  EXPECT_EQ(put_blob(proxy.host()), 201);
}

TEST_F(FaultProxyTest, StallsARequestThenForwardsIt) {
  RegistryServer registry;
  FaultProxy proxy(registry.host(), {{.action = FaultRule::Action::stall, .path_contains = "/v2/",
                                      .times = 1, .stall = std::chrono::milliseconds(700)}});
  auto started = Clock::now();
  auto response = transport_.send(Request("GET", "http://" + proxy.host() + "/v2/"));
  auto took = Clock::now() - started;
  ASSERT_TRUE(response) << response.error().message();
  EXPECT_EQ(response->status, 200);
  EXPECT_GE(took, std::chrono::milliseconds(700));
  EXPECT_EQ(proxy.faults(), (std::vector<std::string>{"GET /v2/ stalled"}));
}

TEST_F(FaultProxyTest, StopsPromptlyWhileAConnectionStalls) {
  RegistryServer registry;
  auto proxy = std::make_unique<FaultProxy>(
      registry.host(), std::vector<FaultRule>{{.action = FaultRule::Action::stall, .times = -1,
                                               .stall = std::chrono::minutes(10)}});
  std::string host = proxy->host();
  std::thread client([&] { (void)transport_.send(Request("GET", "http://" + host + "/v2/")); });
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (proxy->faults().empty() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(proxy->faults().size(), 1u);
  auto started = Clock::now();
  proxy.reset();
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(2));
  client.join();
}

TEST_F(FaultProxyTest, TruncatesAResponseBodyAfterItsWholeHead) {
  RegistryServer registry;
  ASSERT_EQ(put_blob(registry.host()), 201);
  FaultProxy proxy(registry.host(), {{.action = FaultRule::Action::truncate, .methods = {"GET"},
                                      .path_contains = "/blobs/sha256:", .times = 1, .after_bytes = 1000}});
  std::string path = "/v2/demo/blobs/" + digest_;
  std::string got = exchange(proxy.host(), "GET " + path + " HTTP/1.1\r\nHost: " + proxy.host() + "\r\n\r\n");
  auto head_end = got.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos) << got;
  std::string head = got.substr(0, head_end + 4);
  EXPECT_TRUE(head.starts_with("HTTP/1.1 200 OK\r\n")) << head;
  EXPECT_NE(head.find("\r\nContent-Length: 10000\r\n"), std::string::npos) << "the head promises it all: " << head;
  EXPECT_EQ(got.substr(head_end + 4), std::string(1000, 'b'));
  EXPECT_EQ(proxy.fired(0), 1);
  EXPECT_EQ(proxy.faults(), (std::vector<std::string>{"GET " + path + " truncated to 1000 of 10000 body bytes"}));

  auto whole = transport_.send(Request("GET", "http://" + proxy.host() + path));
  ASSERT_TRUE(whole) << whole.error().message();
  EXPECT_EQ(whole->status, 200);
  EXPECT_EQ(whole->body, blob_) << "the rule had one turn";
}

TEST_F(FaultProxyTest, CutsTheHeadOfAResponseWithoutABodyAfterTheRegistryActed) {
  RegistryServer registry;
  FaultProxy proxy(registry.host(), {{.action = FaultRule::Action::truncate, .methods = {"PUT"},
                                      .path_contains = "/blobs/uploads/", .times = 1, .after_bytes = 1000}});
  EXPECT_EQ(put_blob(proxy.host()), -1) << "no whole response came back";
  EXPECT_EQ(head_blob(registry.host()), 200) << "the registry stored the blob all the same";
  ASSERT_EQ(proxy.faults().size(), 1u);
  const std::regex head_cut(R"(PUT /v2/demo/blobs/uploads/\S+ truncated to (\d+) of (\d+) head bytes)");
  std::smatch cut;
  std::string fault = proxy.faults()[0];
  ASSERT_TRUE(std::regex_match(fault, cut, head_cut)) << fault;
  EXPECT_EQ(std::stoi(cut[1]), std::stoi(cut[2]) / 2) << fault;
  EXPECT_EQ(put_blob(proxy.host()), 201) << "the rule had one turn";
  EXPECT_EQ(proxy.fired(0), 1);
}

}  // namespace
}  // namespace mlctl::test
