#pragma once

#include <mlctl/core/error.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

// Serving manifests (issue 6), first part: one registered model version served by the plain
// Kubernetes objects, the model baked into its serving image or brought to the pod (Packaging).
namespace mlctl::deploy {

// How a serving pod gets its model (mlctl.yaml's model.packaging).
enum class Packaging {
  image,     // baked into the serving image (`mlctl build --serve --model`): the pod adds nothing
  init,      // an init container of the mlctl tool image fetches the artifact into an emptyDir
  modelcar,  // the artifact's own OCI image (an oci:// store) mounted as an image volume
};

// "image", "init" or "modelcar"; anything else fails (invalid).
Result<Packaging> parse_packaging(std::string_view text);

struct ServingResources {
  std::string cpu = "500m";   // requested
  std::string memory = "1Gi"; // requested and the limit
  int gpu = 0;                // nvidia.com/gpu, requested and the limit
};

struct Autoscaling {
  int min_replicas = 1;
  int max_replicas = 3;
  int cpu_utilization = 70;  // percent of the CPU request the autoscaler aims for
};

// One registered model version served in one environment: what the objects are made from.
struct ServedModel {
  std::string project;          // mlctl.yaml's name: app.kubernetes.io/part-of
  std::string model;            // the registry name, a DNS-1123 label: the objects' name
  std::int64_t version = 0;
  std::string artifact_digest;  // "sha256:<hex>" of the registered artifact
  std::string artifact_uri;     // where the artifact is stored: file://, s3://, oci://
  bool artifact_directory = false;  // a directory (stored as its tar), not one file: init fetches it so
  std::string flavor = "generic";  // what made it (sklearn, ...), as registered
  std::string image;            // the serving image, REF@sha256:<hex>
  std::string environment;      // "prod"
  std::string namespace_name;   // "ml-prod"
  ServingResources resources;
  Autoscaling autoscaling;
  Packaging packaging = Packaging::image;
  std::string tool_image;       // init only: the image with the mlctl binary, REF@sha256:<hex>
};

// The port the serving image listens on (the Open Inference Protocol server, and /metrics).
inline constexpr int k_http_port = 8080;
// The user the server runs as: not root, and the same in every image mlctl builds.
inline constexpr int k_serving_uid = 65532;
// The Secret whose keys (AWS_ACCESS_KEY_ID, MLCTL_REGISTRY_USERNAME, ...) the init container
// gets as its environment, if the namespace has one.
inline constexpr std::string_view k_artifact_store_secret = "mlctl-artifact-store";

// Checks what the objects are made from before anything is rendered: DNS-1123 names that stay
// DNS-1123 once suffixed, a positive version, the artifact digest, the image pinned by a digest,
// replicas (1 <= min <= max), the CPU target (1..100), the quantities, and what the packaging
// needs: for init an s3:// or oci:// artifact (a cluster cannot read this machine's files) and
// a tool image pinned by a digest; for modelcar an oci:// artifact pinned by its manifest
// digest. Fails (invalid) naming the field.
Result<void> check_served_model(const ServedModel& model);

// The objects that serve the model ("direct" on plain Kubernetes), in the order they are applied:
// ServiceAccount (no token mounted), Deployment (image by digest; non-root, read-only root file
// system, no privilege escalation, every capability dropped; a readiness probe on
// /v2/health/ready so traffic waits for the model to load, a startup probe that gives the load
// five minutes, a liveness probe on /v2/health/live; resources with nvidia.com/gpu; Prometheus
// scrape annotations), Service (port 80 to the server), HorizontalPodAutoscaler (CPU),
// PodDisruptionBudget (one pod down at a time) and NetworkPolicy (ingress to the server port
// from the namespace and from namespaces labelled mlctl.dev/serving-clients=true). Every object
// carries the app.kubernetes.io labels and the model's name and version; the pods carry the
// artifact digest. With packaging init, the pod also has a `model` emptyDir that an init
// container `model-pull` (the tool image, locked down like the server) fills with `mlctl model
// fetch`, reading the store's credentials from the optional Secret mlctl-artifact-store, and
// the server reads it read-only at /models/model (MLCTL_MODEL_PATH). With modelcar, a `model`
// image volume (Kubernetes 1.31+) of the artifact's image is mounted read-only at /mnt/model and
// the server reads /mnt/model/models. The same model always gives the same objects.
Result<std::vector<nlohmann::json>> render_direct(const ServedModel& model);

// The objects as one YAML stream, "---" between documents; the same objects give the same bytes.
std::string manifest_yaml(const std::vector<nlohmann::json>& objects);

}  // namespace mlctl::deploy
