#include "deploy_render.hpp"

#include <mlctl/core/fs.hpp>
#include <mlctl/deploy/istio.hpp>

#include <algorithm>
#include <vector>

#include <fmt/format.h>

namespace mlctl::cli {

namespace fs = std::filesystem;

namespace {

const core::Environment& find_environment(const core::Project& project, const std::string& name) {
  std::vector<std::string> names;
  for (const auto& env : project.environments) {
    if (env.name == name) return env;
    names.push_back(env.name);
  }
  throw Fatal{Error(Errc::not_found, fmt::format("no environment '{}' in mlctl.yaml", name),
                    names.empty() ? "add one under 'environments:' with its namespace and branch"
                                  : fmt::format("its environments: {}", fmt::join(names, ", ")))};
}

constexpr std::string_view k_kustomization_header =
    "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n";

std::string base_kustomization() {
  return fmt::format("# Objects every environment shares (a ConfigMap, a PriorityClass...): list them here.\n"
                     "# mlctl writes this file once and never changes it.\n{}resources: []\n",
                     k_kustomization_header);
}

// The overlay's kustomization: the namespace, the base, and every model file of the overlay.
std::string overlay_kustomization(const fs::path& overlay, const std::string& namespace_name,
                                  std::vector<std::string> model_files) {
  std::vector<std::string> files = unwrap(core::list_files(overlay, ".yaml"));  // sorted
  std::erase(files, "kustomization.yaml");
  std::sort(model_files.begin(), model_files.end());
  auto listed = static_cast<std::ptrdiff_t>(files.size());
  files.insert(files.end(), std::make_move_iterator(model_files.begin()), std::make_move_iterator(model_files.end()));
  std::inplace_merge(files.begin(), files.begin() + listed, files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  std::string text = fmt::format("# Written by mlctl deploy render and mlctl rollout.\n{}namespace: {}\nresources:\n"
                                 "- ../../base\n",
                                 k_kustomization_header, namespace_name);
  for (const auto& file : files) text.append("- ").append(file).append("\n");
  return text;
}

}  // namespace

DeployPlace deploy_place(const Context& context, const std::string& registry_db, const std::string& environment,
                         const std::string& tool_image) {
  DeployPlace place{.registry = locate_registry(context, {.database = registry_db, .artifacts = {}}),
                    .environment = {},
                    .tool_image = tool_image};
  if (!place.registry.project)
    throw Fatal{Error(Errc::not_found, "no mlctl.yaml here or above: its environments name the namespaces",
                      "run in a project, or pass --config FILE")};
  place.environment = find_environment(*place.registry.project, environment);
  return place;
}

deploy::ServedModel served_model(const DeployPlace& place, models::Registry& registry, const std::string& ref,
                                 const std::string& image) {
  models::VersionRecord version = unwrap(registry.version(unwrap(models::parse_ref(ref))));
  const core::Environment& env = place.environment;
  std::string served_image = image.empty() ? version.lineage.value("image", "") : image;
  if (served_image.empty())
    throw Fatal{Error(Errc::precondition,
                      fmt::format("{} version {} records no serving image", version.name, version.version),
                      "register it with --image REF@DIGEST (as `mlctl build --push` prints it), or pass --image")};
  const core::ServingConfig& serving = place.registry.project->serving;
  return {.project = place.registry.project->name,
          .model = version.name,
          .version = version.version,
          .artifact_digest = version.artifact.digest,
          .artifact_uri = version.artifact.uri,
          .artifact_directory = version.artifact.directory,
          .flavor = version.flavor,
          .image = served_image,
          .environment = env.name,
          .namespace_name = env.namespace_name,
          .resources = {.cpu = serving.cpu, .memory = serving.memory, .gpu = serving.gpu},
          .autoscaling = {.min_replicas = serving.min_replicas,
                          .max_replicas = serving.max_replicas,
                          .cpu_utilization = serving.cpu_utilization},
          .packaging = unwrap(deploy::parse_packaging(place.registry.project->model.packaging)),
          .tool_image = place.tool_image};
}

deploy::Canary configured_canary(const DeployPlace& place, deploy::ServedModel model) {
  const core::ServingConfig& serving = place.registry.project->serving;
  deploy::Canary canary;  // mlctl's steps and analysis unless mlctl.yaml says otherwise
  canary.model = std::move(model);
  if (!serving.canary_steps.empty()) {
    canary.steps.clear();
    for (const auto& [weight, pause] : serving.canary_steps) canary.steps.push_back({weight, pause});
  }
  if (!serving.prometheus.empty()) canary.analysis.prometheus = serving.prometheus;
  if (serving.min_success_rate) canary.analysis.min_success_rate = *serving.min_success_rate;
  if (serving.max_p95_latency_ms) canary.analysis.max_p95_latency_ms = *serving.max_p95_latency_ms;
  return canary;
}

std::vector<nlohmann::json> render_rollout(const DeployPlace& place, models::Registry& registry,
                                           const models::RolloutState& state) {
  auto version = [&](std::int64_t number) {
    return served_model(place, registry, fmt::format("{}@{}", state.name, number));
  };
  if (state.strategy == "canary") {
    if (!state.candidate) return unwrap(deploy::render_canary(configured_canary(place, version(state.stable))));
    deploy::Canary canary = configured_canary(place, version(*state.candidate));
    canary.steps = {{state.weight, ""}};  // held there until promoted or aborted
    return unwrap(deploy::render_canary(canary));
  }
  deploy::TrafficSplit split{.stable = version(state.stable),
                             .candidate = std::nullopt,
                             .weight = state.weight,
                             .mode = deploy::SplitMode::ab,
                             .route_header = std::nullopt};
  if (state.candidate) split.candidate = version(*state.candidate);
  return unwrap(deploy::render_istio(split));
}

void add_tool_image_option(CLI::App* command, std::string& tool_image) {
  command->add_option("--tool-image", tool_image, "model.packaging init: the mlctl image that fetches the model")
      ->envname("MLCTL_TOOL_IMAGE")
      ->option_text("REF@DIGEST");
}

ManifestFiles write_manifests(const ManifestTarget& target, std::span<const ModelManifest> models, bool check) {
  ManifestFiles result;
  std::vector<std::pair<fs::path, std::string>> writes;
  auto put = [&](const fs::path& file, std::string content) {
    result.files.push_back(file.string());
    auto on_disk = core::read_file(file);
    if (on_disk && *on_disk == content) return;
    result.changed.push_back(file.string());
    if (!check) writes.emplace_back(file, std::move(content));
  };
  std::error_code ec;
  bool layout = target.path.ends_with('/') || fs::is_directory(target.path, ec);
  if (layout) {
    fs::path root(target.path);
    fs::path base = root / "base" / "kustomization.yaml";
    if (!fs::exists(base, ec)) put(base, base_kustomization());
    fs::path overlay = root / "overlays" / target.environment;
    std::vector<std::string> model_files;
    for (const auto& model : models) {
      model_files.push_back(model.model + ".yaml");
      put(overlay / (model.model + ".yaml"), model.yaml);
    }
    put(overlay / "kustomization.yaml", overlay_kustomization(overlay, target.namespace_name, std::move(model_files)));
  } else {
    std::string all;
    for (const auto& model : models) all += (all.empty() ? "" : "---\n") + model.yaml;
    put(target.path, std::move(all));
  }
  std::vector<core::FileContent> contents;
  for (const auto& [file, content] : writes) contents.push_back({.path = file, .content = content});
  unwrap(core::write_files_atomic(contents));
  return result;
}

}  // namespace mlctl::cli
