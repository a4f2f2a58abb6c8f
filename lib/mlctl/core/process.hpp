#pragma once

#include <mlctl/core/error.hpp>

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mlctl::core {

struct Command {
  std::vector<std::string> argv{};                // argv[0] is looked up on PATH
  std::filesystem::path cwd{};                    // empty: the current directory
  std::map<std::string, std::string> env{};       // set on top of the inherited environment
  std::vector<std::string> unset_env{};           // removed from the inherited environment
  std::optional<std::string> input{};             // written to stdin, then closed
  std::chrono::milliseconds timeout{0};          // 0: no limit
};

// How a process ended.
struct ExitStatus {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;      // the signal that ended it, or 0
};

struct Completed {
  int exit_code = -1;   // -1 when killed by a signal
  int signal = 0;       // the signal that ended it, or 0
  bool timed_out = false;
  std::string out;
  std::string err;

  bool ok() const { return exit_code == 0; }
};

// Where a child's stderr goes: its own pipe, or the stdout pipe (one stream, in the order written).
enum class Stderr { pipe, merged };

// A running child process, started in its own process group so that it and everything it starts
// can be signalled at once. Its stdout and stderr are pipes the caller reads (the fds are
// close-on-exec, so other children never hold them open); its stdin is a pipe when the command has
// `input` (the caller writes it) and /dev/null otherwise; `timeout` is the caller's business.
// exit_fd() lets one poll() wait for output and exits of many children with no polling interval.
// A child dropped while it still runs has its whole group killed (SIGKILL) and is reaped.
class Child {
public:
  // Fails only when the command cannot be started (not_found when the program is not on PATH).
  static Result<Child> spawn(const Command& command, Stderr stderr_mode = Stderr::pipe);

  Child(Child&& other) noexcept;
  Child& operator=(Child&&) = delete;
  Child(const Child&) = delete;
  ~Child();

  pid_t pid() const { return pid_; }
  // -1 once closed (or never opened: stdin without input, stderr when merged).
  int stdin_fd() const { return in_; }
  int stdout_fd() const { return out_; }
  int stderr_fd() const { return err_; }
  // Readable once the process has exited (a pidfd); -1 on kernels without pidfd_open (before 5.3).
  int exit_fd() const { return exit_; }
  void close_stdin();
  void close_stdout();
  void close_stderr();

  // Sends `signal` to every process in the child's group; false when none is left.
  bool signal_group(int signal) const;
  // The exit status once the process has ended, without blocking; nullopt while it runs.
  std::optional<ExitStatus> try_wait();
  // Blocks until the process ends.
  ExitStatus wait();

private:
  explicit Child(pid_t pid) : pid_(pid) {}
  void set_status(int raw);

  pid_t pid_ = -1;
  std::optional<ExitStatus> status_;
  int in_ = -1;
  int out_ = -1;
  int err_ = -1;
  int exit_ = -1;
};

// Where execvp would find `program` (a name without '/') on `path` (a PATH value): the first
// executable regular file; nullopt when there is none. Resolving a program once, then spawning it
// by its path, spares every later start the failed execs of the directories before it.
std::optional<std::filesystem::path> find_executable(std::string_view program, std::string_view path);

// Runs a command to completion in its own process group, capturing stdout and stderr.
// On timeout the whole process group is killed (SIGTERM, then SIGKILL after a grace period).
// Fails only when the command cannot be started; a non-zero exit is a Completed.
Result<Completed> run(const Command& command);

// Where `name` is found on PATH (an executable file), if anywhere.
std::optional<std::filesystem::path> find_executable(std::string_view name);

}  // namespace mlctl::core
