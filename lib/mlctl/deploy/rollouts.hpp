#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/deploy/k8s.hpp>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlctl::deploy {

// One step of a canary: send `weight` percent to the new version, then wait `pause` (a
// duration Argo Rollouts reads: "5m", "1h"; empty: until promoted by hand).
struct CanaryStep {
  int weight = 0;
  std::string pause;
};

// What aborts a bad canary: Prometheus' view of the Istio metrics of the model's Service.
struct CanaryAnalysis {
  std::string prometheus = "http://prometheus.istio-system:9090";
  double min_success_rate = 0.99;  // of requests answered without a 5xx
  int max_p95_latency_ms = 500;
};

// The new version of a model rolled out gradually by Argo Rollouts with Istio routing.
struct Canary {
  ServedModel model;  // the version to roll out; the one running now is Argo Rollouts' stable
  std::vector<CanaryStep> steps = {{10, "5m"}, {50, "10m"}};
  CanaryAnalysis analysis;
};

// The objects of a canary, in apply order: ServiceAccount; a Rollout named after the model (the
// pods as render_direct makes them; strategy canary with the steps, Istio traffic routing through
// the VirtualService route "primary" and the DestinationRule subsets "stable" and "canary", and
// the analysis running from the first step); the HorizontalPodAutoscaler scaling the Rollout;
// PodDisruptionBudget; Service; NetworkPolicy; the DestinationRule and VirtualService Argo
// Rollouts moves the weights in (all to stable until a rollout starts); and an AnalysisTemplate
// measuring the success rate and the 95th percentile latency every minute, failing the canary
// after two misses. Fails (invalid) on bad models, steps whose weights are outside 1..100 or do
// not rise, a bad pause, or thresholds outside their range.
Result<std::vector<nlohmann::json>> render_canary(const Canary& canary);

}  // namespace mlctl::deploy
