#include <mlctl/deploy/seldon.hpp>

#include <mlctl/deploy/objects.hpp>

#include <algorithm>
#include <array>
#include <string_view>

#include <fmt/format.h>

namespace mlctl::deploy {

namespace {

// The flavors a Seldon Core 2 server loads, each the capability it asks for (MLServer: sklearn,
// xgboost, lightgbm; Triton: pytorch, tensorflow, onnx).
constexpr std::array<std::string_view, 6> k_runtimes = {"sklearn", "xgboost",    "lightgbm",
                                                       "pytorch", "tensorflow", "onnx"};

std::string model_name(const ServedModel& model) { return one_version(model).name; }

Json seldon_model(const ServedModel& model) {
  Json result = object("mlops.seldon.io/v1alpha1", "Model", model, model_name(model));
  result["spec"] = {{"storageUri", model.artifact_uri},
                    {"requirements", {model.flavor}},
                    {"memory", model.resources.memory},
                    {"replicas", model.autoscaling.min_replicas},
                    {"minReplicas", model.autoscaling.min_replicas},
                    {"maxReplicas", model.autoscaling.max_replicas}};
  return result;
}

// Only for a split with a candidate.
Json experiment(const TrafficSplit& split) {
  const ServedModel& candidate = *split.candidate;
  auto weighted = [](const ServedModel& model, int weight) {
    return Json{{"name", model_name(model)}, {"weight", weight}};
  };
  Json spec = {{"default", model_name(split.stable)}};
  if (split.mode == SplitMode::shadow) {
    spec["candidates"] = {weighted(split.stable, 100)};
    spec["mirror"] = {{"name", model_name(candidate)}, {"percent", split.weight}};
  } else {
    spec["candidates"] = {weighted(split.stable, 100 - split.weight), weighted(candidate, split.weight)};
  }
  Json result = object("mlops.seldon.io/v1alpha1", "Experiment", split.stable);
  result["spec"] = spec;
  return result;
}

Result<void> check_model(const ServedModel& model) {
  if (auto ok = check_served_model(model); !ok) return ok;
  if (std::ranges::find(k_runtimes, model.flavor) == k_runtimes.end())
    return fail(Errc::invalid,
                fmt::format("flavor: Seldon has no runtime for '{}' models (it serves {})", model.flavor,
                            fmt::join(k_runtimes, ", ")),
                "serve it from its image with --target k8s or kserve");
  if (model.artifact_uri.starts_with("file://") || model.artifact_uri.starts_with("oci://") ||
      model.artifact_uri.find("://") == std::string::npos)
    return fail(Errc::invalid,
                fmt::format("artifact uri: Seldon's servers cannot fetch '{}'", model.artifact_uri),
                "register the model with an s3:// artifact store (Seldon copies artifacts with rclone)");
  return {};
}

Result<void> check_seldon_split(const TrafficSplit& split) {
  if (split.route_header)
    return fail(Errc::invalid, fmt::format("route header '{}': Seldon's experiments split by weight only",
                                           split.route_header->name));
  if (auto ok = check_split(split); !ok) return ok;
  if (auto ok = with_context(check_model(split.stable), "stable"); !ok || !split.candidate) return ok;
  return with_context(check_model(*split.candidate), "candidate");
}

}  // namespace

Result<std::vector<nlohmann::json>> render_seldon(const ServedModel& model) {
  if (auto ok = check_model(model); !ok) return std::unexpected(ok.error());
  return std::vector<Json>{seldon_model(model)};
}

Result<std::vector<nlohmann::json>> render_seldon(const TrafficSplit& split) {
  if (auto ok = check_seldon_split(split); !ok) return std::unexpected(ok.error());
  if (!split.candidate) return std::vector<Json>{seldon_model(split.stable)};
  return std::vector<Json>{seldon_model(split.stable), seldon_model(*split.candidate), experiment(split)};
}

}  // namespace mlctl::deploy
