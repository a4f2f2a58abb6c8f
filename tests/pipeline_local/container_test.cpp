#include "local_run_test.hpp"

#include <mlctl/pipeline/local/container.hpp>
#include <mlctl/pipeline/local/invocation.hpp>

namespace mlctl::pipeline {
namespace {

Invocation train_invocation() {
  return {.argv = {"python3", "train.py", "--model", "/state/runs/r1/train/outputs/model"},
          .env = {{"OMP_NUM_THREADS", "1"}, {"MODE", "full run"}},
          .image = "self",
          .outputs = {{"model", "/state/runs/r1/train/outputs/model"}}};
}

TEST(ContainerTest, RunsTheStepInItsImageWithTheRunFolderMountedAtTheSamePath) {
  ContainerRun run{.name = "mlctl-r1-train",
                   .image = "registry.example.com/ml/fraud@sha256:ab",
                   .run_dir = "/state/runs/r1",
                   .resources = {.cpu = core::Located{.value = "500m"}, .memory = core::Located{.value = "4Gi"}, .gpu = std::nullopt}};
  EXPECT_EQ(container_argv({.engine = {"podman"}}, run, train_invocation()),
            (std::vector<std::string>{"podman", "run", "--rm", "--name", "mlctl-r1-train", "--volume",
                                      "/state/runs/r1:/state/runs/r1", "--env", "OMP_NUM_THREADS=1", "--env",
                                      "MODE=full run", "--cpus", "0.5", "--memory", "4294967296", "--entrypoint",
                                      "python3", "registry.example.com/ml/fraud@sha256:ab", "train.py", "--model",
                                      "/state/runs/r1/train/outputs/model"}));
}

TEST(ContainerTest, EngineOptionsComeFirstAndDecimalQuantitiesConvert) {
  ContainerRun run{.name = "n", .image = "alpine", .run_dir = "/r",
                   .resources = {.cpu = core::Located{.value = "2"}, .memory = core::Located{.value = "1.5G"}, .gpu = std::nullopt}};
  Invocation invocation{.argv = {"sh"}};
  EXPECT_EQ(container_argv({.engine = {"docker", "--context", "ci"}}, run, invocation),
            (std::vector<std::string>{"docker", "--context", "ci", "run", "--rm", "--name", "n", "--volume", "/r:/r",
                                      "--cpus", "2", "--memory", "1500000000", "--entrypoint", "sh", "alpine"}));
  EXPECT_EQ(container_kill_argv({.engine = {"docker", "--context", "ci"}}, "n"),
            (std::vector<std::string>{"docker", "--context", "ci", "kill", "n"}));
}

TEST(ContainerTest, SelfAndNoImageAreTheProjectImage) {
  Invocation self = train_invocation();
  EXPECT_EQ(container_image(self, {.self_image = "fraud@sha256:ab"}), "fraud@sha256:ab");
  self.image.clear();
  EXPECT_EQ(container_image(self, {.self_image = "fraud@sha256:ab"}), "fraud@sha256:ab");
  self.image = "python:3.11-slim";
  EXPECT_EQ(container_image(self, {.self_image = "fraud@sha256:ab"}), "python:3.11-slim");
  auto missing = container_image(train_invocation(), {});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Errc::precondition);
  EXPECT_EQ(missing.error().message(), "no project image to run the step in");
}

}  // namespace
}  // namespace mlctl::pipeline
