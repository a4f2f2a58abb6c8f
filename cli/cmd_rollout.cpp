#include "context.hpp"
#include "deploy_render.hpp"

#include <mlctl/core/process.hpp>
#include <mlctl/models/lineage.hpp>

#include <fmt/format.h>

namespace mlctl::cli {

namespace {

struct RolloutFlags {
  std::string model;
  std::string environment = "prod";
  std::string candidate;
  int weight = -1;
  std::string strategy = "ab";
  std::string output;  // empty: deploy/ in the project
  std::string registry_db;
  std::string reason;
  std::string tool_image;
};

models::Change change(const RolloutFlags& flags) {
  return {.actor = models::default_actor(core::process_env()), .reason = flags.reason};
}

// "4", "@4" or "@canary-next": the candidate's version number.
std::int64_t candidate_version(models::Registry& registry, const RolloutFlags& flags) {
  std::string ref = flags.candidate.starts_with('@') ? flags.candidate : "@" + flags.candidate;
  return unwrap(registry.version(unwrap(models::parse_ref(flags.model + ref)))).version;
}

std::string describe(const models::RolloutState& state) {
  if (!state.candidate)
    return fmt::format("{} in {}: version {} takes 100% ({})", state.name, state.environment, state.stable,
                       state.strategy);
  return fmt::format("{} in {}: version {} takes {}%, candidate {} takes {}% ({})", state.name, state.environment,
                     state.stable, 100 - state.weight, *state.candidate, state.weight, state.strategy);
}

// Renders the state's manifests and writes them where -o (or deploy/ in the project) says.
ManifestFiles write_state(const DeployPlace& place, models::Registry& registry, const RolloutFlags& flags,
                          const models::RolloutState& state) {
  ModelManifest manifest{.model = state.name, .yaml = deploy::manifest_yaml(render_rollout(place, registry, state))};
  std::string output = flags.output;
  if (output.empty())  // deploy/ in the project, named as the user would from here
    output = std::filesystem::proximate(place.registry.project->root / "deploy").string() + "/";
  return write_manifests(
      {.path = output, .environment = place.environment.name, .namespace_name = place.environment.namespace_name},
      {&manifest, 1}, false);
}

void report(Context& context, const models::RolloutState& state, const ManifestFiles& files) {
  nlohmann::json document = state.to_json();
  document["files"] = files.files;
  document["changed"] = files.changed;
  std::string written = files.changed.empty() ? fmt::format("up to date, nothing written: {}", fmt::join(files.files, ", "))
                                              : fmt::format("wrote {}", fmt::join(files.changed, ", "));
  context.print(document, fmt::format("{}\n{}", describe(state), written));
}

// The state a change would leave, rendered before anything is recorded: a version without a
// serving image, or a bad model, fails here and the registry is left as it was.
void check_renders(const DeployPlace& place, models::Registry& registry, const RolloutFlags& flags,
                   std::int64_t candidate) {
  auto current = unwrap(registry.rollout(flags.model, place.environment.name));
  models::RolloutState next;
  if (current) next = *current;
  if (!current) {
    next.name = flags.model;
    next.environment = place.environment.name;
    auto production = registry.version(
        {.name = flags.model, .version = std::nullopt, .alias = std::string(models::k_production_alias)});
    if (!production) return;  // set_rollout_weight says why there is no stable version
    next.stable = production->version;
  }
  if (next.stable == candidate) return;  // refused by set_rollout_weight, naming the rule
  next.strategy = flags.strategy;
  next.candidate = candidate;
  next.weight = flags.weight;
  if (flags.strategy == "canary" && flags.weight == 0) return;
  render_rollout(place, registry, next);
}

void run_set_weight(Context& context, const RolloutFlags& flags) {
  if (flags.weight < 0 || flags.weight > 100)
    throw Fatal{Error(Errc::invalid, fmt::format("--weight {}: the candidate's percent is 0..100", flags.weight))};
  if (flags.strategy != "ab" && flags.strategy != "canary")
    throw Fatal{Error(Errc::invalid, fmt::format("--strategy {}: expected ab (Istio) or canary (Argo Rollouts)",
                                                 flags.strategy))};
  DeployPlace place = deploy_place(context, flags.registry_db, flags.environment, flags.tool_image);
  models::Registry registry = open_registry(place.registry);
  std::int64_t candidate = candidate_version(registry, flags);
  check_renders(place, registry, flags, candidate);
  auto state = unwrap(registry.set_rollout_weight(
      flags.model,
      {.environment = place.environment.name, .strategy = flags.strategy, .candidate = candidate, .weight = flags.weight},
      change(flags)));
  report(context, state, write_state(place, registry, flags, state));
}

void run_promote(Context& context, const RolloutFlags& flags) {
  DeployPlace place = deploy_place(context, flags.registry_db, flags.environment, flags.tool_image);
  models::Registry registry = open_registry(place.registry);
  auto state = unwrap(registry.promote_rollout(flags.model, place.environment.name, change(flags)));
  report(context, state, write_state(place, registry, flags, state));
}

void run_abort(Context& context, const RolloutFlags& flags) {
  DeployPlace place = deploy_place(context, flags.registry_db, flags.environment, flags.tool_image);
  models::Registry registry = open_registry(place.registry);
  auto state = unwrap(registry.abort_rollout(flags.model, place.environment.name, change(flags)));
  report(context, state, write_state(place, registry, flags, state));
}

void run_status(Context& context, const RolloutFlags& flags, bool one_environment) {
  RegistryPlace where = locate_registry(context, {.database = flags.registry_db, .artifacts = {}});
  models::Registry registry = open_registry(where);
  std::vector<models::RolloutState> states;
  if (one_environment) {
    if (auto state = unwrap(registry.rollout(flags.model, flags.environment))) states.push_back(*state);
  } else {
    states = unwrap(registry.rollouts(flags.model));
  }
  nlohmann::json document = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows{{"ENVIRONMENT", "STRATEGY", "STABLE", "CANDIDATE", "WEIGHT", "UPDATED"}};
  for (const auto& state : states) {
    document.push_back(state.to_json());
    rows.push_back({state.environment, state.strategy, std::to_string(state.stable),
                    state.candidate ? std::to_string(*state.candidate) : "-",
                    state.candidate ? fmt::format("{}%", state.weight) : "-", state.updated_at});
  }
  if (states.empty())
    return context.print(document, fmt::format("{} has no rollout{}; start one with 'mlctl rollout set-weight {} "
                                               "--candidate VERSION --weight N'",
                                               flags.model, one_environment ? " in " + flags.environment : "",
                                               flags.model));
  context.print(document, format_table(rows));
}

CLI::App* leaf(CLI::App* parent, const std::string& name, const std::string& description, RolloutFlags& flags,
               bool writes) {
  CLI::App* command = parent->add_subcommand(name, description);
  command->add_option("model", flags.model, "The model (a name in the registry)")->required();
  add_registry_db_option(command, flags.registry_db);
  if (!writes) return command;
  command->add_option("--env", flags.environment, "The environment (from mlctl.yaml; default prod)")->option_text("ENV");
  command->add_option("-o,--output-file", flags.output,
                      "Where the manifests go: FILE, or a kustomize layout DIR/ (default: deploy/ in the project)")
      ->option_text("FILE|DIR/");
  command->add_option("--reason", flags.reason, "Why, recorded in the audit log")->option_text("TEXT");
  add_tool_image_option(command, flags.tool_image);
  return command;
}

}  // namespace

void add_rollout(CLI::App& app) {
  auto flags = std::make_shared<RolloutFlags>();
  CLI::App* group = app.add_subcommand("rollout", "Move traffic between model versions: weights, promote, abort");
  group->require_subcommand(0, 1);
  group->footer(R"(Every change is recorded in the registry with its actor and reason (see `mlctl model history`)
and re-renders the environment's manifests, ready for a GitOps commit.

Examples:
  mlctl rollout set-weight fraud-detector --candidate 4 --weight 10        # Istio 90/10
  mlctl rollout set-weight fraud-detector --candidate 4 --weight 50
  mlctl rollout promote fraud-detector --reason "v4 wins on conversion"   # production -> 4, 100%
  mlctl rollout abort fraud-detector                                      # back to 100% stable
  mlctl rollout set-weight fraud-detector --candidate 5 --weight 20 --strategy canary
  mlctl rollout status fraud-detector)");

  CLI::App* c = leaf(group, "set-weight", "Send N percent of the requests to a candidate version", *flags, true);
  c->add_option("--candidate", flags->candidate, "The version tried next to the production one")
      ->required()
      ->option_text("VERSION|@ALIAS");
  c->add_option("--weight", flags->weight, "The candidate's percent, 0..100")->required()->option_text("N");
  c->add_option("--strategy", flags->strategy, "ab (Istio weights, default) or canary (an Argo Rollout held at N%)")
      ->option_text("ab|canary");
  on_run(c, [flags](Context& context) { run_set_weight(context, *flags); });

  c = leaf(group, "promote", "Make the candidate the production version, at 100%", *flags, true);
  on_run(c, [flags](Context& context) { run_promote(context, *flags); });

  c = leaf(group, "abort", "Send every request back to the stable version", *flags, true);
  on_run(c, [flags](Context& context) { run_abort(context, *flags); });

  c = leaf(group, "status", "Show where a model's traffic goes, per environment", *flags, false);
  CLI::Option* env = c->add_option("--env", flags->environment, "Only this environment")->option_text("ENV");
  on_run(c, [flags, env](Context& context) { run_status(context, *flags, env->count() > 0); });
}

}  // namespace mlctl::cli
