#include <mlctl/oci/platform.hpp>

#include <support/run.hpp>

#include <gtest/gtest.h>

#include <filesystem>

namespace mlctl::oci {
namespace {

// A multi-platform index as Docker Hub serves them: a Docker manifest list with amd64, arm64/v8
// and arm/v7 images, and a buildx attestation listed as unknown/unknown.
constexpr std::string_view k_index = R"({
  "schemaVersion": 2,
  "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
  "manifests": [
    {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 2218,
     "digest": "sha256:1111111111111111111111111111111111111111111111111111111111111111",
     "platform": {"architecture": "amd64", "os": "linux"}},
    {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 2218,
     "digest": "sha256:2222222222222222222222222222222222222222222222222222222222222222",
     "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}},
    {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 2218,
     "digest": "sha256:3333333333333333333333333333333333333333333333333333333333333333",
     "platform": {"architecture": "arm", "os": "linux", "variant": "v7"}},
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 840,
     "digest": "sha256:4444444444444444444444444444444444444444444444444444444444444444",
     "annotations": {"vnd.docker.reference.type": "attestation-manifest"},
     "platform": {"architecture": "unknown", "os": "unknown"}}
  ]
})";

std::string digest_of(char hex) { return "sha256:" + std::string(64, hex); }

Index sample_index() {
  auto index = parse_index(k_index);
  EXPECT_TRUE(index) << index.error().message();
  return index.value_or(Index{});
}

std::string selected(const Index& index, std::string_view platform) {
  auto parsed = parse_platform(platform);
  EXPECT_TRUE(parsed) << platform;
  auto chosen = select_platform(index, parsed.value_or(Platform{}));
  return chosen ? chosen->digest : "error: " + chosen.error().message();
}

TEST(PlatformTest, ParsesAndPrintsOsArchitectureAndVariant) {
  auto amd64 = parse_platform("linux/amd64");
  ASSERT_TRUE(amd64);
  EXPECT_EQ(*amd64, (Platform{.architecture = "amd64", .os = "linux"}));
  auto arm64 = parse_platform("linux/arm64/v8");
  ASSERT_TRUE(arm64);
  EXPECT_EQ(*arm64, (Platform{.architecture = "arm64", .os = "linux", .variant = "v8"}));
  for (std::string_view text : {"linux/amd64", "linux/arm64/v8", "linux/arm/v7", "linux/386", "windows/amd64",
                                "linux/ppc64le", "linux/s390x", "linux/riscv64"}) {
    auto parsed = parse_platform(text);
    ASSERT_TRUE(parsed) << text;
    EXPECT_EQ(to_string(*parsed), text);
  }
}

TEST(PlatformTest, MachineNamesBecomeOciArchitectures) {
  EXPECT_EQ(to_string(*parse_platform("linux/x86_64")), "linux/amd64");
  EXPECT_EQ(to_string(*parse_platform("linux/aarch64")), "linux/arm64");
  EXPECT_EQ(to_string(*parse_platform("linux/armv7l")), "linux/arm/v7");
}

TEST(PlatformTest, RefusesWhatIsNotOsArchitectureVariant) {
  for (std::string_view text : {"", "linux", "linux/", "/amd64", "linux//amd64", "linux/amd64/", "linux/arm64/v8/x",
                                "Linux/amd64", "linux/amd 64", "linux:amd64", "linux/amd64\n"}) {
    auto parsed = parse_platform(text);
    ASSERT_FALSE(parsed) << text;
    EXPECT_EQ(parsed.error().code(), Errc::invalid) << text;
    EXPECT_EQ(parsed.error().message(), "'" + std::string(text) + "' is not a platform");
    EXPECT_EQ(parsed.error().hint(), "write os/architecture[/variant], e.g. linux/amd64 or linux/arm64/v8");
  }
}

TEST(PlatformTest, HostIsLinuxOnTheMachineArchitecture) {
  auto machine = test::run_command({"uname", "-m"}, std::filesystem::current_path());
  ASSERT_TRUE(machine.ok());
  std::string expected = machine.out == "x86_64\n" ? "linux/amd64" : machine.out == "aarch64\n" ? "linux/arm64" : "";
  ASSERT_NE(expected, "") << "no expectation for machine " << machine.out;
  EXPECT_EQ(to_string(host_platform()), expected);
}

TEST(PlatformTest, SelectsTheEntryForEachPlatformOfAMultiArchIndex) {
  Index index = sample_index();
  EXPECT_EQ(selected(index, "linux/amd64"), digest_of('1'));
  EXPECT_EQ(selected(index, "linux/arm64/v8"), digest_of('2'));
  EXPECT_EQ(selected(index, "linux/arm64"), digest_of('2'));  // arm64 without a variant is v8
  EXPECT_EQ(selected(index, "linux/arm/v7"), digest_of('3'));
  EXPECT_EQ(selected(index, "linux/arm"), digest_of('3'));  // no variant asked: any arm
  EXPECT_EQ(selected(index, "linux/x86_64"), digest_of('1'));
}

TEST(PlatformTest, MissingPlatformIsNotFoundAndListsTheOnesThereAre) {
  Index index = sample_index();
  for (std::string_view wanted : {"linux/s390x", "linux/arm/v6", "linux/arm64/v9", "windows/amd64"}) {
    auto chosen = select_platform(index, *parse_platform(wanted));
    ASSERT_FALSE(chosen) << wanted;
    EXPECT_EQ(chosen.error().code(), Errc::not_found);
    EXPECT_EQ(chosen.error().message(), "no image for " + std::string(wanted) +
                                            "; there are images for linux/amd64, linux/arm64/v8, linux/arm/v7");
    EXPECT_EQ(chosen.error().hint(), "pick a base image that has " + std::string(wanted) +
                                         ", or build for one of these with --platform");
  }
}

TEST(PlatformTest, AnExactVariantWinsOverAnEntryWithoutOne) {
  Index index;
  index.manifests = {
      {.digest = digest_of('a'), .platform = Platform{.architecture = "arm", .os = "linux"}},
      {.digest = digest_of('b'), .platform = Platform{.architecture = "arm", .os = "linux", .variant = "v7"}},
      {.digest = digest_of('c'), .platform = Platform{.architecture = "arm64", .os = "linux"}},
  };
  EXPECT_EQ(selected(index, "linux/arm/v7"), digest_of('b'));
  EXPECT_EQ(selected(index, "linux/arm/v6"), digest_of('a'));
  EXPECT_EQ(selected(index, "linux/arm"), digest_of('a'));
  EXPECT_EQ(selected(index, "linux/arm64/v8"), digest_of('c'));
}

TEST(PlatformTest, EntriesWithoutAPlatformAreNeverChosen) {
  Index index;
  index.manifests = {{.digest = digest_of('a')}};
  auto chosen = select_platform(index, Platform{.architecture = "amd64", .os = "linux"});
  ASSERT_FALSE(chosen);
  EXPECT_EQ(chosen.error().code(), Errc::not_found);
  EXPECT_EQ(chosen.error().message(), "no image for linux/amd64: the index names no platforms");
}

TEST(PlatformTest, MatchesComparesVariantsOnlyWhenBothHaveOne) {
  auto p = [](std::string_view text) { return *parse_platform(text); };
  EXPECT_TRUE(platform_matches(p("linux/amd64"), p("linux/amd64")));
  EXPECT_FALSE(platform_matches(p("linux/amd64"), p("linux/arm64")));
  EXPECT_FALSE(platform_matches(p("linux/amd64"), p("windows/amd64")));
  EXPECT_TRUE(platform_matches(p("linux/arm64"), p("linux/arm64/v8")));
  EXPECT_TRUE(platform_matches(p("linux/arm64/v8"), p("linux/arm64")));
  EXPECT_FALSE(platform_matches(p("linux/arm64"), p("linux/arm64/v9")));
  EXPECT_TRUE(platform_matches(p("linux/arm"), p("linux/arm/v7")));
  EXPECT_FALSE(platform_matches(p("linux/arm/v6"), p("linux/arm/v7")));
}

}  // namespace
}  // namespace mlctl::oci
