#pragma once

#include <map>
#include <string>
#include <string_view>

namespace mlctl::pipeline {

// The Argo object a pipeline compiles to.
enum class ArgoKind {
  automatic,          // a CronWorkflow when the pipeline has a schedule, else a Workflow
  workflow,           // one run, named <pipeline>-<random suffix> by Argo (generateName)
  cron_workflow,      // runs on the pipeline's schedule; fails without one
  workflow_template,  // named <pipeline>-<version>, so that versions live side by side
};

// How outputs reach the steps that read them on Argo.
enum class ArtifactPassing {
  volume,  // one volume per run (volumeClaimTemplates), each step's outputs in its own folder
  s3,      // Argo S3 artifacts, uploaded after a step and downloaded before its dependants
};

// Where Argo keeps S3 artifacts: a key of a ConfigMap holding an artifact repository. Empty
// config_map: the namespace's default repository.
struct ArtifactRepositoryRef {
  std::string config_map;
  std::string key;
};

// The volume that holds a run's outputs in ArtifactPassing::volume.
struct VolumeOptions {
  std::string size = "1Gi";
  std::string storage_class;                  // empty: the cluster's default
  std::string access_mode = "ReadWriteOnce";  // ReadWriteMany lets parallel steps run on several nodes
};

// The output a staged `uses: register` step (CompileOptions::stage_registrations) writes the
// description of its version to.
inline constexpr std::string_view k_registration_output = "registration";

struct CompileOptions {
  // The project image (REF@sha256:DIGEST, as `mlctl build --push` reports it): what `image: self`
  // means, and the image of command steps that name none. Needed only when a step uses it.
  std::string self_image;
  // The image that runs built-in `uses:` actions: mlctl itself.
  std::string tool_image;
  std::string tool_version;      // mlctl's version: KFP's sdkVersion is "mlctl-<version>"
  std::string pipeline_version;  // the project version from mlctl.yaml
  std::string git_commit;
  std::string namespace_name;    // empty: the namespace the document is submitted to
  std::string service_account;   // empty: the namespace's default
  std::map<std::string, std::string> params;  // overrides of the pipeline's param defaults
  // `uses: register` steps: where they store the artifact (--artifact-store; empty: the tool
  // image's default), and whether they stage the version instead of registering it (--stage):
  // its description becomes the step's output `registration` (on Argo also an output
  // parameter), for the machine that submitted the run to register (a release's training).
  std::string artifact_store;
  bool stage_registrations = false;
  std::string model;  // what they register when their `with` names no model (mlctl.yaml's model.name)

  ArgoKind kind = ArgoKind::automatic;
  ArtifactPassing artifacts = ArtifactPassing::volume;
  VolumeOptions volume;
  ArtifactRepositoryRef artifact_repository;
  std::string s3_key_prefix = "mlctl";  // artifact keys are <prefix>/<run>/<step>/<output>.tgz

  std::string pipeline_root;  // KFP's defaultPipelineRoot; empty: the KFP server's default
};

}  // namespace mlctl::pipeline
