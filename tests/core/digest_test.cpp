#include <mlctl/core/digest.hpp>

#include <support/run.hpp>
#include <support/temp_dir.hpp>

#include <gtest/gtest.h>

namespace mlctl::core {
namespace {

TEST(DigestTest, MatchesSha256sumForEmptyAndLargeInput) {
  test::TempDir dir;
  std::string big(3 * 1024 * 1024 + 7, 'x');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 % 251);
  dir.write("empty", "");
  dir.write("big", big);
  for (auto [name, content] : {std::pair{"empty", std::string()}, std::pair{"big", big}}) {
    auto sum = test::run_command({"sha256sum", name}, dir.path());
    EXPECT_EQ(sha256_hex(content), sum.out.substr(0, 64)) << name;
  }
}

TEST(DigestTest, StreamingEqualsOneShot) {
  Sha256 hash;
  hash.update("hello ");
  hash.update("world");
  EXPECT_EQ(hash.hex(), sha256_hex("hello world"));
  EXPECT_EQ(sha256_digest("hello world"), "sha256:" + sha256_hex("hello world"));
}

TEST(DigestTest, ChecksTheDigestForm) {
  EXPECT_TRUE(check_sha256_digest(sha256_digest("x")));
  EXPECT_FALSE(check_sha256_digest("sha256:abc"));
  EXPECT_FALSE(check_sha256_digest("sha512:" + std::string(64, 'a')));
  EXPECT_FALSE(check_sha256_digest("sha256:" + std::string(64, 'A')));
}

}  // namespace
}  // namespace mlctl::core
