// Container mode against the real engine: a busybox image loaded into a private podman store.
#include "local_run_test.hpp"

#include <mlctl/oci/blob_store.hpp>
#include <mlctl/oci/docker_archive.hpp>
#include <mlctl/oci/image.hpp>
#include <mlctl/oci/layer.hpp>

#include <support/run.hpp>

#include <cstdlib>

namespace mlctl::pipeline {
namespace {

constexpr std::string_view k_image = "localhost/mlctl-pipeline-box:1";

class ContainerRunTest : public LocalRunTest {
protected:
  void SetUp() override {
    // The runner passes its environment to the engine, as a user's shell would.
    ::setenv("CONTAINERS_CONF", MLCTL_TEST_DATA "/containers.conf", 1);
    engine_ = {"podman", "--root", (dir_ / "podman/root").string(), "--runroot", (dir_ / "podman/run").string(),
               "--storage-driver", "vfs"};
    oci::BlobStore store(dir_ / "blobs");
    auto layer = oci::build_layer({{.path = "bin/busybox", .source = "/bin/busybox", .executable = true},
                                   {.path = "bin/sh", .kind = oci::TarEntry::Kind::symlink, .link_target = "busybox"},
                                   {.path = "bin/tr", .kind = oci::TarEntry::Kind::symlink, .link_target = "busybox"}},
                                  {.compression = oci::CompressionMode::gzip}, store);
    ASSERT_TRUE(layer) << layer.error().message();
    oci::ImageConfig config;
    config.config.env = {"PATH=/bin"};
    config.diff_ids = {layer->diff_id};
    auto image = oci::assemble_image(config, {layer->descriptor});
    ASSERT_TRUE(image) << image.error().message();
    ASSERT_TRUE(oci::write_docker_archive(dir_ / "box.tar", *image, store, {std::string(k_image)}));
    auto load = engine_;
    load.insert(load.end(), {"load", "-i", (dir_ / "box.tar").string()});
    auto loaded = test::run_command(load, dir_.path());
    ASSERT_EQ(loaded.exit_code, 0) << loaded.err;
  }

  RunOptions container_options() const {
    RunOptions options = this->options();
    options.isolation = Isolation::container;
    options.container = {.engine = engine_, .self_image = std::string(k_image)};
    return options;
  }

  std::vector<std::string> engine_;
};

TEST_F(ContainerRunTest, StepsRunInTheirImagesWithOutputsMounted) {
  Pipeline pipeline = load(R"(name: boxed
steps:
  - name: make
    image: localhost/mlctl-pipeline-box:1
    env: {MODE: boxed}
    command: [sh, -c, "echo inside > {{outputs.out}}; echo mode $MODE; test -e /etc/os-release || echo no-host-files"]
    outputs: [out]
  - name: shout
    image: self
    command: [sh, -c, "tr a-z A-Z < {{steps.make.outputs.out}} > {{outputs.loud}}"]
    outputs: [loud]
)");
  RunRecord record = run(pipeline, container_options());
  ASSERT_EQ(record.status, RunStatus::succeeded) << record.steps[0].message << record.steps[1].message;
  EXPECT_EQ(output(record, "make", "out"), "inside\n");
  EXPECT_EQ(output(record, "shout", "loud"), "INSIDE\n");
  EXPECT_EQ(observer_.lines, (std::vector<std::string>{"make: mode boxed", "make: no-host-files"}));

  RunRecord cached = run(pipeline, container_options());
  EXPECT_EQ(statuses(cached), (std::vector<std::string>{"make=cached", "shout=cached"}));
  RunRecord host = run(pipeline);
  EXPECT_EQ(statuses(host), (std::vector<std::string>{"make=succeeded", "shout=succeeded"}))
      << "the image is part of a step's key in container mode";
  EXPECT_EQ(observer_.lines.back(), "make: mode boxed") << "on the host, /etc/os-release exists";
}

}  // namespace
}  // namespace mlctl::pipeline
