#include <mlctl/git/repo.hpp>

#include <mlctl/core/text.hpp>

#include <git2.h>

#include <memory>

#include <fmt/format.h>

namespace mlctl::git {

namespace fs = std::filesystem;

namespace {

void ensure_initialised() {
  static const int initialised = git_libgit2_init();
  (void)initialised;
}

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using Repository = std::unique_ptr<git_repository, Deleter<git_repository, git_repository_free>>;
using Reference = std::unique_ptr<git_reference, Deleter<git_reference, git_reference_free>>;
using Commit = std::unique_ptr<git_commit, Deleter<git_commit, git_commit_free>>;
using StatusList = std::unique_ptr<git_status_list, Deleter<git_status_list, git_status_list_free>>;
using Remote = std::unique_ptr<git_remote, Deleter<git_remote, git_remote_free>>;
using Config = std::unique_ptr<git_config, Deleter<git_config, git_config_free>>;

std::string last_error() {
  const git_error* error = git_error_last();
  return error && error->message ? error->message : "unknown libgit2 error";
}

Result<void> read_head(git_repository* repo, RepoState& state) {
  git_reference* raw = nullptr;
  int rc = git_repository_head(&raw, repo);
  if (rc == GIT_EUNBORNBRANCH || rc == GIT_ENOTFOUND) {
    // Before the first commit HEAD names a branch that does not exist yet.
    if (git_reference_lookup(&raw, repo, "HEAD") == 0) {
      Reference head(raw);
      if (const char* target = git_reference_symbolic_target(head.get()))
        state.branch = std::string(target).substr(std::string_view("refs/heads/").size());
    }
    return {};
  }
  if (rc != 0) return fail(Errc::failed, fmt::format("reading HEAD: {}", last_error()));
  Reference head(raw);
  state.detached = git_repository_head_detached(repo) == 1;
  if (!state.detached) state.branch = git_reference_shorthand(head.get());
  git_object* object = nullptr;
  if (git_reference_peel(&object, head.get(), GIT_OBJECT_COMMIT) != 0)
    return fail(Errc::failed, fmt::format("reading HEAD's commit: {}", last_error()));
  Commit commit(reinterpret_cast<git_commit*>(object));
  char id[GIT_OID_HEXSZ + 1] = {};
  git_oid_tostr(id, sizeof id, git_commit_id(commit.get()));
  state.commit = id;
  state.commit_time = static_cast<std::int64_t>(git_commit_time(commit.get()));
  const git_signature* author = git_commit_author(commit.get());
  state.author_name = author->name ? author->name : "";
  state.author_email = author->email ? author->email : "";
  return {};
}

Result<bool> is_dirty(git_repository* repo) {
  git_status_options options = GIT_STATUS_OPTIONS_INIT;
  options.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
  options.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
  git_status_list* raw = nullptr;
  if (git_status_list_new(&raw, repo, &options) != 0)
    return fail(Errc::failed, fmt::format("reading the work tree status: {}", last_error()));
  StatusList list(raw);
  return git_status_list_entrycount(list.get()) > 0;
}

std::optional<std::string> origin_url(git_repository* repo) {
  git_remote* raw = nullptr;
  if (git_remote_lookup(&raw, repo, "origin") != 0) return std::nullopt;
  Remote remote(raw);
  const char* url = git_remote_url(remote.get());
  if (!url) return std::nullopt;
  return core::strip_url_credentials(url);
}

}  // namespace

Result<RepoState> repo_state(const fs::path& path) {
  ensure_initialised();
  git_repository* raw = nullptr;
  int rc = git_repository_open_ext(&raw, path.c_str(), 0, nullptr);
  if (rc == GIT_ENOTFOUND)
    return fail(Errc::not_found, fmt::format("{} is not in a git repository", path.string()),
                "run 'git init', or pass the values the command asks for explicitly");
  if (rc != 0) return fail(Errc::failed, fmt::format("opening the git repository at {}: {}", path.string(), last_error()));
  Repository repo(raw);
  if (git_repository_is_bare(repo.get()))
    return fail(Errc::precondition, fmt::format("{} is a bare repository with no work tree", path.string()));

  RepoState state;
  state.workdir = fs::path(git_repository_workdir(repo.get())).lexically_normal();
  if (auto head = read_head(repo.get(), state); !head) return std::unexpected(head.error());
  auto dirty = is_dirty(repo.get());
  if (!dirty) return std::unexpected(dirty.error());
  state.dirty = *dirty;
  state.remote_url = origin_url(repo.get());
  return state;
}

std::optional<std::string> config_user_name() {
  ensure_initialised();
  git_config* raw = nullptr;
  if (git_config_open_default(&raw) != 0) return std::nullopt;
  Config config(raw);
  git_buf value = {};
  std::optional<std::string> name;
  if (git_config_get_string_buf(&value, config.get(), "user.name") == 0 && value.ptr && *value.ptr) name = value.ptr;
  git_buf_dispose(&value);
  return name;
}

}  // namespace mlctl::git
