#include "e2e_fixture.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace mlctl::test::e2e {

namespace fs = std::filesystem;

core::Completed run(const std::vector<std::string>& argv, const fs::path& cwd,
                    const std::map<std::string, std::string>& env, std::chrono::seconds timeout) {
  core::Command command{.argv = argv, .cwd = cwd, .env = env, .timeout = timeout};
  auto result = core::run(command);
  if (!result) {
    ADD_FAILURE() << "cannot run " << argv.front() << ": " << result.error().message();
    return {};
  }
  EXPECT_FALSE(result->timed_out) << argv.front() << " took longer than " << timeout.count() << " s";
  return *result;
}

fs::path make_base_layout(const std::string& kind, const fs::path& dir) {
  fs::path layout = dir / ("base-" + kind);
  // The python base is a debootstrap the first time (about a minute, longer on a busy machine).
  auto made = run({MLCTL_MAKE_BASE_IMAGE, kind, layout.string()}, dir, {}, std::chrono::minutes(9));
  EXPECT_EQ(made.exit_code, 0) << "make-base-image " << kind << ":\n" << made.out << made.err;
  return made.ok() ? layout : fs::path();
}

void push_base(const fs::path& layout, const std::string& host, const std::optional<Credentials>& credentials) {
  std::vector<std::string> argv{"skopeo", "copy", "--quiet", "--dest-tls-verify=false"};
  if (credentials) argv.insert(argv.end(), {"--dest-creds", credentials->username + ":" + credentials->password});
  argv.insert(argv.end(), {"oci:" + layout.string() + ":1", "docker://" + host + "/base:1"});
  auto copied = run(argv, layout.parent_path());
  EXPECT_EQ(copied.exit_code, 0) << "pushing the base image: " << copied.err;
}

std::string git(const fs::path& repo, const std::vector<std::string>& args) {
  std::vector<std::string> argv{"git", "-c", "user.name=mlctl e2e", "-c", "user.email=e2e@example.invalid",
                                "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string date(k_commit_date);
  auto done = run(argv, repo, {{"GIT_AUTHOR_DATE", date}, {"GIT_COMMITTER_DATE", date}});
  EXPECT_EQ(done.exit_code, 0) << "git " << args.front() << ": " << done.err;
  return done.out;
}

std::string head_sha(const fs::path& repo) {
  std::string out = git(repo, {"rev-parse", "HEAD"});
  return out.substr(0, out.find('\n'));
}

std::string short_sha(const fs::path& repo) {
  std::string out = git(repo, {"rev-parse", "--short=7", "HEAD"});
  return out.substr(0, out.find('\n'));
}

std::string commit_all(const fs::path& repo, const std::string& message) {
  git(repo, {"add", "-A"});
  git(repo, {"commit", "-q", "-m", message});
  return head_sha(repo);
}

fs::path copy_project(const std::string& name, const fs::path& dir) {
  fs::path project = dir / name;
  fs::copy(fs::path(MLCTL_E2E_DATA) / name, project, fs::copy_options::recursive);
  git(project, {"init", "-q"});
  commit_all(project, "the " + name + " example");
  return project;
}

Json skopeo_json(const std::vector<std::string>& args, const fs::path& cwd,
                 const std::map<std::string, std::string>& env) {
  std::vector<std::string> argv{"skopeo"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto done = run(argv, cwd, env);
  EXPECT_EQ(done.exit_code, 0) << "skopeo " << args.front() << ": " << done.err;
  return done.ok() ? Json::parse(done.out, nullptr, false) : Json();
}

core::Completed podman(const std::vector<std::string>& args, const fs::path& dir) {
  std::vector<std::string> argv{"podman", "--root", (dir / "podman/storage").string(), "--runroot",
                                (dir / "podman/run").string(), "--storage-driver", "vfs"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, dir, {{"CONTAINERS_CONF", MLCTL_TEST_DATA "/containers.conf"}});
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

fs::path layout_blob(const fs::path& layout, const std::string& digest) {
  return layout / "blobs/sha256" / digest.substr(std::string_view("sha256:").size());
}

namespace {

fs::path repository_dir(const fs::path& storage, const std::string& repository) {
  return storage / "docker/registry/v2/repositories" / repository;
}

}  // namespace

bool registry_has_repository(const fs::path& storage, const std::string& repository) {
  return fs::exists(repository_dir(storage, repository));
}

std::vector<std::string> registry_tags(const fs::path& storage, const std::string& repository) {
  std::vector<std::string> tags;
  fs::path dir = repository_dir(storage, repository) / "_manifests/tags";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) tags.push_back(entry.path().filename().string());
  std::ranges::sort(tags);
  return tags;
}

}  // namespace mlctl::test::e2e
