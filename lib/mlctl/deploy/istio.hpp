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

// Two versions of one model side by side in one environment, Istio routing between them.
struct TrafficSplit {
  ServedModel stable;
  ServedModel candidate;  // the same model, environment and namespace; another version
  int weight = 10;        // the candidate's percent, 0..100; the stable version gets the rest
  SplitMode mode = SplitMode::ab;
  std::optional<RouteHeader> route_header;  // ab only
};

// The objects of a traffic split, in apply order: the ServiceAccount; per version a Deployment,
// HorizontalPodAutoscaler and PodDisruptionBudget named <model>-v<version> whose pods carry the
// version label; the Service over both; the NetworkPolicy; a DestinationRule with a subset per
// version (v<version>, by the mlctl.dev/model-version label); a VirtualService for the Service's
// host whose routes send 100-weight / weight percent to the subsets (the weights always sum to
// 100), first sending a request with the route header to the candidate, or in shadow mode all
// to stable and mirroring `weight` percent to the candidate. Fails (invalid) on bad models (see
// check_served_model), the same version twice, models that differ in name or place, a weight
// outside 0..100, a route header that is not a lower-case HTTP header name, or a route header
// with shadow.
Result<std::vector<nlohmann::json>> render_istio(const TrafficSplit& split);

}  // namespace mlctl::deploy
