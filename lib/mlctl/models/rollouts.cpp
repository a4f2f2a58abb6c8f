// Rollouts: where each model's traffic goes in each environment, with every change audited.
#include <mlctl/models/registry.hpp>

#include <mlctl/models/time.hpp>

#include <fmt/format.h>

namespace mlctl::models {

namespace {

constexpr std::string_view k_columns = "environment, strategy, stable, candidate, weight, updated_at";

RolloutState read_state(const Statement& row, std::string_view name) {
  return {.name = std::string(name),
          .environment = row.text(0),
          .strategy = row.text(1),
          .stable = row.integer(2),
          .candidate = row.optional_integer(3),
          .weight = static_cast<int>(row.integer(4)),
          .updated_at = row.text(5)};
}

// What the audit log keeps of a state: everything but the time, which the entry has.
std::string audit_text(const RolloutState& state) {
  nlohmann::json json = state.to_json();
  json.erase("name");
  json.erase("updated_at");
  return json.dump();
}

Result<void> check_strategy(std::string_view strategy) {
  if (strategy == "ab" || strategy == "canary") return {};
  return fail(Errc::invalid, fmt::format("strategy '{}': a rollout is ab or canary", strategy));
}

Error no_candidate(std::string_view name, std::string_view environment, std::string_view verb) {
  return Error(Errc::precondition, fmt::format("{} has no candidate in {} to {}", name, environment, verb),
               fmt::format("start one with 'mlctl rollout set-weight {} --candidate VERSION --weight N'", name));
}

}  // namespace

nlohmann::json RolloutState::to_json() const {
  return {{"name", name},
          {"environment", environment},
          {"strategy", strategy},
          {"stable", stable},
          {"candidate", candidate ? nlohmann::json(*candidate) : nlohmann::json(nullptr)},
          {"weight", weight},
          {"updated_at", updated_at}};
}

Result<std::optional<RolloutState>> Registry::rollout_of(std::int64_t model, std::string_view name,
                                                         std::string_view environment) {
  auto statement =
      db_.prepare(fmt::format("SELECT {} FROM rollouts WHERE model_id = ? AND environment = ?", k_columns));
  if (!statement) return std::unexpected(statement.error());
  auto row = statement->bind(1, model).bind(2, std::string(environment)).step();
  if (!row) return std::unexpected(row.error());
  if (!*row) return std::optional<RolloutState>();
  return read_state(*statement, name);
}

Result<std::optional<RolloutState>> Registry::rollout(std::string_view name, std::string_view environment) {
  auto model = model_id(name);
  if (!model) return std::unexpected(model.error());
  return rollout_of(*model, name, environment);
}

Result<std::vector<RolloutState>> Registry::rollouts(std::string_view name) {
  auto model = model_id(name);
  if (!model) return std::unexpected(model.error());
  auto statement =
      db_.prepare(fmt::format("SELECT {} FROM rollouts WHERE model_id = ? ORDER BY environment", k_columns));
  if (!statement) return std::unexpected(statement.error());
  statement->bind(1, *model);
  std::vector<RolloutState> states;
  while (true) {
    auto row = statement->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return states;
    states.push_back(read_state(*statement, name));
  }
}

Result<RolloutState> Registry::write_rollout(std::int64_t model, const std::optional<RolloutState>& old,
                                             RolloutState state, std::string_view action, const Change& change) {
  state.updated_at = now_text();
  auto statement = db_.prepare(
      "INSERT INTO rollouts(model_id, environment, strategy, stable, candidate, weight, updated_at) "
      "VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(model_id, environment) DO UPDATE SET strategy = excluded.strategy, "
      "stable = excluded.stable, candidate = excluded.candidate, weight = excluded.weight, "
      "updated_at = excluded.updated_at");
  if (!statement) return std::unexpected(statement.error());
  statement->bind_all({model, state.environment, state.strategy, state.stable,
                       state.candidate ? SqlValue(*state.candidate) : SqlValue(nullptr),
                       static_cast<std::int64_t>(state.weight), state.updated_at});
  if (auto ran = statement->run(); !ran) return std::unexpected(ran.error());
  AuditEntry entry{.time = state.updated_at,
                   .actor = change.actor,
                   .action = std::string(action),
                   .version = state.candidate ? state.candidate : std::optional<std::int64_t>(state.stable),
                   .old_value = old ? std::optional<std::string>(audit_text(*old)) : std::nullopt,
                   .new_value = audit_text(state),
                   .reason = change.reason};
  if (auto written = audit(model, entry); !written) return std::unexpected(written.error());
  return state;
}

Result<RolloutState> Registry::set_rollout_weight(std::string_view name, const WeightChange& weight,
                                                  const Change& change) {
  if (auto checked = check_strategy(weight.strategy); !checked) return std::unexpected(checked.error());
  if (weight.weight < 0 || weight.weight > 100)
    return fail(Errc::invalid, fmt::format("weight {}: the candidate's percent is 0..100", weight.weight));
  auto transaction = WriteTransaction::begin(db_);
  if (!transaction) return std::unexpected(transaction.error());
  auto model = model_id(name);
  if (!model) return std::unexpected(model.error());
  if (auto exists = check_version_exists(*model, name, weight.candidate); !exists)
    return std::unexpected(exists.error());
  auto old = rollout_of(*model, name, weight.environment);
  if (!old) return std::unexpected(old.error());
  RolloutState state;
  if (*old) {
    state = **old;
    if (state.candidate && *state.candidate != weight.candidate)
      return fail(Errc::precondition,
                  fmt::format("{} is trying version {} in {}; one candidate at a time", name, *state.candidate,
                              weight.environment),
                  fmt::format("promote it or abort it first ('mlctl rollout promote|abort {} --env {}')", name,
                              weight.environment));
    if (state.candidate && state.strategy != weight.strategy)
      return fail(Errc::precondition,
                  fmt::format("the rollout of {} in {} is {}, not {}", name, weight.environment, state.strategy,
                              weight.strategy),
                  "abort it first to change the strategy");
  } else {
    auto production = alias_target(*model, k_production_alias);
    if (!production) return std::unexpected(production.error());
    if (!*production)
      return fail(Errc::precondition,
                  fmt::format("{} has no {} alias: a rollout needs a stable version to start from", name,
                              k_production_alias),
                  fmt::format("promote one first: mlctl model promote {}@VERSION --to {}", name, k_production_alias));
    state = {.name = std::string(name), .environment = weight.environment, .stable = **production};
  }
  if (weight.candidate == state.stable)
    return fail(Errc::invalid, fmt::format("version {} is the stable version of {} in {}", weight.candidate, name,
                                           weight.environment),
                "the candidate is the version tried next to it");
  if (weight.strategy == "canary" && weight.weight == 0)
    return fail(Errc::invalid, "a canary step sends 1..100 percent to the candidate",
                fmt::format("to send nothing, abort it: mlctl rollout abort {} --env {}", name, weight.environment));
  if (*old && state.candidate == weight.candidate && state.weight == weight.weight) return state;
  state.strategy = weight.strategy;
  state.candidate = weight.candidate;
  state.weight = weight.weight;
  auto written = write_rollout(*model, *old, std::move(state), "rollout.weight", change);
  if (!written) return written;
  if (auto committed = transaction->commit(); !committed) return std::unexpected(committed.error());
  return written;
}

Result<RolloutState> Registry::end_rollout(std::string_view name, std::string_view environment, bool promote,
                                           const Change& change) {
  auto transaction = WriteTransaction::begin(db_);
  if (!transaction) return std::unexpected(transaction.error());
  auto model = model_id(name);
  if (!model) return std::unexpected(model.error());
  auto old = rollout_of(*model, name, environment);
  if (!old) return std::unexpected(old.error());
  if (!*old || !(*old)->candidate) return std::unexpected(no_candidate(name, environment, promote ? "promote" : "abort"));
  RolloutState state = **old;
  if (promote) {
    if (auto exists = check_version_exists(*model, name, *state.candidate); !exists)
      return std::unexpected(exists.error());
    if (auto moved = write_alias(*model, k_production_alias, *state.candidate, change); !moved)
      return std::unexpected(moved.error());
    state.stable = *state.candidate;
  }
  state.candidate.reset();
  state.weight = 0;
  auto written = write_rollout(*model, *old, std::move(state), promote ? "rollout.promote" : "rollout.abort", change);
  if (!written) return written;
  if (auto committed = transaction->commit(); !committed) return std::unexpected(committed.error());
  return written;
}

Result<RolloutState> Registry::promote_rollout(std::string_view name, std::string_view environment,
                                               const Change& change) {
  return end_rollout(name, environment, true, change);
}

Result<RolloutState> Registry::abort_rollout(std::string_view name, std::string_view environment,
                                             const Change& change) {
  return end_rollout(name, environment, false, change);
}

}  // namespace mlctl::models
