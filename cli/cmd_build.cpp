#include "context.hpp"
#include "terminal_reporter.hpp"
#include "version.hpp"

#include <mlctl/build/dockerfile.hpp>
#include <mlctl/build/image_build.hpp>
#include <mlctl/build/layer_cache.hpp>
#include <mlctl/build/publish.hpp>
#include <mlctl/core/fs.hpp>
#include <mlctl/oci/platform.hpp>
#include <mlctl/oci/remote/curl_transport.hpp>

#include <charconv>
#include <cstdlib>
#include <regex>

#include <fmt/format.h>

namespace mlctl::cli {

namespace {

namespace remote = oci::remote;

struct BuildFlags {
  bool push = false;
  std::vector<std::string> tags;
  std::vector<std::string> outputs;
  std::string platform;
  std::string digest_file;
  std::string compression = "auto";
  bool print_dockerfile = false;
  std::string builder = "auto";
  bool insecure = false;
};

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

void run_build(Context& context, const BuildFlags& flags) {
  auto project = unwrap(core::load_project(context.project_file(), core::process_env()));
  auto plan = unwrap(build::plan_build(project, unwrap(source_date_epoch())));
  if (flags.print_dockerfile) {
    std::string dockerfile = build::render_dockerfile(plan.image, plan.context, plan.labels);
    if (context.json()) context.print({{"dockerfile", dockerfile}}, "");
    else std::fputs(dockerfile.c_str(), stdout);
    return;
  }

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
  context.print(document, fmt::format("{}", fmt::join(references, "\n")));
}

}  // namespace

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
  command->add_flag("--insecure", flags->insecure, "Allow plain HTTP to a registry that is not on this machine");
  command->footer(R"(Layers, cheapest to change last: the base image's, Python dependencies (pip install --target
for the base's Python, wheels only), files of 10 MB or more, then the code. Every layer is
reproducible (mtime from SOURCE_DATE_EPOCH, else the HEAD commit time), cached under
MLCTL_CACHE_DIR (default ~/.cache/mlctl), and pushed only when the registry lacks it.

Examples:
  mlctl build                              # build into the cache, print the digest
  mlctl build --push                       # push image.repository:VERSION and :SHORTSHA
  mlctl build --push -t latest -o json     # one tag, JSON report with bytes uploaded
  mlctl build --output oci:out/image       # an OCI layout for skopeo or umoci
  mlctl build --output docker-archive:image.tar   # for docker load / podman load
  mlctl build --print-dockerfile           # audit what the image holds)");
  on_run(command, [flags](Context& context) { run_build(context, *flags); });
}

}  // namespace mlctl::cli
