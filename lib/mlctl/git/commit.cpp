#include <mlctl/git/commit.hpp>

#include <mlctl/core/fs.hpp>
#include <mlctl/git/libgit2.hpp>

#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace mlctl::git {

namespace fs = std::filesystem;

namespace {

using Files = std::map<std::string, std::string>;

bool is_under(std::string_view path, std::string_view dir) {
  return path.size() > dir.size() && path.starts_with(dir) && path[dir.size()] == '/';
}

// A path that stays where it is put: relative, no empty, ".", ".." or ".git" component.
Result<void> check_relative(std::string_view path) {
  if (path.empty()) return fail(Errc::invalid, "an empty path");
  if (path.front() == '/') return fail(Errc::invalid, fmt::format("{} is an absolute path", path));
  for (size_t start = 0; start <= path.size();) {
    size_t slash = std::min(path.find('/', start), path.size());
    std::string_view part = path.substr(start, slash - start);
    if (part.empty() || part == "." || part == ".." || part == ".git")
      return fail(Errc::invalid, fmt::format("{} leaves its folder (component '{}')", path, part));
    start = slash + 1;
  }
  return {};
}

// The folders that lead to `path` (relative to `root`) must be real ones: a symbolic link could
// send the write anywhere.
Result<void> check_no_symlink(const fs::path& root, const fs::path& path) {
  fs::path relative;
  for (const fs::path& part : path.parent_path()) {
    relative /= part;
    std::error_code ec;
    auto status = fs::symlink_status(root / relative, ec);
    if (ec || status.type() == fs::file_type::not_found) return {};
    if (status.type() == fs::file_type::symlink)
      return fail(Errc::invalid, fmt::format("{} is a symbolic link", relative.string()));
  }
  return {};
}

Result<void> check_paths(const fs::path& root, const std::string& dir, const Files& files) {
  if (auto checked = check_relative(dir); !checked) return with_context(checked, "the GitOps folder");
  if (auto checked = check_no_symlink(root, dir + "/"); !checked) return with_context(checked, "the GitOps folder");
  for (const auto& [file, content] : files) {
    auto checked = check_relative(file);
    if (checked) checked = check_no_symlink(root, dir + "/" + file);
    if (!checked) return with_context(checked, fmt::format("writing into {}", dir));
  }
  return {};
}

// Staged work outside `dir` would be swept into mlctl's commit: refuse it, naming one file.
Result<void> check_staged_outside(git_repository* repo, const fs::path& repo_path, const std::string& dir) {
  git_status_options options = GIT_STATUS_OPTIONS_INIT;
  options.show = GIT_STATUS_SHOW_INDEX_ONLY;
  git_status_list* raw = nullptr;
  if (git_status_list_new(&raw, repo, &options) != 0) return git_fail(Errc::failed, "reading the staged changes");
  StatusList list(raw);
  for (size_t i = 0; i < git_status_list_entrycount(list.get()); ++i) {
    const git_diff_delta* delta = git_status_byindex(list.get(), i)->head_to_index;
    if (!delta) continue;
    const char* path = delta->new_file.path ? delta->new_file.path : delta->old_file.path;
    if (!is_under(path, dir))
      return fail(Errc::precondition,
                  fmt::format("{} has staged changes outside {}/, such as {}", repo_path.string(), dir, path),
                  "commit them or unstage them (git restore --staged) first");
  }
  return {};
}

// Deletes the tracked files under `dir` that are not in `files`, and their folders left empty.
Result<void> remove_stale(const fs::path& root, git_index* index, const std::string& dir, const Files& files) {
  std::vector<std::string> stale;
  for (size_t i = 0; i < git_index_entrycount(index); ++i) {
    std::string_view path = git_index_get_byindex(index, i)->path;
    if (is_under(path, dir) && !files.contains(std::string(path.substr(dir.size() + 1)))) stale.emplace_back(path);
  }
  for (const std::string& path : stale) {
    std::error_code ec;
    fs::remove(root / path, ec);
    for (fs::path folder = fs::path(path).parent_path(); is_under(folder.string(), dir); folder = folder.parent_path())
      if (!fs::remove(root / folder, ec)) break;  // not empty
    if (git_index_remove_bypath(index, path.c_str()) != 0) return git_fail(Errc::failed, fmt::format("unstaging {}", path));
  }
  return {};
}

Result<void> write_and_stage(const fs::path& root, git_index* index, const std::string& dir, const Files& files) {
  for (const auto& [file, content] : files) {
    std::string path = dir + "/" + file;
    if (auto written = core::write_file_atomic(root / path, content); !written) return written;
    if (git_index_add_bypath(index, path.c_str()) != 0) return git_fail(Errc::failed, fmt::format("staging {}", path));
  }
  if (git_index_write(index) != 0) return git_fail(Errc::failed, "writing the index");
  return {};
}

// Commits the index on HEAD's branch; nullopt when its tree is HEAD's (nothing changed).
Result<std::optional<std::string>> commit_index(git_repository* repo, git_index* index, const std::string& message) {
  git_oid tree_id;
  if (git_index_write_tree(&tree_id, index) != 0) return git_fail(Errc::failed, "writing the tree");
  std::optional<Commit> parent;
  if (git_repository_head_unborn(repo) != 1) {
    auto head = resolve_commit(repo, "HEAD");
    if (!head) return std::unexpected(head.error());
    parent = std::move(*head);
  }
  if (parent ? git_oid_equal(git_commit_tree_id(parent->get()), &tree_id) : git_index_entrycount(index) == 0)
    return std::nullopt;

  git_tree* raw_tree = nullptr;
  if (git_tree_lookup(&raw_tree, repo, &tree_id) != 0) return git_fail(Errc::failed, "reading the new tree");
  Tree tree(raw_tree);
  auto signature = default_signature(repo);
  if (!signature) return std::unexpected(signature.error());
  const git_commit* parents[] = {parent ? parent->get() : nullptr};
  std::string text = git_message(message);
  git_oid id;
  if (git_commit_create(&id, repo, "HEAD", signature->get(), signature->get(), nullptr, text.c_str(), tree.get(),
                        parent ? 1 : 0, parents) != 0)
    return git_fail(Errc::failed, "committing");
  return oid_string(&id);
}

}  // namespace

Result<std::optional<std::string>> commit_files(const fs::path& repo_path, const std::string& folder, const Files& files,
                                                const std::string& message) {
  std::string dir = folder;
  while (dir.size() > 1 && dir.ends_with('/')) dir.pop_back();  // "deploy/" is "deploy"
  auto repo = open_work_tree(repo_path);
  if (!repo) return std::unexpected(repo.error());
  fs::path root = workdir(repo->get());
  if (auto checked = check_paths(root, dir, files); !checked) return std::unexpected(checked.error());
  if (auto checked = check_staged_outside(repo->get(), repo_path, dir); !checked) return std::unexpected(checked.error());

  git_index* raw_index = nullptr;
  if (git_repository_index(&raw_index, repo->get()) != 0) return git_fail(Errc::failed, "reading the index");
  Index index(raw_index);
  if (auto removed = remove_stale(root, index.get(), dir, files); !removed) return std::unexpected(removed.error());
  if (auto staged = write_and_stage(root, index.get(), dir, files); !staged) return std::unexpected(staged.error());
  return commit_index(repo->get(), index.get(), message);
}

}  // namespace mlctl::git
