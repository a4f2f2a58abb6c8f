#pragma once

#include <mlctl/core/error.hpp>

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mlctl::core {

// Reads a whole file; fails with not_found when it does not exist.
Result<std::string> read_file(const std::filesystem::path& path);

// Writes a file so that readers see either the old or the new content, never a mix:
// the content goes to a temporary file in the same directory, is flushed, then renamed over.
// Parent directories are created. On failure the temporary file is removed.
Result<void> write_file_atomic(const std::filesystem::path& path, std::string_view content,
                               std::filesystem::perms mode = std::filesystem::perms(0644));

struct FileContent {
  std::filesystem::path path;
  std::string_view content;
};

// Writes several files, each atomically as write_file_atomic does, but without flushing them to
// disk: for files mlctl can write again from what it keeps elsewhere (rendered manifests), where
// a flush would cost more than the write. (One syncfs for them all cost 1-2 ms on an idle machine
// and 30 ms beside a build, whose data it flushed too.) Every content goes to its temporary
// file, then each is renamed over its final name. On failure nothing is renamed and the
// temporary files are removed.
Result<void> write_files_atomic(std::span<const FileContent> files,
                                std::filesystem::perms mode = std::filesystem::perms(0644));

// The names of the regular files in `dir` (or symbolic links to one) that end with `suffix`,
// sorted bytewise; none when `dir` does not exist. Lean on purpose (readdir, no path per entry):
// `mlctl deploy render` lists an overlay of a thousand models on every run.
Result<std::vector<std::string>> list_files(const std::filesystem::path& dir, std::string_view suffix);

// The nearest `name` in `start` or one of its parents.
std::optional<std::filesystem::path> find_upward(const std::filesystem::path& start,
                                                 std::string_view name);

// How to show a path to the user: relative to the current folder when it is inside it.
std::string display_path(const std::filesystem::path& path);

// Creates the project's local state folder `.mlctl/` (registry, runs, caches) if needed and
// keeps a `.gitignore` of `*` in it, so local state never makes a work tree dirty.
Result<std::filesystem::path> ensure_state_dir(const std::filesystem::path& project_root);

}  // namespace mlctl::core
