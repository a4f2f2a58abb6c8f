#pragma once

#include "context.hpp"
#include "registry_location.hpp"

#include <mlctl/pipeline/local/run_record.hpp>
#include <mlctl/pipeline/submit/argo.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <vector>

namespace mlctl::cli {

// Every flag of `mlctl pipeline ...`; each command reads the ones it declares.
struct PipelineFlags {
  std::string pipeline;  // NAME or FILE (or a run id, where a run is meant)
  std::string format = "dot";
  RegistryFlags registry;
  std::vector<std::string> params;  // K=V

  // run
  int jobs = 0;
  bool no_cache = false;
  bool container = false;
  std::string engine = "podman";
  std::string image;  // what `image: self` means
  std::string resume;

  // runs
  std::int64_t limit = 20;

  // compile, submit
  std::string backend = "argo";
  std::string kind = "auto";
  std::string artifacts = "volume";
  std::string tool_image;
  std::string namespace_name;
  std::string output_file;
  std::string server;
  std::string token_file;
  bool insecure = false;
  bool wait = false;
  std::string timeout = "1h";
  std::string poll_interval = "2s";

  // status, logs
  std::string step;
  std::int64_t tail = -1;

  // action (inside a cluster step)
  std::string action;
  std::string run_id;
  std::string pipeline_name;
  std::string git_commit;
  std::string artifact;
  std::string metrics;
  std::string model;
  std::string stage;  // register: FILE for the staged version

  // Not a flag: compile `uses: register` steps to stage their versions in the artifact store
  // (pipeline::CompileOptions::stage_registrations), as a release's training on a cluster does.
  bool stage_registrations = false;
};

// A pipeline NAME from the project's `pipelines`, or the path of a pipeline file (which needs
// no mlctl.yaml around it).
std::filesystem::path pipeline_file(const Context& context, const std::string& name_or_path);

// The database runs are recorded in, if it exists (reading runs never creates one): the project's,
// or without a project .mlctl/registry.db in the current folder.
std::optional<std::filesystem::path> runs_database(const Context& context, const PipelineFlags& flags);

// NAME=VALUE pairs of --param; fails (invalid) naming the flag on a pair without '='.
std::map<std::string, std::string> parse_params(const std::vector<std::string>& pairs);

struct LocalRun {
  pipeline::RunRecord run;
  std::filesystem::path directory;  // the run's folder
  double seconds = 0;
};

// Runs the pipeline FILE on this machine as flags say (`mlctl pipeline run`), printing each step's
// output as it comes; SIGINT and SIGTERM cancel it. `served_image` (REF@DIGEST; may be empty) is
// recorded in the lineage of the versions its `uses: register` steps register. Fatal when the run
// cannot start; a run that fails or is cancelled is returned as recorded.
LocalRun run_locally(Context& context, const std::filesystem::path& file, const PipelineFlags& flags,
                     const std::string& served_image);

// `mlctl pipeline submit --wait` of flags.pipeline to the Argo Server flags.server, always as a
// Workflow (pipeline_remote.cpp): compiles, submits, tells `submitted`, waits, reporting its phase
// as it changes. Fatal when it cannot be compiled, submitted or waited for; a workflow that failed
// is returned.
pipeline::ArgoStatus run_on_argo(Context& context, const PipelineFlags& flags,
                                 const std::function<void(const pipeline::ArgoSubmitted&)>& submitted);
// Waits for workflow NAME, submitted before, in flags.namespace_name on flags.server, as run_on_argo
// does; nullopt when the server has no such workflow.
std::optional<pipeline::ArgoStatus> wait_on_argo(Context& context, const PipelineFlags& flags, const std::string& name);

// `mlctl pipeline run|runs|show|action` (pipeline_run.cpp).
void add_pipeline_local_commands(CLI::App* group, const std::shared_ptr<PipelineFlags>& flags);
// `mlctl pipeline compile|submit|status|logs` (pipeline_remote.cpp).
void add_pipeline_remote_commands(CLI::App* group, const std::shared_ptr<PipelineFlags>& flags);

}  // namespace mlctl::cli
