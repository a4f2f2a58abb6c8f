#include <mlctl/oci/remote/reference.hpp>

#include <gtest/gtest.h>

namespace mlctl::oci::remote {
namespace {

const std::string k_digest = "sha256:" + std::string(64, 'a');

struct Good {
  std::string input;
  std::string registry;
  std::string repository;
  std::string tag;
  std::string digest;
  std::string canonical;
};

TEST(ReferenceTest, ParsesValidReferencesIntoTheirParts) {
  const std::vector<Good> cases = {
      {"python", "docker.io", "library/python", "latest", "", "docker.io/library/python:latest"},
      {"python:3.11-slim", "docker.io", "library/python", "3.11-slim", "", "docker.io/library/python:3.11-slim"},
      {"bitnami/redis", "docker.io", "bitnami/redis", "latest", "", "docker.io/bitnami/redis:latest"},
      {"docker.io/python", "docker.io", "library/python", "latest", "", "docker.io/library/python:latest"},
      {"index.docker.io/a/b:1", "docker.io", "a/b", "1", "", "docker.io/a/b:1"},
      {"ghcr.io/org/team/model:v1.2.3", "ghcr.io", "org/team/model", "v1.2.3", "", "ghcr.io/org/team/model:v1.2.3"},
      {"localhost/app", "localhost", "app", "latest", "", "localhost/app:latest"},
      {"localhost:5000/app:dev", "localhost:5000", "app", "dev", "", "localhost:5000/app:dev"},
      {"127.0.0.1:5000/ml/fraud-detector:1.4.0", "127.0.0.1:5000", "ml/fraud-detector", "1.4.0", "",
       "127.0.0.1:5000/ml/fraud-detector:1.4.0"},
      {"[::1]:5000/app", "[::1]:5000", "app", "latest", "", "[::1]:5000/app:latest"},
      {"Registry.Example.com/app", "Registry.Example.com", "app", "latest", "", "Registry.Example.com/app:latest"},
      {"reg.io/a__b/c.d/e-f/g---h:T_1", "reg.io", "a__b/c.d/e-f/g---h", "T_1", "", "reg.io/a__b/c.d/e-f/g---h:T_1"},
      {"reg.io/app@" + k_digest, "reg.io", "app", "", k_digest, "reg.io/app@" + k_digest},
      {"reg.io/app:1@" + k_digest, "reg.io", "app", "1", k_digest, "reg.io/app:1@" + k_digest},
      {"localhost:5000", "docker.io", "library/localhost", "5000", "", "docker.io/library/localhost:5000"},
  };
  for (const auto& c : cases) {
    auto ref = parse_reference(c.input);
    ASSERT_TRUE(ref) << c.input << ": " << ref.error().message();
    EXPECT_EQ(ref->registry, c.registry) << c.input;
    EXPECT_EQ(ref->repository, c.repository) << c.input;
    EXPECT_EQ(ref->tag, c.tag) << c.input;
    EXPECT_EQ(ref->digest, c.digest) << c.input;
    EXPECT_EQ(ref->str(), c.canonical) << c.input;
    auto again = parse_reference(ref->str());
    ASSERT_TRUE(again) << c.canonical;
    EXPECT_EQ(*again, *ref) << c.canonical;
  }
}

TEST(ReferenceTest, RejectsInvalidReferencesWithTheBrokenRule) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "empty image reference"},
      {"Bad_Host/app", "invalid registry host 'Bad_Host'"},
      {"reg.io/App", "repository name must be lowercase"},
      {"reg.io/app:", "empty tag"},
      {"reg.io/app:-x", "tag '-x' must start with a letter, digit or '_'"},
      {"reg.io/app:" + std::string(129, 'a'), "tag is longer than 128 characters"},
      {"reg.io/app:a+b", "invalid character '+' in tag 'a+b'"},
      {"reg.io/app@sha256:abc", "'sha256:abc' is not a sha256 digest"},
      {"reg.io/app@md5:" + std::string(32, 'a'), "is not a sha256 digest"},
      {"reg.io//app", "empty repository path component"},
      {"reg.io/app/", "empty repository path component"},
      {"reg.io/-app", "invalid character '-' in repository path component '-app'"},
      {"reg.io/a..b", "invalid separator '..' in repository path component 'a..b'"},
      {"reg.io/a_-b", "invalid separator '_-' in repository path component 'a_-b'"},
      {"reg.io/ab-", "repository path component 'ab-' ends with a separator"},
      {"reg.io:0/app", "port out of range in 'reg.io:0'"},
      {"reg.io:99999/app", "port out of range in 'reg.io:99999'"},
      {"reg.io:12a/app", "invalid port in 'reg.io:12a'"},
      {"reg.io:/app", "empty port in 'reg.io:'"},
      {"-reg.io/app", "invalid registry host '-reg.io'"},
      {"reg..io/app", "invalid registry host 'reg..io'"},
      {"[::1/app", "unterminated IPv6 address"},
      {"[zz]:5000/app", "invalid IPv6 address in '[zz]:5000'"},
      {"reg.io/a b", "contains a space or a control or non-ASCII character"},
      {"reg.io/app\n", "contains a space or a control or non-ASCII character"},
      {"reg.io/caf\xc3\xa9", "contains a space or a control or non-ASCII character"},
      {"reg.io/" + std::string(250, 'a'), "name is longer than 255 characters"},
      {":tag", "missing repository name"},
  };
  for (const auto& [input, why] : cases) {
    auto ref = parse_reference(input);
    ASSERT_FALSE(ref) << input;
    EXPECT_EQ(ref.error().code(), Errc::invalid) << input;
    EXPECT_NE(ref.error().message().find(why), std::string::npos) << input << " gave: " << ref.error().message();
    if (!input.empty() && input.find('\n') == std::string::npos) {
      EXPECT_TRUE(ref.error().message().starts_with("invalid image reference '" + input + "'"))
          << ref.error().message();
    }
  }
}

TEST(ReferenceTest, IdentifierPrefersTheDigest) {
  EXPECT_EQ(parse_reference("reg.io/app:1")->identifier(), "1");
  EXPECT_EQ(parse_reference("reg.io/app:1@" + k_digest)->identifier(), k_digest);
}

TEST(ReferenceTest, DockerHubIsReachedThroughItsApiHost) {
  EXPECT_EQ(parse_reference("python")->api_host(), "registry-1.docker.io");
  EXPECT_EQ(parse_reference("127.0.0.1:5000/app")->api_host(), "127.0.0.1:5000");
}

}  // namespace
}  // namespace mlctl::oci::remote
