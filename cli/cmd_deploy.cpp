#include "context.hpp"
#include "deploy_render.hpp"

#include <mlctl/deploy/istio.hpp>

#include <optional>

#include <fmt/format.h>

namespace mlctl::cli {

namespace {

struct DeployFlags {
  std::string ref;
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
};

// The target each strategy renders for unless told otherwise.
std::string default_target(const std::string& strategy) {
  if (strategy == "direct") return "k8s";
  if (strategy == "canary") return "argo-rollouts";
  return "istio";
}

// What --strategy and --target ask for, checked before anything is read.
void check_strategy(const DeployFlags& flags) {
  const std::string& strategy = flags.strategy;
  if (strategy != "direct" && strategy != "ab" && strategy != "shadow" && strategy != "canary")
    throw Fatal{Error(Errc::invalid, fmt::format("--strategy {}: expected direct, ab, shadow or canary", strategy))};
  std::string target = flags.target.empty() ? default_target(strategy) : flags.target;
  if (target != "k8s" && target != "istio" && target != "argo-rollouts")
    throw Fatal{Error(Errc::invalid, fmt::format("--target {}: expected k8s, istio or argo-rollouts (kserve and "
                                                 "seldon are not there yet)", target))};
  if (target != default_target(strategy)) {
    std::string_view who = target == "k8s" ? "plain Kubernetes" : target == "istio" ? "Istio alone" : "Argo Rollouts";
    std::string why = strategy == "direct" ? "--strategy direct renders plain Kubernetes objects"
                      : strategy == "canary" ? fmt::format("{} cannot step a canary and abort it on metrics", who)
                      : strategy == "ab"     ? fmt::format("{} cannot keep two versions side by side under a fixed split", who)
                                             : fmt::format("{} cannot mirror traffic to a second version", who);
    throw Fatal{Error(Errc::invalid, why, fmt::format("use --target {}", default_target(strategy)))};
  }
  bool split = strategy == "ab" || strategy == "shadow";
  if (!split && (!flags.candidate.empty() || !flags.route_header.empty()))
    throw Fatal{Error(Errc::invalid, "--candidate and --route-header are for --strategy ab or shadow",
                      strategy == "canary" ? "a canary rolls out the version MODEL names" : "")};
  if (split && flags.candidate.empty())
    throw Fatal{Error(Errc::invalid, fmt::format("--strategy {} needs --candidate @VERSION", strategy))};
  if (flags.weight < 0 || flags.weight > 100)
    throw Fatal{Error(Errc::invalid, fmt::format("--weight {}: the candidate's percent is 0..100", flags.weight))};
}

std::optional<deploy::RouteHeader> route_header(const std::string& text) {
  if (text.empty()) return std::nullopt;
  auto equals = text.find('=');
  if (equals == std::string::npos)
    throw Fatal{Error(Errc::invalid, fmt::format("--route-header {}: expected NAME=VALUE", text))};
  return deploy::RouteHeader{text.substr(0, equals), text.substr(equals + 1)};
}

std::vector<nlohmann::json> render(const DeployFlags& flags, const DeployPlace& place, const deploy::ServedModel& model) {
  if (flags.strategy == "direct") return unwrap(deploy::render_direct(model));
  if (flags.strategy == "canary") return unwrap(deploy::render_canary(configured_canary(place, model)));
  std::string candidate = flags.candidate.starts_with('@') ? flags.candidate : "@" + flags.candidate;
  deploy::TrafficSplit split{.stable = model,
                             .candidate = served_model(place, model.model + candidate),
                             .weight = flags.weight,
                             .mode = flags.strategy == "ab" ? deploy::SplitMode::ab : deploy::SplitMode::shadow,
                             .route_header = route_header(flags.route_header)};
  return unwrap(deploy::render_istio(split));
}

void run_render(Context& context, const DeployFlags& flags) {
  if (flags.check && flags.output.empty())
    throw Fatal{Error(Errc::invalid, "--check compares with what is on disk: give it with -o FILE|DIR/")};
  check_strategy(flags);
  DeployPlace place = deploy_place(context, flags.registry_db, flags.environment);
  deploy::ServedModel model = served_model(place, flags.ref, flags.image);
  auto objects = render(flags, place, model);
  std::string yaml = deploy::manifest_yaml(objects);
  nlohmann::json summary = {{"model", model.model},         {"version", model.version},
                            {"environment", model.environment}, {"namespace", model.namespace_name},
                            {"image", model.image},         {"objects", objects.size()},
                            {"strategy", flags.strategy}};
  if (flags.strategy == "ab" || flags.strategy == "shadow") {
    summary["candidate"] = flags.candidate;
    summary["weight"] = flags.weight;
  }
  if (flags.output.empty()) {
    context.print(objects, yaml);
    return;
  }
  ManifestFiles files = write_manifests({.path = flags.output,
                                         .environment = model.environment,
                                         .namespace_name = model.namespace_name,
                                         .model = model.model},
                                        yaml, flags.check);
  summary["files"] = files.files;
  summary["changed"] = files.changed;
  if (flags.check) {
    summary["up_to_date"] = files.changed.empty();
    if (files.changed.empty()) return context.print(summary, fmt::format("{}: up to date", flags.output));
    context.print(summary, "");
    throw Fatal{Error(Errc::precondition,
                      fmt::format("{} differs from what {}@{} renders for {}", fmt::join(files.changed, ", "),
                                  model.model, model.version, model.environment),
                      "render it again (without --check) and commit the result")};
  }
  context.print(summary, fmt::format("wrote {}: {} version {} for {} ({} objects)", fmt::join(files.files, ", "),
                                     model.model, model.version, model.environment, objects.size()));
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
  mlctl deploy render fraud-detector@production --env prod --strategy ab --candidate @4 --weight 10
  mlctl deploy render fraud-detector@4 --env prod --strategy canary)");

  CLI::App* render = group->add_subcommand(
      "render", "Render the Kubernetes objects that serve a model version in an environment");
  render->add_option("model", flags->ref, "NAME, NAME@VERSION or NAME@ALIAS")->required();
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
  render->add_option("--target", flags->target, "k8s (for direct), istio (ab, shadow) or argo-rollouts (canary)")
      ->option_text("k8s|istio|argo-rollouts");
  render->add_option("--candidate", flags->candidate, "ab, shadow: the version tried next to MODEL's")
      ->option_text("@VERSION|@ALIAS");
  render->add_option("--weight", flags->weight, "ab, shadow: the candidate's percent of the traffic (default 10)")
      ->option_text("N");
  render->add_option("--route-header", flags->route_header, "ab: requests with this header go to the candidate")
      ->option_text("NAME=VALUE");
  add_registry_db_option(render, flags->registry_db);
  on_run(render, [flags](Context& context) { run_render(context, *flags); });
}

}  // namespace mlctl::cli
