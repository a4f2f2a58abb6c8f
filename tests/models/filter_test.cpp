#include <mlctl/models/filter.hpp>

#include <gtest/gtest.h>

namespace mlctl::models {
namespace {

TEST(FilterTest, ParsesConditionsJoinedByAnd) {
  auto parsed = parse_filter("metrics.auc >= 0.9 and tags.team=='fraud ops' AND version<3");
  ASSERT_TRUE(parsed) << parsed.error().message();
  ASSERT_EQ(parsed->size(), 3u);
  EXPECT_EQ((*parsed)[0].str(), "metrics.auc >= 0.9");
  EXPECT_EQ((*parsed)[1].field, "tags.team");
  EXPECT_EQ((*parsed)[1].value, "fraud ops");
  EXPECT_EQ((*parsed)[2].str(), "version < 3");
}

TEST(FilterTest, CompilesToBoundParameters) {
  auto compiled = compile_filter(*parse_filter("metrics.auc > 0.5 and flavor != \"x'; DROP TABLE models; --\""));
  ASSERT_TRUE(compiled) << compiled.error().message();
  EXPECT_EQ(compiled->sql, "1 AND json_extract(v.metrics, ?) > ? AND v.flavor <> ?");
  ASSERT_EQ(compiled->values.size(), 3u);
  EXPECT_EQ(std::get<std::string>(compiled->values[0]), "$.\"auc\"");
  EXPECT_EQ(std::get<double>(compiled->values[1]), 0.5);
  EXPECT_EQ(std::get<std::string>(compiled->values[2]), "x'; DROP TABLE models; --");
}

TEST(FilterTest, RejectsBadExpressions) {
  for (const char* text : {"", "metrics.auc", "metrics.auc >=", "metrics.auc ~ 1", "owner == me",
                           "metrics.auc >= high", "version == 1.5", "metrics.a\"b > 1", "metrics.auc > 1 or version > 2",
                           "created_at > yesterday"}) {
    auto parsed = parse_filter(text);
    ASSERT_FALSE(parsed) << text;
    EXPECT_EQ(parsed.error().code(), Errc::invalid) << text;
  }
}

TEST(FilterTest, KeysAreRestricted) {
  EXPECT_TRUE(check_key("val.auc-2_x"));
  EXPECT_FALSE(check_key(""));
  EXPECT_FALSE(check_key(".hidden"));
  EXPECT_FALSE(check_key("a b"));
  EXPECT_FALSE(check_key(std::string(129, 'a')));
}

}  // namespace
}  // namespace mlctl::models
