#include <mlctl/git/tag.hpp>

#include <mlctl/git/libgit2.hpp>

#include <fmt/format.h>

namespace mlctl::git {

namespace {

constexpr std::string_view k_placeholder = "{version}";

// The tag exists: fine at the same commit, refused elsewhere.
Result<TagResult> check_existing(git_repository* repo, const std::string& name, const git_oid* wanted) {
  auto existing = resolve_commit(repo, "refs/tags/" + name);  // peels annotated tags
  if (!existing) return std::unexpected(existing.error());
  const git_oid* actual = git_commit_id(existing->get());
  if (git_oid_equal(actual, wanted)) return TagResult{TagOutcome::existed, oid_string(actual)};
  return fail(Errc::precondition,
              fmt::format("tag {} already points at commit {}, not at {}", name, short_id(actual), short_id(wanted)),
              fmt::format("delete it with 'git tag -d {}' or bump the version", name));
}

}  // namespace

Result<TagResult> create_tag(const std::filesystem::path& repo_path, const std::string& name,
                             const std::string& revision, const std::string& message) {
  auto repo = open_repository(repo_path);
  if (!repo) return std::unexpected(repo.error());
  auto commit = resolve_commit(repo->get(), revision);
  if (!commit) return std::unexpected(commit.error());
  auto tagger = default_signature(repo->get());
  if (!tagger) return std::unexpected(tagger.error());

  const git_oid* target = git_commit_id(commit->get());
  git_oid tag_id;
  int rc = git_tag_create(&tag_id, repo->get(), name.c_str(), reinterpret_cast<const git_object*>(commit->get()),
                          tagger->get(), git_message(message).c_str(), /*force=*/0);
  if (rc == GIT_EEXISTS) return check_existing(repo->get(), name, target);
  if (rc != 0) return git_fail(rc == GIT_EINVALIDSPEC ? Errc::invalid : Errc::failed, fmt::format("creating tag {}", name));
  return TagResult{TagOutcome::created, oid_string(target)};
}

Result<std::optional<std::string>> tag_commit(const std::filesystem::path& repo_path, const std::string& name) {
  auto repo = open_repository(repo_path);
  if (!repo) return std::unexpected(repo.error());
  git_reference* raw = nullptr;
  int rc = git_reference_lookup(&raw, repo->get(), ("refs/tags/" + name).c_str());
  if (rc == GIT_ENOTFOUND) return std::nullopt;
  if (rc != 0) return git_fail(rc == GIT_EINVALIDSPEC ? Errc::invalid : Errc::failed, fmt::format("reading tag {}", name));
  Reference reference(raw);
  auto commit = resolve_commit(repo->get(), "refs/tags/" + name);
  if (!commit) return std::unexpected(commit.error());
  return oid_string(git_commit_id(commit->get()));
}

Result<std::string> expand_tag_pattern(std::string_view pattern, std::string_view version) {
  std::string name;
  bool has_version = false;
  for (size_t at = 0; at < pattern.size();) {
    if (pattern.substr(at, k_placeholder.size()) == k_placeholder) {
      name += version;
      has_version = true;
      at += k_placeholder.size();
    } else if (pattern[at] == '{' || pattern[at] == '}') {
      return fail(Errc::invalid, fmt::format("tag pattern '{}': the only placeholder is {{version}}", pattern));
    } else {
      name += pattern[at++];
    }
  }
  // Without it every release would want the same tag.
  if (!has_version)
    return fail(Errc::invalid, fmt::format("tag pattern '{}' has no {{version}}", pattern), "for example v{version}");
  ensure_initialised();
  int valid = 0;
  if (git_reference_name_is_valid(&valid, ("refs/tags/" + name).c_str()) != 0 || !valid)
    return fail(Errc::invalid, fmt::format("tag pattern '{}' gives '{}', which is not a valid git tag name", pattern, name));
  return name;
}

}  // namespace mlctl::git
