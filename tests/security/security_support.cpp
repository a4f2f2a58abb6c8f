#include "security_support.hpp"

#include <build/e2e/e2e_fixture.hpp>

#include <mlctl/core/digest.hpp>

#include <unistd.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>

namespace mlctl::test::security {

namespace fs = std::filesystem;

fs::path busybox_base() {
  fs::path cache = MLCTL_SECURITY_CACHE;
  std::string script = e2e::read_file(MLCTL_MAKE_BASE_IMAGE);
  fs::path layout = cache / ("busybox-" + core::sha256_hex(script).substr(0, 16));
  if (fs::exists(layout / "index.json")) return layout;
  fs::path scratch = cache / fmt::format("making-{}", ::getpid());
  fs::remove_all(scratch);
  fs::create_directories(scratch);
  fs::path made = e2e::make_base_layout("busybox", scratch);
  if (made.empty()) return {};
  std::error_code ec;
  fs::rename(made, layout, ec);  // fails when another process published one first: use that
  fs::remove_all(scratch);
  return fs::exists(layout / "index.json") ? layout : fs::path();
}

std::map<std::string, std::string> isolated_env(const fs::path& dir, const std::string& registry,
                                                const std::string& base) {
  for (const char* sub : {"home", "tmp", "docker"}) fs::create_directories(dir / sub);
  return {{"HOME", (dir / "home").string()},
          {"TMPDIR", (dir / "tmp").string()},
          {"XDG_CACHE_HOME", (dir / "home/.cache").string()},
          {"MLCTL_CACHE_DIR", (dir / "cache").string()},
          {"DOCKER_CONFIG", (dir / "docker").string()},
          {"REGISTRY_AUTH_FILE", ""},
          {"MLCTL_REGISTRY_USERNAME", ""},
          {"MLCTL_REGISTRY_PASSWORD", ""},
          {"SSL_CERT_FILE", ""},
          {"SSL_CERT_DIR", ""},
          {"E2E_REGISTRY", registry},
          {"E2E_BASE", base},
          {"SOURCE_DATE_EPOCH", "1700000000"}};
}

std::string error_line(const std::string& err) {
  for (const auto& line : e2e::lines(err))
    if (line.starts_with("mlctl: error: ")) return line;
  return {};
}

std::string hint_line(const std::string& err) {
  auto all = e2e::lines(err);
  for (size_t i = 0; i + 1 < all.size(); ++i)
    if (all[i].starts_with("mlctl: error: ") && all[i + 1].starts_with("hint: ")) return all[i + 1];
  return {};
}

namespace {

std::string lowercase(std::string text) {
  std::ranges::transform(text, text.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return text;
}

void find_in(const std::string& where, const std::string& text, const std::vector<std::string>& secrets,
             std::vector<std::string>& found) {
  std::string haystack = lowercase(text);
  for (const auto& secret : secrets)
    if (haystack.find(lowercase(secret)) != std::string::npos) found.push_back(where + " contains '" + secret + "'");
}

}  // namespace

std::vector<std::string> leaks_in_output(const core::Completed& run, const std::vector<std::string>& secrets) {
  std::vector<std::string> found;
  find_in("stdout", run.out, secrets, found);
  find_in("stderr", run.err, secrets, found);
  return found;
}

std::vector<std::string> leaks_in_files(const fs::path& root, const std::vector<fs::path>& skip,
                                        const std::vector<std::string>& secrets) {
  std::vector<std::string> found;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    if (std::ranges::find(skip, it->path()) != skip.end()) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file() && !it->is_symlink())
      find_in(fs::relative(it->path(), root).string(), e2e::read_file(it->path()), secrets, found);
  }
  return found;
}

}  // namespace mlctl::test::security
