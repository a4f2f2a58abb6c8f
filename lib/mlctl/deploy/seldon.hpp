#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/deploy/istio.hpp>
#include <mlctl/deploy/k8s.hpp>

#include <vector>

#include <nlohmann/json.hpp>

// Seldon Core 2 (mlops.seldon.io/v1alpha1) serves the registered artifact itself: its servers
// (MLServer, Triton) copy it from storage and load it with the runtime the flavor names, so the
// serving image, CPU and GPU are not used (they belong to Seldon's Server).
namespace mlctl::deploy {

// One version as a Model named <model>-v<version>: storageUri the artifact's URI, requirements the
// flavor's runtime (sklearn, xgboost, lightgbm: MLServer; pytorch, tensorflow, onnx: Triton),
// memory the model's memory, replicas from the autoscaling (replicas and minReplicas the minimum).
// Fails (invalid) on a bad model (see check_served_model), the generic flavor (no Seldon runtime
// loads it), or an artifact Seldon cannot fetch (file:// is on this machine; oci:// is not a store
// rclone reads).
Result<std::vector<nlohmann::json>> render_seldon(const ServedModel& model);

// Two versions: both Models, then an Experiment named after the model whose default is the stable
// Model, so that requests to the stable Model's endpoint are split (without a candidate: the
// stable Model alone, as render_seldon(model)). ab: the candidates are the
// stable Model at 100 - weight and the candidate at weight (they sum to 100); shadow: the stable
// Model at 100 and the candidate as the mirror at `weight` percent. Fails on what render_istio
// refuses (the split's rules are the same), on either model as render_seldon(model) does, and on a
// route header (Seldon's experiments do not route by header).
Result<std::vector<nlohmann::json>> render_seldon(const TrafficSplit& split);

}  // namespace mlctl::deploy
