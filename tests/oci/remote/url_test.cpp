#include <mlctl/oci/remote/url.hpp>

#include <gtest/gtest.h>

namespace mlctl::oci::remote {
namespace {

TEST(UrlTest, ParsesOriginsAndTargets) {
  auto url = parse_url("HTTPS://Reg.Example.com:443/v2/a?b=c#frag");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->origin(), "https://reg.example.com");
  EXPECT_EQ(url->target, "/v2/a?b=c");
  EXPECT_EQ(parse_url("http://[::1]:5000")->str(), "http://[::1]:5000/");
  EXPECT_EQ(parse_url("http://h?x=1")->target, "/?x=1");
}

TEST(UrlTest, RejectsWhatItCannotUse) {
  for (std::string_view bad : {"/relative", "ftp://h/x", "http://", "http://user:pw@h/", "http://h:abc/", "http://[::1/"})
    EXPECT_FALSE(parse_url(bad)) << bad;
  auto error = parse_url("http://user:secret@h/");
  EXPECT_EQ(error.error().message(), "invalid URL 'http://user:secret@h/': user information in URLs is not accepted");
}

TEST(UrlTest, ResolvesLocationHeaders) {
  std::string base = "http://127.0.0.1:5000/v2/app/blobs/uploads/?x=1";
  EXPECT_EQ(*resolve_url(base, "/v2/app/blobs/uploads/u1?_state=s"), "http://127.0.0.1:5000/v2/app/blobs/uploads/u1?_state=s");
  EXPECT_EQ(*resolve_url(base, "https://storage.example.com/b?sig=1"), "https://storage.example.com/b?sig=1");
  EXPECT_EQ(*resolve_url(base, "//other:9/p"), "http://other:9/p");
  EXPECT_EQ(*resolve_url(base, "u2"), "http://127.0.0.1:5000/v2/app/blobs/uploads/u2");
  EXPECT_EQ(*resolve_url("http://h/v2/a/b", "?q=1"), "http://h/v2/a/b?q=1");
  EXPECT_FALSE(resolve_url(base, ""));
}

TEST(UrlTest, AddsQueryParametersToExistingQueries) {
  EXPECT_EQ(add_query("http://h/u", "digest", "sha256:ab"), "http://h/u?digest=sha256%3Aab");
  EXPECT_EQ(add_query("http://h/u?_state=x", "digest", "d"), "http://h/u?_state=x&digest=d");
  EXPECT_EQ(add_query("http://h/u?", "a", "b c"), "http://h/u?a=b%20c");
}

TEST(UrlTest, LoopbackHosts) {
  for (std::string_view host : {"localhost", "LOCALHOST", "127.0.0.1", "127.1.2.3", "[::1]", "::1"})
    EXPECT_TRUE(is_loopback_host(host)) << host;
  for (std::string_view host : {"127.0.0.1.evil.com", "10.0.0.1", "localhost.evil.com", "[::2]", "example.com"})
    EXPECT_FALSE(is_loopback_host(host)) << host;
}

TEST(UrlTest, RedactsQueryValuesThatMayBeSignatures) {
  EXPECT_EQ(redact_url("https://s3/b?X-Amz-Signature=abc&digest=sha256:1&token=t"),
            "https://s3/b?X-Amz-Signature=***&digest=sha256:1&token=***");
  EXPECT_EQ(redact_url("http://h/v2/"), "http://h/v2/");
}

}  // namespace
}  // namespace mlctl::oci::remote
