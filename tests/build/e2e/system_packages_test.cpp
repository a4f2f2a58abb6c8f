// image.system_packages end to end: the one step that runs a real builder. The base is busybox
// with a stand-in apt-get (no Debian mirror is reachable from inside a container here) that
// "installs" a package by writing /usr/share/fake-packages/NAME; buildah and podman really run
// the generated Dockerfile on it, and podman runs what mlctl pushed on top.
#include "e2e_fixture.hpp"

#include "../../oci/remote/registry_fixture.hpp"

#include <support/temp_dir.hpp>

#include <sys/stat.h>

#include <gtest/gtest.h>

namespace mlctl::test::e2e {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view k_fake_apt_get = R"(#!/bin/sh
case "$1" in
  update) echo "fake apt-get: update" ;;
  install) shift
    mkdir -p /usr/share/fake-packages
    for p in "$@"; do case "$p" in -*) ;; *) echo "$p" > "/usr/share/fake-packages/$p" ;; esac; done ;;
esac
)";

class SystemPackagesTest : public ::testing::TestWithParam<std::string> {
protected:
  void SetUp() override {
    // The builders keep their images under the test's folder, not in the machine's storage.
    dir_.write("storage.conf", "[storage]\ndriver = \"vfs\"\ngraphroot = \"" + (dir_ / "storage").string() +
                                   "\"\nrunroot = \"" + (dir_ / "run").string() + "\"\n");
    env_ = {{"MLCTL_CACHE_DIR", (dir_ / "cache").string()},
            {"CONTAINERS_CONF", (fs::path(MLCTL_TEST_DATA) / "containers.conf").string()},
            {"CONTAINERS_STORAGE_CONF", (dir_ / "storage.conf").string()},
            {"SOURCE_DATE_EPOCH", "1700000000"}};

    fs::path layout = make_base_layout("busybox", dir_.path());
    ASSERT_FALSE(layout.empty());
    auto unpacked = run({"umoci", "unpack", "--rootless", "--image", layout.string() + ":1", "bundle"}, dir_.path());
    ASSERT_EQ(unpacked.exit_code, 0) << unpacked.err;
    fs::path apt_get = dir_.write("bundle/rootfs/usr/bin/apt-get", k_fake_apt_get);
    fs::permissions(apt_get, fs::perms(0755));
    auto repacked = run({"umoci", "repack", "--image", layout.string() + ":1", "bundle"}, dir_.path());
    ASSERT_EQ(repacked.exit_code, 0) << repacked.err;
    push_base(layout, registry_.host());

    project_ = dir_ / "project";
    dir_.write("project/mlctl.yaml", "name: pkgs\nversion: 1.0.0\nimage:\n  repository: " + registry_.host() +
                                         "/pkgs\n  base: " + registry_.host() +
                                         "/base:1\n  system_packages: [jq, curl]\n"
                                         "  entrypoint: [/bin/sh, -c, 'cat /usr/share/fake-packages/* /app/hello.txt']\n");
    dir_.write("project/hello.txt", "hello from the context\n");
  }

  core::Completed mlctl(std::vector<std::string> args) {
    args.insert(args.begin(), MLCTL_BINARY);
    return run(args, project_, env_);
  }

  TempDir dir_;
  RegistryServer registry_;
  fs::path project_;
  std::map<std::string, std::string> env_;
};

TEST_P(SystemPackagesTest, BuilderInstallsThePackagesThenTheRestIsDaemonless) {
  const std::string builder = GetParam();
  auto built = mlctl({"-o", "json", "build", "--push", "--builder", builder, "--tag", "1.0.0"});
  ASSERT_EQ(built.exit_code, 0) << built.err;
  EXPECT_NE(built.err.find("installing system packages with " + builder + ": jq curl"), std::string::npos)
      << built.err;
  Json report = Json::parse(built.out);
  // busybox and the layer umoci added with apt-get, then the builder's packages layer, then
  // our code layer.
  std::vector<std::string> names;
  for (const auto& layer : report["layers"]) names.push_back(layer["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"base", "base", "base", "code"})) << built.out;

  auto ran = podman({"run", "--rm", "--runtime", "runc", "--tls-verify=false", registry_.host() + "/pkgs:1.0.0"},
                    dir_.path());
  ASSERT_EQ(ran.exit_code, 0) << ran.err;
  // cat sorts the glob: curl, then jq, then the context's file.
  EXPECT_EQ(ran.out, "curl\njq\nhello from the context\n");

  // Same packages, same base: the cached layout is reused and no builder runs.
  auto again = mlctl({"-o", "json", "build", "--push", "--builder", builder, "--tag", "1.0.0"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.err.find("installing system packages"), std::string::npos) << again.err;
  Json second = Json::parse(again.out);
  EXPECT_EQ(second["digest"], report["digest"]);
  EXPECT_EQ(second["bytes_uploaded"], 0);
}

INSTANTIATE_TEST_SUITE_P(Builders, SystemPackagesTest, ::testing::Values("buildah", "podman"));

TEST(SystemPackagesErrorTest, AFailingPackageManagerStopsTheBuildWithItsOutput) {
  // Plain busybox has no apt-get, so the builder's RUN fails.
  TempDir dir;
  RegistryServer registry;
  fs::path layout = make_base_layout("busybox", dir.path());
  ASSERT_FALSE(layout.empty());
  push_base(layout, registry.host());
  dir.write("storage.conf", "[storage]\ndriver = \"vfs\"\ngraphroot = \"" + (dir / "storage").string() +
                                "\"\nrunroot = \"" + (dir / "run").string() + "\"\n");
  dir.write("project/mlctl.yaml", "name: pkgs\nversion: 1.0.0\nimage:\n  repository: " + registry.host() +
                                      "/pkgs\n  base: " + registry.host() + "/base:1\n  system_packages: [jq]\n");
  auto ran = run({MLCTL_BINARY, "build", "--push", "--builder", "buildah"}, dir / "project",
                 {{"MLCTL_CACHE_DIR", (dir / "cache").string()},
                  {"CONTAINERS_CONF", (fs::path(MLCTL_TEST_DATA) / "containers.conf").string()},
                  {"CONTAINERS_STORAGE_CONF", (dir / "storage.conf").string()}});
  EXPECT_EQ(ran.exit_code, 1) << ran.err;
  EXPECT_NE(ran.err.find("mlctl: error: buildah building the system packages layer failed"), std::string::npos)
      << ran.err;
  EXPECT_NE(ran.err.find("apt-get"), std::string::npos) << "the builder's own output names the failing command";
  EXPECT_FALSE(registry_has_repository(registry.storage(), "pkgs")) << "nothing is pushed";
  EXPECT_TRUE(fs::is_empty(dir / "cache/system")) << "neither a cached result nor scratch is left";
}

TEST(SystemPackagesErrorTest, AnUnknownBuilderIsRefusedBeforeAnythingRuns) {
  TempDir dir;
  dir.write("mlctl.yaml", "name: pkgs\nversion: 1.0.0\nimage:\n  repository: 127.0.0.1:1/pkgs\n"
                          "  base: scratch\n  system_packages: [jq]\n");
  auto ran = run({MLCTL_BINARY, "build", "--builder", "docker"}, dir.path(), {{"MLCTL_CACHE_DIR", (dir / "cache").string()}});
  EXPECT_EQ(ran.exit_code, 2);
  EXPECT_NE(ran.err.find("--builder: docker not in {auto,buildah,podman}"), std::string::npos) << ran.err;
}

}  // namespace
}  // namespace mlctl::test::e2e
