#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/pipeline/local/invocation.hpp>
#include <mlctl/pipeline/spec.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace mlctl::pipeline {

struct ContainerOptions {
  // The engine's command with any global options: {"podman"}, {"docker"}, or
  // {"podman", "--root", DIR, ...} for a separate image store.
  std::vector<std::string> engine{"podman"};
  // The image `image: self` stands for (and steps without an image): the project image from
  // `mlctl build`, by digest or tag. Empty: such steps cannot run in containers.
  std::string self_image{};
};

// What one containerised attempt of a step is.
struct ContainerRun {
  std::string name{};                // the container's name, so it can be killed
  std::string image{};               // resolved (never "self")
  std::filesystem::path run_dir{};   // mounted read-write at the same path
  Resources resources{};
};

// The image a step runs in: its own (or its component's), or the project image for "self" and
// for none. Fails (precondition) when that is the project image and none was given.
Result<std::string> container_image(const Invocation& invocation, const ContainerOptions& options);

// `ENGINE run --rm --name NAME -v RUN:RUN -e K=V... [--cpus N] [--memory BYTES] --entrypoint
// ARGV0 IMAGE ARGV1...`: the run's folder is mounted at the same path, so every path in the
// command (outputs, upstream outputs, input files) means the same inside the container, and the
// command replaces the image's entrypoint, as in Kubernetes.
std::vector<std::string> container_argv(const ContainerOptions& options, const ContainerRun& run,
                                        const Invocation& invocation);

// `ENGINE kill NAME`, to stop a container whose engine client was signalled.
std::vector<std::string> container_kill_argv(const ContainerOptions& options, const std::string& name);

// The image's ID (the digest of its config), pulling the image first when it is not stored
// locally; it goes into the cache key of steps run in it.
Result<std::string> image_id(const ContainerOptions& options, const std::string& image);

}  // namespace mlctl::pipeline
