// `mlctl release`: the merge flow, from a version bump to a tag and a GitOps commit.
#include "release_steps.hpp"

#include <mlctl/core/fs.hpp>
#include <mlctl/git/tag.hpp>
#include <mlctl/release/store.hpp>

#include <chrono>
#include <cstdlib>
#include <thread>

#include <fmt/format.h>

namespace mlctl::cli {

namespace {

namespace fs = std::filesystem;
using release::Step;

// The pipeline a release trains with: release.pipeline, else `train`, else the only one.
std::pair<std::string, fs::path> release_pipeline(const core::Project& project) {
  const auto& pipelines = project.pipelines;
  std::string wanted = project.release.pipeline.value;
  if (wanted.empty() && pipelines.size() == 1) wanted = pipelines.front().first;
  if (wanted.empty()) wanted = "train";
  for (const auto& [name, file] : pipelines)
    if (name == wanted) return {name, project.root / file.value};
  return {};
}

// A CI checkout is often a detached commit; the CI says which branch it is of.
std::optional<std::string> ci_branch() {
  for (const char* name : {"GITHUB_REF_NAME", "CI_COMMIT_BRANCH", "BRANCH_NAME"})
    if (const char* value = std::getenv(name); value && *value) return std::string(value);
  return std::nullopt;
}

// The GitOps repository, checked: a work tree of its own, never the project's (a release adds no
// commit to the branch it was triggered from).
fs::path gitops_root(const core::Project& project, const git::RepoState& repo) {
  const core::Located& where = project.release.gitops->repo;
  fs::path root = fs::weakly_canonical(project.root / where.value);
  auto state = git::repo_state(root);
  std::string field = fmt::format("{}:{}:{}: release.gitops.repo", core::display_path(project.file), where.line,
                                  where.column);
  if (!state)
    throw Fatal{Error(Errc::precondition, fmt::format("{}: {} is not a git work tree: {}", field, root.string(),
                                                      state.error().message()),
                      "clone the GitOps repository there first")};
  if (fs::equivalent(state->workdir, repo.workdir))
    throw Fatal{Error(Errc::precondition,
                      fmt::format("{}: {} is the project's own repository: a release never commits to the branch "
                                  "it was triggered from",
                                  field, where.value),
                      "point it at a separate GitOps repository, or remove release.gitops to keep the manifests "
                      "in .mlctl/releases/")};
  return root;
}

ReleaseSetup prepare(Context& context, const ReleaseFlags& flags) {
  auto project = unwrap(core::load_project(context.project_file(), core::process_env()));
  auto state = git::repo_state(project.root);
  if (!state)
    throw Fatal{Error(Errc::precondition,
                      fmt::format("{} is not in a git repository: a release is made from a commit",
                                  core::display_path(project.root)),
                      "git init, commit, and release from the release branch")};
  if (!state->branch && flags.ci) state->branch = ci_branch();
  release::RepositoryFacts facts{.state = *state, .change = {}, .tag_commit = std::nullopt};
  std::string manifest = fs::relative(project.file, state->workdir).generic_string();
  facts.change = unwrap(git::version_change(project.root, manifest,
                                            flags.since.empty() ? std::nullopt : std::optional(flags.since)));
  if (auto tag = git::expand_tag_pattern(project.release.tag.value, project.version))
    facts.tag_commit = unwrap(git::tag_commit(project.root, *tag));
  release::ReleaseRequest request{
      .environment = flags.environment.empty() ? std::nullopt : std::optional(flags.environment),
      .steps = flags.only.empty() ? std::vector<Step>{} : unwrap(release::parse_steps(flags.only)),
      .force = flags.force,
      .allow_dirty = flags.allow_dirty,
      .keep_tag = flags.keep_tag};
  auto decision = unwrap(release::decide_release(project, facts, request));
  ReleaseSetup setup{.project = std::move(project),
                     .repo = std::move(*state),
                     .decision = std::move(decision),
                     .registry = {},
                     .pipeline_name = {},
                     .pipeline_file = {},
                     .manifests = {},
                     .gitops_root = std::nullopt};
  if (!setup.decision.due) return setup;  // nothing to do: nothing is looked up or created
  setup.registry = locate_registry(context, {.database = flags.registry_db, .artifacts = {}});
  release_gate(setup.project);  // a condition that does not parse fails now, not after training
  std::tie(setup.pipeline_name, setup.pipeline_file) = release_pipeline(setup.project);
  setup.manifests = setup.project.root / ".mlctl" / "releases" / setup.project.version;
  bool commits = std::ranges::find(setup.decision.plan.steps, Step::commit) != setup.decision.plan.steps.end();
  if (commits && setup.project.release.gitops)
    setup.gitops_root = gitops_root(setup.project, setup.repo);
  return setup;
}

// Each step as it starts and ends, on stderr (stdout carries the steps' own output and the result),
// after a first line saying what is released once the release is this process's to run.
class ReleaseConsole final : public release::ReleaseObserver {
public:
  ReleaseConsole(Context& context, std::string header) : context_(context), header_(std::move(header)) {}
  void step_started(Step step) override {
    begin();
    context_.reporter().step(fmt::format("{}: started", release::step_name(step)));
  }
  void step_done_before(const release::StepRecord& step) override {
    begin();
    context_.reporter().step(fmt::format("{}: done before ({})", release::step_name(step.step),
                                         step_summary(step.step, step.output)));
  }
  void step_finished(const release::StepRecord& step) override {
    context_.reporter().step(fmt::format("{}: {}", release::step_name(step.step),
                                         step.succeeded ? step_summary(step.step, step.output)
                                                        : "failed: " + step.message));
  }

private:
  void begin() {
    if (!header_.empty()) context_.reporter().step(header_);
    header_.clear();
  }

  Context& context_;
  std::string header_;
};

// The release record as -o json prints it: the key facts first, then every step as recorded.
nlohmann::json release_document(const ReleaseSetup& setup, const release::ReleaseRecord& record) {
  auto output = [&](Step step) {
    const release::StepRecord* done = record.step(step);
    return done && done->succeeded ? done->output : nlohmann::json(nullptr);
  };
  auto field = [&](Step step, const char* key) {
    nlohmann::json out = output(step);
    return out.is_object() && out.contains(key) ? out[key] : nlohmann::json(nullptr);
  };
  nlohmann::json gate = nullptr;
  if (const release::StepRecord* done = record.step(Step::gate))
    gate = done->succeeded ? done->output : nlohmann::json{{"passed", false}, {"message", done->message}};
  nlohmann::json document = {{"released", record.status == release::ReleaseStatus::succeeded},
                             {"status", release::status_name(record.status)},
                             {"reason", setup.decision.reason},
                             {"version", record.key.version},
                             {"commit", record.key.commit},
                             {"environment", record.environment},
                             {"image", field(Step::build, "image")},
                             {"digest", field(Step::build, "digest")},
                             {"run_id", field(Step::train, "run_id")},
                             {"model", field(Step::register_model, "model")},
                             {"model_version", field(Step::register_model, "version")},
                             {"gate", gate},
                             {"manifests", field(Step::render, "files")},
                             {"tag", field(Step::tag, "tag")},
                             {"gitops", output(Step::commit)}};
  nlohmann::json full = record.to_json();
  document["started_at"] = full.value("started_at", "");
  document["finished_at"] = full.value("finished_at", "");
  document["steps"] = full.value("steps", nlohmann::json::array());
  return document;
}

std::string release_text(const ReleaseSetup& setup, const release::ReleaseRecord& record, bool ran_now) {
  std::string text = fmt::format("{} {} {} {} (commit {}) to {}{}\n", setup.project.name, record.key.version,
                                 ran_now ? "release" : "was released before:", release::status_name(record.status),
                                 short_commit(record.key.commit), record.environment,
                                 ran_now ? "" : fmt::format(" at {}", record.finished_at));
  for (const auto& step : record.steps)
    text += fmt::format("  {:<9} {}\n", release::step_name(step.step),
                        step.succeeded ? step_summary(step.step, step.output) : "failed: " + step.message);
  text.pop_back();
  return text;
}

void print_plan(Context& context, const ReleaseFlags& flags, const ReleaseSetup& setup) {
  const release::ReleaseDecision& decision = setup.decision;
  std::optional<release::ReleaseRecord> recorded;
  std::error_code ec;
  if (fs::exists(setup.registry.database, ec))
    recorded = unwrap(unwrap(release::ReleaseStore::open(setup.registry.database)).get(decision.plan.key));
  nlohmann::json steps = nlohmann::json::array();
  std::string text = fmt::format("would release {} {} (commit {}) to {} (namespace {}): {}\n", setup.project.name,
                                 decision.plan.key.version, short_commit(decision.plan.key.commit),
                                 decision.environment.name, decision.environment.namespace_name, decision.reason);
  for (Step step : decision.plan.steps) {
    const release::StepRecord* done = recorded ? recorded->step(step) : nullptr;
    bool succeeded = done && done->succeeded;
    std::string what = succeeded ? "done before: " + step_summary(step, done->output) : step_plan(flags, setup, step);
    steps.push_back({{"step", release::step_name(step)}, {"done", succeeded}, {"what", what}});
    text += fmt::format("  {:<9} {}\n", release::step_name(step), what);
  }
  text += "(dry run: nothing was changed)";
  context.print({{"dry_run", true},
                 {"due", true},
                 {"reason", decision.reason},
                 {"version", decision.plan.key.version},
                 {"commit", decision.plan.key.commit},
                 {"environment", decision.environment.name},
                 {"namespace", decision.environment.namespace_name},
                 {"tag", decision.tag},
                 {"steps", steps}},
                text);
}

// A hook's release waits for one that runs now (an earlier merge's) instead of being refused, so
// that merges in quick succession are each released, in order.
void wait_for_other_release(Context& context, release::ReleaseStore& store) {
  bool told = false;
  while (auto running = unwrap(store.running_elsewhere(release::this_owner()))) {
    if (!told)
      context.reporter().step(fmt::format("waiting for release {} (process {}) to finish", running->key.version,
                                          running->owner));
    told = true;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

void run_release_command(Context& context, const ReleaseFlags& flags) {
  ReleaseSetup setup = prepare(context, flags);
  const release::ReleaseDecision& decision = setup.decision;
  if (!decision.due) {
    context.print({{"released", false}, {"due", false}, {"reason", decision.reason},
                   {"version", decision.change.after}, {"commit", decision.change.head_commit}},
                  fmt::format("nothing to release: {}", decision.reason));
    return;
  }
  if (flags.dry_run) return print_plan(context, flags, setup);

  unwrap(core::ensure_state_dir(setup.project.root));
  auto store = unwrap(release::ReleaseStore::open(setup.registry.database));
  if (flags.from_hook) wait_for_other_release(context, store);
  auto before = unwrap(store.get(decision.plan.key));
  bool done_before = before && before->status == release::ReleaseStatus::succeeded;
  // Still "running" but claimable: its process died (a live one makes the claim fail).
  setup.taking_over = before && before->status == release::ReleaseStatus::running;
  ReleaseConsole observer(context, fmt::format("releasing {} {} (commit {}) to {}: {}", setup.project.name,
                                                decision.plan.key.version, short_commit(decision.plan.key.commit),
                                                decision.environment.name, decision.reason));
  auto ran = release::run_release(
      store, decision.plan, release::this_owner(),
      [&](Step step, const nlohmann::json& earlier, const release::StepProgress& progress) {
        return run_release_step(context, flags, setup, step, earlier, progress);
      },
      observer);
  if (!ran) {
    // The record says which step failed and why; the error is the step's own.
    if (auto record = store.get(decision.plan.key); record && *record && context.json())
      context.print(release_document(setup, **record), "");
    throw Fatal{std::move(ran.error())};
  }
  context.print(release_document(setup, *ran), release_text(setup, *ran, !done_before));
}

}  // namespace

void add_release(CLI::App& app) {
  auto flags = std::make_shared<ReleaseFlags>();
  CLI::App* command = app.add_subcommand(
      "release", "If mlctl.yaml's version was bumped: build, train, register, gate, render, tag, commit");
  command->add_option("--env", flags->environment,
                      "The environment to release to (default: the one whose branch is checked out)")
      ->option_text("ENV");
  command->add_flag("--dry-run", flags->dry_run, "Print the plan, with the steps done before, and change nothing");
  command->add_option("--only", flags->only, "Run only these steps (comma-separated), in release order")
      ->option_text("build,train,register,gate,render,tag,commit");
  command->add_option("--since", flags->since,
                      "Compare the version with this revision's (default: HEAD's first parent)")
      ->option_text("REV");
  command->add_flag("--ci", flags->ci,
                    "Running in CI: a detached HEAD takes its branch from GITHUB_REF_NAME or CI_COMMIT_BRANCH");
  command->add_flag("--force", flags->force, "Release even though the version was not bumped");
  command->add_flag("--push", flags->push, "Push the tag to origin and the GitOps commit to its remote");
  command->add_flag("--allow-dirty", flags->allow_dirty, "Release from a work tree with uncommitted changes");
  command->add_flag("--keep-tag", flags->keep_tag,
                    "The version's tag points at another commit: leave it there and release without tagging");
  command->add_flag("--from-hook", flags->from_hook,
                    "What the git hooks pass: wait for a release that is running instead of refusing");
  command->add_flag("--insecure", flags->insecure,
                    "Do not check the TLS certificate of the image registry (plain HTTP if it does not speak TLS) "
                    "or of the Argo Server");
  command->add_option("--server", flags->server, "release.train.backend argo: the Argo Server URL (over release.train.server)")
      ->option_text("URL")
      ->envname("MLCTL_PIPELINE_SERVER");
  command->add_option("--token-file", flags->token_file, "release.train.backend argo: a file holding the bearer token")
      ->option_text("FILE")
      ->envname("MLCTL_PIPELINE_TOKEN_FILE");
  add_registry_db_option(command, flags->registry_db);
  command->add_option("--tool-image", flags->tool_image,
                      "model.packaging init: the mlctl image that fetches the model")
      ->envname("MLCTL_TOOL_IMAGE")
      ->option_text("REF@DIGEST");
  command->footer(R"(A release happens when mlctl.yaml's version at HEAD is greater (semver) than at HEAD's first
parent, so a merge commit that bumps it releases and any other commit does nothing (exit 0).
Its steps, each recorded in the registry database under (version, commit):
  build     build the image and push it to image.repository (tags: VERSION and the short commit)
  train     run the pipeline (release.pipeline, else 'train') on this machine, 'image: self' = that image;
            with release.train.backend argo, submit it to Argo Workflows as a Workflow and wait for it
  register  the model version the run's 'uses: register' step made, its lineage naming the commit,
            the image and the run (on argo the step stages it in registry.artifacts, and this machine
            registers it)
  gate      promote it to release.gate.promote_to (default production) if release.gate's conditions hold
  render    Kubernetes manifests for the environment, in .mlctl/releases/VERSION/ (a kustomize layout)
  tag       annotated tag v{version} (release.tag) at the commit; never moved
  commit    the environment's overlay into release.gitops.dir of release.gitops.repo, one commit
Run again on the same commit it does nothing; after a failure it continues from the failed step.
A second release of the same commit while one runs is refused (exit 4).

Exit codes: 0 released or nothing to release; 1 a step failed; 2 bad flags or mlctl.yaml;
3 not found; 4 refused: dirty tree (--allow-dirty), a branch with no environment (--env), the
tag at another commit (--keep-tag), a release running; 5 a registry or git remote failed.

Examples:
  mlctl release --dry-run                  # what would happen, and what is done already
  mlctl release                            # after merging a version bump into main
  mlctl -o json release --ci --env prod --push   # in CI: the release record as JSON
  mlctl release --only build,train         # part of it; a later run does the rest
  mlctl release --force --since v1.4.0     # release although the version did not move)");
  on_run(command, [flags](Context& context) { run_release_command(context, *flags); });
}

}  // namespace mlctl::cli
