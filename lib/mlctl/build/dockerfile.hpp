#pragma once

#include <mlctl/build/context.hpp>
#include <mlctl/build/serve_layer.hpp>
#include <mlctl/core/config.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mlctl::build {

// Where things land in the image: the context under /app (the working directory), Python
// dependencies under /app/.deps on PYTHONPATH.
inline constexpr std::string_view k_app_dir = "/app";
inline constexpr std::string_view k_deps_dir = "/app/.deps";

// The Dockerfile equivalent to what `mlctl build` assembles, layer for layer in the same order
// (system packages, Python dependencies, large files, code, with `serve` the server and the
// model, then config), for users who audit images and for comparing with buildah or docker.
// Files are listed exactly, folder by folder.
std::string render_dockerfile(const core::ImageConfig& image, const BuildContext& context,
                              std::vector<std::pair<std::string, std::string>> labels,
                              const std::optional<ServePlan>& serve = std::nullopt);

// The Dockerfile for the one step that needs a real builder: OS packages on top of the base.
std::string system_packages_dockerfile(std::string_view base, const std::vector<std::string>& packages);

}  // namespace mlctl::build
