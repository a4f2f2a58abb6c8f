#pragma once

#include <mlctl/build/layer_cache.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/oci/image_config.hpp>
#include <mlctl/oci/tar_writer.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// The serving image (`mlctl build --serve`): the project image plus the model server, and
// optionally a registered model baked in, started as the server on a fixed port and user.
namespace mlctl::build {

inline constexpr std::string_view k_serve_layer = "serve";
inline constexpr std::string_view k_model_layer = "model";
// Where the server (templates/serve/ and the project's predict.py) and the model go in the image.
inline constexpr std::string_view k_serve_dir = "/opt/mlctl/serve";
inline constexpr std::string_view k_model_dir = "/opt/mlctl/model";
// What a file artifact is called in k_model_dir (the registry keeps no file name), as
// `mlctl serve --local` calls it; a directory artifact is k_model_dir itself.
inline constexpr std::string_view k_model_file = "model.pkl";
// The value of the dev.mlctl.serve label: the protocol the server speaks.
inline constexpr std::string_view k_serve_protocol = "oip-v2";

// A file of the model server, by its path relative to the server's folder.
struct ServerFile {
  std::string path{};
  std::string_view content{};
};

// A registered model version to bake into the image.
struct ServedModel {
  std::string name{};
  std::int64_t version = 0;
  std::string flavor{};
  std::string digest{};              // the registered artifact's "sha256:<hex>"
  bool directory = false;            // a directory artifact: its tree is the model
  std::filesystem::path artifact{};  // the fetched and verified artifact; empty until fetched
};

// What makes a project image a serving image.
struct ServePlan {
  std::vector<ServerFile> server{};                // the model server (templates/serve/)
  std::optional<std::filesystem::path> predict{};  // the project's predict.py hook, if it has one
  std::optional<ServedModel> model{};              // --model
  int port = 0;                                    // what the server listens on and the image exposes
  int uid = 0;                                     // the user it runs as (the pods run as it too)
};

// `root`/predict.py when it is a regular file (a symlink is not followed: it could lead anywhere).
std::optional<std::filesystem::path> find_predict_hook(const std::filesystem::path& root);

// The serve layer: every server file and the predict.py hook in k_serve_dir, mode 0644.
std::vector<oci::TarEntry> serve_entries(const ServePlan& plan);

// The model layer: a file artifact as k_model_dir/k_model_file, a directory's tree under
// k_model_dir. Fails (precondition) when the artifact was not fetched.
Result<std::vector<oci::TarEntry>> model_entries(const ServedModel& model);

// MLCTL_MODEL_PATH: the model file, or the directory the server looks for model.pkl in (also
// without a model, for one mounted there).
std::string served_model_path(const std::optional<ServedModel>& model);

// The environment the server reads (PYTHONDONTWRITEBYTECODE, MLCTL_PORT, MLCTL_MODEL_PATH, and
// with a model MLCTL_MODEL_NAME, MLCTL_MODEL_VERSION, MLCTL_FLAVOR), in that order.
std::vector<std::pair<std::string, std::string>> serve_env(const ServePlan& plan);
// dev.mlctl.serve, and dev.mlctl.model (NAME@VERSION) with a model.
std::vector<std::pair<std::string, std::string>> serve_labels(const ServePlan& plan);
// python3 k_serve_dir/server.py
std::vector<std::string> serve_entrypoint();

// Makes `config` start the server: its environment and labels added, the port exposed, the user
// set, the entrypoint replaced and the command cleared (whatever the base or mlctl.yaml said).
void apply_serve_config(const ServePlan& plan, oci::ContainerConfig& config);

// Writes an artifact to `destination` and verifies it (the artifact store's get).
using FetchArtifact = std::function<Result<void>(const std::filesystem::path& destination)>;

// The artifact of `model` in the layer cache (models/sha256-<hex>/), fetched with `fetch` the
// first time. A verified artifact is renamed into place whole, so what is there is complete and
// a build that finds it fetches nothing; its files keep their inodes, so the model layer is
// taken from the cache too. Fails (invalid) for a digest that is not "sha256:<64 hex>".
Result<std::filesystem::path> cached_model_artifact(const LayerCache& cache, const ServedModel& model,
                                                    const FetchArtifact& fetch);

}  // namespace mlctl::build
