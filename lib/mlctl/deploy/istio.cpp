#include <mlctl/deploy/istio.hpp>

#include <mlctl/deploy/objects.hpp>

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace mlctl::deploy {

namespace {

std::string subset(const ServedModel& model) { return fmt::format("v{}", model.version); }

Json destination(const ServedModel& model) {
  return {{"host", mesh_host(model)}, {"subset", subset(model)}, {"port", {{"number", 80}}}};
}

Json destination_rule(const TrafficSplit& split) {
  Json result = object("networking.istio.io/v1beta1", "DestinationRule", split.stable);
  auto version_subset = [](const ServedModel& model) {
    return Json{{"name", subset(model)}, {"labels", {{"mlctl.dev/model-version", std::to_string(model.version)}}}};
  };
  Json subsets = {version_subset(split.stable)};
  if (split.candidate) subsets.push_back(version_subset(*split.candidate));
  result["spec"] = {{"host", mesh_host(split.stable)}, {"subsets", subsets}};
  return result;
}

Json routes(const TrafficSplit& split) {
  if (!split.candidate)
    return Json::array({{{"name", "split"}, {"route", {{{"destination", destination(split.stable)}, {"weight", 100}}}}}});
  const ServedModel& candidate = *split.candidate;
  Json result = Json::array();
  if (split.route_header)
    result.push_back({{"name", "cohort"},
                      {"match", {{{"headers", {{split.route_header->name, {{"exact", split.route_header->value}}}}}}}},
                      {"route", {{{"destination", destination(candidate)}}}}});
  if (split.mode == SplitMode::shadow) {
    Json mirror = destination(candidate);
    result.push_back({{"name", "shadow"},
                      {"route", {{{"destination", destination(split.stable)}, {"weight", 100}}}},
                      {"mirror", mirror},
                      {"mirrorPercentage", {{"value", split.weight}}}});
  } else {
    result.push_back({{"name", "split"},
                      {"route",
                       {{{"destination", destination(split.stable)}, {"weight", 100 - split.weight}},
                        {{"destination", destination(candidate)}, {"weight", split.weight}}}}});
  }
  return result;
}

Json virtual_service(const TrafficSplit& split) {
  Json result = object("networking.istio.io/v1beta1", "VirtualService", split.stable);
  result["spec"] = {{"hosts", {mesh_host(split.stable)}}, {"http", routes(split)}};
  return result;
}

bool header_name(std::string_view name) {
  auto ok = [](char c) { return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-'; };
  return !name.empty() && std::ranges::all_of(name, ok);
}

}  // namespace

Result<void> check_split(const TrafficSplit& split) {
  if (auto ok = check_served_model(split.stable); !ok)
    return fail(Errc::invalid, fmt::format("stable: {}", ok.error().message()), ok.error().hint());
  if (!split.candidate) {
    if (split.route_header) return fail(Errc::invalid, "a route header sends a cohort to a candidate: name one");
    return {};
  }
  const ServedModel& a = split.stable;
  const ServedModel& b = *split.candidate;
  if (auto ok = check_served_model(b); !ok)
    return fail(Errc::invalid, fmt::format("candidate: {}", ok.error().message()), ok.error().hint());
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

Result<std::vector<nlohmann::json>> render_istio(const TrafficSplit& split) {
  if (auto ok = check_split(split); !ok) return std::unexpected(ok.error());
  std::vector<Workload> versions{one_version(split.stable)};
  if (split.candidate) versions.push_back(one_version(*split.candidate));
  std::vector<Json> objects{service_account(split.stable)};
  for (const auto& make : {deployment, autoscaler, disruption_budget})
    for (const Workload& workload : versions) objects.push_back(make(workload));
  for (Json object : {service(split.stable), network_policy(split.stable), destination_rule(split), virtual_service(split)})
    objects.push_back(std::move(object));
  return objects;
}

}  // namespace mlctl::deploy
