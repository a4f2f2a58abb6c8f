#pragma once

#include <mlctl/build/base_image.hpp>
#include <mlctl/build/context.hpp>
#include <mlctl/build/layer_cache.hpp>
#include <mlctl/build/serve_layer.hpp>
#include <mlctl/core/config.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/core/reporter.hpp>
#include <mlctl/git/repo.hpp>
#include <mlctl/oci/image.hpp>
#include <mlctl/oci/layer.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mlctl::build {

// The name of each layer of a build, in image order: what `-o json` and progress call them.
inline constexpr std::string_view k_base_layer = "base";
inline constexpr std::string_view k_deps_layer = "python-deps";
inline constexpr std::string_view k_large_layer = "large-files";
inline constexpr std::string_view k_code_layer = "code";

struct BuildOptions {
  LayerCache* cache = nullptr;  // required: where layers are built and remembered
  BaseOptions base{};           // the platform, and how to reach the base's registry
  oci::CompressionMode compression = oci::CompressionMode::automatic;
  // SOURCE_DATE_EPOCH when set; otherwise the HEAD commit time, else 0.
  std::optional<std::int64_t> source_date_epoch{};
  std::vector<std::string> pip{"python3", "-m", "pip"};
  // For image.system_packages: "auto" (the first of buildah, podman, docker found), or one of them.
  std::string builder = "auto";
};

struct BuiltLayer {
  std::string name{};  // k_base_layer, k_deps_layer...
  oci::Descriptor descriptor{};
  std::string diff_id{};
  bool cached = false;  // ours: taken from the layer cache; base: its blob was already local
};

struct BuiltImage {
  oci::Image image{};
  BaseImage base{};
  std::vector<BuiltLayer> layers{};  // base layers first, as in the manifest
  std::int64_t epoch = 0;
  std::optional<git::RepoState> git{};  // none outside a git repository
};

// Everything that decides the image of a project, gathered before any layer is built: what
// --print-dockerfile shows and build_image assembles.
struct BuildPlan {
  core::ImageConfig image{};
  BuildContext context{};
  std::optional<git::RepoState> git{};
  std::int64_t epoch = 0;
  // org.opencontainers.image.* labels, in the order they are written.
  std::vector<std::pair<std::string, std::string>> labels{};
  // `mlctl build --serve` (or image.serve): the serve and model layers on top, the server as
  // the entrypoint. plan_build leaves it empty.
  std::optional<ServePlan> serve{};
};

// Selects the context and reads the git state of `project`. Fails with Errc::precondition when
// the project has no `image` section.
Result<BuildPlan> plan_build(const core::Project& project, std::optional<std::int64_t> source_date_epoch);

// The entries of everything under `dir` (not `dir` itself) at `image_dir` ("/app/.deps") in the
// image. Symlinks are stored as they are, never followed: for trees mlctl itself wrote or
// checked (pip's target, a fetched and verified artifact).
Result<std::vector<oci::TarEntry>> tree_entries(const std::filesystem::path& dir, std::string_view image_dir);

// Sets `key` to `value` in a config's "KEY=value" environment, replacing an earlier value.
void set_env(std::vector<std::string>& env, std::string_view key, std::string value);

// Builds the image of `project` daemonlessly: resolves the base, installs the Python
// dependencies with pip for the base's interpreter and platform, builds the deps, large-files
// and code layers (and with plan.serve the serve and model layers) through the cache (an
// unchanged layer is neither re-tarred nor re-compressed), and assembles config and manifest.
// Nothing is pushed or written outside the cache.
Result<BuiltImage> build_image(const core::Project& project, const BuildPlan& plan, const BuildOptions& options,
                               core::Reporter& reporter);

}  // namespace mlctl::build
