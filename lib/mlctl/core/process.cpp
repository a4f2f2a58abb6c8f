#include <mlctl/core/process.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>

#include <fmt/format.h>

extern char** environ;

namespace mlctl::core {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto k_kill_grace = std::chrono::milliseconds(2000);

struct Pipe {
  int read = -1;
  int write = -1;
  ~Pipe() { close_both(); }
  bool open() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return false;
    read = fds[0];
    write = fds[1];
    return true;
  }
  static void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  void close_both() {
    close_fd(read);
    close_fd(write);
  }
};

std::vector<std::string> build_environment(const Command& command) {
  std::set<std::string> drop(command.unset_env.begin(), command.unset_env.end());
  for (const auto& [key, value] : command.env) drop.insert(key);
  std::vector<std::string> env;
  for (char** entry = environ; *entry; ++entry) {
    std::string_view kv(*entry);
    auto eq = kv.find('=');
    if (eq != std::string_view::npos && drop.contains(std::string(kv.substr(0, eq)))) continue;
    env.emplace_back(kv);
  }
  for (const auto& [key, value] : command.env) env.push_back(key + "=" + value);
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Pumps stdin/stdout/stderr until both outputs close or the deadline passes.
bool pump(Pipe& in, Pipe& out, Pipe& err, std::string_view input, Completed& result,
          std::optional<Clock::time_point> deadline) {
  size_t written = 0;
  std::array<char, 65536> buffer;
  while (out.read >= 0 || err.read >= 0) {
    std::array<pollfd, 3> fds{};
    nfds_t n = 0;
    int* owners[3];
    std::string* sinks[3];
    if (out.read >= 0) { fds[n] = {out.read, POLLIN, 0}; owners[n] = &out.read; sinks[n++] = &result.out; }
    if (err.read >= 0) { fds[n] = {err.read, POLLIN, 0}; owners[n] = &err.read; sinks[n++] = &result.err; }
    if (in.write >= 0) { fds[n] = {in.write, POLLOUT, 0}; owners[n] = &in.write; sinks[n++] = nullptr; }
    int wait_ms = -1;
    if (deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now());
      if (left.count() <= 0) return false;
      wait_ms = static_cast<int>(left.count());
    }
    int ready = ::poll(fds.data(), n, wait_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return ready == 0 ? false : true;
    for (nfds_t i = 0; i < n; ++i) {
      if (!fds[i].revents) continue;
      if (sinks[i] == nullptr) {
        ssize_t w = ::write(in.write, input.data() + written, input.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if (w < 0 || written == input.size()) Pipe::close_fd(in.write);
        continue;
      }
      ssize_t r = ::read(fds[i].fd, buffer.data(), buffer.size());
      if (r > 0) sinks[i]->append(buffer.data(), static_cast<size_t>(r));
      else if (r == 0 || errno != EINTR) Pipe::close_fd(*owners[i]);
    }
  }
  return true;
}

void kill_group(pid_t pid) {
  ::kill(-pid, SIGTERM);
  auto until = Clock::now() + k_kill_grace;
  while (Clock::now() < until) {
    if (::kill(-pid, 0) != 0) return;
    ::usleep(20000);
  }
  ::kill(-pid, SIGKILL);
}

}  // namespace

Result<Completed> run(const Command& command) {
  if (command.argv.empty()) return fail(Errc::invalid, "empty command");
  // A child that exits without reading its stdin must not kill us with SIGPIPE.
  static const bool sigpipe_ignored = (::signal(SIGPIPE, SIG_IGN), true);
  (void)sigpipe_ignored;
  Pipe in, out, err;
  if (!in.open() || !out.open() || !err.open())
    return fail(Errc::failed, fmt::format("cannot create pipes: {}", std::strerror(errno)));

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.read, 0);
  posix_spawn_file_actions_adddup2(&actions, out.write, 1);
  posix_spawn_file_actions_adddup2(&actions, err.write, 2);
  if (!command.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, command.cwd.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);

  std::vector<std::string> args = command.argv;
  std::vector<std::string> env = build_environment(command);
  auto argv = c_strings(args);
  auto envp = c_strings(env);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return fail(rc == ENOENT ? Errc::not_found : Errc::failed,
                fmt::format("cannot run '{}': {}", command.argv[0], std::strerror(rc)));
  }
  Pipe::close_fd(in.read);
  Pipe::close_fd(out.write);
  Pipe::close_fd(err.write);
  if (!command.input) Pipe::close_fd(in.write);

  Completed result;
  std::optional<Clock::time_point> deadline;
  if (command.timeout.count() > 0) deadline = Clock::now() + command.timeout;
  if (!pump(in, out, err, command.input.value_or(""), result, deadline)) {
    result.timed_out = true;
    kill_group(pid);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  return result;
}

std::optional<std::filesystem::path> find_executable(std::string_view name) {
  const char* path = std::getenv("PATH");
  std::string_view dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  while (!dirs.empty()) {
    auto colon = dirs.find(':');
    std::string_view dir = dirs.substr(0, colon);
    dirs = colon == std::string_view::npos ? std::string_view{} : dirs.substr(colon + 1);
    if (dir.empty()) continue;
    std::filesystem::path candidate = std::filesystem::path(dir) / name;
    std::error_code ec;
    if (std::filesystem::is_regular_file(candidate, ec) && ::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

}  // namespace mlctl::core
