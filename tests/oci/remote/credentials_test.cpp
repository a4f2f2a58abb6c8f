#include <mlctl/oci/remote/credentials.hpp>

#include <support/temp_dir.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

namespace mlctl::oci::remote {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view k_helper = R"(#!/bin/sh
[ "$1" = get ] || exit 3
read -r server
case "$server" in
  reg.example.com) echo '{"ServerURL":"reg.example.com","Username":"helper-user","Secret":"helper-secret-123"}' ;;
  token.example.com) echo '{"ServerURL":"token.example.com","Username":"<token>","Secret":"identity-abc-123"}' ;;
  https://index.docker.io/v1/) echo '{"ServerURL":"https://index.docker.io/v1/","Username":"hubuser","Secret":"hub-secret-1"}' ;;
  broken.example.com) echo "helper exploded" >&2; exit 2 ;;
  garbage.example.com) echo "not json" ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
)";

// Puts docker-credential-test first on PATH for the life of the test.
class CredentialsTest : public ::testing::Test {
protected:
  void SetUp() override {
    fs::path helper = dir_.write("bin/docker-credential-test", k_helper);
    fs::permissions(helper, fs::perms(0755));
    const char* path = std::getenv("PATH");
    old_path_ = path ? path : "";
    ::setenv("PATH", ((dir_ / "bin").string() + ":" + old_path_).c_str(), 1);
  }
  void TearDown() override { ::setenv("PATH", old_path_.c_str(), 1); }

  fs::path config(std::string_view json) { return dir_.write("config.json", json); }

  test::TempDir dir_;
  std::string old_path_;
};

TEST_F(CredentialsTest, AuthsEntryDecodesBase64UserAndPassword) {
  auto path = config(R"({"auths":{"https://reg.example.com":{"auth":")" + base64_encode("alice:pa:ss") + R"("}}})");
  auto found = read_auth_file(path, "reg.example.com");
  ASSERT_TRUE(found) << found.error().message();
  ASSERT_TRUE(*found);
  EXPECT_EQ(**found, (Credential{"alice", "pa:ss", "", path.string()}));
}

TEST_F(CredentialsTest, AuthsKeysMatchWithOrWithoutSchemeAndPath) {
  auto path = config(R"({"auths":{"http://reg.example.com:5000/v2/":{"auth":")" + base64_encode("bob:pw12") + R"("}}})");
  auto found = read_auth_file(path, "reg.example.com:5000");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->username, "bob");
  EXPECT_FALSE(*read_auth_file(path, "reg.example.com"));
}

TEST_F(CredentialsTest, DockerHubEntryIsFoundForDockerIo) {
  auto path = config(R"({"auths":{"https://index.docker.io/v1/":{"auth":")" + base64_encode("hub:pw34") + R"("}}})");
  auto found = read_auth_file(path, "docker.io");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->password, "pw34");
}

TEST_F(CredentialsTest, IdentityTokenIsKept) {
  auto path = config(R"({"auths":{"reg.example.com":{"auth":"","identitytoken":"refresh-xyz"}}})");
  auto found = read_auth_file(path, "reg.example.com");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->identity_token, "refresh-xyz");
  EXPECT_EQ((*found)->password, "");
}

TEST_F(CredentialsTest, CredHelperForTheHostIsRun) {
  auto path = config(R"({"auths":{"reg.example.com":{}},"credHelpers":{"reg.example.com":"test"}})");
  auto found = read_auth_file(path, "reg.example.com");
  ASSERT_TRUE(found) << found.error().message();
  ASSERT_TRUE(*found);
  EXPECT_EQ(**found, (Credential{"helper-user", "helper-secret-123", "", "docker-credential-test"}));
}

TEST_F(CredentialsTest, HelperTokenUsernameMeansAnIdentityToken) {
  auto path = config(R"({"credsStore":"test"})");
  auto found = read_auth_file(path, "token.example.com");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ(**found, (Credential{"", "", "identity-abc-123", "docker-credential-test"}));
}

TEST_F(CredentialsTest, CredsStoreIsAskedWithTheDockerHubServerUrl) {
  auto path = config(R"({"credsStore":"test"})");
  auto found = read_auth_file(path, "docker.io");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->username, "hubuser");
}

TEST_F(CredentialsTest, HelperWithoutAnEntryGivesNone) {
  auto path = config(R"({"credsStore":"test"})");
  auto found = read_auth_file(path, "other.example.com");
  ASSERT_TRUE(found) << found.error().message();
  EXPECT_FALSE(*found);
}

TEST_F(CredentialsTest, FailingHelperErrorNamesTheFileAndHelper) {
  auto path = config(R"({"credHelpers":{"broken.example.com":"test"}})");
  auto found = read_auth_file(path, "broken.example.com");
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().message(),
            path.string() + ": docker-credential-test get failed (exit code 2): helper exploded");
}

TEST_F(CredentialsTest, HelperPrintingGarbageIsAnError) {
  auto found = run_credential_helper("test", "garbage.example.com");
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().message(), "docker-credential-test get printed something other than the credential JSON");
}

TEST_F(CredentialsTest, MissingHelperIsAnError) {
  auto found = run_credential_helper("does-not-exist", "reg.example.com");
  ASSERT_FALSE(found);
  EXPECT_TRUE(found.error().message().starts_with("cannot run docker-credential-does-not-exist"))
      << found.error().message();
}

TEST_F(CredentialsTest, HelperNameWithASlashIsRefused) {
  auto found = run_credential_helper("../x", "reg.example.com");
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().message(), "invalid credential helper name '../x'");
}

TEST_F(CredentialsTest, BadJsonErrorNamesTheFile) {
  for (std::string_view text : {"{\"auths\": {", "[]", "", "\"str\""}) {
    auto path = config(text);
    auto found = read_auth_file(path, "reg.example.com");
    ASSERT_FALSE(found) << text;
    EXPECT_EQ(found.error().code(), Errc::invalid);
    EXPECT_EQ(found.error().message(), path.string() + ": not a valid JSON object");
  }
}

TEST_F(CredentialsTest, AuthThatIsNotBase64UserPassIsAnError) {
  auto path = config(R"({"auths":{"reg.example.com":{"auth":"bm9jb2xvbg=="}}})");  // "nocolon"
  auto found = read_auth_file(path, "reg.example.com");
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().message(), path.string() + ": the 'auth' entry is not base64 of user:password");
}

TEST_F(CredentialsTest, MissingFileGivesNone) {
  auto found = read_auth_file(dir_ / "nope.json", "reg.example.com");
  ASSERT_TRUE(found);
  EXPECT_FALSE(*found);
}

TEST_F(CredentialsTest, VariablesWinOverFilesAndFilesAreTriedInOrder) {
  auto first = dir_.write("auth.json", R"({"auths":{"reg.example.com":{"auth":")" + base64_encode("podman:pw-1") + R"("}}})");
  auto second = config(R"({"auths":{"reg.example.com":{"auth":")" + base64_encode("docker:pw-2") + R"("}}})");
  CredentialSources sources{std::nullopt, std::nullopt, {dir_ / "missing.json", first, second}};
  auto found = find_credential(sources, "reg.example.com");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->username, "podman");

  sources.username = "ci";
  sources.password = "ci-secret";
  found = find_credential(sources, "reg.example.com");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ(**found, (Credential{"ci", "ci-secret", "", "MLCTL_REGISTRY_USERNAME"}));
}

TEST_F(CredentialsTest, HalfSetVariablesAreAnError) {
  auto found = find_credential({"ci", std::nullopt, {}}, "reg.example.com");
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().message(), "MLCTL_REGISTRY_USERNAME is set but MLCTL_REGISTRY_PASSWORD is not");
}

TEST_F(CredentialsTest, SourcesComeFromTheEnvironment) {
  ::setenv("MLCTL_REGISTRY_USERNAME", "u1", 1);
  ::setenv("MLCTL_REGISTRY_PASSWORD", "p1", 1);
  ::setenv("REGISTRY_AUTH_FILE", "/x/auth.json", 1);
  ::setenv("DOCKER_CONFIG", "/y", 1);
  auto sources = CredentialSources::from_environment();
  EXPECT_EQ(sources.username, "u1");
  EXPECT_EQ(sources.password, "p1");
  EXPECT_EQ(sources.auth_files, (std::vector<fs::path>{"/x/auth.json", "/y/config.json"}));
  for (const char* name : {"MLCTL_REGISTRY_USERNAME", "MLCTL_REGISTRY_PASSWORD", "REGISTRY_AUTH_FILE", "DOCKER_CONFIG"})
    ::unsetenv(name);
}

TEST(AuthConfigLookupTest, HelperForTheHostComesBeforeAuthsAndCredsStoreAndNothingRuns) {
  std::string text = R"({"credHelpers":{"reg.example.com":"ecr-login","other.example.com":""},
    "auths":{"reg.example.com":{"auth":")" + base64_encode("carol:pw56") + R"("},
             "other.example.com":{"auth":")" + base64_encode("dave:pw78") + R"("}},
    "credsStore":"desktop"})";
  EXPECT_EQ(lookup_auth_config(text, "a.json", "reg.example.com"), (AuthLookup{std::nullopt, "ecr-login"}));
  // An empty helper name is no helper: the auths entry is used.
  EXPECT_EQ(lookup_auth_config(text, "a.json", "other.example.com"),
            (AuthLookup{Credential{"dave", "pw78", "", "a.json"}, ""}));
  EXPECT_EQ(lookup_auth_config(text, "a.json", "third.example.com"), (AuthLookup{std::nullopt, "desktop"}));
  EXPECT_EQ(lookup_auth_config(R"({"auths":{}})", "a.json", "third.example.com"), AuthLookup{});
}

TEST(AuthConfigLookupTest, MalformedTextNamesTheSource) {
  for (std::string_view text : {"", "[1]", "{\"auths\":", "\"x\""}) {
    auto found = lookup_auth_config(text, "/home/u/.docker/config.json", "reg.example.com");
    ASSERT_FALSE(found) << text;
    EXPECT_EQ(found.error().message(), "/home/u/.docker/config.json: not a valid JSON object");
  }
  auto bad_auth = lookup_auth_config(R"({"auths":{"reg.example.com":{"auth":"bm9jb2xvbg=="}}})", "c.json", "reg.example.com");
  ASSERT_FALSE(bad_auth);
  EXPECT_EQ(bad_auth.error().message(), "c.json: the 'auth' entry is not base64 of user:password");
}

TEST(Base64Test, RoundTripsAndRejectsBadInput) {
  for (std::string_view text : {"", "a", "ab", "abc", "abcd", "user:pass"}) {
    auto decoded = base64_decode(base64_encode(text));
    if (text.empty()) {
      EXPECT_FALSE(decoded);
    } else {
      ASSERT_TRUE(decoded) << text;
      EXPECT_EQ(*decoded, text);
    }
  }
  EXPECT_FALSE(base64_decode("abc"));
  EXPECT_FALSE(base64_decode("ab!d"));
}

}  // namespace
}  // namespace mlctl::oci::remote
