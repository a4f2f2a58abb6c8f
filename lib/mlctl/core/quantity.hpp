#pragma once

#include <mlctl/core/error.hpp>

#include <string_view>

namespace mlctl::core {

// Kubernetes quantities for a container's resources: CPU as "2", "0.5" or "500m";
// memory as "512Mi", "4Gi" or "1G". Fail (invalid) with a hint on how to write one.
Result<void> check_cpu(std::string_view quantity);
Result<void> check_memory(std::string_view quantity);
// A pause as Argo Rollouts reads it: one or more NUMBER+UNIT, units s, m, h ("30s", "5m", "1h30m").
Result<void> check_pause(std::string_view duration);

}  // namespace mlctl::core
