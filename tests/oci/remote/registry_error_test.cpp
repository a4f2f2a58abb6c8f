#include <mlctl/oci/remote/redact.hpp>
#include <mlctl/oci/remote/registry_error.hpp>

#include <gtest/gtest.h>

namespace mlctl::oci::remote {
namespace {

TEST(RegistryErrorTest, ParsesTheSpecErrorBody) {
  auto entries = parse_error_body(
      R"({"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry","detail":"sha256:ab"},)"
      R"({"code":"DENIED","message":"no","detail":{"a":1}}]})");
  EXPECT_EQ(entries, (std::vector<ErrorEntry>{{"BLOB_UNKNOWN", "blob unknown to registry", "sha256:ab"},
                                              {"DENIED", "no", R"({"a":1})"}}));
}

TEST(RegistryErrorTest, BodiesThatAreNotTheSpecShapeGiveNoEntries) {
  for (std::string_view body : {"", "<html>502</html>", "{", R"({"errors":"x"})", R"([1])", R"({"errors":[1,"a"]})"})
    EXPECT_TRUE(parse_error_body(body).empty()) << body;
}

TEST(RegistryErrorTest, DescribesTheFailure) {
  EXPECT_EQ(describe_failure(401, {{"UNAUTHORIZED", "authentication required", ""}}, ""),
            "401 UNAUTHORIZED: authentication required");
  EXPECT_EQ(describe_failure(400, {{"DIGEST_INVALID", "bad", ""}, {"SIZE_INVALID", "", ""}}, ""),
            "400 DIGEST_INVALID: bad; SIZE_INVALID");
  EXPECT_EQ(describe_failure(502, {}, "<html><body>bad gateway</body></html>"), "502 Bad Gateway");
  EXPECT_EQ(describe_failure(500, {}, "disk full\nsecond line"), "500 Internal Server Error: disk full");
  EXPECT_EQ(describe_failure(418, {}, ""), "418 unexpected status");
  EXPECT_EQ(describe_failure(500, {}, std::string(300, 'x')).size(),
            std::string("500 Internal Server Error: ").size() + 200 + 3);
}

TEST(RegistryErrorTest, UnknownThingsOnReadsAreNotFound) {
  auto error = error_from_status(404, R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]})",
                                 Access::read);
  EXPECT_EQ(error.code(), Errc::not_found);
  EXPECT_EQ(error.status(), 404);
  EXPECT_TRUE(error.has_code("MANIFEST_UNKNOWN"));
  EXPECT_FALSE(error.retryable());
  EXPECT_EQ(error.message(), "404 MANIFEST_UNKNOWN: manifest unknown");

  EXPECT_EQ(error_from_status(404, R"({"errors":[{"code":"NAME_UNKNOWN"}]})", Access::write).code(), Errc::remote);
  EXPECT_EQ(error_from_status(403, "", Access::read).code(), Errc::remote);
}

TEST(RegistryErrorTest, RetryableStatusesAreMarked) {
  for (int status : {408, 429, 500, 502, 503, 504}) EXPECT_TRUE(error_from_status(status, "", Access::write).retryable());
  for (int status : {400, 401, 403, 404, 405, 409, 413, 416}) EXPECT_FALSE(error_from_status(status, "", Access::write).retryable());
}

TEST(RegistryErrorTest, UnauthorizedHasAHint) {
  auto error = error_from_status(401, "", Access::write);
  EXPECT_NE(error.hint().find("MLCTL_REGISTRY_USERNAME"), std::string::npos);
}

TEST(RegistryErrorTest, ConvertsToAPlainResult) {
  RegistryResult<int> failed = std::unexpected(RegistryError(Errc::remote, "503", 503, {}, true));
  Result<int> plain = failed;
  ASSERT_FALSE(plain);
  EXPECT_EQ(plain.error().message(), "503");
  EXPECT_EQ(plain.error().code(), Errc::remote);
}

TEST(RedactTest, MasksEverySecretItHasSeen) {
  Redactor redactor;
  redactor.add("hunter2-password");
  redactor.add("tok");  // too short to mask safely
  redactor.add("token-123");
  EXPECT_EQ(redactor.apply("user:hunter2-password and token-123 token-123 tok"), "user:*** and *** *** tok");
  EXPECT_EQ(redactor.apply("nothing here"), "nothing here");
}

TEST(RedactTest, LongerSecretsAreMaskedWhole) {
  Redactor redactor;
  redactor.add("abcd");
  redactor.add("abcdefgh");
  EXPECT_EQ(redactor.apply("xabcdefghx abcd"), "x***x ***");
}

TEST(RedactTest, AuthorizationHeadersAreNeverShown) {
  EXPECT_EQ(redact_header("Authorization", "Bearer abc"), "<redacted>");
  EXPECT_EQ(redact_header("authorization", "Basic abc"), "<redacted>");
  EXPECT_EQ(redact_header("Cookie", "a=b"), "<redacted>");
  EXPECT_EQ(redact_header("Content-Type", "text/plain"), "text/plain");
}

}  // namespace
}  // namespace mlctl::oci::remote
