#pragma once

#include <mlctl/build/base_image.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/core/reporter.hpp>

#include <string>
#include <vector>

namespace mlctl::build {

struct BuildOptions;

// The one step mlctl does not do itself: OS packages need the base's package manager to run.
// Runs the generated Dockerfile (system_packages_dockerfile) with buildah or podman
// (options.builder; "auto" takes the first found), exports the result as an OCI layout in the
// cache keyed by the Dockerfile and the base's digest, and returns it as the new base, so the
// rest of the build goes on daemonless and a rebuild with the same packages runs no builder.
Result<BaseImage> install_system_packages(const BaseImage& base, const std::vector<std::string>& packages,
                                          const BuildOptions& options, core::Reporter& reporter);

}  // namespace mlctl::build
