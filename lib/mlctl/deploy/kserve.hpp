#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/deploy/k8s.hpp>

#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlctl::deploy {

// How KServe runs the predictor: as a Knative Service (scale on requests, revisions, canaries), or
// as a plain Deployment, Service and HorizontalPodAutoscaler. Written as the
// serving.kserve.io/deploymentMode annotation ("Serverless", "RawDeployment"; KServe 0.16 renamed
// them Knative and Standard and still reads these).
enum class KServeMode { serverless, raw_deployment };

// One registered model version served by KServe from its own serving image.
struct KServeService {
  ServedModel model;
  KServeMode mode = KServeMode::serverless;
  // This version's percent of the traffic while the revision rolled out last keeps the rest
  // (0..100); none: all of it once ready. Knative revisions do the split, so RawDeployment ignores it.
  std::optional<int> canary_percent;
};

// The objects, in apply order: the ServiceAccount (no token mounted) and an InferenceService named
// after the model whose predictor is the serving image as one custom container kserve-container
// (image by digest, port 8080, the resources with nvidia.com/gpu, non-root with a read-only root
// file system and no capabilities, readiness on /v2/health/ready, liveness on /v2/health/live),
// with the model's labels and pod annotations, min/max replicas from the autoscaling, the
// ServiceAccount, and canaryTrafficPercent when a canary is asked for in Serverless mode. In
// Serverless mode the container is what Knative admits: an unnamed port, probes on the port
// number and no startup probe; in RawDeployment mode it keeps the five-minute startup probe of
// the direct strategy. Fails (invalid) on a bad model
// (see check_served_model), a name too long for the predictor's objects, or a canary percent
// outside 0..100.
Result<std::vector<nlohmann::json>> render_kserve(const KServeService& service);

// True when the canary asked for has no effect because RawDeployment has no revisions to split
// between; the rendered InferenceService then leaves canaryTrafficPercent out (for the CLI to warn).
bool canary_ignored(const KServeService& service);

}  // namespace mlctl::deploy
