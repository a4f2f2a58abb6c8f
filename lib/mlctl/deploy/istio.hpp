#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/deploy/k8s.hpp>

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlctl::deploy {

enum class SplitMode {
  ab,      // the candidate answers `weight` percent of the requests
  shadow,  // the stable version answers every request; `weight` percent are also mirrored to the
           // candidate, whose answers are dropped
};

// A header that pins a cohort of users to the candidate (x-user-group=beta), whatever the weight.
struct RouteHeader {
  std::string name;
  std::string value;
};

// Two versions of one model side by side in one environment, Istio routing between them (or the
// stable one alone, the routing kept in place for the next candidate).
struct TrafficSplit {
  ServedModel stable;
  // The same model, environment and namespace, another version; none: the stable version alone
  // answers (100%), as after a rollout is promoted or aborted.
  std::optional<ServedModel> candidate;
  int weight = 10;        // the candidate's percent, 0..100; the stable version gets the rest
  SplitMode mode = SplitMode::ab;
  std::optional<RouteHeader> route_header;  // ab only
};

// The objects of a traffic split, in apply order: the ServiceAccount; the Deployments, then the
// HorizontalPodAutoscalers, then the PodDisruptionBudgets, one per version, named
// <model>-v<version>, whose pods carry the version label; the Service over all versions; the
// NetworkPolicy; a DestinationRule with a subset per version (v<version>, by the
// mlctl.dev/model-version label); a VirtualService for the Service's host whose routes send
// 100-weight / weight percent to the subsets (the weights always sum to 100), first sending a
// request with the route header to the candidate, or in shadow mode all to stable and mirroring
// `weight` percent to the candidate. Without a candidate, the stable subset gets 100. Fails
// (invalid) on bad models (see check_served_model), the same version twice, models that differ in
// name or place, a weight outside 0..100, a route header that is not a lower-case HTTP header
// name, or a route header with shadow or without a candidate.
Result<std::vector<nlohmann::json>> render_istio(const TrafficSplit& split);

// The rules every split keeps, whatever routes it (render_istio's failures, above).
Result<void> check_split(const TrafficSplit& split);

}  // namespace mlctl::deploy
