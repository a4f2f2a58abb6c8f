// `mlctl build --push` to a registry that serves HTTPS with a self-signed certificate: refused
// with exit 5 and the certificate named unless the certificate is trusted (SSL_CERT_FILE or
// SSL_CERT_DIR) or --insecure is given, and nothing reaches the registry's storage when it is
// refused; and --insecure to a registry that speaks only plain HTTP.
#include "security_support.hpp"
#include "tls_registry.hpp"

#include <build/e2e/e2e_fixture.hpp>

#include <support/run.hpp>
#include <support/temp_dir.hpp>

#include <gtest/gtest.h>

namespace mlctl::test::security {
namespace {

namespace fs = std::filesystem;

// Every file in the registry's storage folder: a refused push must leave none, not even a blob.
std::vector<std::string> stored_files(const fs::path& storage) {
  std::vector<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(storage))
    if (!entry.is_directory()) files.push_back(fs::relative(entry.path(), storage).string());
  return files;
}

class TlsTest : public ::testing::Test {
protected:
  void SetUp() override {
    base_ = busybox_base();
    ASSERT_FALSE(base_.empty());
    project_ = e2e::copy_project("shell-app", dir_.path());
    env_ = isolated_env(dir_.path(), registry_.host(), "oci:" + base_.string() + ":1");
  }

  core::Completed push(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"build", "--push"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_mlctl(args, project_, env_);
  }

  std::string untrusted_error() const {
    return "mlctl: error: pushing to " + registry_.host() + ": contacting registry " + registry_.host() +
           ": GET https://" + registry_.host() + "/v2/: SSL certificate problem: self-signed certificate";
  }

  TempDir dir_;
  TlsRegistry registry_;
  fs::path base_;
  fs::path project_;
  std::map<std::string, std::string> env_;
};

TEST_F(TlsTest, SelfSignedCertificateIsRefusedWithExitFiveAndNothingIsPushed) {
  auto refused = push();
  EXPECT_EQ(refused.exit_code, 5) << refused.out << refused.err;
  EXPECT_EQ(error_line(refused.err), untrusted_error()) << refused.err;
  EXPECT_EQ(hint_line(refused.err),
            "hint: the server's certificate is not signed by a CA trusted here: add its CA to the system's "
            "(update-ca-certificates), or name a PEM file of trusted CAs with SSL_CERT_FILE")
      << refused.err;
  EXPECT_EQ(refused.out, "");
  EXPECT_EQ(stored_files(registry_.storage()), std::vector<std::string>{});

  // Trusting another certificate for the same name is no way around the check.
  env_["SSL_CERT_FILE"] = make_self_signed(dir_.path(), std::string(k_tls_name) + "-impostor").string();
  auto impostor = push();
  EXPECT_EQ(impostor.exit_code, 5) << impostor.out << impostor.err;
  EXPECT_EQ(error_line(impostor.err), untrusted_error()) << impostor.err;
  EXPECT_EQ(stored_files(registry_.storage()), std::vector<std::string>{});
}

// --insecure is HTTPS without the certificate check, for the registry's own host.
TEST_F(TlsTest, InsecurePushesWithoutCheckingTheCertificate) {
  auto pushed = push({"--insecure"});
  ASSERT_EQ(pushed.exit_code, 0) << pushed.out << pushed.err;
  EXPECT_TRUE(pushed.out.starts_with(registry_.host() + "/demo:0.1.0@sha256:")) << pushed.out;
  EXPECT_EQ(e2e::registry_tags(registry_.storage(), "demo"),
            (std::vector<std::string>{"0.1.0", e2e::short_sha(project_)}));
}

// A registry that is not on a loopback name and speaks only plain HTTP: refused over HTTPS
// unless --insecure, which then falls back to plain HTTP (docker's insecure-registries).
TEST(InsecureTest, PlainHttpRegistryIsUsedOnlyWithInsecure) {
  TempDir dir;
  RegistryServer plain;
  std::string port = plain.host().substr(plain.host().rfind(':') + 1);
  std::string host = "plain.localhost:" + port;  // libcurl resolves *.localhost to 127.0.0.1
  fs::path base = busybox_base();
  ASSERT_FALSE(base.empty());
  fs::path project = e2e::copy_project("shell-app", dir.path());
  auto env = isolated_env(dir.path(), host, "oci:" + base.string() + ":1");

  auto refused = run_mlctl({"build", "--push"}, project, env);
  EXPECT_EQ(refused.exit_code, 5) << refused.out << refused.err;
  std::string line = error_line(refused.err);
  EXPECT_TRUE(line.starts_with("mlctl: error: pushing to " + host + ": contacting registry " + host +
                               ": GET https://" + host + "/v2/: "))
      << refused.err;
  EXPECT_NE(line.find("wrong version number"), std::string::npos) << refused.err;
  EXPECT_EQ(stored_files(plain.storage()), std::vector<std::string>{});

  auto pushed = run_mlctl({"build", "--push", "--insecure", "-v"}, project, env);
  ASSERT_EQ(pushed.exit_code, 0) << pushed.out << pushed.err;
  EXPECT_TRUE(pushed.out.starts_with(host + "/demo:0.1.0@sha256:")) << pushed.out;
  EXPECT_NE(pushed.err.find(host + " does not speak TLS: using plain http, as --insecure allows"), std::string::npos)
      << pushed.err;
  EXPECT_EQ(e2e::registry_tags(plain.storage(), "demo"), (std::vector<std::string>{"0.1.0", e2e::short_sha(project)}));
}

TEST_F(TlsTest, CertificateTrustedThroughSslCertFileOrSslCertDirPushes) {
  env_["SSL_CERT_FILE"] = registry_.certificate().string();
  auto pushed = push();
  ASSERT_EQ(pushed.exit_code, 0) << pushed.out << pushed.err;
  std::string reference = registry_.host() + "/demo:0.1.0@sha256:";
  EXPECT_TRUE(pushed.out.starts_with(reference)) << pushed.out;
  EXPECT_EQ(e2e::registry_tags(registry_.storage(), "demo"),
            (std::vector<std::string>{"0.1.0", e2e::short_sha(project_)}));

  // A folder of hashed certificates (openssl rehash), as in /etc/ssl/certs.
  fs::path certs = dir_ / "certs";
  fs::create_directories(certs);
  fs::copy_file(registry_.certificate(), certs / "registry.pem");
  auto rehashed = run_command({"openssl", "rehash", certs.string()}, dir_.path());
  ASSERT_EQ(rehashed.exit_code, 0) << "openssl rehash (Debian package openssl): " << rehashed.err;
  env_["SSL_CERT_FILE"] = "";
  env_["SSL_CERT_DIR"] = certs.string();
  auto again = push({"-t", "again"});
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_EQ(e2e::registry_tags(registry_.storage(), "demo"),
            (std::vector<std::string>{"0.1.0", e2e::short_sha(project_), "again"}));
}

}  // namespace
}  // namespace mlctl::test::security
