#include <mlctl/git/locks.hpp>

#include <mlctl/git/libgit2.hpp>

#include <fmt/format.h>

namespace mlctl::git {

namespace fs = std::filesystem;

Result<std::vector<fs::path>> remove_stale_locks(const fs::path& path, const std::vector<std::string>& refs) {
  auto repo = open_repository(path);
  if (!repo) return std::unexpected(repo.error());
  // The index is the work tree's (in its own git folder for a linked worktree); refs are shared.
  fs::path git_dir = git_repository_path(repo->get());
  fs::path common_dir = git_repository_commondir(repo->get());
  std::vector<fs::path> candidates{git_dir / "index.lock"};
  for (const auto& ref : refs) candidates.push_back((ref == "HEAD" ? git_dir : common_dir) / (ref + ".lock"));
  std::vector<fs::path> removed;
  for (const auto& lock : candidates) {
    std::error_code ec;
    if (fs::remove(lock, ec)) removed.push_back(lock);
    else if (ec) return fail(Errc::failed, fmt::format("removing the stale lock {}: {}", lock.string(), ec.message()));
  }
  return removed;
}

}  // namespace mlctl::git
