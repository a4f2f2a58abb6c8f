#include <mlctl/git/version.hpp>

#include <mlctl/core/semver.hpp>
#include <mlctl/core/yaml_tree.hpp>
#include <mlctl/git/libgit2.hpp>

#include <fmt/format.h>

namespace mlctl::git {

namespace {

// The file in one commit, for reading it and for naming it in messages ("mlctl.yaml at 1a2b3c4").
struct FileAt {
  git_repository* repo;
  git_commit* commit;
  const std::string& file;

  std::string name() const { return fmt::format("{} at {}", file, short_id(git_commit_id(commit))); }
};

struct Version {
  std::string text;
  core::Semver semver;
};

// The file's content; nullopt when the commit has no such file.
Result<std::optional<std::string>> read_blob(const FileAt& at) {
  git_tree* raw_tree = nullptr;
  if (git_commit_tree(&raw_tree, at.commit) != 0) return git_fail(Errc::failed, fmt::format("reading {}", at.name()));
  Tree tree(raw_tree);
  git_tree_entry* raw_entry = nullptr;
  int rc = git_tree_entry_bypath(&raw_entry, tree.get(), at.file.c_str());
  if (rc == GIT_ENOTFOUND) return std::nullopt;
  if (rc != 0) return git_fail(Errc::failed, fmt::format("reading {}", at.name()));
  TreeEntry entry(raw_entry);
  if (git_tree_entry_type(entry.get()) != GIT_OBJECT_BLOB) return std::nullopt;
  git_blob* raw_blob = nullptr;
  if (git_blob_lookup(&raw_blob, at.repo, git_tree_entry_id(entry.get())) != 0)
    return git_fail(Errc::failed, fmt::format("reading {}", at.name()));
  Blob blob(raw_blob);
  return std::string(static_cast<const char*>(git_blob_rawcontent(blob.get())),
                     static_cast<size_t>(git_blob_rawsize(blob.get())));
}

// The top-level `version:` of the file's text; nullopt when it has none.
Result<std::optional<Version>> parse_version(const std::string& text, const FileAt& at) {
  auto document = core::YamlDocument::parse(text);
  if (!document)
    return fail(Errc::invalid, fmt::format("{}:{}:{}: {}", at.name(), document.error().line,
                                           document.error().column, document.error().message));
  core::YamlNode node = document->root()["version"];
  if (!node.is_defined() || node.is_null()) return std::nullopt;
  if (!node.is_scalar())
    return fail(Errc::invalid, fmt::format("{}: version: expected a string, got {}", at.name(), core::to_flow_yaml(node)));
  auto semver = core::parse_semver(node.scalar());
  if (!semver) return std::unexpected(semver.error().context(fmt::format("{}: version", at.name())));
  return Version{node.scalar(), std::move(*semver)};
}

Result<Version> version_at_head(const FileAt& at) {
  auto text = read_blob(at);
  if (!text) return std::unexpected(text.error());
  if (!*text) return fail(Errc::not_found, fmt::format("{}: no such file", at.name()));
  auto version = parse_version(**text, at);
  if (!version) return std::unexpected(version.error());
  if (!*version) return fail(Errc::invalid, fmt::format("{}: no version", at.name()), "add 'version: 1.0.0'");
  return std::move(**version);
}

// nullopt when the base has no such file or no version in it: everything at HEAD is new.
Result<std::optional<Version>> version_at_base(const FileAt& at) {
  auto text = read_blob(at);
  if (!text) return std::unexpected(text.error());
  if (!*text) return std::nullopt;
  return parse_version(**text, at);
}

// The commit to compare HEAD with; nullopt for a first commit compared by default.
Result<std::optional<Commit>> base_commit(git_repository* repo, git_commit* head,
                                          const std::optional<std::string>& since) {
  if (since) return resolve_commit(repo, *since);
  if (git_commit_parentcount(head) == 0) return std::nullopt;
  git_commit* parent = nullptr;
  if (git_commit_parent(&parent, head, 0) != 0) return git_fail(Errc::failed, "reading HEAD's first parent");
  return Commit(parent);
}

}  // namespace

Result<VersionChange> version_change(const std::filesystem::path& path, const std::string& manifest,
                                     const std::optional<std::string>& since) {
  auto repo = open_repository(path);
  if (!repo) return std::unexpected(repo.error());
  auto head = resolve_commit(repo->get(), "HEAD");
  if (!head) return std::unexpected(head.error());
  auto base = base_commit(repo->get(), head->get(), since);
  if (!base) return std::unexpected(base.error());

  auto after = version_at_head({repo->get(), head->get(), manifest});
  if (!after) return std::unexpected(after.error());
  VersionChange change{.after = after->text, .head_commit = oid_string(git_commit_id(head->get()))};
  std::optional<Version> before;
  if (const std::optional<Commit>& base_at = *base) {
    change.base_commit = oid_string(git_commit_id(base_at->get()));
    auto at_base = version_at_base({repo->get(), base_at->get(), manifest});
    if (!at_base) return std::unexpected(at_base.error());
    before = std::move(*at_base);
  }
  int order = before ? core::compare(after->semver, before->semver) : 1;
  if (before) change.before = before->text;
  change.bumped = order > 0;
  change.lowered = order < 0;
  return change;
}

}  // namespace mlctl::git
