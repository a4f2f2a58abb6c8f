#include <mlctl/build/system_packages.hpp>

#include <mlctl/build/dockerfile.hpp>
#include <mlctl/build/image_build.hpp>
#include <mlctl/core/digest.hpp>
#include <mlctl/core/fs.hpp>
#include <mlctl/core/process.hpp>
#include <mlctl/oci/remote/url.hpp>

#include <algorithm>
#include <array>
#include <memory>

#include <fmt/format.h>

namespace mlctl::build {

namespace fs = std::filesystem;

namespace {

constexpr std::array<std::string_view, 2> k_builders = {"buildah", "podman"};

Result<std::string> pick_builder(const std::string& wanted) {
  if (wanted != "auto") {
    if (std::ranges::find(k_builders, wanted) == k_builders.end())
      return fail(Errc::invalid, fmt::format("unknown builder '{}'", wanted), "use buildah or podman");
    if (!core::find_executable(wanted))
      return fail(Errc::precondition, fmt::format("{} is not installed, and image.system_packages needs it", wanted),
                  fmt::format("install it (apt-get install {}) or pick another with --builder", wanted));
    return wanted;
  }
  for (auto name : k_builders)
    if (core::find_executable(name)) return std::string(name);
  return fail(Errc::precondition, "image.system_packages needs buildah or podman to run the package manager",
              "install one of them (apt-get install buildah), or drop image.system_packages");
}

// How the builder names the base in FROM: pinned by digest, so the cached result stays right.
std::string from_name(const BaseImage& base) {
  if (base.reference) return base.reference->str();
  if (base.source == BaseImage::Source::layout) return fmt::format("oci:{}@{}", base.layout_dir.string(), base.manifest_digest);
  return "scratch";
}

// A base on a loopback registry, which (as mlctl does) the builder may reach over plain http.
bool on_this_machine(const BaseImage& base) {
  if (!base.reference) return false;
  auto url = oci::remote::parse_url(fmt::format("http://{}/", base.reference->registry));
  return url && oci::remote::is_loopback_host(url->host);
}

Result<void> run_builder(std::vector<std::string> argv, const fs::path& cwd, std::string_view what) {
  auto done = core::run({.argv = std::move(argv), .cwd = cwd});
  if (!done) return std::unexpected(done.error());
  if (!done->ok()) {
    std::string output = done->err.empty() ? done->out : done->err;
    if (output.size() > 4000) output = "..." + output.substr(output.size() - 4000);
    return fail(Errc::failed, fmt::format("{} failed (exit {}):\n{}", what, done->exit_code, output));
  }
  return {};
}

}  // namespace

Result<BaseImage> install_system_packages(const BaseImage& base, const std::vector<std::string>& packages,
                                          const BuildOptions& options, core::Reporter& reporter) {
  auto builder = pick_builder(options.builder);
  if (!builder) return std::unexpected(builder.error());
  const std::string from = from_name(base);
  const std::string dockerfile = system_packages_dockerfile(from, packages);
  const std::string key = core::sha256_hex(fmt::format("{}\n{}\n{}", dockerfile, base.manifest_digest, *builder));
  const fs::path layout = options.cache->root() / "system" / key;
  std::string name = fmt::format("oci:{}:system", layout.string());

  std::error_code ec;
  if (!fs::exists(layout / "index.json", ec)) {
    reporter.step(fmt::format("installing system packages with {}: {}", *builder, fmt::join(packages, " ")));
    fs::path work = options.cache->root() / "system" / (key + ".work");
    fs::remove_all(work, ec);
    fs::create_directories(work, ec);
    if (ec) return fail(Errc::failed, fmt::format("cannot create {}: {}", work.string(), ec.message()));
    // The scratch folder goes whatever happens; only a finished layout is kept.
    std::unique_ptr<const fs::path, void (*)(const fs::path*)> cleanup(&work, [](const fs::path* dir) {
      std::error_code ignored;
      fs::remove_all(*dir, ignored);
    });
    if (auto written = core::write_file_atomic(work / "Dockerfile", dockerfile); !written)
      return std::unexpected(written.error());
    const std::string tag = fmt::format("localhost/mlctl-system:{}", key.substr(0, 16));
    std::vector<std::string> bud = {*builder, *builder == "buildah" ? "bud" : "build", "--layers", "-f", "Dockerfile",
                                    "-t", tag};
    bool plain_http = options.base.client.insecure == oci::remote::Insecure::yes || on_this_machine(base);
    if (plain_http) bud.push_back("--tls-verify=false");
    bud.push_back(".");
    if (auto built = run_builder(bud, work, fmt::format("{} building the system packages layer", *builder)); !built)
      return std::unexpected(built.error());
    if (auto pushed = run_builder({*builder, "push", tag, fmt::format("oci:{}:system", (work / "layout").string())},
                                  work, fmt::format("{} exporting the system packages layer", *builder));
        !pushed)
      return std::unexpected(pushed.error());
    fs::rename(work / "layout", layout, ec);
    if (ec) return fail(Errc::failed, fmt::format("cannot move the built layout to {}: {}", layout.string(), ec.message()));
  } else {
    reporter.debug(fmt::format("system packages layer from the cache ({})", layout.string()));
  }
  auto resolved = resolve_base(name, options.base, reporter);
  if (!resolved) return std::unexpected(resolved.error());
  // Named after what the user wrote; its layers now come from the cached layout, so they are
  // copied rather than mounted when pushed.
  resolved->name = base.name;
  return resolved;
}

}  // namespace mlctl::build
