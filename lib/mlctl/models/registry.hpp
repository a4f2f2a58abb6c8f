#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/models/artifact_store.hpp>
#include <mlctl/models/filter.hpp>
#include <mlctl/models/sqlite.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlctl::models {

// What a new version records; params and tags are objects of strings, metrics of numbers,
// lineage an object (git, image, run, datasets). None of it changes after registration.
struct NewVersion {
  std::string name{};
  StoredArtifact artifact{};
  std::string flavor = "generic";
  nlohmann::json params = nlohmann::json::object();
  nlohmann::json metrics = nlohmann::json::object();
  nlohmann::json tags = nlohmann::json::object();
  std::string description{};
  nlohmann::json lineage = nlohmann::json::object();
};

// A change to a model's own description and tags (its versions never change).
struct ModelUpdate {
  std::optional<std::string> description{};
  nlohmann::json set_tags = nlohmann::json::object();  // NAME -> string value, added or replaced
  std::vector<std::string> remove_tags{};              // names; one that is not there is ignored
};

struct VersionRecord {
  std::string name{};
  std::int64_t version = 0;
  StoredArtifact artifact{};
  std::string flavor{};
  nlohmann::json params = nlohmann::json::object();
  nlohmann::json metrics = nlohmann::json::object();
  nlohmann::json tags = nlohmann::json::object();
  std::string description{};
  std::string created_at{};
  std::string created_by{};
  nlohmann::json lineage = nlohmann::json::object();
  bool archived = false;
  std::vector<std::string> aliases{};  // that point at this version, sorted

  nlohmann::json to_json() const;
};

struct ModelSummary {
  std::string name{};
  std::string description{};
  nlohmann::json tags = nlohmann::json::object();
  std::string created_at{};
  std::int64_t versions = 0;
  std::optional<std::int64_t> latest{};
  std::map<std::string, std::int64_t> aliases{};

  nlohmann::json to_json() const;
};

// One line of the append-only audit log.
struct AuditEntry {
  std::string name{};
  std::string time{};
  std::string actor{};
  std::string action{};  // register, alias.set, alias.move, alias.unset, archive, restore, model.update,
                         // rollout.weight, rollout.promote, rollout.abort
  std::optional<std::string> alias{};
  std::optional<std::int64_t> version{};
  std::optional<std::string> old_value{};
  std::optional<std::string> new_value{};
  std::string reason{};

  nlohmann::json to_json() const;
};

// Who makes a change and why, for the audit log.
struct Change {
  std::string actor{};
  std::string reason{};
};

// NAME, NAME@VERSION or NAME@ALIAS.
struct Ref {
  std::string name{};
  std::optional<std::int64_t> version{};
  std::optional<std::string> alias{};

  std::string str() const;
};
Result<Ref> parse_ref(std::string_view text);

// Model names and aliases are DNS-1123 labels (lowercase, digits, '-', at most 63), so they can
// name Kubernetes objects and never need quoting.
Result<void> check_model_name(std::string_view name);
Result<void> check_alias(std::string_view alias);

struct ListQuery {
  std::string name{};
  std::vector<std::pair<std::string, std::string>> tags{};  // tags.K == V, all of them
  std::vector<Condition> where{};
  std::string sort{};  // a field (default: version); newest or largest first
  bool ascending = false;
  std::int64_t limit = 100;
  std::int64_t offset = 0;
};

// The champion/challenger gate of a promotion.
struct Gate {
  std::vector<Condition> require{};
  std::string better_than{};  // an alias whose version the candidate must beat
  std::string on{};           // the metrics.KEY compared; larger is better
};

struct AliasChange {
  std::string alias{};
  std::optional<std::int64_t> old_version{};
  std::optional<std::int64_t> new_version{};
};

// How a model's traffic is split in one environment: the stable version answers, and while a
// candidate is tried it gets `weight` percent.
struct RolloutState {
  std::string name{};
  std::string environment{};
  std::string strategy{};  // "ab" (Istio weights) or "canary" (Argo Rollouts)
  std::int64_t stable = 0;
  std::optional<std::int64_t> candidate{};
  int weight = 0;  // the candidate's percent, 0..100; 0 without a candidate
  std::string updated_at{};

  nlohmann::json to_json() const;
};

// A change of weight asked for by `mlctl rollout set-weight`.
struct WeightChange {
  std::string environment{};
  std::string strategy{};  // "ab" or "canary"; an active rollout keeps its own
  std::int64_t candidate = 0;
  int weight = 0;
};

// The alias a promoted candidate gets, and where a rollout's first stable version comes from.
inline constexpr std::string_view k_production_alias = "production";

class Registry {
public:
  // Opens (or creates) the database and applies any pending schema migrations.
  static Result<Registry> open(const std::filesystem::path& path, OpenMode mode);

  // Assigns the next version number inside one write transaction.
  Result<VersionRecord> register_version(const NewVersion& version, const Change& change);

  Result<std::vector<ModelSummary>> list_models();
  Result<std::vector<VersionRecord>> list_versions(const ListQuery& query);
  Result<ModelSummary> model(std::string_view name);
  // Applies `update` in one transaction with an audit entry ("model.update", old and new
  // {"description", "tags"}); an update that changes nothing writes nothing.
  Result<ModelSummary> update_model(std::string_view name, const ModelUpdate& update, const Change& change);
  // The version a ref names; NAME alone is the latest version.
  Result<VersionRecord> version(const Ref& ref);

  Result<AliasChange> set_alias(std::string_view name, std::string_view alias, std::int64_t version,
                                const Change& change);
  Result<AliasChange> unset_alias(std::string_view name, std::string_view alias, const Change& change);
  // Checks the gate and moves the alias in one transaction; a failed gate is Errc::precondition
  // saying why, and nothing is written.
  Result<AliasChange> promote(std::string_view name, std::int64_t version, std::string_view alias, const Gate& gate,
                              const Change& change);
  Result<void> set_archived(std::string_view name, std::int64_t version, bool archived, const Change& change);

  // The rollout of a model in an environment; nullopt when none was ever started there.
  Result<std::optional<RolloutState>> rollout(std::string_view name, std::string_view environment);
  // Every environment's rollout of the model, by environment.
  Result<std::vector<RolloutState>> rollouts(std::string_view name);
  // Sends `weight` percent to the candidate, in one transaction with a "rollout.weight" audit
  // entry (old and new state as JSON). The first change in an environment starts the rollout
  // with the version the production alias names as stable (precondition when there is none).
  // Fails on an unknown or archived candidate, the stable version as candidate, a weight outside
  // 0..100, a canary at weight 0, another candidate while one is tried (abort or promote it
  // first) or a strategy other than the running one. Setting what is already set writes nothing.
  Result<RolloutState> set_rollout_weight(std::string_view name, const WeightChange& weight, const Change& change);
  // The candidate becomes the stable version and the production alias at 100%, in one
  // transaction ("rollout.promote" and the alias move in the audit log). Precondition when no
  // candidate is tried.
  Result<RolloutState> promote_rollout(std::string_view name, std::string_view environment, const Change& change);
  // Back to 100% stable ("rollout.abort"); precondition when no candidate is tried.
  Result<RolloutState> abort_rollout(std::string_view name, std::string_view environment, const Change& change);

  Result<std::vector<AuditEntry>> history(std::string_view name, const std::optional<std::string>& alias);
  // Where each alias (or the one given) pointed at `time` (stored form); nullopt: unset then.
  Result<std::map<std::string, std::optional<std::int64_t>>> aliases_at(std::string_view name, const std::string& time,
                                                                        const std::optional<std::string>& alias);

  // JSON Lines, keys sorted, models by name and each model's versions, aliases and audit in order,
  // so that exporting what an import wrote gives the same bytes.
  Result<std::string> export_jsonl(const std::optional<std::string>& name);
  // Adds the exported models in one transaction; fails (precondition) if one already exists.
  Result<std::size_t> import_jsonl(std::string_view text);

  Database& database() { return db_; }

private:
  explicit Registry(Database db) : db_(std::move(db)) {}
  Result<std::int64_t> model_id(std::string_view name);
  Result<void> check_version_exists(std::int64_t model, std::string_view name, std::int64_t version);
  Result<std::optional<std::int64_t>> alias_target(std::int64_t model, std::string_view alias);
  Result<AliasChange> write_alias(std::int64_t model, std::string_view alias, std::optional<std::int64_t> version,
                                  const Change& change);
  Result<void> audit(std::int64_t model, const AuditEntry& entry);
  Result<std::optional<RolloutState>> rollout_of(std::int64_t model, std::string_view name, std::string_view environment);
  // Promotes (or aborts) the candidate of a rollout.
  Result<RolloutState> end_rollout(std::string_view name, std::string_view environment, bool promote,
                                   const Change& change);
  Result<RolloutState> write_rollout(std::int64_t model, const std::optional<RolloutState>& old, RolloutState state,
                                     std::string_view action, const Change& change);
  Result<std::vector<std::string>> aliases_of(std::int64_t model, std::int64_t version);
  // Alias -> version, sorted by alias.
  Result<std::map<std::string, std::int64_t>> aliases_of_model(std::int64_t model);

  Database db_;
};

}  // namespace mlctl::models
