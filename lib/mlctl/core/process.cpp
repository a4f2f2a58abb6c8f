#include <mlctl/core/process.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
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

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Both ends of a pipe, closed when dropped unless taken.
struct Pipe {
  int read = -1;
  int write = -1;
  ~Pipe() {
    close_fd(read);
    close_fd(write);
  }
  bool open() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return false;
    read = fds[0];
    write = fds[1];
    return true;
  }
  static int take(int& fd) {
    int taken = fd;
    fd = -1;
    return taken;
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

// What the child of a spawn does between vfork() and exec, prepared by the parent: the child
// shares the parent's memory and stack until it execs, so it only makes system calls on these.
struct ChildPlan {
  int stdin_fd = -1;  // -1: /dev/null
  int stdout_fd = -1;
  int stderr_fd = -1;
  const char* cwd = nullptr;  // nullptr: the parent's
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  // Set by a child that could not exec (read by the parent once the child is gone): errno, and
  // whether entering `cwd` is what failed.
  int error = 0;
  bool in_cwd = false;
};

// Onto `target`, and inherited across exec (dup2 onto itself would keep close-on-exec).
bool move_fd(int fd, int target) {
  if (fd == target) return ::fcntl(fd, F_SETFD, 0) == 0;
  return ::dup2(fd, target) == target;
}

// The child's side: its own process group, default dispositions and no blocked signals (whatever
// the parent has), the standard streams, the folder, then exec; argv[0] is looked up on PATH.
[[noreturn]] void become_child(ChildPlan& plan, const sigset_t& mask) {
  ::setpgid(0, 0);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int signal = 1; signal < NSIG; ++signal) ::sigaction(signal, &dfl, nullptr);  // refused for some: fine
  ::sigprocmask(SIG_SETMASK, &mask, nullptr);
  int null = plan.stdin_fd;
  if (null < 0 && (null = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) plan.error = errno;
  if (plan.error == 0 && !(move_fd(null, 0) && move_fd(plan.stdout_fd, 1) && move_fd(plan.stderr_fd, 2)))
    plan.error = errno;
  if (plan.error == 0 && plan.cwd && ::chdir(plan.cwd) != 0) {
    plan.error = errno;
    plan.in_cwd = true;
  }
  if (plan.error == 0) {
    ::execvpe(plan.argv[0], plan.argv, plan.envp);
    plan.error = errno;
  }
  ::_exit(127);
}

// vfork() rather than posix_spawn(): glibc's posix_spawn maps a stack for every child and
// unmaps it after, and on a virtual machine whose page tables the host shadows, that mapping and
// its TLB shootdown cost a tenth of starting a small step when two steps start at once.
// Every signal is blocked around vfork(), so that no handler of the parent runs in the child.
// Returns the child's pid, or -errno when it could not start (then it is reaped here and
// plan.in_cwd says whether its folder was the trouble).
pid_t start_child(ChildPlan& plan) {
  sigset_t all, old, none;
  sigfillset(&all);
  sigemptyset(&none);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = ::vfork();
  if (pid == 0) become_child(plan, none);
  int error = pid < 0 ? errno : 0;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) return -error;
  // Written by the child through the memory vfork() shares, behind the compiler's back.
  int child_error = *static_cast<volatile int*>(&plan.error);
  plan.in_cwd = *static_cast<volatile bool*>(&plan.in_cwd);
  if (child_error != 0) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return -child_error;
  }
  return pid;
}

int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  // pidfd_open's fds are close-on-exec.
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  return -1;
#endif
}

}  // namespace

Result<Child> Child::spawn(const Command& command, Stderr stderr_mode) {
  if (command.argv.empty()) return fail(Errc::invalid, "empty command");
  Pipe in, out, err;
  if ((command.input && !in.open()) || !out.open() || (stderr_mode == Stderr::pipe && !err.open()))
    return fail(Errc::failed, fmt::format("cannot create pipes: {}", std::strerror(errno)));

  std::vector<std::string> args = command.argv;
  std::vector<std::string> env = build_environment(command);
  auto argv = c_strings(args);
  auto envp = c_strings(env);
  ChildPlan plan{.stdin_fd = command.input ? in.read : -1,
                 .stdout_fd = out.write,
                 .stderr_fd = stderr_mode == Stderr::pipe ? err.write : out.write,
                 .cwd = command.cwd.empty() ? nullptr : command.cwd.c_str(),
                 .argv = argv.data(),
                 .envp = envp.data()};
  pid_t pid = start_child(plan);
  if (pid < 0) {
    std::string where = plan.in_cwd ? fmt::format(" in {}", command.cwd.string()) : "";
    return fail(-pid == ENOENT ? Errc::not_found : Errc::failed,
                fmt::format("cannot run '{}'{}: {}", command.argv[0], where, std::strerror(-pid)));
  }
  Child child(pid);
  child.in_ = Pipe::take(in.write);
  child.out_ = Pipe::take(out.read);
  child.err_ = Pipe::take(err.read);
  child.exit_ = open_pidfd(pid);
  return child;
}

Child::Child(Child&& other) noexcept
    : pid_(other.pid_), status_(other.status_), in_(other.in_), out_(other.out_), err_(other.err_),
      exit_(other.exit_) {
  other.pid_ = -1;
  other.in_ = other.out_ = other.err_ = other.exit_ = -1;
}

Child::~Child() {
  close_stdin();
  close_stdout();
  close_stderr();
  if (pid_ > 0 && !status_) {
    ::kill(-pid_, SIGKILL);
    wait();
  }
  close_fd(exit_);
}

void Child::close_stdin() { close_fd(in_); }
void Child::close_stdout() { close_fd(out_); }
void Child::close_stderr() { close_fd(err_); }

bool Child::signal_group(int signal) const { return pid_ > 0 && ::kill(-pid_, signal) == 0; }

void Child::set_status(int raw) {
  ExitStatus status;
  if (WIFEXITED(raw)) status.exit_code = WEXITSTATUS(raw);
  if (WIFSIGNALED(raw)) status.signal = WTERMSIG(raw);
  status_ = status;
}

std::optional<ExitStatus> Child::try_wait() {
  if (status_ || pid_ <= 0) return status_;
  int raw = 0;
  pid_t done = ::waitpid(pid_, &raw, WNOHANG);
  if (done == pid_) set_status(raw);
  return status_;
}

ExitStatus Child::wait() {
  if (status_ || pid_ <= 0) return status_.value_or(ExitStatus{});
  int raw = 0;
  while (::waitpid(pid_, &raw, 0) < 0) {
    if (errno != EINTR) {
      status_ = ExitStatus{};
      return *status_;
    }
  }
  set_status(raw);
  return *status_;
}

namespace {

// Pumps stdin/stdout/stderr until both outputs close or the deadline passes.
bool pump(Child& child, std::string_view input, Completed& result, std::optional<Clock::time_point> deadline) {
  size_t written = 0;
  std::array<char, 65536> buffer;
  while (child.stdout_fd() >= 0 || child.stderr_fd() >= 0) {
    std::array<pollfd, 3> fds{};
    std::array<std::string*, 3> sinks{};
    nfds_t n = 0;
    if (child.stdout_fd() >= 0) { fds[n] = {child.stdout_fd(), POLLIN, 0}; sinks[n++] = &result.out; }
    if (child.stderr_fd() >= 0) { fds[n] = {child.stderr_fd(), POLLIN, 0}; sinks[n++] = &result.err; }
    if (child.stdin_fd() >= 0) { fds[n] = {child.stdin_fd(), POLLOUT, 0}; sinks[n++] = nullptr; }
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
        ssize_t w = ::write(fds[i].fd, input.data() + written, input.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if (w < 0 || written == input.size()) child.close_stdin();
        continue;
      }
      ssize_t r = ::read(fds[i].fd, buffer.data(), buffer.size());
      if (r > 0) sinks[i]->append(buffer.data(), static_cast<size_t>(r));
      else if (r == 0 || errno != EINTR) sinks[i] == &result.out ? child.close_stdout() : child.close_stderr();
    }
  }
  return true;
}

// SIGTERM to the group, then SIGKILL if any of it is still there after a grace period.
void kill_group(const Child& child) {
  child.signal_group(SIGTERM);
  auto until = Clock::now() + k_kill_grace;
  while (Clock::now() < until) {
    if (!child.signal_group(0)) return;
    ::usleep(20000);
  }
  child.signal_group(SIGKILL);
}

}  // namespace

std::optional<std::filesystem::path> find_executable(std::string_view program, std::string_view path) {
  if (program.empty() || program.find('/') != std::string_view::npos) return std::nullopt;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = std::min(path.find(':', start), path.size());
    // An empty entry is the current folder, as for execvp.
    std::filesystem::path dir(end == start ? std::string_view(".") : path.substr(start, end - start));
    std::filesystem::path candidate = dir / program;
    struct stat info {};
    if (::stat(candidate.c_str(), &info) == 0 && S_ISREG(info.st_mode) && ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
    start = end + 1;
  }
  return std::nullopt;
}

Result<Completed> run(const Command& command) {
  // A child that exits without reading its stdin must not kill us with SIGPIPE.
  static const bool sigpipe_ignored = (::signal(SIGPIPE, SIG_IGN), true);
  (void)sigpipe_ignored;
  auto child = Child::spawn(command);
  if (!child) return std::unexpected(child.error());
  if (command.input && command.input->empty()) child->close_stdin();

  Completed result;
  std::optional<Clock::time_point> deadline;
  if (command.timeout.count() > 0) deadline = Clock::now() + command.timeout;
  if (!pump(*child, command.input.value_or(""), result, deadline)) {
    result.timed_out = true;
    kill_group(*child);
  }
  ExitStatus status = child->wait();
  result.exit_code = status.exit_code;
  result.signal = status.signal;
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
