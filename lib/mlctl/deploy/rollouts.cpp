#include <mlctl/deploy/rollouts.hpp>

#include <mlctl/deploy/objects.hpp>

#include <mlctl/core/quantity.hpp>

#include <fmt/format.h>

namespace mlctl::deploy {

namespace {

Json rollout(const Canary& canary) {
  const ServedModel& model = canary.model;
  // The pods exactly as the direct strategy runs them.
  Json pods = deployment(whole_model(model));
  Json steps = Json::array();
  for (const auto& step : canary.steps) {
    steps.push_back({{"setWeight", step.weight}});
    steps.push_back({{"pause", step.pause.empty() ? Json::object() : Json{{"duration", step.pause}}}});
  }
  Json result = object("argoproj.io/v1alpha1", "Rollout", model);
  result["spec"] = {
      {"replicas", pods["spec"]["replicas"]},
      {"revisionHistoryLimit", pods["spec"]["revisionHistoryLimit"]},
      {"selector", pods["spec"]["selector"]},
      {"template", pods["spec"]["template"]},
      {"strategy",
       {{"canary",
         {{"steps", steps},
          {"trafficRouting",
           {{"istio",
             {{"virtualService", {{"name", model.model}, {"routes", {"primary"}}}},
              {"destinationRule",
               {{"name", model.model}, {"canarySubsetName", "canary"}, {"stableSubsetName", "stable"}}}}}}},
          {"analysis",
           {{"templates", {{{"templateName", model.model}}}},
            {"startingStep", 1},
            {"args", {{{"name", "service"}, {"value", mesh_host(model)}}}}}}}}}}};
  return result;
}

Json rollout_autoscaler(const ServedModel& model) {
  Json result = autoscaler(whole_model(model));
  result["spec"]["scaleTargetRef"] = {{"apiVersion", "argoproj.io/v1alpha1"}, {"kind", "Rollout"}, {"name", model.model}};
  return result;
}

// Argo Rollouts adds the pod template hash to each subset's labels as it goes.
Json destination_rule(const ServedModel& model) {
  Json result = object("networking.istio.io/v1beta1", "DestinationRule", model);
  result["spec"] = {{"host", mesh_host(model)},
                    {"subsets", {{{"name", "stable"}, {"labels", selector_labels(model)}},
                                 {{"name", "canary"}, {"labels", selector_labels(model)}}}}};
  return result;
}

Json virtual_service(const ServedModel& model) {
  auto to = [&](const char* subset, int weight) {
    return Json{{"destination", {{"host", mesh_host(model)}, {"subset", subset}, {"port", {{"number", 80}}}}}, {"weight", weight}};
  };
  Json result = object("networking.istio.io/v1beta1", "VirtualService", model);
  result["spec"] = {{"hosts", {mesh_host(model)}}, {"http", {{{"name", "primary"}, {"route", {to("stable", 100), to("canary", 0)}}}}}};
  return result;
}

Json analysis_template(const Canary& canary) {
  const CanaryAnalysis& analysis = canary.analysis;
  auto prometheus = [&](std::string query) {
    return Json{{"prometheus", {{"address", analysis.prometheus}, {"query", std::move(query)}}}};
  };
  const char* service = "destination_service=\"{{args.service}}\"";
  Json result = object("argoproj.io/v1alpha1", "AnalysisTemplate", canary.model);
  result["spec"] = {
      {"args", {{{"name", "service"}}}},
      {"metrics",
       {{{"name", "success-rate"},
         {"interval", "1m"},
         {"failureLimit", 2},
         {"successCondition", fmt::format("result[0] >= {}", analysis.min_success_rate)},
         {"provider", prometheus(fmt::format("sum(rate(istio_requests_total{{{},response_code!~\"5.*\"}}[2m])) / "
                                             "sum(rate(istio_requests_total{{{}}}[2m]))",
                                             service, service))}},
        {{"name", "latency-p95"},
         {"interval", "1m"},
         {"failureLimit", 2},
         {"successCondition", fmt::format("result[0] <= {}", analysis.max_p95_latency_ms)},
         {"provider", prometheus(fmt::format("histogram_quantile(0.95, sum(rate("
                                             "istio_request_duration_milliseconds_bucket{{{}}}[2m])) by (le))",
                                             service))}}}}};
  return result;
}

Result<void> check_canary(const Canary& canary) {
  if (auto ok = check_served_model(canary.model); !ok) return ok;
  if (canary.steps.empty()) return fail(Errc::invalid, "a canary needs at least one step");
  int previous = 0;
  for (size_t i = 0; i < canary.steps.size(); ++i) {
    const CanaryStep& step = canary.steps[i];
    if (step.weight < 1 || step.weight > 100 || step.weight <= previous)
      return fail(Errc::invalid, fmt::format("canary step {}: weight {} must rise, within 1..100", i + 1, step.weight));
    if (!step.pause.empty())
      if (auto ok = core::check_pause(step.pause); !ok)
        return fail(Errc::invalid, fmt::format("canary step {}: pause {}", i + 1, ok.error().message()),
                    ok.error().hint());
    previous = step.weight;
  }
  const CanaryAnalysis& analysis = canary.analysis;
  if (!analysis.prometheus.starts_with("http://") && !analysis.prometheus.starts_with("https://"))
    return fail(Errc::invalid, fmt::format("the Prometheus address '{}' is not an http(s) URL", analysis.prometheus));
  if (analysis.min_success_rate <= 0 || analysis.min_success_rate > 1)
    return fail(Errc::invalid, fmt::format("success rate {} is not within (0, 1]", analysis.min_success_rate));
  if (analysis.max_p95_latency_ms < 1)
    return fail(Errc::invalid, fmt::format("latency {} ms is not above 0", analysis.max_p95_latency_ms));
  return {};
}

}  // namespace

Result<std::vector<nlohmann::json>> render_canary(const Canary& canary) {
  if (auto ok = check_canary(canary); !ok) return std::unexpected(ok.error());
  const ServedModel& model = canary.model;
  return std::vector<Json>{service_account(model),    rollout(canary),         rollout_autoscaler(model),
                           disruption_budget(whole_model(model)), service(model), network_policy(model),
                           destination_rule(model),   virtual_service(model),  analysis_template(canary)};
}

}  // namespace mlctl::deploy
