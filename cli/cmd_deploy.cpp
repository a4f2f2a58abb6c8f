#include "context.hpp"
#include "deploy_render.hpp"

#include <mlctl/deploy/istio.hpp>
#include <mlctl/deploy/kserve.hpp>
#include <mlctl/deploy/monitoring.hpp>
#include <mlctl/deploy/seldon.hpp>

#include <algorithm>
#include <iterator>
#include <map>
#include <optional>

#include <fmt/format.h>

namespace mlctl::cli {

namespace {

struct DeployFlags {
  std::vector<std::string> refs;
  std::string environment;
  std::string image;
  std::string output;
  std::string registry_db;
  bool check = false;
  std::string strategy = "direct";
  std::string target;  // empty: the strategy's own (see default_target)
  std::string candidate;
  int weight = 10;
  std::string route_header;
  std::string kserve_mode = "serverless";
  std::string tool_image;
  bool service_monitor = false;
};

// What each target can do, and the target each strategy renders for unless told otherwise.
struct Target {
  std::string_view name;
  std::string_view who;  // for messages
  std::vector<std::string_view> strategies;
};
const std::vector<Target> k_targets = {
    {"k8s", "plain Kubernetes", {"direct"}},
    {"istio", "Istio", {"ab", "shadow"}},
    {"argo-rollouts", "Argo Rollouts", {"canary"}},
    {"kserve", "KServe", {"direct", "canary"}},
    {"seldon", "Seldon Core 2", {"direct", "ab", "shadow"}},
};

std::string default_target(const std::string& strategy) {
  if (strategy == "direct") return "k8s";
  if (strategy == "canary") return "argo-rollouts";
  return "istio";
}

// What --strategy, --target and the flags of both ask for, checked before anything is read.
void check_strategy(const DeployFlags& flags) {
  const std::string& strategy = flags.strategy;
  if (strategy != "direct" && strategy != "ab" && strategy != "shadow" && strategy != "canary")
    throw Fatal{Error(Errc::invalid, fmt::format("--strategy {}: expected direct, ab, shadow or canary", strategy))};
  std::string target = flags.target.empty() ? default_target(strategy) : flags.target;
  auto found = std::ranges::find(k_targets, target, &Target::name);
  if (found == k_targets.end())
    throw Fatal{Error(Errc::invalid,
                      fmt::format("--target {}: expected k8s, istio, argo-rollouts, kserve or seldon", target))};
  if (std::ranges::find(found->strategies, strategy) == found->strategies.end()) {
    std::vector<std::string_view> can;
    for (const auto& other : k_targets)
      if (std::ranges::find(other.strategies, strategy) != other.strategies.end()) can.push_back(other.name);
    throw Fatal{Error(Errc::invalid,
                      fmt::format("{} cannot do --strategy {}: it does {}", found->who, strategy,
                                  fmt::join(found->strategies, ", ")),
                      fmt::format("use --target {}", fmt::join(can, " or ")))};
  }
  bool split = strategy == "ab" || strategy == "shadow";
  if (!split && (!flags.candidate.empty() || !flags.route_header.empty()))
    throw Fatal{Error(Errc::invalid, "--candidate and --route-header are for --strategy ab or shadow",
                      strategy == "canary" ? "a canary rolls out the version MODEL names" : "")};
  if (split && flags.candidate.empty())
    throw Fatal{Error(Errc::invalid, fmt::format("--strategy {} needs --candidate @VERSION", strategy))};
  if (flags.weight < 0 || flags.weight > 100)
    throw Fatal{Error(Errc::invalid, fmt::format("--weight {}: the candidate's percent is 0..100", flags.weight))};
  if (flags.kserve_mode != "serverless" && flags.kserve_mode != "raw-deployment")
    throw Fatal{Error(Errc::invalid,
                      fmt::format("--kserve-mode {}: expected serverless or raw-deployment", flags.kserve_mode))};
  if (target != "kserve" && flags.kserve_mode != "serverless")
    throw Fatal{Error(Errc::invalid, "--kserve-mode is for --target kserve")};
  if (flags.service_monitor && target == "seldon")
    throw Fatal{Error(Errc::invalid, "--service-monitor watches a Service mlctl renders; Seldon's servers are Seldon's")};
}

std::optional<deploy::RouteHeader> route_header(const std::string& text) {
  if (text.empty()) return std::nullopt;
  auto equals = text.find('=');
  if (equals == std::string::npos)
    throw Fatal{Error(Errc::invalid, fmt::format("--route-header {}: expected NAME=VALUE", text))};
  return deploy::RouteHeader{text.substr(0, equals), text.substr(equals + 1)};
}

deploy::TrafficSplit traffic_split(const DeployFlags& flags, const DeployPlace& place, models::Registry& registry,
                                   const deploy::ServedModel& model) {
  std::string candidate = flags.candidate.starts_with('@') ? flags.candidate : "@" + flags.candidate;
  return {.stable = model,
          .candidate = served_model(place, registry, model.model + candidate),
          .weight = flags.weight,
          .mode = flags.strategy == "ab" ? deploy::SplitMode::ab : deploy::SplitMode::shadow,
          .route_header = route_header(flags.route_header)};
}

std::vector<nlohmann::json> render(Context& context, const DeployFlags& flags, const DeployPlace& place,
                                   models::Registry& registry, const deploy::ServedModel& model) {
  std::string target = flags.target.empty() ? default_target(flags.strategy) : flags.target;
  if (target == "kserve") {
    deploy::KServeService service{
        .model = model,
        .mode = flags.kserve_mode == "serverless" ? deploy::KServeMode::serverless : deploy::KServeMode::raw_deployment,
        .canary_percent = flags.strategy == "canary" ? std::optional<int>(flags.weight) : std::nullopt};
    if (deploy::canary_ignored(service))
      context.print_warning("KServe ignores canaryTrafficPercent in RawDeployment mode: this version takes all "
                              "the traffic once ready (use --kserve-mode serverless for a canary)");
    return unwrap(deploy::render_kserve(service));
  }
  if (target == "seldon")
    return flags.strategy == "direct" ? unwrap(deploy::render_seldon(model))
                                      : unwrap(deploy::render_seldon(traffic_split(flags, place, registry, model)));
  std::vector<nlohmann::json> objects =
      flags.strategy == "direct"   ? unwrap(deploy::render_direct(model))
      : flags.strategy == "canary" ? unwrap(deploy::render_canary(configured_canary(place, model)))
                                   : unwrap(deploy::render_istio(traffic_split(flags, place, registry, model)));
  if (flags.service_monitor) objects.push_back(unwrap(deploy::service_monitor(model)));
  return objects;
}

nlohmann::json render_summary(const DeployFlags& flags, const deploy::ServedModel& model, size_t objects) {
  nlohmann::json summary = {{"model", model.model},         {"version", model.version},
                            {"environment", model.environment}, {"namespace", model.namespace_name},
                            {"image", model.image},         {"objects", objects},
                            {"strategy", flags.strategy}};
  if (flags.strategy == "ab" || flags.strategy == "shadow") {
    summary["candidate"] = flags.candidate;
    summary["weight"] = flags.weight;
  }
  return summary;
}

void run_render(Context& context, const DeployFlags& flags) {
  if (flags.check && flags.output.empty())
    throw Fatal{Error(Errc::invalid, "--check compares with what is on disk: give it with -o FILE|DIR/")};
  if (flags.refs.size() > 1 && !flags.image.empty())
    throw Fatal{Error(Errc::invalid, "--image is one model's image: render that model on its own")};
  check_strategy(flags);
  DeployPlace place = deploy_place(context, flags.registry_db, flags.environment, flags.tool_image);
  models::Registry registry = open_registry(place.registry);
  std::vector<ModelManifest> manifests;
  std::vector<nlohmann::json> objects;  // printed when there is no -o
  std::size_t object_count = 0;
  nlohmann::json renders = nlohmann::json::array();
  std::map<std::string, std::string> refs_by_model;
  for (const auto& ref : flags.refs) {
    deploy::ServedModel model = served_model(place, registry, ref, flags.image);
    if (auto [at, added] = refs_by_model.emplace(model.model, ref); !added)
      throw Fatal{Error(Errc::invalid, fmt::format("{} and {} are the same model: render one version of a model at a time",
                                                   at->second, ref))};
    auto rendered = render(context, flags, place, registry, model);
    renders.push_back(render_summary(flags, model, rendered.size()));
    object_count += rendered.size();
    if (flags.output.empty()) std::move(rendered.begin(), rendered.end(), std::back_inserter(objects));
    else manifests.push_back({.model = model.model, .yaml = deploy::manifest_yaml(rendered)});
  }
  if (flags.output.empty()) {
    context.print(objects, deploy::manifest_yaml(objects));
    return;
  }
  ManifestFiles files = write_manifests({.path = flags.output,
                                         .environment = place.environment.name,
                                         .namespace_name = place.environment.namespace_name},
                                        manifests, flags.check);
  bool one = renders.size() == 1;
  nlohmann::json summary = one ? renders[0]
                               : nlohmann::json{{"environment", place.environment.name},
                                                {"namespace", place.environment.namespace_name},
                                                {"models", renders}};
  summary["files"] = files.files;
  summary["changed"] = files.changed;
  std::string what = one ? fmt::format("{}@{}", renders[0]["model"].get<std::string>(), renders[0]["version"].get<int64_t>())
                         : fmt::format("the {} models", renders.size());
  if (flags.check) {
    summary["up_to_date"] = files.changed.empty();
    if (files.changed.empty()) return context.print(summary, fmt::format("{}: up to date", flags.output));
    context.print(summary, "");
    throw Fatal{Error(Errc::precondition,
                      fmt::format("{} differs from what {} renders for {}", fmt::join(files.changed, ", "), what,
                                  place.environment.name),
                      "render it again (without --check) and commit the result")};
  }
  if (one) {
    std::string rendered = fmt::format("{} version {} for {} ({} objects)", renders[0]["model"].get<std::string>(),
                                       renders[0]["version"].get<int64_t>(), place.environment.name, object_count);
    if (files.changed.empty())
      return context.print(summary, fmt::format("{}: up to date, nothing written ({})", flags.output, rendered));
    return context.print(summary, fmt::format("wrote {}: {}", fmt::join(files.changed, ", "), rendered));
  }
  context.print(summary, fmt::format("wrote {} models for {} ({} objects) to {}: {} of {} files changed", renders.size(),
                                     place.environment.name, object_count, flags.output, files.changed.size(),
                                     files.files.size()));
}

}  // namespace

void add_deploy(CLI::App& app) {
  auto flags = std::make_shared<DeployFlags>();
  CLI::App* group = app.add_subcommand("deploy", "Serving manifests for a registered model: Kubernetes, Istio A/B, canaries");
  group->require_subcommand(0, 1);
  group->footer(R"(Examples:
  mlctl deploy render fraud-detector@production --env prod
  mlctl deploy render fraud-detector@production --env prod -o deploy/prod.yaml
  mlctl deploy render fraud-detector@production --env prod -o deploy/prod.yaml --check   # exit 4 on drift
  mlctl deploy render fraud-detector@production --env prod -o deploy/   # base/ + overlays/prod/
  mlctl deploy render fraud-detector@production churn@production --env prod -o deploy/   # several at once
  mlctl deploy render fraud-detector@production --env prod --strategy ab --candidate @4 --weight 10
  mlctl deploy render fraud-detector@4 --env prod --strategy canary
  mlctl deploy render fraud-detector@4 --env prod --strategy canary --target kserve --weight 20
  mlctl deploy render fraud-detector@production --env prod --strategy ab --candidate @4 --target seldon)");

  CLI::App* render = group->add_subcommand(
      "render", "Render the Kubernetes objects that serve a model version in an environment");
  render->add_option("model", flags->refs, "NAME, NAME@VERSION or NAME@ALIAS; several render together (one process, one write)")
      ->required();
  render->add_option("--env", flags->environment, "The environment (from mlctl.yaml): its namespace")
      ->required()
      ->option_text("ENV");
  render->add_option("--image", flags->image, "The serving image (default: the one registered with the version)")
      ->option_text("REF@DIGEST");
  render->add_option("-o,--output-file", flags->output,
                     "Write the manifests to FILE, or a kustomize layout to DIR/ (default: stdout)")
      ->option_text("FILE|DIR/");
  render->add_flag("--check", flags->check, "Compare with -o instead of writing; exit 4 when it differs");
  render->add_option("--strategy", flags->strategy,
                     "direct (default), ab (a weighted split), shadow (mirroring) or canary (stepped, with analysis)")
      ->option_text("direct|ab|shadow|canary");
  render->add_option("--target", flags->target,
                     "k8s (direct), istio (ab, shadow), argo-rollouts (canary), kserve (direct, canary) or seldon "
                     "(direct, ab, shadow); default: the first that does the strategy")
      ->option_text("TARGET");
  render->add_option("--candidate", flags->candidate, "ab, shadow: the version tried next to MODEL's")
      ->option_text("@VERSION|@ALIAS");
  render->add_option("--weight", flags->weight,
                     "ab, shadow, kserve canary: the candidate's percent of the traffic (default 10)")
      ->option_text("N");
  render->add_option("--kserve-mode", flags->kserve_mode,
                     "kserve: serverless (Knative, default) or raw-deployment (no canary)")
      ->option_text("serverless|raw-deployment");
  render->add_flag("--service-monitor", flags->service_monitor,
                   "Add a Prometheus Operator ServiceMonitor (the pods also carry scrape annotations)");
  render->add_option("--route-header", flags->route_header, "ab: requests with this header go to the candidate")
      ->option_text("NAME=VALUE");
  add_tool_image_option(render, flags->tool_image);
  add_registry_db_option(render, flags->registry_db);
  on_run(render, [flags](Context& context) { run_render(context, *flags); });
}

}  // namespace mlctl::cli
