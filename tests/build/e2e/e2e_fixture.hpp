#pragma once

#include <mlctl/core/process.hpp>

#include <support/temp_dir.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mlctl::test::e2e {

using Json = nlohmann::json;

// The commit time of every project repository the tests make, so the epoch is known.
inline constexpr std::string_view k_commit_date = "2024-01-02T03:04:05Z";
inline constexpr std::string_view k_commit_epoch = "1704164645";

struct Credentials {
  std::string username;
  std::string password;
};

// Runs a command with a bound on its time; a command that cannot start or times out fails the test.
core::Completed run(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
                    const std::map<std::string, std::string>& env = {},
                    std::chrono::seconds timeout = std::chrono::minutes(5));

// Makes the busybox (or python) base image layout with tests/fixtures/make-base-image into
// `dir`/`kind`; the python one is cached by the script. Fails the test (and returns an empty
// path) when the script fails.
std::filesystem::path make_base_layout(const std::string& kind, const std::filesystem::path& dir);

// skopeo copy oci:LAYOUT:1 docker://HOST/base:1 over plain http.
void push_base(const std::filesystem::path& layout, const std::string& host,
               const std::optional<Credentials>& credentials = std::nullopt);

// Copies the example project tests/build/e2e/data/NAME into `dir`/NAME, makes it a git
// repository with one commit dated k_commit_date, and returns its path.
std::filesystem::path copy_project(const std::string& name, const std::filesystem::path& dir);
// Commits everything in `repo` (dated k_commit_date) and returns the new HEAD.
std::string commit_all(const std::filesystem::path& repo, const std::string& message);
std::string git(const std::filesystem::path& repo, const std::vector<std::string>& args);
std::string head_sha(const std::filesystem::path& repo);
std::string short_sha(const std::filesystem::path& repo);

// `skopeo ARGS` printing JSON (inspect --tls-verify=false and the like); parsed, or null on failure.
Json skopeo_json(const std::vector<std::string>& args, const std::filesystem::path& cwd,
                 const std::map<std::string, std::string>& env = {});

// podman with its storage under `dir` (vfs, no daemon) and tests/data/containers.conf.
core::Completed podman(const std::vector<std::string>& args, const std::filesystem::path& dir);

std::vector<std::string> lines(const std::string& text);
std::string read_file(const std::filesystem::path& file);
// The blob file of `digest` ("sha256:...") in an OCI layout.
std::filesystem::path layout_blob(const std::filesystem::path& layout, const std::string& digest);

// Read from the registry's own storage folder, so no client can paper over what is there:
// whether it holds the repository at all (a build that fails before pushing leaves nothing),
// and the tags the repository has, sorted.
bool registry_has_repository(const std::filesystem::path& storage, const std::string& repository);
std::vector<std::string> registry_tags(const std::filesystem::path& storage, const std::string& repository);

}  // namespace mlctl::test::e2e
