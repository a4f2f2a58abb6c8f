#include <mlctl/core/semver.hpp>

#include <gtest/gtest.h>

namespace mlctl::core {
namespace {

TEST(SemverTest, AcceptsTheSpecAndRejectsTheRest) {
  for (auto good : {"0.1.0", "1.4.0", "2.0.0-rc.1", "1.0.0+build.5", "10.20.30-alpha.1+meta", "1.0.0-0A.is.legal",
                    "1.0.0-x-y-z.--", "1.0.0+0.build.1-rc.10000aaa-kk-0.1"})
    EXPECT_TRUE(check_semver(good)) << good;
  for (auto bad : {"1.4", "v1.4.0", "01.0.0", "1.0.0-", "1.0.0-01", "", "1.2.3.4", "1.2.3-a..b", "1.2.3+", "1.2.3+a_b",
                   "1.2.-3", "99999999999999999999.0.0"})
    EXPECT_FALSE(check_semver(bad)) << bad;
}

TEST(SemverTest, ParsesEveryPart) {
  auto v = parse_semver("10.20.30-alpha.1+meta.5");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->major, 10u);
  EXPECT_EQ(v->minor, 20u);
  EXPECT_EQ(v->patch, 30u);
  EXPECT_EQ(v->prerelease, (std::vector<std::string>{"alpha", "1"}));
  EXPECT_EQ(v->build, "meta.5");
}

TEST(SemverTest, MessagesSayWhatIsWrong) {
  EXPECT_EQ(parse_semver("1.4").error().message(), "'1.4' is not a semantic version: it needs three numbers, MAJOR.MINOR.PATCH");
  EXPECT_EQ(parse_semver("01.0.0").error().message(), "'01.0.0' is not a semantic version: '01' has a leading zero");
  EXPECT_EQ(parse_semver("1.0.0-01").error().message(),
            "'1.0.0-01' is not a semantic version: the numeric identifier '01' has a leading zero");
  EXPECT_EQ(parse_semver("v1.0.0").error().message(), "'v1.0.0' is not a semantic version: 'v1' is not a number");
}

int compare_text(const char* a, const char* b) { return compare(*parse_semver(a), *parse_semver(b)); }

TEST(SemverTest, PrecedenceFollowsSection11) {
  // The chain from semver.org, each lower than the next.
  const char* chain[] = {"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
                         "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "1.10.0", "2.0.0"};
  for (size_t i = 0; i + 1 < std::size(chain); ++i) {
    EXPECT_LT(compare_text(chain[i], chain[i + 1]), 0) << chain[i] << " < " << chain[i + 1];
    EXPECT_GT(compare_text(chain[i + 1], chain[i]), 0) << chain[i + 1] << " > " << chain[i];
  }
  EXPECT_EQ(compare_text("1.4.0+build.1", "1.4.0+build.2"), 0) << "build metadata does not count";
  EXPECT_EQ(compare_text("1.4.0-rc.1", "1.4.0-rc.1"), 0);
  EXPECT_LT(compare_text("1.9.0", "1.10.0"), 0) << "numbers, not text";
}

}  // namespace
}  // namespace mlctl::core
