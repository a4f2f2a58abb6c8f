#include <mlctl/build/context.hpp>

#include <mlctl/build/ignore.hpp>
#include <mlctl/core/fs.hpp>

#include <algorithm>

#include <fmt/format.h>

namespace mlctl::build {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view k_ignore_files[] = {".gitignore", ".mlctlignore"};
constexpr std::string_view k_never[] = {".git", ".mlctl"};

bool has_glob(std::string_view text) { return text.find_first_of("*?[") != std::string_view::npos; }

Result<std::vector<std::string>> normalise_includes(const std::vector<std::string>& include) {
  std::vector<std::string> out;
  for (size_t i = 0; i < include.size(); ++i) {
    std::string field = fmt::format("image.include[{}]", i);
    fs::path path = fs::path(include[i]).lexically_normal();
    std::string text = path.generic_string();
    while (text.ends_with('/')) text.pop_back();
    if (text == ".") text.clear();
    bool escapes = path.is_absolute() || text == ".." || text.starts_with("../");
    if (include[i].empty() || escapes)
      return fail(Errc::invalid, fmt::format("{}: '{}' is outside the build context", field, include[i]),
                  "include paths are relative to the folder of mlctl.yaml and stay inside it");
    out.push_back(std::move(text));
  }
  return out;
}

class Walker {
public:
  Walker(const fs::path& root, const ContextRules& rules, std::vector<std::string> include)
      : root_(root), rules_(rules), include_(std::move(include)), used_(include_.size(), false) {
    excludes_.add(parse_ignore(fmt::format("{}", fmt::join(rules.exclude, "\n")), ""));
  }

  Result<void> walk(const std::string& dir);
  Result<BuildContext> finish();

private:
  // Whether `path` is selected by image.include, marking the entries that selected something.
  bool included(const std::string& path);
  bool may_contain_included(const std::string& dir) const;
  Result<void> add(const fs::directory_entry& entry, const std::string& path);

  fs::path root_;
  const ContextRules& rules_;
  std::vector<std::string> include_;
  std::vector<bool> used_;
  IgnoreRules ignores_;
  IgnoreRules excludes_;
  BuildContext context_;
};

bool Walker::included(const std::string& path) {
  if (include_.empty()) return true;
  bool any = false;
  for (size_t i = 0; i < include_.size(); ++i) {
    const std::string& entry = include_[i];
    bool match = entry.empty() || path == entry || path.starts_with(entry + "/") || glob_match(entry, path);
    if (!match && has_glob(entry)) {
      // "src/*" also selects everything inside a matched folder.
      for (size_t slash = path.find('/'); slash != std::string::npos && !match; slash = path.find('/', slash + 1))
        match = glob_match(entry, path.substr(0, slash));
    }
    if (match) used_[i] = true;
    any = any || match;
  }
  return any;
}

bool Walker::may_contain_included(const std::string& dir) const {
  if (include_.empty()) return true;
  return std::ranges::any_of(include_, [&](const std::string& entry) {
    return entry.empty() || has_glob(entry) || entry == dir || entry.starts_with(dir + "/") ||
           dir.starts_with(entry + "/");
  });
}

Result<void> Walker::add(const fs::directory_entry& entry, const std::string& path) {
  std::error_code ec;
  auto status = entry.symlink_status(ec);
  if (ec) return fail(Errc::failed, fmt::format("{}: {}", path, ec.message()));
  ContextEntry out{path, entry.path(), ContextEntry::Kind::file, 0, false, ""};
  if (fs::is_symlink(status)) {
    fs::path target = fs::read_symlink(entry.path(), ec);
    if (ec) return fail(Errc::failed, fmt::format("{}: cannot read the link: {}", path, ec.message()));
    fs::path resolved = (fs::path(path).parent_path() / target).lexically_normal();
    std::string resolved_text = resolved.generic_string();
    if (target.is_absolute() || resolved_text == ".." || resolved_text.starts_with("../"))
      return fail(Errc::invalid,
                  fmt::format("{}: symlink to '{}' points outside the build context", path, target.string()),
                  "links are stored as links and never followed; exclude it in image.exclude or .mlctlignore");
    out.kind = ContextEntry::Kind::symlink;
    out.link_target = target.generic_string();
    context_.code.push_back(std::move(out));
    return {};
  }
  if (!fs::is_regular_file(status))
    return fail(Errc::invalid, fmt::format("{}: not a regular file, folder or symlink", path),
                "exclude it in image.exclude or .mlctlignore");
  out.size = entry.file_size(ec);
  using p = fs::perms;
  out.executable = (status.permissions() & (p::owner_exec | p::group_exec | p::others_exec)) != p::none;
  (out.size >= rules_.large_file_bytes ? context_.large : context_.code).push_back(std::move(out));
  return {};
}

Result<void> Walker::walk(const std::string& dir) {
  fs::path folder = dir.empty() ? root_ : root_ / dir;
  for (auto name : k_ignore_files) {
    if (auto text = core::read_file(folder / name)) ignores_.add(parse_ignore(*text, dir));
  }
  std::error_code ec;
  std::vector<fs::directory_entry> entries;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) entries.push_back(*it);
  if (ec) return fail(Errc::failed, fmt::format("{}: cannot list: {}", dir.empty() ? "." : dir, ec.message()));
  std::ranges::sort(entries, {}, [](const fs::directory_entry& e) { return e.path().filename().string(); });

  for (const auto& entry : entries) {
    std::string name = entry.path().filename().string();
    std::string path = dir.empty() ? name : dir + "/" + name;
    bool is_dir = entry.is_directory(ec) && !entry.is_symlink(ec);
    if (is_dir && dir.empty() && std::ranges::find(k_never, name) != std::end(k_never)) continue;
    if (ignores_.ignored(path, is_dir) || excludes_.ignored(path, is_dir)) continue;
    if (is_dir) {
      if (!may_contain_included(path)) continue;
      if (auto walked = walk(path); !walked) return walked;
      continue;
    }
    if (!included(path)) continue;
    if (auto added = add(entry, path); !added) return added;
  }
  return {};
}

Result<BuildContext> Walker::finish() {
  for (size_t i = 0; i < include_.size(); ++i) {
    if (!used_[i])
      return fail(Errc::invalid, fmt::format("image.include[{}]: '{}' matches no file", i, rules_.include[i]),
                  "check the path, and that .gitignore, .mlctlignore or image.exclude do not leave it out");
  }
  // Byte order of the full path, as the layers list them; the walk's order differs ("a/b" vs "a-b").
  std::ranges::sort(context_.code, {}, &ContextEntry::path);
  std::ranges::sort(context_.large, {}, &ContextEntry::path);
  return std::move(context_);
}

}  // namespace

Result<BuildContext> select_context(const fs::path& root, const ContextRules& rules) {
  auto include = normalise_includes(rules.include);
  if (!include) return std::unexpected(include.error());
  Walker walker(root, rules, std::move(*include));
  if (auto walked = walker.walk(""); !walked)
    return std::unexpected(walked.error().context("selecting the build context"));
  return walker.finish();
}

}  // namespace mlctl::build
