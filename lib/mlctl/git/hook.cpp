#include <mlctl/git/hook.hpp>

#include <mlctl/core/fs.hpp>
#include <mlctl/git/libgit2.hpp>

#include <optional>
#include <string_view>

#include <fmt/format.h>

namespace mlctl::git {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view k_begin = "# >>> mlctl hook >>>\n";
constexpr std::string_view k_end = "# <<< mlctl hook <<<\n";
constexpr std::string_view k_shebang = "#!/bin/sh\n";
constexpr std::string_view k_chained_suffix = ".mlctl-chained";
constexpr fs::perms k_executable = fs::perms(0755);

// How a hook came to hold mlctl's block, which says so in its first line, so that uninstall knows
// what to undo.
enum class Origin { made, appended, chained };

constexpr std::string_view k_origin_lines[] = {
    "# Made by 'mlctl hook install'; 'mlctl hook uninstall' deletes this file.\n",
    "# Added by 'mlctl hook install'; 'mlctl hook uninstall' removes this block.\n",
    "# Made by 'mlctl hook install', which moved the hook before it to $0.mlctl-chained and runs it\n"
    "# first; 'mlctl hook uninstall' puts it back.\n",
};

// A word the shell reads back as it is: 'it'\''s'.
std::string shell_quote(std::string_view word) {
  std::string quoted = "'";
  for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// mlctl's part of a hook. It runs in a subshell that always ends with status 0, so it can neither
// stop the user's lines around it nor fail the git operation; the command reads no stdin, which
// belongs to the hook (post-rewrite's list of rewritten commits).
std::string render_block(std::string_view hook, const HookOptions& options, Origin origin) {
  std::string command;
  for (const std::string& word : options.command) command += (command.empty() ? "" : " ") + shell_quote(word);
  std::string out = std::string(k_begin) + std::string(k_origin_lines[static_cast<int>(origin)]);
  if (origin == Origin::chained) out += fmt::format("\"$0{}\" \"$@\"\nmlctl_status=$?\n", k_chained_suffix);
  out += "(\n  set +eu\n";
  out += fmt::format("  [ \"$(git symbolic-ref --short -q HEAD)\" = {} ] || exit 0\n", shell_quote(options.branch));
  if (hook == "post-rewrite") out += "  [ \"$1\" = rebase ] || exit 0  # a pull with rebase, not an amend\n";
  out += "  cd \"$(git rev-parse --show-toplevel)\" && mkdir -p .mlctl || exit 0\n"
         "  [ -e .mlctl/.gitignore ] || echo '*' >.mlctl/.gitignore  # keeps the work tree clean\n"
         "  log=\"$PWD/.mlctl/release.log\"\n";
  out += fmt::format("  echo \"== $(date -u +%Y-%m-%dT%H:%M:%SZ) {}\" >>\"$log\"\n", hook);
  out += fmt::format("  release() {{\n"
                     "    {} </dev/null >>\"$log\" 2>&1 ||\n"
                     "      echo \"mlctl {} hook: the release failed (exit $?); see $log\" >&2\n"
                     "  }}\n",
                     command, hook);
  // A release takes minutes: it runs in the background, away from git's output, unless
  // MLCTL_HOOK_WAIT=1 asks the hook to wait for it (and report a failure on stderr). The `exec`
  // redirection, unlike one on a function call, leaves no saved copy of git's pipes open in the
  // background (dash keeps those, and git's caller would wait for the release to end).
  out += fmt::format("  if [ \"${{MLCTL_HOOK_WAIT:-}}\" = 1 ]; then release; exit 0; fi\n"
                     "  (exec </dev/null >>\"$log\" 2>&1; release) &\n"
                     "  echo \"mlctl {} hook: releasing in the background (process $!); see $log\" >&2\n",
                     hook);
  out += "  exit 0\n)\n";
  if (origin == Origin::chained) out += "exit $mlctl_status\n";
  return out + std::string(k_end);
}

struct Block {
  size_t begin;
  size_t end;  // past the end marker
  Origin origin;
};

Result<std::optional<Block>> find_block(std::string_view text, const fs::path& path) {
  size_t begin = text.find(k_begin);
  while (begin != std::string_view::npos && begin > 0 && text[begin - 1] != '\n') begin = text.find(k_begin, begin + 1);
  if (begin == std::string_view::npos) return std::nullopt;
  size_t end = text.find(k_end, begin);
  if (end == std::string_view::npos)
    return fail(Errc::invalid,
                fmt::format("{}: mlctl's block has no end line '{}'", path.string(), k_end.substr(0, k_end.size() - 1)),
                "remove the block by hand, then run the command again");
  std::string_view first = text.substr(begin + k_begin.size());
  Origin origin = Origin::appended;
  for (int i = 0; i < 3; ++i)
    if (first.starts_with(k_origin_lines[i])) origin = static_cast<Origin>(i);
  return Block{begin, end + k_end.size(), origin};
}

// A file with no "#!" line, or one run by sh, bash or dash (also through env), takes an appended block.
bool is_shell_script(std::string_view text) {
  if (!text.starts_with("#!")) return true;
  std::string_view line = text.substr(2, text.find('\n') - 2);
  auto next_word = [&line]() {
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string_view::npos) return std::string_view();
    size_t end = std::min(line.find_first_of(" \t", start), line.size());
    std::string_view word = line.substr(start, end - start);
    line.remove_prefix(end);
    return word.substr(word.rfind('/') == std::string_view::npos ? 0 : word.rfind('/') + 1);
  };
  std::string_view program = next_word();
  if (program == "env")
    do program = next_word();
    while (program.starts_with('-'));
  return program == "sh" || program == "bash" || program == "dash";
}

// The hook's text; nullopt when there is none.
Result<std::optional<std::string>> read_hook(const fs::path& path) {
  auto text = core::read_file(path);
  if (!text && text.error().code() == Errc::not_found) return std::nullopt;
  if (!text) return std::unexpected(text.error());
  return std::move(*text);
}

fs::path chained_path(const fs::path& hook) { return fs::path(hook.string() + std::string(k_chained_suffix)); }

// Moves a hook that is no shell script aside, to be run by mlctl's; never over an earlier one.
Result<void> chain(const fs::path& path) {
  fs::path chained = chained_path(path);
  std::error_code ec;
  if (fs::exists(fs::symlink_status(chained, ec)))
    return fail(Errc::precondition, fmt::format("{} exists already", chained.string()),
                "move it back over the hook or delete it, then install again");
  fs::rename(path, chained, ec);
  if (ec) return fail(Errc::failed, fmt::format("renaming {}: {}", path.string(), ec.message()));
  return {};
}

Result<HookAction> write_hook(const fs::path& path, const std::string& text, HookAction action) {
  if (auto written = core::write_file_atomic(path, text, k_executable); !written) return std::unexpected(written.error());
  return action;
}

Result<HookAction> install_hook(const fs::path& path, std::string_view hook, const HookOptions& options) {
  auto existing = read_hook(path);
  if (!existing) return std::unexpected(existing.error());
  if (!*existing)
    return write_hook(path, std::string(k_shebang) + render_block(hook, options, Origin::made), HookAction::installed);
  const std::string& old = **existing;
  auto block = find_block(old, path);
  if (!block) return std::unexpected(block.error());
  if (*block) {
    std::string text =
        old.substr(0, (*block)->begin) + render_block(hook, options, (*block)->origin) + old.substr((*block)->end);
    if (text == old) return HookAction::unchanged;
    return write_hook(path, text, HookAction::updated);
  }
  if (is_shell_script(old)) {
    std::string separator = old.empty() || old.ends_with('\n') ? "" : "\n";
    return write_hook(path, old + separator + render_block(hook, options, Origin::appended), HookAction::installed);
  }
  if (auto chained = chain(path); !chained) return std::unexpected(chained.error());
  return write_hook(path, std::string(k_shebang) + render_block(hook, options, Origin::chained), HookAction::installed);
}

// A file mlctl made is deleted once it holds nothing else (and a chained hook put back); lines a
// user added to it since are kept.
Result<HookAction> uninstall_hook(const fs::path& path) {
  auto existing = read_hook(path);
  if (!existing) return std::unexpected(existing.error());
  if (!*existing) return HookAction::absent;
  auto block = find_block(**existing, path);
  if (!block) return std::unexpected(block.error());
  if (!*block) return HookAction::absent;

  std::string rest = (*existing)->substr(0, (*block)->begin) + (*existing)->substr((*block)->end);
  std::error_code ec;
  if ((*block)->origin != Origin::appended && rest == k_shebang) {
    fs::remove(path, ec);
    if (!ec && (*block)->origin == Origin::chained) fs::rename(chained_path(path), path, ec);
    if (ec) return fail(Errc::failed, fmt::format("restoring {}: {}", path.string(), ec.message()));
    return HookAction::removed;
  }
  auto mode = fs::status(path, ec).permissions();
  if (auto written = core::write_file_atomic(path, rest, mode); !written) return std::unexpected(written.error());
  return HookAction::removed;
}

using HookStep = Result<HookAction> (*)(const fs::path& path, std::string_view hook, const HookOptions& options);

Result<std::vector<HookChange>> for_each_hook(const fs::path& repo_path, const HookOptions& options, HookStep step) {
  auto dir = hooks_dir(repo_path);
  if (!dir) return std::unexpected(dir.error());
  std::vector<HookChange> changes;
  for (const char* hook : k_hook_names) {
    fs::path path = *dir / hook;
    auto action = step(path, hook, options);
    if (!action) return std::unexpected(action.error().context(fmt::format("{} hook", hook)));
    changes.push_back({hook, path, *action});
  }
  return changes;
}

}  // namespace

Result<fs::path> hooks_dir(const fs::path& repo_path) {
  auto repo = open_work_tree(repo_path);
  if (!repo) return std::unexpected(repo.error());
  git_config* raw = nullptr;
  if (git_repository_config_snapshot(&raw, repo->get()) != 0) return git_fail(Errc::failed, "reading the git configuration");
  Config config(raw);
  fs::path dir;
  if (auto configured = config_string(config.get(), "core.hooksPath", git_config_get_path)) {
    dir = workdir(repo->get()) / *configured;  // an absolute one replaces the work tree
  } else {
    git_buf buffer = {};
    if (git_repository_item_path(&buffer, repo->get(), GIT_REPOSITORY_ITEM_HOOKS) != 0)
      return git_fail(Errc::failed, "finding the hooks folder");
    dir = buffer.ptr;
    git_buf_dispose(&buffer);
  }
  dir = dir.lexically_normal();
  return dir.has_filename() ? dir : dir.parent_path();
}

Result<std::vector<HookChange>> install_hooks(const fs::path& repo_path, const HookOptions& options) {
  if (options.branch.empty() || options.command.empty())
    return fail(Errc::invalid, "installing hooks needs a branch and a command");
  return for_each_hook(repo_path, options, install_hook);
}

Result<std::vector<HookChange>> uninstall_hooks(const fs::path& repo_path) {
  return for_each_hook(repo_path, {}, [](const fs::path& path, std::string_view, const HookOptions&) {
    return uninstall_hook(path);
  });
}

const char* hook_action_name(HookAction action) {
  switch (action) {
    case HookAction::installed: return "installed";
    case HookAction::updated: return "updated";
    case HookAction::unchanged: return "unchanged";
    case HookAction::removed: return "removed";
    case HookAction::absent: return "absent";
  }
  return "unknown";
}

}  // namespace mlctl::git
