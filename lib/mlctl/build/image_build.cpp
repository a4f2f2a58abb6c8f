#include <mlctl/build/image_build.hpp>

#include <mlctl/build/dockerfile.hpp>
#include <mlctl/build/python_deps.hpp>
#include <mlctl/build/serve_layer.hpp>
#include <mlctl/build/system_packages.hpp>
#include <mlctl/oci/image_config.hpp>
#include <mlctl/oci/tar_writer.hpp>

#include <algorithm>

#include <fmt/format.h>

namespace mlctl::build {

namespace fs = std::filesystem;

namespace {

// Where a context path lands in the image (tar paths are relative to /).
std::string image_path(std::string_view relative) {
  return fmt::format("{}/{}", k_app_dir.substr(1), relative);
}

std::vector<oci::TarEntry> tar_entries(const std::vector<ContextEntry>& entries) {
  std::vector<oci::TarEntry> out;
  out.reserve(entries.size());
  for (const auto& entry : entries) {
    if (entry.kind == ContextEntry::Kind::symlink) {
      out.push_back({.path = image_path(entry.path), .kind = oci::TarEntry::Kind::symlink,
                     .link_target = entry.link_target});
    } else {
      out.push_back({.path = image_path(entry.path), .source = entry.source, .executable = entry.executable});
    }
  }
  return out;
}

std::optional<std::string> get_env(const std::vector<std::string>& env, std::string_view key) {
  std::string prefix = fmt::format("{}=", key);
  for (const auto& e : env)
    if (e.starts_with(prefix)) return e.substr(prefix.size());
  return std::nullopt;
}

// The Python the dependencies are installed for: image.python.version, else the base's.
Result<std::string> python_version(const core::ImageConfig& image, const BaseImage& base, const BuildOptions& options,
                                   core::Reporter& reporter) {
  if (!image.python_version.empty()) return image.python_version;
  if (!get_env(base.config.config.env, "PYTHON_VERSION")) {
    // Only the files of the base can tell.
    if (auto fetched = fetch_base_layers(base, options.cache->blobs(), options.base, reporter); !fetched)
      return std::unexpected(fetched.error());
  }
  auto version = base_python_version(base, options.cache->blobs());
  if (!version) return std::unexpected(version.error());
  if (!*version)
    return fail(Errc::precondition,
                fmt::format("cannot tell which Python the base image '{}' has (no PYTHON_VERSION in its "
                            "environment, no usr/bin/python3.N in its layers)",
                            base.name),
                "set image.python.version in mlctl.yaml, e.g. \"3.11\", or use a base image with Python");
  return **version;
}

Result<std::vector<oci::TarEntry>> python_deps(const core::Project& project, const BaseImage& base,
                                               const BuildOptions& options, core::Reporter& reporter) {
  const core::ImageConfig& image = *project.image;
  auto version = python_version(image, base, options, reporter);
  if (!version) return std::unexpected(version.error());
  auto platforms = pip_platforms(base.config.architecture);
  if (platforms.empty())
    return fail(Errc::invalid, fmt::format("pip has no wheels for the architecture '{}' of the base image",
                                           base.config.architecture));
  reporter.step(fmt::format("installing {} for Python {} ({})", image.python_requirements.value, *version,
                            platforms.front()));
  auto deps = install_python_deps({.requirements = project.root / image.python_requirements.value,
                                   .target = {*version, platforms},
                                   .cache_root = options.cache->root(),
                                   .pip = options.pip},
                                  reporter);
  if (!deps) return std::unexpected(deps.error());
  return tree_entries(deps->dir, k_deps_dir);
}

// The image's config: the base's, with our layers, environment, labels and start command.
oci::ImageConfig image_config(const BaseImage& base, const BuildPlan& plan, const std::vector<BuiltLayer>& ours) {
  const core::ImageConfig& image = plan.image;
  oci::ImageConfig config = base.config;
  config.created = oci::rfc3339_utc(plan.epoch);
  auto& c = config.config;
  bool has_deps = std::ranges::any_of(ours, [](const BuiltLayer& l) { return l.name == k_deps_layer; });
  if (has_deps) {
    auto inherited = get_env(c.env, "PYTHONPATH");
    set_env(c.env, "PYTHONPATH", inherited && !inherited->empty() ? fmt::format("{}:{}", k_deps_dir, *inherited)
                                                                   : std::string(k_deps_dir));
  }
  for (const auto& [key, value] : image.env) set_env(c.env, key, value);
  c.working_dir = std::string(k_app_dir);
  if (!image.user.empty()) c.user = image.user;
  if (!image.entrypoint.empty()) {
    // As in a Dockerfile, a new entrypoint drops the base's arguments for the old one.
    c.entrypoint = image.entrypoint;
    c.cmd = std::nullopt;
  }
  if (!image.cmd.empty()) c.cmd = image.cmd;
  for (const auto& [key, value] : plan.labels) c.labels[key] = value;
  if (plan.serve) apply_serve_config(*plan.serve, c);
  for (const auto& layer : ours) {
    config.diff_ids.push_back(layer.diff_id);
    config.history.push_back({.created = config.created, .created_by = fmt::format("mlctl build: {}", layer.name)});
  }
  return config;
}

}  // namespace

Result<std::vector<oci::TarEntry>> tree_entries(const fs::path& dir, std::string_view image_dir) {
  std::vector<oci::TarEntry> out;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string relative = it->path().lexically_relative(dir).generic_string();
    auto entry = oci::entry_from_disk(it->path(), fmt::format("{}/{}", image_dir.substr(1), relative));
    if (!entry) return std::unexpected(entry.error());
    out.push_back(std::move(*entry));
  }
  if (ec) return fail(Errc::failed, fmt::format("cannot list {}: {}", dir.string(), ec.message()));
  return out;
}

void set_env(std::vector<std::string>& env, std::string_view key, std::string value) {
  std::string prefix = fmt::format("{}=", key);
  auto it = std::ranges::find_if(env, [&](const std::string& e) { return e.starts_with(prefix); });
  if (it != env.end()) *it = prefix + value;
  else env.push_back(prefix + value);
}

Result<BuildPlan> plan_build(const core::Project& project, std::optional<std::int64_t> source_date_epoch) {
  if (!project.image)
    return fail(Errc::precondition, fmt::format("{} has no 'image' section, so there is nothing to build",
                                                project.file.filename().string()),
                "add image.repository and image.base (see 'man mlctl.yaml')");
  BuildPlan plan{.image = *project.image};
  auto context = select_context(project.root, {.include = plan.image.include, .exclude = plan.image.exclude});
  if (!context) return std::unexpected(context.error());
  plan.context = std::move(*context);

  if (auto state = git::repo_state(project.root)) plan.git = std::move(*state);
  else if (state.error().code() != Errc::not_found) return std::unexpected(state.error());

  if (source_date_epoch) plan.epoch = *source_date_epoch;
  else if (plan.git && plan.git->commit_time) plan.epoch = *plan.git->commit_time;

  plan.labels.emplace_back("org.opencontainers.image.created", oci::rfc3339_utc(plan.epoch));
  if (plan.git && plan.git->commit) plan.labels.emplace_back("org.opencontainers.image.revision", *plan.git->commit);
  if (plan.git && plan.git->remote_url)
    plan.labels.emplace_back("org.opencontainers.image.source", *plan.git->remote_url);
  plan.labels.emplace_back("org.opencontainers.image.version", project.version);
  return plan;
}

Result<BuiltImage> build_image(const core::Project& project, const BuildPlan& plan, const BuildOptions& options,
                               core::Reporter& reporter) {
  const core::ImageConfig& image = plan.image;
  const LayerCache& cache = *options.cache;
  auto base = resolve_base(image.base, options.base, reporter);
  if (!base) return std::unexpected(base.error());
  if (!image.system_packages.empty()) {
    auto with_packages = install_system_packages(*base, image.system_packages, options, reporter);
    if (!with_packages) return std::unexpected(with_packages.error());
    base = std::move(with_packages);
  }

  BuiltImage built{.base = *base, .epoch = plan.epoch, .git = plan.git};
  for (std::size_t i = 0; i < base->layers.size(); ++i) {
    const auto& layer = base->layers[i];
    built.layers.push_back({.name = std::string(k_base_layer), .descriptor = layer,
                            .diff_id = i < base->config.diff_ids.size() ? base->config.diff_ids[i] : "",
                            .cached = cache.blobs().has(layer.digest)});
  }
  std::vector<BuiltLayer> ours;
  auto add_layer = [&](std::string_view name, std::vector<oci::TarEntry> entries) -> Result<void> {
    auto layer = cache.get_or_build(std::move(entries),
                                    {.compression = options.compression, .epoch = plan.epoch, .name = std::string(name)},
                                    reporter);
    if (!layer) return std::unexpected(layer.error().context(fmt::format("building the {} layer", name)));
    reporter.step(fmt::format("{} layer {} ({}){}", name, layer->layer.descriptor.digest.substr(0, 19),
                              layer->layer.descriptor.media_type, layer->cached ? ", cached" : ""));
    ours.push_back({.name = std::string(name), .descriptor = layer->layer.descriptor,
                    .diff_id = layer->layer.diff_id, .cached = layer->cached});
    return {};
  };

  if (!image.python_requirements.value.empty()) {
    auto entries = python_deps(project, *base, options, reporter);
    if (!entries) return std::unexpected(entries.error());
    if (auto added = add_layer(k_deps_layer, std::move(*entries)); !added) return std::unexpected(added.error());
  }
  if (!plan.context.large.empty()) {
    if (auto added = add_layer(k_large_layer, tar_entries(plan.context.large)); !added)
      return std::unexpected(added.error());
  }
  if (auto added = add_layer(k_code_layer, tar_entries(plan.context.code)); !added)
    return std::unexpected(added.error());
  if (plan.serve) {
    if (auto added = add_layer(k_serve_layer, serve_entries(*plan.serve)); !added)
      return std::unexpected(added.error());
    if (plan.serve->model) {
      auto entries = model_entries(*plan.serve->model);
      if (!entries) return std::unexpected(entries.error());
      if (auto added = add_layer(k_model_layer, std::move(*entries)); !added) return std::unexpected(added.error());
    }
  }

  oci::ImageConfig config = image_config(*base, plan, ours);
  std::vector<oci::Descriptor> descriptors = base->layers;
  for (const auto& layer : ours) descriptors.push_back(layer.descriptor);
  oci::Annotations annotations;
  if (base->source != BaseImage::Source::scratch) {
    annotations["org.opencontainers.image.base.digest"] = base->manifest_digest;
    // A layout's name is a local path, which would make the manifest differ between machines.
    if (base->reference) {
      oci::remote::Reference name = *base->reference;
      if (!name.tag.empty()) name.digest.clear();
      annotations["org.opencontainers.image.base.name"] = name.str();
    }
  }
  auto assembled = oci::assemble_image(std::move(config), std::move(descriptors), std::move(annotations));
  if (!assembled) return std::unexpected(assembled.error());
  built.image = std::move(*assembled);
  built.layers.insert(built.layers.end(), ours.begin(), ours.end());
  return built;
}

}  // namespace mlctl::build
