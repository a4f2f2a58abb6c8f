#include <mlctl/git/libgit2.hpp>

#include <fmt/format.h>

namespace mlctl::git {

namespace fs = std::filesystem;

void ensure_initialised() {
  static const int initialised = git_libgit2_init();
  (void)initialised;
}

std::string last_error() {
  const git_error* error = git_error_last();
  return error && error->message ? error->message : "unknown libgit2 error";
}

std::unexpected<Error> git_fail(Errc code, std::string_view what) {
  return fail(code, fmt::format("{}: {}", what, last_error()));
}

namespace {

// Whether libgit2's search from `path` could find anything: a .git (folder or file) in it or a
// folder above, or one of them a git folder itself (a bare repository). Answering "no" here spares
// loading libgit2 and the libraries it needs (a tenth of a cached pipeline run's time), where
// there is no repository; "yes" leaves the search, and its stricter rules, to libgit2.
bool could_be_in_repository(const fs::path& path) {
  std::error_code ec;
  fs::path dir = fs::absolute(path, ec).lexically_normal();
  if (ec) return true;
  while (true) {
    if (fs::exists(dir / ".git", ec) || (fs::is_regular_file(dir / "HEAD", ec) && fs::is_directory(dir / "objects", ec)))
      return true;
    if (!dir.has_relative_path()) return false;
    dir = dir.parent_path();
  }
}

}  // namespace

Result<Repository> open_repository(const fs::path& path) {
  auto outside = [&] {
    return fail(Errc::not_found, fmt::format("{} is not in a git repository", path.string()),
                "run 'git init', or pass the values the command asks for explicitly");
  };
  if (!could_be_in_repository(path)) return outside();
  ensure_initialised();
  git_repository* raw = nullptr;
  int rc = git_repository_open_ext(&raw, path.c_str(), 0, nullptr);
  if (rc == GIT_ENOTFOUND) return outside();
  if (rc != 0) return git_fail(Errc::failed, fmt::format("opening the git repository at {}", path.string()));
  return Repository(raw);
}

Result<Repository> open_work_tree(const fs::path& path) {
  auto repo = open_repository(path);
  if (repo && git_repository_is_bare(repo->get()))
    return fail(Errc::precondition, fmt::format("{} is a bare repository with no work tree", path.string()));
  return repo;
}

fs::path workdir(git_repository* repo) { return fs::path(git_repository_workdir(repo)).lexically_normal(); }

std::string oid_string(const git_oid* id) {
  char text[GIT_OID_HEXSZ + 1] = {};
  git_oid_tostr(text, sizeof text, id);
  return text;
}

std::string short_id(const git_oid* id) { return oid_string(id).substr(0, 7); }

Result<Commit> resolve_commit(git_repository* repo, const std::string& revision) {
  git_object* raw = nullptr;
  int rc = git_revparse_single(&raw, repo, revision.c_str());
  if (rc == GIT_ENOTFOUND || rc == GIT_EINVALIDSPEC || rc == GIT_EAMBIGUOUS)
    return fail(Errc::not_found, fmt::format("no commit '{}' in the repository", revision),
                "name a branch, a tag or a commit id that 'git rev-parse' knows");
  if (rc != 0) return git_fail(Errc::failed, fmt::format("reading revision '{}'", revision));
  Object object(raw);
  git_object* peeled = nullptr;
  if (git_object_peel(&peeled, object.get(), GIT_OBJECT_COMMIT) != 0)
    return git_fail(Errc::not_found, fmt::format("'{}' does not name a commit", revision));
  return Commit(reinterpret_cast<git_commit*>(peeled));
}

Result<Signature> default_signature(git_repository* repo) {
  git_signature* raw = nullptr;
  int rc = git_signature_default(&raw, repo);
  // Not configured: a release on a CI machine must still be able to tag and commit.
  if (rc == GIT_ENOTFOUND) rc = git_signature_now(&raw, "mlctl", "mlctl@localhost");
  if (rc != 0) return git_fail(Errc::failed, "making the commit signature");
  return Signature(raw);
}

std::string git_message(std::string_view message) {
  std::string text(message);
  if (!text.ends_with('\n')) text += '\n';
  return text;
}

std::optional<std::string> config_string(const git_config* config, const char* name, ConfigGetter get) {
  git_buf value = {};
  std::optional<std::string> result;
  if (get(&value, config, name) == 0 && value.ptr && *value.ptr) result = value.ptr;
  git_buf_dispose(&value);
  return result;
}

}  // namespace mlctl::git
