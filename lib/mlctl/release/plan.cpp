#include <mlctl/release/plan.hpp>

#include <mlctl/git/tag.hpp>

#include <algorithm>

#include <fmt/format.h>

namespace mlctl::release {

namespace {

std::string short_commit(const std::string& id) { return id.substr(0, 7); }

std::string environments_text(const core::Project& project) {
  std::vector<std::string> parts;
  for (const auto& env : project.environments) parts.push_back(fmt::format("{} (branch {})", env.name, env.branch));
  return parts.empty() ? "none" : fmt::format("{}", fmt::join(parts, ", "));
}

Result<core::Environment> pick_environment(const core::Project& project, const git::RepoState& state,
                                           const ReleaseRequest& request) {
  if (request.environment) {
    auto named = std::ranges::find(project.environments, *request.environment, &core::Environment::name);
    if (named != project.environments.end()) return *named;
    return fail(Errc::not_found, fmt::format("no environment '{}' in mlctl.yaml", *request.environment),
                fmt::format("its environments: {}", environments_text(project)));
  }
  if (!state.branch)
    return fail(Errc::precondition, "HEAD is detached: no branch says which environment to release to",
                "check out the release branch, or pass --env ENV");
  auto mapped = std::ranges::find(project.environments, *state.branch, &core::Environment::branch);
  if (mapped != project.environments.end()) return *mapped;
  return fail(Errc::precondition, fmt::format("branch {} has no environment in mlctl.yaml", *state.branch),
              fmt::format("set environments.<env>.branch: {} (environments now: {}), or pass --env ENV", *state.branch,
                          environments_text(project)));
}

std::string change_text(const git::VersionChange& change) {
  if (!change.before) return fmt::format("version {} (none before)", change.after);
  if (change.bumped) return fmt::format("version {} -> {}", *change.before, change.after);
  std::string since = change.base_commit ? short_commit(*change.base_commit) : "the first commit";
  if (change.lowered) return fmt::format("version {} was lowered from {} (since {})", change.after, *change.before, since);
  return fmt::format("version {} was not bumped since {}", change.after, since);
}

}  // namespace

Result<ReleaseDecision> decide_release(const core::Project& project, const RepositoryFacts& facts,
                                       const ReleaseRequest& request) {
  ReleaseDecision decision{.due = facts.change.bumped || request.force,
                           .reason = change_text(facts.change),
                           .change = facts.change,
                           .environment = {},
                           .plan = {},
                           .tag = {},
                           .tag_commit = facts.tag_commit};
  if (!facts.change.bumped && request.force) decision.reason += "; released anyway (--force)";
  if (!decision.due) return decision;

  if (facts.state.dirty && !request.allow_dirty)
    return fail(Errc::precondition,
                fmt::format("the work tree {} has uncommitted changes: a release is made from a commit",
                            facts.state.workdir.string()),
                "commit or stash them (git status lists them), or pass --allow-dirty");
  auto environment = pick_environment(project, facts.state, request);
  if (!environment) return std::unexpected(environment.error());
  decision.environment = std::move(*environment);

  auto tag = git::expand_tag_pattern(project.release.tag.value, project.version);
  if (!tag)
    return std::unexpected(tag.error().context(fmt::format("{}:{}:{}: release.tag", project.file.filename().string(),
                                                           project.release.tag.line, project.release.tag.column)));
  decision.tag = std::move(*tag);
  const std::string& head = facts.change.head_commit;
  if (facts.tag_commit && *facts.tag_commit != head && !request.keep_tag)
    return fail(Errc::precondition,
                fmt::format("tag {} already points at commit {}, not at {}: version {} was released from another commit",
                            decision.tag, short_commit(*facts.tag_commit), short_commit(head), project.version),
                "bump the version, or pass --keep-tag to release without tagging");

  decision.plan.key = {.version = project.version, .commit = head};
  decision.plan.environment = decision.environment.name;
  decision.plan.steps = request.steps.empty() ? std::vector<Step>(std::begin(k_steps), std::end(k_steps)) : request.steps;
  if (decision.tag_commit && *decision.tag_commit != head) std::erase(decision.plan.steps, Step::tag);
  return decision;
}

}  // namespace mlctl::release
