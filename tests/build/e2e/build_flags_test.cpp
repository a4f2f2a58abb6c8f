// The flags of `mlctl build` that need no registry: --digest-file, --print-dockerfile,
// --platform, --compression, and the refusals that come before anything is built. The images
// are written as OCI layouts and read back with skopeo.
#include "e2e_fixture.hpp"

#include <support/temp_dir.hpp>

#include <gtest/gtest.h>

namespace mlctl::test::e2e {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view k_project = R"(name: flags
version: 2.1.0
image:
  repository: registry.example.com/ml/flags
  base: scratch
  include: [serve.sh, conf]
  env: {MODE: prod}
  entrypoint: [/bin/sh, serve.sh]
  cmd: [--port, "8080"]
  user: "65534"
)";

class BuildFlagsTest : public ::testing::Test {
protected:
  BuildFlagsTest() {
    dir_.write("project/mlctl.yaml", k_project);
    dir_.write("project/serve.sh", "echo serving\n");
    dir_.write("project/conf/app.toml", "workers = 2\n");
    dir_.write("project/notes.txt", "not in the image\n");
  }

  core::Completed mlctl(std::vector<std::string> args) {
    args.insert(args.begin(), MLCTL_BINARY);
    return run(args, dir_ / "project",
               {{"MLCTL_CACHE_DIR", (dir_ / "cache").string()}, {"SOURCE_DATE_EPOCH", "1700000000"}});
  }

  Json inspect(const std::string& layout_tag, bool config = false) {
    std::vector<std::string> args = {"inspect"};
    if (config) args.insert(args.end(), {"--config", "--raw"});
    args.push_back("oci:" + (dir_ / layout_tag).string());
    return skopeo_json(args, dir_.path());
  }

  TempDir dir_;
};

TEST_F(BuildFlagsTest, DigestFileHoldsTheDigestPrintedOnStdout) {
  auto built = mlctl({"build", "--digest-file", (dir_ / "out/digest.txt").string()});
  ASSERT_EQ(built.exit_code, 0) << built.err;
  const std::string prefix = "registry.example.com/ml/flags:2.1.0@";
  ASSERT_TRUE(built.out.starts_with(prefix)) << built.out;
  std::string digest = built.out.substr(prefix.size(), built.out.size() - prefix.size() - 1);
  EXPECT_EQ(read_file(dir_ / "out/digest.txt"), digest + "\n");
}

TEST_F(BuildFlagsTest, PrintDockerfileShowsTheEquivalentImageAndBuildsNothing) {
  auto printed = mlctl({"build", "--print-dockerfile"});
  ASSERT_EQ(printed.exit_code, 0) << printed.err;
  EXPECT_EQ(printed.out,
            "# The Dockerfile equivalent to `mlctl build`; mlctl itself needs neither it nor a daemon.\n"
            "FROM scratch\n"
            "WORKDIR /app\n"
            "COPY [\"serve.sh\", \"/app/\"]\n"
            "COPY [\"conf/app.toml\", \"/app/conf/\"]\n"
            "ENV MODE=\"prod\"\n"
            "LABEL org.opencontainers.image.created=\"2023-11-14T22:13:20Z\" "
            "org.opencontainers.image.version=\"2.1.0\"\n"
            "USER 65534\n"
            "ENTRYPOINT [\"/bin/sh\",\"serve.sh\"]\n"
            "CMD [\"--port\",\"8080\"]\n");
  EXPECT_FALSE(fs::exists(dir_ / "cache")) << "nothing is built";

  auto json = mlctl({"-o", "json", "build", "--print-dockerfile"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(Json::parse(json.out)["dockerfile"], printed.out);
}

TEST_F(BuildFlagsTest, ConfigCarriesUserCmdEnvAndWorkdir) {
  auto built = mlctl({"build", "--output", "oci:" + (dir_ / "image").string()});
  ASSERT_EQ(built.exit_code, 0) << built.err;
  Json config = inspect("image:2.1.0", true);
  EXPECT_EQ(config["config"]["User"], "65534");
  EXPECT_EQ(config["config"]["Env"], (Json{"MODE=prod"}));
  EXPECT_EQ(config["config"]["Entrypoint"], (Json{"/bin/sh", "serve.sh"}));
  EXPECT_EQ(config["config"]["Cmd"], (Json{"--port", "8080"}));
  EXPECT_EQ(config["config"]["WorkingDir"], "/app");
  EXPECT_EQ(config["architecture"], "amd64");
  EXPECT_EQ(config["history"].size(), 1u);
  EXPECT_EQ(config["history"][0]["created_by"], "mlctl build: code");
}

TEST_F(BuildFlagsTest, PlatformSetsTheConfigsArchitecture) {
  auto built = mlctl({"build", "--platform", "linux/arm64/v8", "--output", "oci:" + (dir_ / "image").string()});
  ASSERT_EQ(built.exit_code, 0) << built.err;
  Json config = inspect("image:2.1.0", true);
  EXPECT_EQ(config["architecture"], "arm64");
  EXPECT_EQ(config["variant"], "v8");
  EXPECT_EQ(config["os"], "linux");

  auto bad = mlctl({"build", "--platform", "linux"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("mlctl: error: "), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("'linux'"), std::string::npos) << bad.err;
}

TEST_F(BuildFlagsTest, CompressionPicksTheLayerMediaType) {
  for (auto [mode, media_type] : {std::pair{"gzip", "application/vnd.oci.image.layer.v1.tar+gzip"},
                                  std::pair{"zstd", "application/vnd.oci.image.layer.v1.tar+zstd"},
                                  std::pair{"none", "application/vnd.oci.image.layer.v1.tar"}}) {
    auto built = mlctl({"-o", "json", "build", "--compression", mode});
    ASSERT_EQ(built.exit_code, 0) << built.err;
    Json report = Json::parse(built.out);
    ASSERT_EQ(report["layers"].size(), 1u);
    EXPECT_EQ(report["layers"][0]["media_type"], media_type) << mode;
  }
  // docker load cannot read zstd, so such an image is refused as a docker-archive.
  auto refused = mlctl({"build", "--compression", "zstd", "--output", "docker-archive:" + (dir_ / "i.tar").string()});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("zstd"), std::string::npos) << refused.err;
  EXPECT_FALSE(fs::exists(dir_ / "i.tar"));
}

TEST_F(BuildFlagsTest, BadInputIsRefusedBeforeAnythingIsBuilt) {
  auto tag = mlctl({"build", "--tag", "-latest"});
  EXPECT_EQ(tag.exit_code, 2);
  EXPECT_NE(tag.err.find("'-latest' is not a valid image tag"), std::string::npos) << tag.err;

  auto output = mlctl({"build", "--output", "tar:/tmp/x"});
  EXPECT_EQ(output.exit_code, 2);
  EXPECT_NE(output.err.find("--output 'tar:/tmp/x': expected oci:DIR or docker-archive:FILE"), std::string::npos)
      << output.err;

  auto epoch = run({MLCTL_BINARY, "build"}, dir_ / "project",
                   {{"MLCTL_CACHE_DIR", (dir_ / "cache").string()}, {"SOURCE_DATE_EPOCH", "yesterday"}});
  EXPECT_EQ(epoch.exit_code, 2);
  EXPECT_NE(epoch.err.find("SOURCE_DATE_EPOCH='yesterday' is not a number of seconds"), std::string::npos)
      << epoch.err;
  EXPECT_FALSE(fs::exists(dir_ / "cache")) << "nothing is built";

  dir_.write("project/mlctl.yaml", "name: flags\nversion: 2.1.0\n");
  auto no_image = mlctl({"build"});
  EXPECT_EQ(no_image.exit_code, 4);
  EXPECT_NE(no_image.err.find("mlctl.yaml has no 'image' section"), std::string::npos) << no_image.err;
}

}  // namespace
}  // namespace mlctl::test::e2e
