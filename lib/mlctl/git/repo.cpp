#include <mlctl/git/repo.hpp>

#include <mlctl/core/text.hpp>
#include <mlctl/git/libgit2.hpp>

#include <fmt/format.h>

namespace mlctl::git {

namespace fs = std::filesystem;

namespace {

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
  if (rc != 0) return git_fail(Errc::failed, "reading HEAD");
  Reference head(raw);
  state.detached = git_repository_head_detached(repo) == 1;
  if (!state.detached) state.branch = git_reference_shorthand(head.get());
  git_object* object = nullptr;
  if (git_reference_peel(&object, head.get(), GIT_OBJECT_COMMIT) != 0)
    return git_fail(Errc::failed, "reading HEAD's commit");
  Commit commit(reinterpret_cast<git_commit*>(object));
  state.commit = oid_string(git_commit_id(commit.get()));
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
    return git_fail(Errc::failed, "reading the work tree status");
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
  auto repo = open_work_tree(path);
  if (!repo) return std::unexpected(repo.error());

  RepoState state;
  state.workdir = workdir(repo->get());
  if (auto head = read_head(repo->get(), state); !head) return std::unexpected(head.error());
  auto dirty = is_dirty(repo->get());
  if (!dirty) return std::unexpected(dirty.error());
  state.dirty = *dirty;
  state.remote_url = origin_url(repo->get());
  return state;
}

std::optional<std::string> config_user_name() {
  ensure_initialised();
  git_config* raw = nullptr;
  if (git_config_open_default(&raw) != 0) return std::nullopt;
  Config config(raw);
  return config_string(config.get(), "user.name", git_config_get_string_buf);
}

}  // namespace mlctl::git
