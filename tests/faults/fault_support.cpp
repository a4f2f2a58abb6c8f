#include "fault_support.hpp"


#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <random>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace mlctl::test {

std::string integrity_check(const std::filesystem::path& db) {
  std::string report;
  for (const auto& row : sql_rows(db, "PRAGMA integrity_check")) {
    if (!report.empty()) report += '\n';
    report += row.empty() ? "" : row.front();
  }
  return report;
}

std::uint32_t fault_seed() {
  if (const char* given = std::getenv("MLCTL_FAULT_SEED"); given && *given)
    return static_cast<std::uint32_t>(std::strtoul(given, nullptr, 10));
  return std::random_device{}();
}

nlohmann::json json_of(const std::string& text) {
  auto parsed = nlohmann::json::parse(text, nullptr, false);
  return parsed.is_discarded() ? nlohmann::json() : parsed;
}

std::string describe(const std::string& what, const core::Completed& done) {
  return fmt::format("{}: exit {} (signal {}): stdout {:?} stderr {:?}", what, done.exit_code, done.signal,
                     done.out.substr(0, 300), done.err.substr(0, 600));
}

std::string summarize(const std::vector<std::string>& problems) {
  if (problems.empty()) return "";
  std::string text = fmt::format("{} problems, the first:", problems.size());
  for (std::size_t i = 0; i < std::min<std::size_t>(problems.size(), 3); ++i) text += "\n  " + problems[i];
  return text;
}

std::string first_difference(const std::vector<std::string>& actual, const std::vector<std::string>& expected) {
  for (std::size_t i = 0; i < std::min(actual.size(), expected.size()); ++i) {
    if (actual[i] != expected[i])
      return fmt::format("at {}: actual '{}', expected '{}'", i, actual[i], expected[i]);
  }
  if (actual.size() != expected.size())
    return fmt::format("actual has {} entries, expected {}", actual.size(), expected.size());
  return "";
}

std::optional<core::Child> start_mlctl(const std::vector<std::string>& args, const std::filesystem::path& cwd,
                                       const std::map<std::string, std::string>& env) {
  core::Command command{.argv = {MLCTL_BINARY}, .cwd = cwd, .env = env};
  command.argv.insert(command.argv.end(), args.begin(), args.end());
  command.env.emplace("NO_COLOR", "1");
  auto child = core::Child::spawn(command);
  if (!child) {
    ADD_FAILURE() << "cannot start mlctl: " << child.error().message();
    return std::nullopt;
  }
  return std::move(*child);
}

namespace {

std::string read_to_end(int fd) {
  std::string text;
  char buffer[4096];
  while (fd >= 0) {
    ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    text.append(buffer, static_cast<std::size_t>(got));
  }
  return text;
}

}  // namespace

core::Completed collect(core::Child& child, core::ExitStatus status) {
  core::Completed done;
  done.exit_code = status.exit_code;
  done.signal = status.signal;
  done.out = read_to_end(child.stdout_fd());
  done.err = read_to_end(child.stderr_fd());
  return done;
}

Tmpfs::Tmpfs(std::filesystem::path where, std::uint64_t bytes) : where_(std::move(where)) {
  std::error_code ec;
  std::filesystem::create_directories(where_, ec);
  std::string options = fmt::format("size={},mode=0755", bytes);
  if (::mount("tmpfs", where_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) == 0) {
    mounted_ = true;
    return;
  }
  int error = errno;
  error_ = fmt::format("cannot mount a {} KiB tmpfs at {}: {}", bytes / 1024, where_.string(), std::strerror(error));
  if (error == EPERM || error == EACCES)
    error_ += fmt::format(" (this test needs root or CAP_SYS_ADMIN to mount it; it runs as uid {})", ::geteuid());
}

Tmpfs::~Tmpfs() {
  if (mounted_) ::umount2(where_.c_str(), MNT_DETACH);
}

std::uint64_t Tmpfs::free_bytes() const {
  struct statvfs info {};
  if (::statvfs(where_.c_str(), &info) != 0) return 0;
  return static_cast<std::uint64_t>(info.f_bavail) * info.f_frsize;
}

}  // namespace mlctl::test
