#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/core/yaml_reader.hpp>

#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mlctl::core {

inline constexpr std::string_view k_project_file = "mlctl.yaml";

// Where in mlctl.yaml a value was written, so later checks can point at it.
struct Located {
  std::string value;
  int line = 0;
  int column = 0;
};

struct ImageConfig {
  std::string repository;
  std::string base;  // an OCI image reference, or "scratch"
  Located python_requirements;  // path relative to the project root; empty: none
  std::string python_version;   // "3.11"; empty: the base image's
  std::vector<std::string> system_packages;
  std::vector<std::string> include;
  std::vector<std::string> exclude;
  std::vector<std::pair<std::string, std::string>> env;  // in file order
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::string user;  // empty: the base image's
  bool serve = false;  // image.serve: build the serving image, as `mlctl build --serve` does
};

// How a serving pod gets its model (model.packaging).
inline constexpr std::array<std::string_view, 3> k_packagings = {"image", "init", "modelcar"};

struct ModelConfig {
  std::string name;    // defaults to the project name
  std::string flavor;  // defaults to "generic"
  // image: baked into the serving image; init: pulled from the artifact store by an init
  // container; modelcar: mounted from an OCI image of the model (the oci:// artifact store).
  std::string packaging = "image";
};

// Where the model registry lives; both optional.
struct RegistryConfig {
  std::string database;   // the SQLite file, relative to the project root; empty: .mlctl/registry.db
  std::string artifacts;  // an artifact store location (a path, s3://..., oci://...); empty: local
};

// How a model is served (mlctl deploy); every key optional.
struct ServingConfig {
  std::string cpu = "500m";    // requested per pod
  std::string memory = "1Gi";  // requested and the limit
  int gpu = 0;                 // nvidia.com/gpu per pod
  int min_replicas = 1;
  int max_replicas = 3;
  int cpu_utilization = 70;    // the autoscaler's target, percent of the CPU request
  // serving.canary: the steps of a canary (empty: mlctl's) and what aborts it (unset: mlctl's).
  std::vector<std::pair<int, std::string>> canary_steps;  // weight percent, pause ("" = until promoted)
  std::string prometheus;
  std::optional<double> min_success_rate;
  std::optional<int> max_p95_latency_ms;
};

struct Environment {
  std::string name;
  std::string namespace_name;
  std::string branch;
};

// The promotion gate a release applies to the version it registers (release.gate).
struct GateConfig {
  std::string promote_to = "production";  // the alias the version gets when it passes
  std::vector<Located> require;           // filter conditions ("metrics.auc >= 0.9"), all must hold
  std::string better_than;                // an alias whose version it must beat on `on`
  std::string on;                         // the metrics.KEY compared with better_than
};

// Where a release commits its manifests (release.gitops): a folder of another repository.
struct GitOpsConfig {
  Located repo;                // a path, relative to the project root
  std::string dir = "deploy";  // relative to the top of that repository
};

// Where a release's training runs (release.train): on this machine, or submitted to Argo
// Workflows and waited for.
struct TrainConfig {
  std::string backend = "local";           // local or argo
  std::string server;                      // argo: the Argo Server URL; empty: --server / MLCTL_PIPELINE_SERVER
  std::string namespace_name = "default";  // argo: the namespace the workflow runs in
  std::string artifacts = "volume";        // argo: how outputs pass between steps: volume or s3
  std::string timeout = "1h";              // argo: how long the release waits for the workflow
};

// How `mlctl release` runs (release:); every key optional.
struct ReleaseConfig {
  Located pipeline;           // a name from `pipelines`; empty: "train", else the only pipeline
  Located tag{"v{version}"};  // the tag pattern; {version} is the only placeholder
  GateConfig gate;
  std::optional<GitOpsConfig> gitops;
  TrainConfig train;
};

// The parsed and validated project file.
struct Project {
  std::filesystem::path file;  // the mlctl.yaml that was read
  std::filesystem::path root;  // the folder that holds it
  std::string name;
  std::string version;
  std::optional<ImageConfig> image;
  std::vector<std::pair<std::string, Located>> pipelines;  // name -> file, in file order
  ModelConfig model;
  std::vector<Environment> environments;  // in file order
  RegistryConfig registry;
  ServingConfig serving;
  ReleaseConfig release;
};

// The outcome of checking a project file: every problem found, and the project when none was.
struct ProjectCheck {
  std::optional<Project> project;
  std::vector<Diagnostic> problems;
  Errc code = Errc::invalid;  // not_found when the file itself could not be found
};

// Parses mlctl.yaml text. `display_name` is how the file is named in diagnostics.
ProjectCheck parse_project(std::string_view text, const std::string& display_name, const EnvLookup& env);

// Reads and parses a project file, then checks what it refers to on disk (pipeline files,
// the requirements file).
ProjectCheck check_project_file(const std::filesystem::path& file, const EnvLookup& env);

// Like check_project_file, but a failure is one Error (invalid) naming the first problem.
Result<Project> load_project(const std::filesystem::path& file, const EnvLookup& env);

// The project file to use: `explicit_file` if given, else mlctl.yaml in `start` or above.
Result<std::filesystem::path> locate_project_file(const std::filesystem::path& start,
                                                  const std::optional<std::filesystem::path>& explicit_file);

}  // namespace mlctl::core
