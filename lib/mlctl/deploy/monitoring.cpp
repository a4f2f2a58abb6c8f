#include <mlctl/deploy/monitoring.hpp>

#include <mlctl/deploy/objects.hpp>

namespace mlctl::deploy {

Result<nlohmann::json> service_monitor(const ServedModel& model) {
  if (auto ok = check_served_model(model); !ok) return std::unexpected(ok.error());
  Json result = object("monitoring.coreos.com/v1", "ServiceMonitor", model);
  result["spec"] = {{"selector", {{"matchLabels", selector_labels(model)}}},
                    {"podTargetLabels", {"mlctl.dev/model-version"}},
                    {"endpoints", {{{"port", "http"}, {"path", "/metrics"}, {"interval", "30s"}, {"scheme", "http"}}}}};
  return result;
}

}  // namespace mlctl::deploy
