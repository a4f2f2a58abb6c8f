#include <mlctl/deploy/istio.hpp>

#include <mlctl/deploy/objects.hpp>

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace mlctl::deploy {

namespace {

std::string subset(const ServedModel& model) { return fmt::format("v{}", model.version); }

// The in-mesh name clients use, so the routes apply to every caller in the cluster.
std::string host(const ServedModel& model) {
  return fmt::format("{}.{}.svc.cluster.local", model.model, model.namespace_name);
}

Json destination(const ServedModel& model) {
  return {{"host", host(model)}, {"subset", subset(model)}, {"port", {{"number", 80}}}};
}

Json destination_rule(const TrafficSplit& split) {
  Json result = object("networking.istio.io/v1beta1", "DestinationRule", split.stable);
  auto version_subset = [](const ServedModel& model) {
    return Json{{"name", subset(model)}, {"labels", {{"mlctl.dev/model-version", std::to_string(model.version)}}}};
  };
  result["spec"] = {{"host", host(split.stable)},
                    {"subsets", {version_subset(split.stable), version_subset(split.candidate)}}};
  return result;
}

Json virtual_service(const TrafficSplit& split) {
  Json routes = Json::array();
  if (split.route_header)
    routes.push_back({{"name", "cohort"},
                      {"match", {{{"headers", {{split.route_header->name, {{"exact", split.route_header->value}}}}}}}},
                      {"route", {{{"destination", destination(split.candidate)}}}}});
  if (split.mode == SplitMode::shadow) {
    routes.push_back({{"name", "shadow"},
                      {"route", {{{"destination", destination(split.stable)}, {"weight", 100}}}},
                      {"mirror", {{"host", host(split.candidate)}, {"subset", subset(split.candidate)}, {"port", {{"number", 80}}}}},
                      {"mirrorPercentage", {{"value", split.weight}}}});
  } else {
    routes.push_back({{"name", "split"},
                      {"route",
                       {{{"destination", destination(split.stable)}, {"weight", 100 - split.weight}},
                        {{"destination", destination(split.candidate)}, {"weight", split.weight}}}}});
  }
  Json result = object("networking.istio.io/v1beta1", "VirtualService", split.stable);
  result["spec"] = {{"hosts", {host(split.stable)}}, {"http", routes}};
  return result;
}

bool header_name(std::string_view name) {
  auto ok = [](char c) { return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-'; };
  return !name.empty() && std::ranges::all_of(name, ok);
}

Result<void> check_split(const TrafficSplit& split) {
  for (const auto* model : {&split.stable, &split.candidate})
    if (auto ok = check_served_model(*model); !ok)
      return fail(Errc::invalid, fmt::format("{}: {}", model == &split.stable ? "stable" : "candidate",
                                             ok.error().message()), ok.error().hint());
  const ServedModel& a = split.stable;
  const ServedModel& b = split.candidate;
  if (a.model != b.model || a.environment != b.environment || a.namespace_name != b.namespace_name)
    return fail(Errc::invalid, fmt::format("a split is between versions of one model in one place, not {}/{}/{} and {}/{}/{}",
                                           a.model, a.environment, a.namespace_name, b.model, b.environment,
                                           b.namespace_name));
  if (a.version == b.version)
    return fail(Errc::invalid, fmt::format("the candidate is version {}, the stable version itself", b.version),
                "name another version with --candidate");
  if (split.weight < 0 || split.weight > 100)
    return fail(Errc::invalid, fmt::format("weight: {} is not a percentage (0..100)", split.weight));
  if (split.route_header) {
    if (split.mode == SplitMode::shadow)
      return fail(Errc::invalid, "a shadow gets a copy of the traffic; a route header would send users to it");
    if (!header_name(split.route_header->name) || split.route_header->value.empty())
      return fail(Errc::invalid, fmt::format("route header '{}={}': give a lower-case header name and a value",
                                             split.route_header->name, split.route_header->value));
  }
  return {};
}

}  // namespace

Result<std::vector<nlohmann::json>> render_istio(const TrafficSplit& split) {
  if (auto ok = check_split(split); !ok) return std::unexpected(ok.error());
  Workload stable = one_version(split.stable);
  Workload candidate = one_version(split.candidate);
  return std::vector<Json>{service_account(split.stable), deployment(stable),         deployment(candidate),
                           autoscaler(stable),            autoscaler(candidate),      disruption_budget(stable),
                           disruption_budget(candidate),  service(split.stable),      network_policy(split.stable),
                           destination_rule(split),       virtual_service(split)};
}

}  // namespace mlctl::deploy
