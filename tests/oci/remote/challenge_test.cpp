#include <mlctl/oci/remote/challenge.hpp>

#include <gtest/gtest.h>

namespace mlctl::oci::remote {
namespace {

using Params = std::map<std::string, std::string>;

TEST(ChallengeTest, ParsesWellFormedHeaders) {
  const std::vector<std::pair<std::string, std::vector<Challenge>>> cases = {
      {R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/python:pull")",
       {{"bearer",
         Params{{"realm", "https://auth.docker.io/token"},
                {"service", "registry.docker.io"},
                {"scope", "repository:library/python:pull"}}}}},
      {R"(Basic realm="Registry Realm")", {{"basic", Params{{"realm", "Registry Realm"}}}}},
      {"Basic", {{"basic", Params{}}}},
      {R"(bearer REALM=https://a/token , Service = "svc")", {{"bearer", Params{{"realm", "https://a/token"}, {"service", "svc"}}}}},
      {R"(Bearer realm="https://a/t",scope="repository:a:pull,push repository:b:pull")",
       {{"bearer", Params{{"realm", "https://a/t"}, {"scope", "repository:a:pull,push repository:b:pull"}}}}},
      {R"(Bearer realm="a \"quoted\" \\ realm",service="")",
       {{"bearer", Params{{"realm", R"(a "quoted" \ realm)"}, {"service", ""}}}}},
      {R"(Basic realm="b", Bearer realm="https://t",service="s")",
       {{"basic", Params{{"realm", "b"}}}, {"bearer", Params{{"realm", "https://t"}, {"service", "s"}}}}},
      {R"(Negotiate, Basic realm="x")", {{"negotiate", Params{}}, {"basic", Params{{"realm", "x"}}}}},
      {R"(Bearer realm="https://t",,, service="s",)", {{"bearer", Params{{"realm", "https://t"}, {"service", "s"}}}}},
  };
  for (const auto& [header, expected] : cases) {
    auto parsed = parse_www_authenticate(header);
    ASSERT_TRUE(parsed) << header << ": " << parsed.error().message();
    EXPECT_EQ(*parsed, expected) << header;
  }
}

TEST(ChallengeTest, RejectsMalformedAndHostileHeaders) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "it is empty"},
      {"   ", "it is empty"},
      {R"(Bearer realm="https://t)", "unterminated quoted string at offset 23"},
      {R"(Bearer realm="abc\)", "unterminated quoted string"},
      {"Bearer realm=", "parameter 'realm' has no value"},
      {R"(Bearer realm="a" service="b")", "expected ',' between parameters at offset 17"},
      {R"(Bearer realm="a",realm="b")", "duplicate parameter 'realm'"},
      {"Bearer realm=\"a\r\nX-Injected: 1\"", "control character in quoted string"},
      {std::string("Bearer realm=\"a\0b\"", 18), "control character in quoted string"},
      {"=value", "expected an authentication scheme at offset 0"},
      {R"("Bearer" realm="a")", "expected an authentication scheme at offset 0"},
      {R"(Bearer realm=a"b")", "expected ',' between parameters"},
      {"Bearer realm=\"a\"\x01", "expected ',' between parameters"},
      {"Bearer " + std::string(9000, 'a'), "longer than 8192 bytes"},
  };
  for (const auto& [header, why] : cases) {
    auto parsed = parse_www_authenticate(header);
    ASSERT_FALSE(parsed) << header;
    EXPECT_EQ(parsed.error().code(), Errc::remote);
    EXPECT_TRUE(parsed.error().message().starts_with("malformed WWW-Authenticate header")) << parsed.error().message();
    EXPECT_NE(parsed.error().message().find(why), std::string::npos) << header << " gave: " << parsed.error().message();
  }
}

TEST(ChallengeTest, ParamOfAMissingNameIsEmpty) {
  auto parsed = parse_www_authenticate(R"(Bearer realm="r")");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->front().param("realm"), "r");
  EXPECT_EQ(parsed->front().param("scope"), "");
}

}  // namespace
}  // namespace mlctl::oci::remote
