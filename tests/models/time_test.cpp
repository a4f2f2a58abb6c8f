#include <mlctl/models/time.hpp>

#include <gtest/gtest.h>

namespace mlctl::models {
namespace {

TEST(TimeTest, DateMeansMidnightUtc) { EXPECT_EQ(*parse_time("2024-05-01"), "2024-05-01T00:00:00.000Z"); }

TEST(TimeTest, OffsetsAreConvertedToUtc) {
  EXPECT_EQ(*parse_time("2024-05-01T14:30:00+02:00"), "2024-05-01T12:30:00.000Z");
  EXPECT_EQ(*parse_time("2024-05-01T23:30:00-01:00"), "2024-05-02T00:30:00.000Z");
}

TEST(TimeTest, FractionsKeepMilliseconds) {
  EXPECT_EQ(*parse_time("2024-05-01T14:30:00.25Z"), "2024-05-01T14:30:00.250Z");
  EXPECT_EQ(*parse_time("2024-05-01T14:30:00.123456Z"), "2024-05-01T14:30:00.123Z");
}

TEST(TimeTest, RejectsWhatIsNotATime) {
  for (const char* text : {"", "yesterday", "2024-13-01", "2024-02-30", "2024-05-01T14:30:00", "2024-05-01T25:00:00Z",
                           "2024-05-01T14:30:00+0200"}) {
    auto parsed = parse_time(text);
    ASSERT_FALSE(parsed) << text;
    EXPECT_EQ(parsed.error().code(), Errc::invalid);
  }
}

TEST(TimeTest, FormatIsSortableText) {
  EXPECT_EQ(format_time(TimePoint(std::chrono::milliseconds(1714566600250))), "2024-05-01T12:30:00.250Z");
}

}  // namespace
}  // namespace mlctl::models
