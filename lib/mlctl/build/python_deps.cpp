#include <mlctl/build/python_deps.hpp>

#include <mlctl/core/digest.hpp>
#include <mlctl/core/fs.hpp>
#include <mlctl/core/process.hpp>
#include <mlctl/core/text.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

namespace mlctl::build {

namespace fs = std::filesystem;

namespace {

constexpr size_t k_error_tail_lines = 12;

std::string tail_lines(std::string_view text, size_t count) {
  while (text.ends_with('\n')) text.remove_suffix(1);
  size_t start = text.size();
  for (size_t lines = 0; lines < count && start > 0; ++lines) {
    size_t newline = text.rfind('\n', start - 1);
    start = newline == std::string_view::npos ? 0 : newline + 1;
    if (newline == std::string_view::npos) break;
  }
  return std::string(text.substr(start));
}

std::string cache_key(std::string_view requirements, const PythonDepsOptions& options) {
  core::Sha256 hash;
  hash.update(fmt::format("requirements\n{}\npython {}\nplatforms {}\npip {}\n", requirements,
                          options.target.python_version, fmt::join(options.target.platforms, " "),
                          fmt::join(options.pip, " ")));
  return hash.hex();
}

std::vector<std::string> pip_arguments(const PythonDepsOptions& options, const fs::path& target) {
  std::vector<std::string> argv = options.pip;
  argv.insert(argv.end(), {"install", "--target", target.string(), "--only-binary=:all:", "--implementation", "cp",
                           "--python-version", options.target.python_version, "--no-compile",
                           "--disable-pip-version-check", "--no-input", "-r",
                           options.requirements.filename().string()});
  for (const auto& platform : options.target.platforms) argv.insert(argv.end(), {"--platform", platform});
  return argv;
}

}  // namespace

std::vector<std::string> pip_platforms(std::string_view architecture) {
  std::string machine;
  if (architecture == "amd64") machine = "x86_64";
  if (architecture == "arm64") machine = "aarch64";
  if (architecture == "ppc64le" || architecture == "s390x") machine = std::string(architecture);
  if (machine.empty()) return {};
  return {"manylinux_2_28_" + machine, "manylinux2014_" + machine, "linux_" + machine};
}

Result<PythonDeps> install_python_deps(const PythonDepsOptions& options, core::Reporter& reporter) {
  auto requirements = core::read_file(options.requirements);
  if (!requirements) return std::unexpected(requirements.error().context("reading the Python requirements"));
  if (options.target.platforms.empty())
    return fail(Errc::invalid, "no pip platform for the base image's architecture",
                "Python dependencies are installed from wheels, which exist for amd64 and arm64 images");

  std::string key = cache_key(*requirements, options);
  fs::path entries = options.cache_root / "python-deps";
  fs::path entry = entries / key;
  std::error_code ec;
  if (fs::is_directory(entry, ec)) return PythonDeps{entry, key, true};

  fs::create_directories(entries, ec);
  std::string staging = (entries / ("tmp-" + key.substr(0, 12) + "-XXXXXX")).string();
  if (!::mkdtemp(staging.data()))
    return fail(Errc::failed, fmt::format("{}: cannot create a folder: {}", entries.string(), std::strerror(errno)));

  reporter.step(fmt::format("installing Python dependencies from {} for Python {} ({})",
                            core::display_path(options.requirements), options.target.python_version,
                            options.target.platforms.front()));
  core::Command pip{.argv = pip_arguments(options, staging), .cwd = options.requirements.parent_path()};
  reporter.debug(fmt::format("running {}", core::strip_url_credentials(fmt::format("{}", fmt::join(pip.argv, " ")))));
  auto ran = core::run(pip);
  if (!ran || !ran->ok()) {
    fs::remove_all(staging, ec);
    if (!ran) return std::unexpected(ran.error().context("installing the Python dependencies"));
    return fail(Errc::failed,
                fmt::format("installing the Python dependencies: pip exited with {}:\n{}", ran->exit_code,
                            core::strip_url_credentials(tail_lines(ran->err, k_error_tail_lines))),
                "wheels must exist for the image's platform and Python version; pip's settings "
                "(PIP_INDEX_URL, PIP_FIND_LINKS, PIP_NO_INDEX) pass through to it");
  }
  fs::rename(staging, entry, ec);
  if (ec) {
    // Another build published the same entry first; its content is the same.
    fs::remove_all(staging, ec);
    if (!fs::is_directory(entry, ec))
      return fail(Errc::failed, fmt::format("{}: cannot publish the cache entry", entry.string()));
  }
  return PythonDeps{entry, key, false};
}

}  // namespace mlctl::build
