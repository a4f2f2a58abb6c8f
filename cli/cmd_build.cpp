#include "build_project.hpp"
#include "registry_location.hpp"
#include "terminal_reporter.hpp"
#include "version.hpp"

#include <mlctl/build/dockerfile.hpp>
#include <mlctl/build/image_build.hpp>
#include <mlctl/build/layer_cache.hpp>
#include <mlctl/build/publish.hpp>
#include <mlctl/build/serve_layer.hpp>
#include <mlctl/core/fs.hpp>
#include <mlctl/deploy/k8s.hpp>
#include <mlctl/models/registry.hpp>
#include <mlctl/oci/platform.hpp>
#include <mlctl/oci/remote/curl_transport.hpp>
#include <mlctl/project/templates.hpp>

#include <charconv>
#include <cstdlib>
#include <regex>

#include <fmt/format.h>

namespace mlctl::cli {

namespace {

namespace remote = oci::remote;


oci::CompressionMode compression_mode(const std::string& name) {
  if (name == "gzip") return oci::CompressionMode::gzip;
  if (name == "zstd") return oci::CompressionMode::zstd;
  if (name == "none") return oci::CompressionMode::none;
  return oci::CompressionMode::automatic;
}

Result<std::optional<std::int64_t>> source_date_epoch() {
  const char* text = std::getenv("SOURCE_DATE_EPOCH");
  if (!text || !*text) return std::nullopt;
  std::int64_t epoch = 0;
  std::string_view view(text);
  auto [end, ec] = std::from_chars(view.data(), view.data() + view.size(), epoch);
  if (ec != std::errc{} || end != view.data() + view.size() || epoch < 0)
    return fail(Errc::invalid, fmt::format("SOURCE_DATE_EPOCH='{}' is not a number of seconds", view),
                "unset it, or set it to e.g. $(git log -1 --format=%ct)");
  return epoch;
}

// A tag as the distribution spec allows: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
Result<void> check_tag(const std::string& tag) {
  static const std::regex k_tag("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
  if (std::regex_match(tag, k_tag)) return {};
  return fail(Errc::invalid,
              fmt::format("'{}' is not a valid image tag: letters, digits, '_', '.' and '-', at most 128, "
                          "not starting with '.' or '-'",
                          tag));
}

// The tags to push: --tag, else the project version and (on a clean tree) the short commit.
std::vector<std::string> default_tags(const core::Project& project, const build::BuildPlan& plan) {
  std::vector<std::string> tags{project.version};
  if (plan.git && plan.git->commit && !plan.git->dirty) tags.push_back(plan.git->commit->substr(0, 7));
  return tags;
}

nlohmann::json layer_json(const build::BuiltLayer& layer, const remote::BlobPush* push) {
  static constexpr std::array<std::string_view, 3> k_how = {"existed", "mounted", "uploaded"};
  return {{"name", layer.name},
          {"media_type", layer.descriptor.media_type},
          {"digest", layer.descriptor.digest},
          {"size", layer.descriptor.size},
          {"diff_id", layer.diff_id},
          {"cached", layer.cached},
          {"push", push ? nlohmann::json(k_how[static_cast<int>(push->how)]) : nlohmann::json(nullptr)}};
}

// The registered version --model names, and where its artifact is.
struct ModelSource {
  RegistryPlace place;
  models::VersionRecord record;
};

// The serving image's plan (--serve or image.serve), with the version --model names resolved
// but not fetched yet.
std::optional<build::ServePlan> serve_plan(Context& context, const BuildFlags& flags, const core::Project& project,
                                           std::optional<ModelSource>& source) {
  if (!flags.serve && !project.image->serve) {
    if (!flags.model.empty())
      throw Fatal{Error(Errc::invalid, "--model bakes a model into the serving image, which needs --serve",
                        "add --serve, or set image.serve: true in mlctl.yaml")};
    return std::nullopt;
  }
  build::ServePlan serve{.server = {}, .predict = build::find_predict_hook(project.root), .model = std::nullopt,
                         .port = deploy::k_http_port, .uid = deploy::k_serving_uid};
  for (const auto& file : project::templates_under("serve/"))
    serve.server.push_back({.path = std::string(file.path), .content = file.content});
  if (flags.model.empty()) return serve;
  auto ref = unwrap(models::parse_ref(flags.model));
  RegistryPlace place = locate_registry(context, {.database = flags.registry_db, .artifacts = {}});
  models::Registry registry = open_registry(place);
  auto record = unwrap(registry.version(ref));
  serve.model = build::ServedModel{.name = record.name, .version = record.version, .flavor = record.flavor,
                                   .digest = record.artifact.digest, .directory = record.artifact.directory,
                                   .artifact = {}};
  source = ModelSource{.place = std::move(place), .record = std::move(record)};
  return serve;
}

// The artifact of `source` in the layer cache, fetched and verified the first time: an s3:// or
// oci:// artifact from where it was stored, any other from the place's store, as `mlctl model
// pull` does.
std::filesystem::path fetch_model(Context& context, const build::LayerCache& cache, const build::ServedModel& model,
                                  const ModelSource& source) {
  const models::StoredArtifact& artifact = source.record.artifact;
  auto store = artifact_store_for(source.place, artifact);
  auto path = build::cached_model_artifact(cache, model, [&](const std::filesystem::path& destination) {
    return store->get(artifact, destination, context.reporter());
  });
  return unwrap(with_context(std::move(path), fmt::format("fetching {}@{}", model.name, model.version)));
}

// The project, its build plan and the model --model names (resolved, not fetched).
struct Prepared {
  core::Project project;
  build::BuildPlan plan;
  std::optional<ModelSource> model_source;
};

Prepared prepare(Context& context, const BuildFlags& flags) {
  auto project = unwrap(core::load_project(context.project_file(), core::process_env()));
  auto plan = unwrap(build::plan_build(project, unwrap(source_date_epoch())));
  std::optional<ModelSource> model_source;
  plan.serve = serve_plan(context, flags, project, model_source);
  return {std::move(project), std::move(plan), std::move(model_source)};
}

void run_build(Context& context, const BuildFlags& flags) {
  if (!flags.print_dockerfile) {
    BuiltProject built = build_project(context, flags);
    context.print(built.document, fmt::format("{}", fmt::join(built.references, "\n")));
    return;
  }
  auto [project, plan, model_source] = prepare(context, flags);
  std::string dockerfile = build::render_dockerfile(plan.image, plan.context, plan.labels, plan.serve);
  if (context.json()) context.print({{"dockerfile", dockerfile}}, "");
  else std::fputs(dockerfile.c_str(), stdout);
}

}  // namespace

BuiltProject build_project(Context& context, const BuildFlags& flags) {
  auto [project, plan, model_source] = prepare(context, flags);

  auto repository = unwrap(remote::parse_reference(plan.image.repository));
  if (!repository.digest.empty())
    throw Fatal{Error(Errc::invalid, fmt::format("image.repository '{}' names a digest; give the repository only",
                                                 plan.image.repository))};
  std::vector<std::string> tags = flags.tags.empty() ? default_tags(project, plan) : flags.tags;
  for (const auto& tag : tags) unwrap(check_tag(tag));
  std::vector<build::Output> outputs;
  for (const auto& text : flags.outputs) outputs.push_back(unwrap(build::parse_output(text)));

  build::LayerCache cache(build::default_cache_dir());
  remote::CurlTransport transport({.user_agent = fmt::format("mlctl/{}", k_version)});
  auto credentials = remote::CredentialSources::from_environment();
  remote::ClientOptions client;
  client.insecure = flags.insecure ? remote::Insecure::yes : remote::Insecure::no;
  build::BuildOptions options{
      .cache = &cache,
      .base = {.platform = flags.platform.empty() ? oci::host_platform() : unwrap(oci::parse_platform(flags.platform)),
               .transport = &transport,
               .credentials = &credentials,
               .client = client},
      .compression = compression_mode(flags.compression),
      .source_date_epoch = plan.epoch,
      .builder = flags.builder};
  core::Reporter& reporter = context.reporter();
  if (model_source) plan.serve->model->artifact = fetch_model(context, cache, *plan.serve->model, *model_source);
  auto built = unwrap(build::build_image(project, plan, options, reporter));

  for (const auto& output : outputs)
    unwrap(build::write_output(built, cache, output, repository, tags, options.base, reporter));
  std::optional<build::PushReport> pushed;
  if (flags.push) {
    pushed = unwrap(build::push_image(built, cache, repository, tags,
                                      {.transport = &transport, .credentials = &credentials, .client = client},
                                      options.base, reporter));
  }
  const std::string digest = built.image.descriptor().digest;
  if (!flags.digest_file.empty()) unwrap(core::write_file_atomic(flags.digest_file, digest + "\n"));

  const std::string name = fmt::format("{}/{}", repository.registry, repository.repository);
  std::vector<std::string> references;
  for (const auto& tag : tags) references.push_back(fmt::format("{}:{}@{}", name, tag, digest));
  nlohmann::json layers = nlohmann::json::array();
  for (std::size_t i = 0; i < built.layers.size(); ++i)
    layers.push_back(layer_json(built.layers[i], pushed ? &pushed->layers[i] : nullptr));
  nlohmann::json output_names = nlohmann::json::array();
  for (const auto& output : outputs) output_names.push_back(output.str());
  nlohmann::json document = {{"image", references.front()},
                             {"digest", digest},
                             {"repository", name},
                             {"tags", tags},
                             {"pushed", pushed.has_value()},
                             {"outputs", output_names},
                             {"layers", layers},
                             {"bytes_uploaded", pushed ? pushed->uploaded_bytes : 0}};
  if (!context.globals().quiet) {
    std::uint64_t bytes = 0;
    for (const auto& layer : built.layers) bytes += static_cast<std::uint64_t>(layer.descriptor.size);
    reporter.step(fmt::format("{} {} layers ({}){}", pushed ? "pushed" : "built", built.layers.size(),
                              human_bytes(bytes),
                              pushed ? fmt::format(", {} uploaded", human_bytes(pushed->uploaded_bytes)) : ""));
  }
  return {.document = std::move(document), .references = std::move(references), .digest = digest};
}


void add_build(CLI::App& app) {
  auto flags = std::make_shared<BuildFlags>();
  CLI::App* command = app.add_subcommand("build", "Build the project's container image, without a Dockerfile or daemon");
  command->add_flag("--push", flags->push, "Push the image to image.repository under each tag");
  command->add_option("-t,--tag", flags->tags,
                      "Tag to push or write (repeatable; default: the version and, on a clean git tree, the short commit)")
      ->option_text("TAG");
  command->add_option("--output", flags->outputs, "Also write the image to oci:DIR (an OCI layout) or docker-archive:FILE")
      ->option_text("oci:DIR|docker-archive:FILE");
  command->add_option("--platform", flags->platform, "The platform to build for, os/arch[/variant] (default: this machine's)")
      ->option_text("PLATFORM");
  command->add_option("--digest-file", flags->digest_file, "Write the image's manifest digest to FILE")->option_text("FILE");
  command->add_option("--compression", flags->compression,
                      "Layer compression: auto (gzip unless the content does not compress), gzip, zstd, none")
      ->check(CLI::IsMember({"auto", "gzip", "zstd", "none"}))
      ->option_text("auto|gzip|zstd|none");
  command->add_flag("--print-dockerfile", flags->print_dockerfile, "Print the equivalent Dockerfile and build nothing");
  command->add_option("--builder", flags->builder, "What installs image.system_packages: auto, buildah, podman")
      ->check(CLI::IsMember({"auto", "buildah", "podman"}))
      ->option_text("auto|buildah|podman");
  command->add_flag("--insecure", flags->insecure, "Do not check the registry's TLS certificate; use plain HTTP if it does not speak TLS");
  command->add_flag("--serve", flags->serve,
                    "Build the serving image: the model server on port 8080 as the entrypoint (also image.serve)");
  command->add_option("--model", flags->model, "With --serve, bake this registered model version into the image")
      ->option_text("NAME[@VERSION|@ALIAS]");
  add_registry_db_option(command, flags->registry_db);
  command->footer(R"(Layers, cheapest to change last: the base image's, Python dependencies (pip install --target
for the base's Python, wheels only), files of 10 MB or more, then the code. Every layer is
reproducible (mtime from SOURCE_DATE_EPOCH, else the HEAD commit time), cached under
MLCTL_CACHE_DIR (default ~/.cache/mlctl), and pushed only when the registry lacks it.
With --serve, two more: the model server in /opt/mlctl/serve (with the project's predict.py),
and with --model the model's artifact in /opt/mlctl/model; the image runs the server as uid 65532.

Examples:
  mlctl build                              # build into the cache, print the digest
  mlctl build --push                       # push image.repository:VERSION and :SHORTSHA
  mlctl build --push -t latest -o json     # one tag, JSON report with bytes uploaded
  mlctl build --output oci:out/image       # an OCI layout for skopeo or umoci
  mlctl build --output docker-archive:image.tar   # for docker load / podman load
  mlctl build --print-dockerfile           # audit what the image holds
  mlctl build --serve --model fraud@production --push   # a serving image with the model baked in)");
  on_run(command, [flags](Context& context) { run_build(context, *flags); });
}

}  // namespace mlctl::cli
