#include "terminal_reporter.hpp"

#include <sstream>

#include <gtest/gtest.h>

namespace mlctl::cli {
namespace {

std::string render(ProgressMode mode, Verbosity verbosity) {
  std::ostringstream out;
  TerminalReporter reporter(out, mode, verbosity);
  reporter.step("resolving base image");
  reporter.debug("GET /v2/");
  reporter.begin("layer", "layer sha256:ab12", 2000000);
  reporter.advance("layer", 500000);
  reporter.advance("layer", 2000000);
  reporter.end("layer");
  return out.str();
}

TEST(TerminalReporterTest, PlainModePrintsStartAndDoneLines) {
  EXPECT_EQ(render(ProgressMode::plain, Verbosity::normal),
            "resolving base image\nlayer sha256:ab12: started (2.0 MB)\nlayer sha256:ab12: done (2.0 MB)\n");
}

TEST(TerminalReporterTest, AFailedAttemptSaysSoAndHowFarItGot) {
  std::ostringstream out;
  TerminalReporter reporter(out, ProgressMode::plain, Verbosity::normal);
  reporter.begin("blob", "uploading sha256:ab12", 2000000);
  reporter.advance("blob", 500000);
  reporter.fail("blob", "connection reset");
  reporter.end("blob");  // an id already finished is ignored
  EXPECT_EQ(out.str(), "uploading sha256:ab12: started (2.0 MB)\n"
                       "uploading sha256:ab12: failed after 500.0 kB: connection reset\n");
}

TEST(TerminalReporterTest, VerboseAddsDebugLines) {
  EXPECT_EQ(render(ProgressMode::plain, Verbosity::verbose),
            "resolving base image\ndebug: GET /v2/\nlayer sha256:ab12: started (2.0 MB)\n"
            "layer sha256:ab12: done (2.0 MB)\n");
}

TEST(TerminalReporterTest, QuietAndNonePrintNoProgress) {
  EXPECT_EQ(render(ProgressMode::plain, Verbosity::quiet), "");
  EXPECT_EQ(render(ProgressMode::none, Verbosity::normal), "resolving base image\n");
}

TEST(TerminalReporterTest, BarModeRedrawsInPlaceThenClears) {
  EXPECT_EQ(render(ProgressMode::bar, Verbosity::normal),
            "resolving base image\n"
            "\r\033[Klayer sha256:ab12 [                        ]   0% 0 B/2.0 MB"
            "\r\033[Klayer sha256:ab12 [######                  ]  25% 500.0 kB/2.0 MB"
            "\r\033[Klayer sha256:ab12 [########################] 100% 2.0 MB/2.0 MB"
            "\r\033[Klayer sha256:ab12: done (2.0 MB)\n");
}

TEST(TerminalReporterTest, AutoModeIsABarOnlyOnATerminal) {
  EXPECT_EQ(progress_mode("auto", true), ProgressMode::bar);
  EXPECT_EQ(progress_mode("auto", false), ProgressMode::plain);
  EXPECT_EQ(progress_mode("plain", true), ProgressMode::plain);
  EXPECT_EQ(progress_mode("none", true), ProgressMode::none);
}

TEST(TerminalReporterTest, HumanBytes) {
  EXPECT_EQ(human_bytes(0), "0 B");
  EXPECT_EQ(human_bytes(999), "999 B");
  EXPECT_EQ(human_bytes(1500), "1.5 kB");
  EXPECT_EQ(human_bytes(1000000000), "1.0 GB");
}

}  // namespace
}  // namespace mlctl::cli
