#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/core/reporter.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace mlctl::build {

// The interpreter the dependencies are installed for: that of the base image, not this machine.
struct PythonTarget {
  std::string python_version;          // "3.11"
  std::vector<std::string> platforms;  // pip platform tags, most specific first
};

// pip platform tags for an OCI architecture ("amd64", "arm64"); empty for one pip has no wheels for.
std::vector<std::string> pip_platforms(std::string_view architecture);

struct PythonDepsOptions {
  std::filesystem::path requirements;   // the requirements file; pip runs in its folder
  PythonTarget target;
  std::filesystem::path cache_root;     // MLCTL_CACHE_DIR
  std::vector<std::string> pip{"python3", "-m", "pip"};
};

struct PythonDeps {
  std::filesystem::path dir;  // the installed packages, ready to pack as site-packages
  std::string key;            // sha256 of what decides the result
  bool from_cache = false;
};

// Installs the requirements daemonlessly with `pip install --target` for the target's platform
// and Python version, wheels only (nothing is compiled for the wrong machine), no .pyc (they
// would embed timestamps). The result is cached under cache_root/python-deps/<key>, published
// by an atomic rename, so an interrupted install never leaves a half-filled entry.
// pip's own settings (PIP_INDEX_URL, PIP_FIND_LINKS, PIP_NO_INDEX, ...) pass through.
Result<PythonDeps> install_python_deps(const PythonDepsOptions& options, core::Reporter& reporter);

}  // namespace mlctl::build
