#include "context.hpp"
#include "registry_location.hpp"

#include <mlctl/core/fs.hpp>
#include <mlctl/deploy/k8s.hpp>
#include <mlctl/models/registry.hpp>

#include <fmt/format.h>

namespace mlctl::cli {

namespace {

namespace fs = std::filesystem;

struct DeployFlags {
  std::string ref;
  std::string environment;
  std::string image;
  std::string output_file;
  std::string registry_db;
  bool check = false;
};

const core::Environment& environment(const core::Project& project, const std::string& name) {
  std::vector<std::string> names;
  for (const auto& env : project.environments) {
    if (env.name == name) return env;
    names.push_back(env.name);
  }
  throw Fatal{Error(Errc::not_found, fmt::format("no environment '{}' in mlctl.yaml", name),
                    names.empty() ? "add one under 'environments:' with its namespace and branch"
                                  : fmt::format("its environments: {}", fmt::join(names, ", ")))};
}

// The model version as the cluster should serve it in the environment.
deploy::ServedModel served_model(const Context& context, const DeployFlags& flags) {
  RegistryPlace place = locate_registry(context, {.database = flags.registry_db, .artifacts = {}});
  if (!place.project)
    throw Fatal{Error(Errc::not_found, "no mlctl.yaml here or above: its environments name the namespaces",
                      "run in a project, or pass --config FILE")};
  const core::Environment& env = environment(*place.project, flags.environment);
  models::Registry registry = open_registry(place);
  models::VersionRecord version = unwrap(registry.version(unwrap(models::parse_ref(flags.ref))));
  std::string image = flags.image.empty() ? version.lineage.value("image", "") : flags.image;
  if (image.empty())
    throw Fatal{Error(Errc::precondition,
                      fmt::format("{} version {} records no serving image", version.name, version.version),
                      "register it with --image REF@DIGEST (as `mlctl build --push` prints it), or pass --image")};
  return {.project = place.project->name,
          .model = version.name,
          .version = version.version,
          .artifact_digest = version.artifact.digest,
          .image = image,
          .environment = env.name,
          .namespace_name = env.namespace_name,
          .resources = {},
          .autoscaling = {}};
}

void run_render(Context& context, const DeployFlags& flags) {
  if (flags.check && flags.output_file.empty())
    throw Fatal{Error(Errc::invalid, "--check compares with a file: give it with -o FILE")};
  deploy::ServedModel model = served_model(context, flags);
  auto objects = unwrap(deploy::render_direct(model));
  std::string yaml = deploy::manifest_yaml(objects);
  nlohmann::json summary = {{"model", model.model},         {"version", model.version},
                            {"environment", model.environment}, {"namespace", model.namespace_name},
                            {"image", model.image},         {"objects", objects.size()}};
  if (flags.output_file.empty()) {
    context.print(objects, yaml);
    return;
  }
  summary["file"] = flags.output_file;
  if (flags.check) {
    auto on_disk = core::read_file(flags.output_file);
    bool same = on_disk && *on_disk == yaml;
    summary["up_to_date"] = same;
    if (same) return context.print(summary, fmt::format("{}: up to date", flags.output_file));
    context.print(summary, "");
    throw Fatal{Error(Errc::precondition,
                      fmt::format("{} differs from what {}@{} renders for {}", flags.output_file, model.model,
                                  model.version, model.environment),
                      "render it again (without --check) and commit the result")};
  }
  unwrap(core::write_file_atomic(flags.output_file, yaml));
  context.print(summary, fmt::format("wrote {}: {} version {} for {} ({} objects)", flags.output_file, model.model,
                                     model.version, model.environment, objects.size()));
}

}  // namespace

void add_deploy(CLI::App& app) {
  auto flags = std::make_shared<DeployFlags>();
  CLI::App* group = app.add_subcommand("deploy", "Serving manifests for a registered model (so far: plain Kubernetes)");
  group->require_subcommand(0, 1);
  group->footer(R"(Examples:
  mlctl deploy render fraud-detector@production --env prod
  mlctl deploy render fraud-detector@production --env prod -o deploy/prod.yaml
  mlctl deploy render fraud-detector@production --env prod -o deploy/prod.yaml --check   # exit 4 on drift)");

  CLI::App* render = group->add_subcommand(
      "render", "Render the Kubernetes objects that serve a model version in an environment");
  render->add_option("model", flags->ref, "NAME, NAME@VERSION or NAME@ALIAS")->required();
  render->add_option("--env", flags->environment, "The environment (from mlctl.yaml): its namespace")
      ->required()
      ->option_text("ENV");
  render->add_option("--image", flags->image, "The serving image (default: the one registered with the version)")
      ->option_text("REF@DIGEST");
  render->add_option("-o,--output-file", flags->output_file, "Write the manifests to FILE (default: stdout)")
      ->option_text("FILE");
  render->add_flag("--check", flags->check, "Compare with -o FILE instead of writing it; exit 4 when it differs");
  add_registry_db_option(render, flags->registry_db);
  on_run(render, [flags](Context& context) { run_render(context, *flags); });
}

}  // namespace mlctl::cli
