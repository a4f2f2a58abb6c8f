#include "release_steps.hpp"

#include "build_project.hpp"
#include "deploy_render.hpp"
#include "pipeline_commands.hpp"

#include <mlctl/core/fs.hpp>
#include <mlctl/deploy/k8s.hpp>
#include <mlctl/git/commit.hpp>
#include <mlctl/git/locks.hpp>
#include <mlctl/git/push.hpp>
#include <mlctl/git/tag.hpp>
#include <mlctl/models/filter.hpp>
#include <mlctl/models/lineage.hpp>
#include <mlctl/pipeline/local/register_action.hpp>
#include <mlctl/pipeline/values.hpp>

#include <map>

#include <fmt/format.h>

namespace mlctl::cli {

namespace {

namespace fs = std::filesystem;
using release::Step;

nlohmann::json paths_json(const std::vector<std::filesystem::path>& paths) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& path : paths) list.push_back(path.string());
  return list;
}

// A string an earlier step put out; precondition naming the step when it has not run.
Result<std::string> earlier_value(const nlohmann::json& earlier, Step step, const char* key, Step needed_by) {
  std::string name(release::step_name(step));
  if (earlier.contains(name) && earlier[name].contains(key) && earlier[name][key].is_string())
    return earlier[name][key].get<std::string>();
  return fail(Errc::precondition,
              fmt::format("the {} step needs the {} step's {}, and that step has not succeeded for this release",
                          release::step_name(needed_by), name, key),
              fmt::format("run the release with the {} step (leave it in --only)", name));
}

// The model version the register step found, as later steps use it.
struct Registered {
  std::string model;
  std::int64_t version = 0;
  std::string image;
};

std::optional<Registered> registered_of(const nlohmann::json& earlier) {
  if (!earlier.contains("register") || !earlier["register"].contains("version")) return std::nullopt;
  const nlohmann::json& out = earlier["register"];
  return Registered{out.value("model", ""), out["version"].get<std::int64_t>(), out.value("image", "")};
}

// The registered version a step needs; Fatal (precondition) naming both steps when there is none.
Registered needs_registered(const nlohmann::json& earlier, Step needed_by) {
  if (auto registered = registered_of(earlier)) return *registered;
  unwrap(earlier_value(earlier, Step::register_model, "model", needed_by));  // says what is missing
  throw Fatal{Error(Errc::precondition, "no registered model version")};     // not reached
}

nlohmann::json build(Context& context, const ReleaseFlags& flags, const ReleaseSetup& setup) {
  if (!setup.project.image)
    throw Fatal{Error(Errc::precondition, "mlctl.yaml has no image section: a release builds and pushes the image",
                      "add image.repository and image.base, or release without the build step (--only)")};
  BuildFlags build;
  build.push = true;
  build.insecure = flags.insecure;
  build.registry_db = flags.registry_db;
  BuiltProject built = build_project(context, build);
  return {{"image", built.references.front()}, {"digest", built.digest}, {"references", built.references}};
}

// The versions a workflow's staged `uses: register` steps describe (their output parameter
// `registration`), in the order the steps ran.
nlohmann::json staged_registrations(const pipeline::ArgoStatus& status) {
  nlohmann::json registrations = nlohmann::json::array();
  for (const auto& node : status.nodes) {
    auto it = node.output_parameters.find(std::string(pipeline::k_registration_output));
    if (node.type != "Pod" || node.phase != pipeline::ArgoPhase::succeeded || it == node.output_parameters.end())
      continue;
    auto staged = nlohmann::json::parse(it->second, nullptr, false);
    if (staged.is_discarded())
      throw Fatal{Error(Errc::remote, fmt::format("step {} of workflow {} put out a registration that is not JSON",
                                                  node.display_name, status.name))};
    registrations.push_back({{"step", node.display_name}, {"registration", std::move(staged)}});
  }
  return registrations;
}

// The workflow an earlier run of this release submitted to the same server and namespace (and was
// killed, or gave up, waiting for), waited for again; nullopt when there is none, or it is gone or
// failed: then the release trains again.
std::optional<pipeline::ArgoStatus> resumed_workflow(Context& context, const PipelineFlags& pipeline,
                                                     const nlohmann::json& submitted, const nlohmann::json& resumed) {
  std::string name = resumed.value("run_id", "");
  nlohmann::json same = {{"backend", resumed.value("backend", "")},
                         {"server", resumed.value("server", "")},
                         {"namespace", resumed.value("namespace", "")}};
  if (name.empty() || same != submitted) return std::nullopt;
  context.reporter().step(
      fmt::format("workflow {}/{} was submitted by an earlier run of this release", pipeline.namespace_name, name));
  auto status = wait_on_argo(context, pipeline, name);
  if (!status) {
    context.reporter().step(fmt::format("workflow {} is gone: training again", name));
  } else if (status->phase != pipeline::ArgoPhase::succeeded) {
    context.reporter().step(
        fmt::format("workflow {} ended in phase {}: training again", name, pipeline::to_string(status->phase)));
    status.reset();
  }
  return status;
}

// release.train.backend argo: the pipeline as a Workflow on the Argo Server, waited for. Its
// `uses: register` steps store the model in registry.artifacts and put out what they would
// register, which the register step then registers here.
nlohmann::json train_on_argo(Context& context, const ReleaseFlags& flags, const ReleaseSetup& setup,
                             const nlohmann::json& earlier, const release::StepProgress& progress) {
  const core::TrainConfig& config = setup.project.release.train;
  std::string server = flags.server.empty() ? config.server : flags.server;
  if (server.empty())
    throw Fatal{Error(Errc::invalid, "release.train.backend argo: no Argo Server to submit the training to",
                      "set release.train.server in mlctl.yaml, pass --server URL, or set MLCTL_PIPELINE_SERVER")};
  const std::string& store = setup.registry.artifacts;
  if (!store.starts_with("oci://") && !store.starts_with("s3://"))
    throw Fatal{Error(Errc::precondition,
                      "release.train.backend argo: the cluster stores the model, and this machine must reach it, but "
                      "the artifact store is local to each",
                      "set registry.artifacts in mlctl.yaml (or MLCTL_ARTIFACT_STORE) to an oci:// or s3:// location")};
  if (auto timeout = pipeline::parse_duration(config.timeout); !timeout)
    throw Fatal{Error(Errc::invalid, fmt::format("{}: release.train.timeout: {}", core::display_path(setup.project.file),
                                                 timeout.error().message()))};
  PipelineFlags pipeline;
  pipeline.pipeline = setup.pipeline_file.string();
  pipeline.registry.database = flags.registry_db;
  pipeline.image = unwrap(earlier_value(earlier, Step::build, "image", Step::train));
  pipeline.tool_image = flags.tool_image;
  pipeline.namespace_name = config.namespace_name;
  pipeline.artifacts = config.artifacts;
  pipeline.server = server;
  pipeline.token_file = flags.token_file;
  pipeline.insecure = flags.insecure;
  pipeline.timeout = config.timeout;
  pipeline.stage_registrations = true;
  // The workflow is recorded before the wait, where the next run finds it (resumed_workflow).
  nlohmann::json submitted = {{"backend", "argo"}, {"server", server}, {"namespace", config.namespace_name}};
  std::optional<pipeline::ArgoStatus> resumed = resumed_workflow(context, pipeline, submitted, progress.resumed);
  pipeline::ArgoStatus status =
      resumed ? *resumed : run_on_argo(context, pipeline, [&](const pipeline::ArgoSubmitted& workflow) {
        submitted["run_id"] = workflow.name;
        unwrap(progress.checkpoint(submitted));
      });
  if (status.phase != pipeline::ArgoPhase::succeeded) {
    std::vector<std::string> failed;
    for (const auto& node : status.nodes)
      if (node.type == "Pod" && (node.phase == pipeline::ArgoPhase::failed || node.phase == pipeline::ArgoPhase::error))
        failed.push_back(fmt::format("{}: {}", node.display_name, node.message));
    throw Fatal{Error(Errc::failed,
                      fmt::format("workflow {}/{} of pipeline {} ended in phase {}{}", status.namespace_name, status.name,
                                  setup.pipeline_name, pipeline::to_string(status.phase),
                                  failed.empty() ? "" : fmt::format(" ({})", fmt::join(failed, "; "))),
                      fmt::format("its logs: mlctl pipeline logs {} -n {} --server {}", status.name,
                                  status.namespace_name, pipeline.server))};
  }
  return {{"run_id", status.name},
          {"pipeline", setup.pipeline_name},
          {"backend", "argo"},
          {"namespace", status.namespace_name},
          {"registrations", staged_registrations(status)}};
}

nlohmann::json train(Context& context, const ReleaseFlags& flags, const ReleaseSetup& setup,
                     const nlohmann::json& earlier, const release::StepProgress& progress) {
  if (setup.pipeline_file.empty())
    throw Fatal{Error(Errc::precondition, "mlctl.yaml names no pipeline to train with",
                      "add one under pipelines (release.pipeline picks one when there are several)")};
  if (setup.project.release.train.backend == "argo") return train_on_argo(context, flags, setup, earlier, progress);
  std::string image = unwrap(earlier_value(earlier, Step::build, "image", Step::train));
  PipelineFlags pipeline;
  pipeline.registry.database = flags.registry_db;
  pipeline.image = image;
  LocalRun local = run_locally(context, setup.pipeline_file, pipeline, image);
  const pipeline::RunRecord& run = local.run;
  if (run.status != pipeline::RunStatus::succeeded) {
    std::vector<std::string> failed;
    for (const auto& step : run.steps)
      if (step.status == pipeline::StepStatus::failed) failed.push_back(fmt::format("{}: {}", step.name, step.message));
    throw Fatal{Error(Errc::failed,
                      fmt::format("run {} of pipeline {} {}{}", run.id, setup.pipeline_name,
                                  pipeline::status_name(run.status),
                                  failed.empty() ? "" : fmt::format(" ({})", fmt::join(failed, "; "))),
                      fmt::format("its logs: {}", core::display_path(local.directory)))};
  }
  return {{"run_id", run.id}, {"pipeline", setup.pipeline_name}, {"directory", local.directory.string()}};
}

// The register step's output: the version and what later steps need of it.
nlohmann::json version_output(const models::VersionRecord& version) {
  return {{"model", version.name},
          {"version", version.version},
          {"artifact_digest", version.artifact.digest},
          {"image", version.lineage.value("image", "")},
          {"run_id", version.lineage.value("run", "")}};
}

// A training run on a cluster staged its versions (train_on_argo): each is registered here, once
// (register_staged finds the version a re-run registered before); the first is the release's.
nlohmann::json register_staged(const ReleaseSetup& setup, const nlohmann::json& train, const std::string& image) {
  const nlohmann::json& registrations = train["registrations"];
  std::string run = train.value("run_id", "");
  if (registrations.empty())
    throw Fatal{Error(Errc::precondition,
                      fmt::format("workflow {} of pipeline {} staged no model version", run, setup.pipeline_name),
                      "a release registers what the pipeline's `uses: register` step makes: add one "
                      "(man mlctl-pipeline)")};
  const RegistryPlace& place = setup.registry;
  pipeline::RegistryLocation location{
      .database = place.database, .artifacts = place.artifacts, .model = place.model, .flavor = place.flavor, .image = image};
  std::optional<models::VersionRecord> first;
  for (const auto& staged : registrations) {
    std::string source = fmt::format("step {} of workflow {}", staged.value("step", "?"), run);
    // Its lineage must name the workflow the release waited for (what else is wrong with it,
    // register_staged says).
    const nlohmann::json& registration = staged["registration"];
    if (registration.is_object() && registration.contains("lineage") && registration["lineage"].is_object()) {
      const nlohmann::json& lineage = registration["lineage"];
      if (!lineage.contains("run") || lineage["run"] != run)
        throw Fatal{Error(Errc::remote,
                          fmt::format("{}: the staged registration names run {}", source,
                                      lineage.contains("run") ? lineage["run"].dump() : "none"),
                          "the step's --run-id is {{workflow.name}} as mlctl compiles it: was the workflow edited?")};
    }
    auto version = unwrap(pipeline::register_staged(registration, source, location));
    if (!first) first = std::move(version);
  }
  return version_output(*first);
}

// The version the training run's `uses: register` step registered: the one whose lineage names
// the run, or, when that step was restored from the cache (a run of this release that was
// interrupted after registering), the one registered for this release's commit and image. So an
// interrupted release never registers its model twice.
nlohmann::json register_model(const ReleaseSetup& setup, const nlohmann::json& earlier) {
  std::string run = unwrap(earlier_value(earlier, Step::train, "run_id", Step::register_model));
  std::string image = earlier.contains("build") ? earlier["build"].value("image", "") : "";
  if (earlier["train"].contains("registrations")) return register_staged(setup, earlier["train"], image);
  const std::string& commit = setup.decision.plan.key.commit;
  models::Registry registry = open_registry(setup.registry);
  std::optional<models::VersionRecord> found;
  for (const auto& model : unwrap(registry.list_models())) {
    for (auto& version : unwrap(registry.list_versions({.name = model.name, .limit = 50}))) {
      const nlohmann::json& lineage = version.lineage;
      bool of_run = lineage.value("run", "") == run;
      bool of_release = lineage.contains("git") && lineage["git"].value("commit", "") == commit &&
                        lineage.value("image", "") == image;
      if (of_run || (of_release && !found)) found = std::move(version);
      if (of_run) break;
    }
  }
  if (!found)
    throw Fatal{Error(Errc::precondition,
                      fmt::format("run {} of pipeline {} registered no model version", run, setup.pipeline_name),
                      "a release registers what the pipeline's `uses: register` step makes: add one "
                      "(man mlctl-pipeline)")};
  return version_output(*found);
}

}  // namespace

models::Gate release_gate(const core::Project& project) {
  const core::GateConfig& config = project.release.gate;
  models::Gate gate{.require = {}, .better_than = config.better_than, .on = config.on};
  for (const auto& condition : config.require) {
    auto parsed = models::parse_filter(condition.value);
    if (!parsed)
      throw Fatal{std::move(parsed.error().context(fmt::format("{}:{}:{}: release.gate.require",
                                                               core::display_path(project.file), condition.line,
                                                               condition.column)))};
    gate.require.insert(gate.require.end(), parsed->begin(), parsed->end());
  }
  return gate;
}

namespace {

nlohmann::json gate(const ReleaseSetup& setup, const nlohmann::json& earlier) {
  const core::GateConfig& config = setup.project.release.gate;
  models::Gate gate = release_gate(setup.project);
  nlohmann::json require = nlohmann::json::array();
  for (const auto& condition : config.require) require.push_back(condition.value);
  auto [model, version, image] = needs_registered(earlier, Step::gate);
  models::Registry registry = open_registry(setup.registry);
  const release::ReleaseKey& key = setup.decision.plan.key;
  nlohmann::json output = {{"alias", config.promote_to}, {"model", model}, {"version", version},
                           {"require", require},        {"passed", true}};
  if (!config.better_than.empty()) output["better_than"] = fmt::format("{} on {}", config.better_than, config.on);
  // Promoted by a run of this release that was interrupted before it could record so: the gate
  // passed then (asked again, the version would have to beat itself).
  if (auto current = registry.version({.name = model, .version = std::nullopt, .alias = config.promote_to});
      current && current->version == version) {
    output["previous"] = nullptr;
    output["already"] = true;
    return output;
  }
  auto moved = unwrap(registry.promote(
      model, version, config.promote_to, gate,
      {.actor = models::default_actor(core::process_env()),
       .reason = fmt::format("release {} of commit {}", key.version, short_commit(key.commit))}));
  output["previous"] = moved.old_version ? nlohmann::json(*moved.old_version) : nlohmann::json(nullptr);
  return output;
}

nlohmann::json render(Context& context, const ReleaseFlags& flags, const ReleaseSetup& setup,
                      const nlohmann::json& earlier) {
  Registered registered = needs_registered(earlier, Step::render);
  DeployPlace place = deploy_place(context, flags.registry_db, setup.decision.environment.name, flags.tool_image);
  models::Registry registry = open_registry(place.registry);
  deploy::ServedModel model =
      served_model(place, registry, fmt::format("{}@{}", registered.model, registered.version));
  auto objects = unwrap(deploy::render_direct(model));
  ModelManifest manifest{.model = model.model, .yaml = deploy::manifest_yaml(objects)};
  ManifestFiles files = write_manifests({.path = setup.manifests.string() + "/",
                                         .environment = place.environment.name,
                                         .namespace_name = place.environment.namespace_name},
                                        std::span(&manifest, 1), false);
  return {{"directory", setup.manifests.string()}, {"files", files.files}, {"objects", objects.size()},
          {"image", model.image}};
}

nlohmann::json tag(const ReleaseFlags& flags, const ReleaseSetup& setup, const nlohmann::json& earlier) {
  const release::ReleaseKey& key = setup.decision.plan.key;
  std::string message = fmt::format("{} {}", setup.project.name, key.version);
  if (auto registered = registered_of(earlier))
    message += fmt::format("\n\nmodel {} version {}\nimage {}", registered->model, registered->version,
                           registered->image);
  std::vector<std::filesystem::path> stale;
  if (setup.taking_over) stale = unwrap(git::remove_stale_locks(setup.repo.workdir, {"refs/tags/" + setup.decision.tag}));
  auto tagged = unwrap(git::create_tag(setup.repo.workdir, setup.decision.tag, key.commit, message));
  if (flags.push) unwrap(git::push_tag(setup.repo.workdir, setup.decision.tag));
  return {{"tag", setup.decision.tag},
          {"commit", tagged.commit},
          {"created", tagged.outcome == git::TagOutcome::created},
          {"pushed", flags.push},
          {"stale_locks_removed", paths_json(stale)}};
}

// The regular files under `dir`, by path relative to it.
std::map<std::string, std::string> files_under(const fs::path& dir) {
  std::map<std::string, std::string> files;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_symlink() || !entry.is_regular_file()) continue;
    files[entry.path().lexically_relative(dir).generic_string()] = unwrap(core::read_file(entry.path()));
  }
  return files;
}

// The GitOps folder as the release leaves it: its files as they are, the environment's overlay
// replaced by the rendered one, and the base kept (mlctl writes it only when there is none).
std::map<std::string, std::string> gitops_files(const fs::path& folder, const ReleaseSetup& setup) {
  std::map<std::string, std::string> rendered = files_under(setup.manifests);
  if (rendered.empty())
    throw Fatal{Error(Errc::precondition,
                      fmt::format("nothing is rendered in {}", core::display_path(setup.manifests)),
                      "run the release with the render step (leave it in --only)")};
  std::string overlay = fmt::format("overlays/{}/", setup.decision.environment.name);
  std::map<std::string, std::string> files = files_under(folder);
  std::erase_if(files, [&](const auto& file) { return file.first.starts_with(overlay); });
  for (auto& [path, content] : rendered) {
    if (path.starts_with("base/") && files.contains(path)) continue;
    files[path] = std::move(content);
  }
  return files;
}

nlohmann::json commit(const ReleaseFlags& flags, const ReleaseSetup& setup, const nlohmann::json& earlier) {
  if (!setup.gitops_root)
    return {{"committed", false}, {"directory", setup.manifests.string()}};
  const core::GitOpsConfig& gitops = *setup.project.release.gitops;
  const release::ReleaseKey& key = setup.decision.plan.key;
  std::string message = fmt::format("{} {} for {}", setup.project.name, key.version, setup.decision.environment.name);
  if (auto registered = registered_of(earlier))
    message += fmt::format(": model {} version {}\n\nimage {}", registered->model, registered->version,
                           registered->image);
  message += fmt::format("\nsource commit {}{}", key.commit,
                         setup.repo.remote_url ? fmt::format(" of {}", *setup.repo.remote_url) : "");
  auto files = gitops_files(*setup.gitops_root / gitops.dir, setup);
  auto state = unwrap(git::repo_state(*setup.gitops_root));
  // Refused before committing: a commit on a detached HEAD would be one that no push can publish.
  if (flags.push && !state.branch)
    throw Fatal{Error(Errc::precondition,
                      fmt::format("the GitOps repository {} has a detached HEAD: no branch to push",
                                  setup.gitops_root->string()),
                      "check out its branch there")};
  std::vector<std::filesystem::path> stale;
  if (setup.taking_over)
    stale = unwrap(git::remove_stale_locks(*setup.gitops_root, {"HEAD", "refs/heads/" + state.branch.value_or("")}));
  auto made = unwrap(git::commit_files(*setup.gitops_root, gitops.dir, files, message));
  state = unwrap(git::repo_state(*setup.gitops_root));
  if (flags.push) unwrap(git::push(*setup.gitops_root, *state.branch));
  return {{"committed", true},
          {"repository", setup.gitops_root->string()},
          {"dir", gitops.dir},
          {"commit", made ? nlohmann::json(*made) : nlohmann::json(nullptr)},
          {"head", state.commit.value_or("")},
          {"branch", state.branch.value_or("")},
          {"pushed", flags.push},
          {"stale_locks_removed", paths_json(stale)}};
}

}  // namespace

Result<nlohmann::json> run_release_step(Context& context, const ReleaseFlags& flags, const ReleaseSetup& setup,
                                        Step step, const nlohmann::json& earlier,
                                        const release::StepProgress& progress) {
  try {
    switch (step) {
      case Step::build: return build(context, flags, setup);
      case Step::train: return train(context, flags, setup, earlier, progress);
      case Step::register_model: return register_model(setup, earlier);
      case Step::gate: return gate(setup, earlier);
      case Step::render: return render(context, flags, setup, earlier);
      case Step::tag: return tag(flags, setup, earlier);
      case Step::commit: return commit(flags, setup, earlier);
    }
    return fail(Errc::invalid, "unknown release step");
  } catch (Fatal& fatal) {
    return std::unexpected(std::move(fatal.error));
  }
}

std::string step_plan(const ReleaseFlags& flags, const ReleaseSetup& setup, Step step) {
  const core::Project& project = setup.project;
  const release::ReleaseKey& key = setup.decision.plan.key;
  switch (step) {
    case Step::build:
      return project.image ? fmt::format("build the image and push it to {}:{}", project.image->repository, key.version)
                           : "build the image (mlctl.yaml has no image section: it will fail)";
    case Step::train: {
      const core::TrainConfig& train = project.release.train;
      if (setup.pipeline_file.empty()) return "train (mlctl.yaml names no pipeline: it will fail)";
      if (train.backend == "argo") {
        std::string server = flags.server.empty() ? train.server : flags.server;
        return fmt::format("submit pipeline {} ({}) with the image to Argo Workflows {} (namespace {}) and wait for "
                           "it",
                           setup.pipeline_name, core::display_path(setup.pipeline_file),
                           server.empty() ? "(no server: it will fail)" : "at " + server, train.namespace_name);
      }
      return fmt::format("run pipeline {} ({}) on this machine with the image", setup.pipeline_name,
                         core::display_path(setup.pipeline_file));
    }
    case Step::register_model:
      return "take the model version the run registered, its lineage naming the commit, the image and the run";
    case Step::gate: {
      const core::GateConfig& gate = project.release.gate;
      std::vector<std::string> conditions;
      for (const auto& condition : gate.require) conditions.push_back(condition.value);
      if (!gate.better_than.empty()) conditions.push_back(fmt::format("beats {} on {}", gate.better_than, gate.on));
      return fmt::format("promote it to {}{}", gate.promote_to,
                         conditions.empty() ? "" : fmt::format(" if {}", fmt::join(conditions, " and ")));
    }
    case Step::render:
      return fmt::format("render its Kubernetes manifests for {} (namespace {}) into {}", setup.decision.environment.name,
                         setup.decision.environment.namespace_name, core::display_path(setup.manifests));
    case Step::tag:
      return fmt::format("tag commit {} as {}{}", short_commit(key.commit), setup.decision.tag,
                         flags.push ? " and push the tag" : "");
    case Step::commit:
      if (!setup.gitops_root) return "keep the manifests there (mlctl.yaml has no release.gitops)";
      return fmt::format("commit them to {} in {}{}", project.release.gitops->dir, setup.gitops_root->string(),
                         flags.push ? " and push" : "");
  }
  return {};
}

namespace {

// ", removed N stale git locks of a killed release" when the step had to.
std::string stale_text(const nlohmann::json& output) {
  size_t removed = output.value("stale_locks_removed", nlohmann::json::array()).size();
  return removed ? fmt::format(", removed {} stale git lock{} of a killed release", removed, removed == 1 ? "" : "s")
                 : "";
}

}  // namespace

std::string step_summary(Step step, const nlohmann::json& output) {
  auto text = [&](const char* key) { return output.contains(key) ? output[key].dump() : std::string("?"); };
  auto string = [&](const char* key) { return output.value(key, std::string("?")); };
  switch (step) {
    case Step::build: return string("image");
    case Step::train: return fmt::format("run {} of {}", string("run_id"), string("pipeline"));
    case Step::register_model: return fmt::format("{} version {}", string("model"), text("version"));
    case Step::gate:
      return fmt::format("{} -> version {}{}", string("alias"), text("version"),
                         output.value("previous", nlohmann::json()).is_number()
                             ? fmt::format(" (was {})", text("previous"))
                             : "");
    case Step::render:
      return fmt::format("{} ({} files)", core::display_path(string("directory")),
                         output.value("files", nlohmann::json::array()).size());
    case Step::tag:
      return fmt::format("{} at {}{}{}{}", string("tag"), string("commit").substr(0, 7),
                         output.value("created", false) ? "" : " (there already)",
                         output.value("pushed", false) ? ", pushed" : "", stale_text(output));
    case Step::commit:
      if (!output.value("committed", false))
        return fmt::format("manifests kept in {} (no release.gitops)", core::display_path(string("directory")));
      return fmt::format("{} in {}: {}{}{}", string("dir"), string("repository"),
                         output["commit"].is_string() ? "commit " + output["commit"].get<std::string>().substr(0, 7)
                                                      : std::string("nothing changed"),
                         output.value("pushed", false) ? ", pushed" : "", stale_text(output));
  }
  return {};
}

}  // namespace mlctl::cli
