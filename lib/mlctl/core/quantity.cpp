#include <mlctl/core/quantity.hpp>

#include <regex>
#include <string>

#include <fmt/format.h>

namespace mlctl::core {

namespace {

Result<void> check_quantity(std::string_view quantity, const std::regex& pattern, std::string_view what,
                            std::string_view hint) {
  if (!std::regex_match(quantity.begin(), quantity.end(), pattern))
    return fail(Errc::invalid, fmt::format("'{}' is not a {} quantity", quantity, what), std::string(hint));
  return {};
}

}  // namespace

Result<void> check_cpu(std::string_view quantity) {
  static const std::regex k_cpu(R"(([0-9]+(\.[0-9]+)?|\.[0-9]+)m?)");
  return check_quantity(quantity, k_cpu, "CPU", "write cores (\"2\", \"0.5\") or millicores (\"500m\")");
}

Result<void> check_memory(std::string_view quantity) {
  static const std::regex k_memory(R"(([0-9]+(\.[0-9]+)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?)");
  return check_quantity(quantity, k_memory, "memory",
                        "write bytes with a suffix: Ki, Mi, Gi (powers of 1024) or k, M, G (powers of 1000), "
                        "e.g. 512Mi or 4Gi");
}

Result<void> check_pause(std::string_view duration) {
  static const std::regex k_duration(R"(([0-9]+(s|m|h))+)");
  if (!std::regex_match(duration.begin(), duration.end(), k_duration))
    return fail(Errc::invalid, fmt::format("'{}' is not a duration", duration),
                "write a number and a unit, s, m or h: 30s, 5m, 1h30m");
  return {};
}

}  // namespace mlctl::core
