#include <mlctl/git/push.hpp>

#include <support/temp_dir.hpp>

#include <httplib.h>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "git_cli.hpp"

namespace mlctl::git {
namespace {

namespace fs = std::filesystem;

// A local repository whose origin is a bare repository in the same temporary folder.
class PushTest : public ::testing::Test {
protected:
  void SetUp() override {
    test::git(dir_.path(), {"init", "-q", "--bare", "-b", "main", "origin.git"});
    fs::create_directory(local_);
    test::init_repository(local_, {{"apps/fraud.yaml", "replicas: 2\n"}});
    test::git(local_, {"remote", "add", "origin", (dir_ / "origin.git").string()});
  }
  std::string remote_main() { return test::git(dir_ / "origin.git", {"rev-parse", "refs/heads/main"}); }

  test::TempDir dir_;
  fs::path local_ = dir_ / "local";
};

TEST_F(PushTest, PushesTheBranchToTheRemote) {
  auto first = push(local_, "main");
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(remote_main(), test::git(local_, {"rev-parse", "HEAD"}));

  test::git(local_, {"commit", "-q", "--allow-empty", "-m", "fraud 1.5.0"});
  auto pushed = push(local_, "main", "origin");
  ASSERT_TRUE(pushed) << pushed.error().message();
  EXPECT_EQ(remote_main(), test::git(local_, {"rev-parse", "HEAD"}));
}

TEST_F(PushTest, ABranchTheRemoteMovedOnIsRefused) {
  ASSERT_TRUE(push(local_, "main"));
  test::git(dir_.path(), {"clone", "-q", (dir_ / "origin.git").string(), "other"});
  test::git(dir_ / "other", {"commit", "-q", "--allow-empty", "-m", "someone else"});
  test::git(dir_ / "other", {"push", "-q", "origin", "main"});
  std::string theirs = remote_main();
  test::git(local_, {"commit", "-q", "--allow-empty", "-m", "fraud 1.5.0"});

  auto pushed = push(local_, "main");
  ASSERT_FALSE(pushed);
  EXPECT_EQ(pushed.error().code(), Errc::remote);
  EXPECT_EQ(pushed.error().message(), "pushing main to " + (dir_ / "origin.git").string() +
                                          ": cannot push because a reference that you are trying to update on the "
                                          "remote contains commits that are not present locally.");
  EXPECT_EQ(pushed.error().hint(), "the remote branch has commits this one lacks: pull them first");
  EXPECT_EQ(remote_main(), theirs);

  test::git(local_, {"fetch", "-q", "origin"});
  auto diverged = push(local_, "main");
  ASSERT_FALSE(diverged);
  EXPECT_EQ(diverged.error().code(), Errc::remote);
  EXPECT_EQ(diverged.error().message(),
            "pushing main to " + (dir_ / "origin.git").string() + ": cannot push non-fastforwardable reference");
  EXPECT_EQ(remote_main(), theirs);
}

TEST_F(PushTest, PushesATagAndNeverMovesOneTheRemoteHas) {
  test::git(local_, {"tag", "-a", "-m", "fraud 1.5.0", "v1.5.0"});
  auto pushed = push_tag(local_, "v1.5.0");
  ASSERT_TRUE(pushed) << pushed.error().message();
  EXPECT_EQ(test::git(dir_ / "origin.git", {"rev-parse", "v1.5.0"}), test::git(local_, {"rev-parse", "v1.5.0"}));
  EXPECT_EQ(test::git(dir_ / "origin.git", {"cat-file", "-t", "v1.5.0"}), "tag");

  std::string remote_tag = test::git(dir_ / "origin.git", {"rev-parse", "v1.5.0"});
  test::git(local_, {"commit", "-q", "--allow-empty", "-m", "later"});
  test::git(local_, {"tag", "-f", "-a", "-m", "moved", "v1.5.0"});
  auto moved = push_tag(local_, "v1.5.0");
  ASSERT_FALSE(moved);
  EXPECT_EQ(moved.error().code(), Errc::remote);
  EXPECT_TRUE(moved.error().message().starts_with("pushing v1.5.0 to " + (dir_ / "origin.git").string() + ": "))
      << moved.error().message();
  EXPECT_EQ(test::git(dir_ / "origin.git", {"rev-parse", "v1.5.0"}), remote_tag);
}

TEST_F(PushTest, AnUnknownRemoteIsNotFound) {
  auto pushed = push(local_, "main", "upstream");
  ASSERT_FALSE(pushed);
  EXPECT_EQ(pushed.error().code(), Errc::not_found);
  EXPECT_EQ(pushed.error().message(), "no remote 'upstream' in " + local_.string());
}

TEST_F(PushTest, CredentialsInTheRemoteUrlNeverReachTheMessage) {
  test::git(local_, {"remote", "set-url", "origin", "http://ada:s3cr3t@127.0.0.1:1/ml/gitops.git"});
  auto pushed = push(local_, "main");
  ASSERT_FALSE(pushed);
  EXPECT_EQ(pushed.error().code(), Errc::remote);
  EXPECT_TRUE(pushed.error().message().starts_with("pushing main to http://127.0.0.1:1/ml/gitops.git: "))
      << pushed.error().message();
  EXPECT_EQ(pushed.error().message().find("s3cr3t"), std::string::npos) << pushed.error().message();
}

// An HTTP server that refuses every request for want of credentials, counting the attempts.
class RefusingServer {
public:
  RefusingServer() {
    server_.Get(".*", [this](const httplib::Request& request, httplib::Response& response) {
      ++requests_;
      if (request.has_header("Authorization")) ++with_credentials_;
      response.status = 401;
      response.set_header("WWW-Authenticate", "Basic realm=\"gitops\"");
    });
    server_.set_keep_alive_max_count(1);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~RefusingServer() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/ml/gitops.git"; }
  int requests() const { return requests_; }
  int with_credentials() const { return with_credentials_; }

private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<int> requests_ = 0;
  std::atomic<int> with_credentials_ = 0;
};

TEST_F(PushTest, RefusedCredentialsFromGitsHelperAreTriedOnce) {
  RefusingServer server;
  test::git(local_, {"remote", "set-url", "origin", server.url()});
  test::git(local_, {"config", "credential.helper", "!f() { echo username=ada; echo password=p4ssw0rd; }; f"});

  auto pushed = push(local_, "main");
  ASSERT_FALSE(pushed);
  EXPECT_EQ(pushed.error().code(), Errc::remote);
  EXPECT_EQ(pushed.error().message(), "pushing main to " + server.url() +
                                          ": authentication failed: neither git's credential helpers nor the ssh "
                                          "agent have credentials that the remote accepts");
  EXPECT_EQ(server.with_credentials(), 1) << "the helper's password, once";
  EXPECT_EQ(server.requests(), 2);
}

TEST(CredentialRequestTest, WhatGitCredentialFillReads) {
  EXPECT_EQ(credential_request("https://git.example.com/ml/fraud.git", nullptr),
            "protocol=https\nhost=git.example.com\npath=ml/fraud.git\n\n");
  EXPECT_EQ(credential_request("https://oauth2:token@git.example.com:8443/ml/fraud.git", "oauth2"),
            "protocol=https\nhost=git.example.com:8443\npath=ml/fraud.git\nusername=oauth2\n\n");
  EXPECT_EQ(credential_request("http://127.0.0.1:3000", ""), "protocol=http\nhost=127.0.0.1:3000\n\n");
  EXPECT_EQ(credential_request("git@github.com:ml/fraud.git", nullptr), std::nullopt);
  EXPECT_EQ(credential_request("/srv/git/fraud.git", nullptr), std::nullopt);
  EXPECT_EQ(credential_request("https:///path", nullptr), std::nullopt);
}

}  // namespace
}  // namespace mlctl::git
