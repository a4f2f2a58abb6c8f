#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/deploy/k8s.hpp>

#include <nlohmann/json.hpp>

namespace mlctl::deploy {

// A Prometheus Operator ServiceMonitor (monitoring.coreos.com/v1) named after the model, in its
// namespace, that selects the model's Service (the one render_direct, render_istio and
// render_canary make) by its selector labels and scrapes /metrics through its port "http" every
// 30 seconds, copying the pods' model-version label onto the series so that two versions side by
// side can be told apart. Fails (invalid) on a bad model (see check_served_model).
Result<nlohmann::json> service_monitor(const ServedModel& model);

}  // namespace mlctl::deploy
