#include <mlctl/core/text.hpp>

#include <array>

#include <gtest/gtest.h>

namespace mlctl::core {
namespace {

TEST(TextTest, EditDistanceCountsTranspositionsAsOne) {
  EXPECT_EQ(edit_distance("repository", "repository"), 0u);
  EXPECT_EQ(edit_distance("repositry", "repository"), 1u);
  EXPECT_EQ(edit_distance("verison", "version"), 1u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
}

TEST(TextTest, NearestSuggestsOnlyPlausibleTypos) {
  constexpr std::array<std::string_view, 3> keys = {"name", "version", "image"};
  EXPECT_EQ(nearest("verison", keys), "version");
  EXPECT_EQ(nearest("imag", keys), "image");
  EXPECT_EQ(nearest("pipelines", keys), std::nullopt);
}

TEST(TextTest, Dns1123LabelRules) {
  EXPECT_TRUE(check_dns1123_label("fraud-detector-2"));
  EXPECT_EQ(check_dns1123_label("").error().message(), "'' is not a valid name: it is empty");
  EXPECT_EQ(check_dns1123_label("-a").error().message(),
            "'-a' is not a valid name: it must start and end with a letter or digit");
  EXPECT_EQ(check_dns1123_label("a.b").error().message(), "'a.b' is not a valid name: '.' is not allowed");
  EXPECT_EQ(check_dns1123_label(std::string(64, 'a')).error().message(),
            "'" + std::string(64, 'a') + "' is not a valid name: it is longer than 63 characters");
  EXPECT_TRUE(check_dns1123_label(std::string(63, 'a')));
}

TEST(TextTest, ToDns1123LabelMakesNamesFromFolders) {
  EXPECT_EQ(to_dns1123_label("Fraud_Detector"), "fraud-detector");
  EXPECT_EQ(to_dns1123_label("--my  project--"), "my-project");
  EXPECT_EQ(to_dns1123_label("___"), std::nullopt);
  EXPECT_EQ(to_dns1123_label(std::string(70, 'x'))->size(), 63u);
}

TEST(TextTest, StripUrlCredentialsRemovesUserInfoOnlyFromSchemeUrls) {
  EXPECT_EQ(strip_url_credentials("https://user:pw@host:8443/a/b.git"), "https://host:8443/a/b.git");
  EXPECT_EQ(strip_url_credentials("ssh://git@host/a.git"), "ssh://host/a.git");
  EXPECT_EQ(strip_url_credentials("https://host/a@b.git"), "https://host/a@b.git");
  EXPECT_EQ(strip_url_credentials("git@github.com:org/repo.git"), "git@github.com:org/repo.git");
  EXPECT_EQ(strip_url_credentials("Looking in indexes: https://ci:t0k3n@pypi.corp/simple\nERROR: x @ y"),
            "Looking in indexes: https://pypi.corp/simple\nERROR: x @ y");
  EXPECT_EQ(strip_url_credentials("no urls here"), "no urls here");
}

}  // namespace
}  // namespace mlctl::core
