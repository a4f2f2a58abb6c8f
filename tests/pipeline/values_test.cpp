#include <mlctl/core/quantity.hpp>
#include <mlctl/pipeline/values.hpp>

#include <string>

#include <fmt/format.h>

#include <gtest/gtest.h>

namespace mlctl::pipeline {
namespace {

template <typename T>
std::string error_of(const Result<T>& result) {
  return result ? "ok" : result.error().message();
}

TEST(DurationTest, ParsesUnitsLargestFirst) {
  EXPECT_EQ(parse_duration("30s").value(), 30);
  EXPECT_EQ(parse_duration("5m").value(), 300);
  EXPECT_EQ(parse_duration("1h").value(), 3600);
  EXPECT_EQ(parse_duration("1h30m").value(), 5400);
  EXPECT_EQ(parse_duration("1h30m15s").value(), 5415);
  EXPECT_EQ(parse_duration("90m").value(), 5400);
  EXPECT_EQ(parse_duration("2d").value(), 172800);
  EXPECT_EQ(parse_duration("1d12h").value(), 129600);
}

TEST(DurationTest, RefusesOtherForms) {
  for (const char* bad : {"", "30", "1x", "h", "30m1h", "1h1h", "-5m", "1.5h", " 1h", "1h ", "1H", "1234567890s"})
    EXPECT_EQ(error_of(parse_duration(bad)), fmt::format("'{}' is not a duration", bad)) << bad;
  EXPECT_EQ(error_of(parse_duration("0s")), "'0s' is not a duration above zero");
  EXPECT_EQ(parse_duration("30").error().hint(), "write a number with a unit, largest first: 30s, 5m, 1h, 1h30m, 2d");
}

TEST(CronTest, AcceptsFiveFieldSchedulesAndMacros) {
  for (const char* ok : {"0 3 * * *", "*/15 * * * *", "0 0 1,15 * MON-FRI", "30 12 * jan-mar 0", "0 3 ? * 7",
                         "5-10/2 0-23 1-31 1-12 0-6", "  0  3 * * *  ", "@daily", "@hourly", "@yearly"})
    EXPECT_EQ(error_of(check_cron(ok)), "ok") << ok;
}

TEST(CronTest, NamesTheBadField) {
  EXPECT_EQ(error_of(check_cron("0 3 * *")), "'0 3 * *' is not a cron schedule: it has 4 fields, expected 5");
  EXPECT_EQ(error_of(check_cron("")), "'' is not a cron schedule: it has 0 fields, expected 5");
  EXPECT_EQ(error_of(check_cron("0 24 * * *")),
            "'0 24 * * *' is not a cron schedule: hour '24' is not valid (range 0-23)");
  EXPECT_EQ(error_of(check_cron("*/0 * * * *")),
            "'*/0 * * * *' is not a cron schedule: minute '*/0' is not valid (range 0-59)");
  EXPECT_EQ(error_of(check_cron("0 0 0 * *")),
            "'0 0 0 * *' is not a cron schedule: day-of-month '0' is not valid (range 1-31)");
  EXPECT_EQ(error_of(check_cron("0 0 * 5-1 *")),
            "'0 0 * 5-1 *' is not a cron schedule: month '5-1' is not valid (range 1-12)");
  EXPECT_EQ(error_of(check_cron("0 0 * * FUNDAY")),
            "'0 0 * * FUNDAY' is not a cron schedule: day-of-week 'FUNDAY' is not valid (range 0-7)");
  EXPECT_EQ(error_of(check_cron("? * * * *")),
            "'? * * * *' is not a cron schedule: minute '?' is not valid (range 0-59)");
  EXPECT_EQ(error_of(check_cron("0 1,,2 * * *")),
            "'0 1,,2 * * *' is not a cron schedule: hour '1,,2' is not valid (range 0-23)");
  EXPECT_FALSE(check_cron("@sometimes"));
}

TEST(ResourceQuantityTest, ChecksCpuAndMemory) {
  for (const char* ok : {"2", "0.5", ".5", "500m", "16"}) EXPECT_EQ(error_of(core::check_cpu(ok)), "ok") << ok;
  for (const char* bad : {"", "2 cores", "-1", "1Gi", "500M", "m"})
    EXPECT_EQ(error_of(core::check_cpu(bad)), fmt::format("'{}' is not a CPU quantity", bad)) << bad;
  for (const char* ok : {"4Gi", "512Mi", "1G", "1000", "1.5Gi", "64k"}) EXPECT_EQ(error_of(core::check_memory(ok)), "ok") << ok;
  for (const char* bad : {"", "4GB", "4gi", "Gi", "4 Gi", "-1Gi"})
    EXPECT_EQ(error_of(core::check_memory(bad)), fmt::format("'{}' is not a memory quantity", bad)) << bad;
  // A "." needs a digit after it; a suffix is whole and comes once.
  for (const char* bad : {"1.", ".", "1.m", "1.5.5", "500mm"})
    EXPECT_EQ(error_of(core::check_cpu(bad)), fmt::format("'{}' is not a CPU quantity", bad)) << bad;
  for (const char* ok : {".5Gi", "0.25Ti", "3E"}) EXPECT_EQ(error_of(core::check_memory(ok)), "ok") << ok;
  for (const char* bad : {"1.Gi", "4Gi4", "4GiGi", "4K", "4i"})
    EXPECT_EQ(error_of(core::check_memory(bad)), fmt::format("'{}' is not a memory quantity", bad)) << bad;
}

TEST(ResourceQuantityTest, ChecksPauses) {
  for (const char* ok : {"30s", "5m", "1h30m", "0s", "1h1h"}) EXPECT_EQ(error_of(core::check_pause(ok)), "ok") << ok;
  for (const char* bad : {"", "5", "m", "5 m", "1h30", "1.5m", "5d", "-5s", "h5m"})
    EXPECT_EQ(error_of(core::check_pause(bad)), fmt::format("'{}' is not a duration", bad)) << bad;
}

TEST(PipelineCountTest, ParsesWholeNumbers) {
  EXPECT_EQ(parse_count("0").value(), 0);
  EXPECT_EQ(parse_count("2").value(), 2);
  EXPECT_EQ(parse_count("1000000").value(), 1000000);
  for (const char* bad : {"", "-1", "+1", "1.5", "one", "1000001", " 1"})
    EXPECT_EQ(error_of(parse_count(bad)), fmt::format("'{}' is not a whole number >= 0", bad)) << bad;
}

TEST(PipelineNameTest, ChecksIdentifiersAndEnvNames) {
  for (const char* ok : {"lr", "_x", "learning-rate", "A1", "model_v2"})
    EXPECT_EQ(error_of(check_identifier(ok)), "ok") << ok;
  for (const char* bad : {"", "1a", "a.b", "a b", "-a", "é"})
    EXPECT_EQ(error_of(check_identifier(bad)), fmt::format("'{}' is not a valid name", bad)) << bad;
  for (const char* ok : {"PATH", "_X1", "omp_threads"}) EXPECT_EQ(error_of(check_env_name(ok)), "ok") << ok;
  for (const char* bad : {"", "1X", "A-B", "A B"})
    EXPECT_EQ(error_of(check_env_name(bad)), fmt::format("'{}' is not a valid environment variable name", bad)) << bad;
}

}  // namespace
}  // namespace mlctl::pipeline
