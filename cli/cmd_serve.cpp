// `mlctl serve --local`: a registered model version behind the model server (templates/serve/)
// on this machine, in the foreground, for a smoke test before it is deployed.
#include "context.hpp"
#include "registry_location.hpp"

#include <mlctl/core/fs.hpp>
#include <mlctl/core/process.hpp>
#include <mlctl/models/registry.hpp>
#include <mlctl/oci/remote/curl_transport.hpp>
#include <mlctl/project/templates.hpp>

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>
#include <thread>

#include <fmt/format.h>

extern char** environ;

namespace mlctl::cli {

namespace {

namespace fs = std::filesystem;

struct ServeFlags {
  std::string ref;
  bool local = false;
  int port = 8080;
  int workers = 2;
  std::string python;
  std::string registry_db;
  std::string artifact_store;
};

fs::path find_python(const std::string& flag) {
  if (!flag.empty()) {
    std::optional<fs::path> found = flag.find('/') == std::string::npos ? core::find_executable(flag)
                                                                         : std::optional<fs::path>(flag);
    if (!found || ::access(found->c_str(), X_OK) != 0)
      throw Fatal{Error(Errc::not_found, fmt::format("--python {}: no such executable", flag))};
    return *found;
  }
  // Debian's python3 first: its python3-sklearn and python3-numpy are what most models unpickle with.
  if (::access("/usr/bin/python3", X_OK) == 0) return "/usr/bin/python3";
  if (auto found = core::find_executable("python3")) return *found;
  throw Fatal{Error(Errc::not_found, "no python3: neither /usr/bin/python3 nor one on PATH",
                    "install Python 3.11 or later, or pass --python PATH")};
}

// .mlctl/serve/NAME/VERSION in the project (next to the database without one), emptied: what is
// served is always the verified artifact, never what an earlier run left there.
fs::path fresh_serve_dir(const RegistryPlace& place, const models::VersionRecord& record) {
  fs::path state = place.project ? unwrap(core::ensure_state_dir(place.project_root)) : place.database.parent_path();
  fs::path dir = state / "serve" / record.name / std::to_string(record.version);
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (!ec) fs::create_directories(dir, ec);
  if (ec) throw Fatal{Error(Errc::failed, fmt::format("preparing {}: {}", core::display_path(dir), ec.message()))};
  return dir;
}

// The server's files, and the project's predict.py hook when it has one.
void write_server(const RegistryPlace& place, const fs::path& dir) {
  for (const auto& file : project::templates_under("serve/"))
    unwrap(core::write_file_atomic(dir / file.path, file.content));
  fs::path hook = place.project_root / "predict.py";
  std::error_code ec;
  if (place.project && fs::is_regular_file(hook, ec))
    unwrap(core::write_file_atomic(dir / "predict.py", unwrap(core::read_file(hook))));
}

// The server's process id for the signal handler, and the stop signal that came, if any.
std::atomic<pid_t> g_server{0};
std::atomic<int> g_stop_signal{0};

// Passes SIGINT and SIGTERM on to the server (which stops its workers and exits 0) while it runs,
// then puts back what was there. Ctrl-C on a terminal reaches the server directly too.
class ForwardStopSignals {
public:
  ForwardStopSignals() {
    struct sigaction action {};
    action.sa_handler = [](int signal) {
      g_stop_signal = signal;
      if (pid_t pid = g_server.load(); pid > 0) ::kill(pid, signal);
    };
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, &old_int_);
    ::sigaction(SIGTERM, &action, &old_term_);
  }
  ~ForwardStopSignals() {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
    g_server = 0;
  }
  ForwardStopSignals(const ForwardStopSignals&) = delete;
  ForwardStopSignals& operator=(const ForwardStopSignals&) = delete;

private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

// Starts `python server.py` in `dir` with this environment plus `env`. Everything is allocated
// before fork: the child only makes async-signal-safe calls until it execs.
pid_t start_server(const fs::path& python, const fs::path& dir, const std::map<std::string, std::string>& env,
                   bool stdout_to_stderr) {
  std::vector<std::string> args{python.string(), "server.py"};
  std::vector<std::string> variables;
  for (char** at = environ; *at; ++at) {
    std::string_view entry(*at);
    if (!env.contains(std::string(entry.substr(0, entry.find('='))))) variables.emplace_back(entry);
  }
  for (const auto& [key, value] : env) variables.push_back(key + "=" + value);
  std::vector<char*> argv, envp;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  for (auto& variable : variables) envp.push_back(variable.data());
  envp.push_back(nullptr);
  std::string cwd = dir.string();
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) throw Fatal{Error(Errc::failed, fmt::format("starting {}: {}", python.string(), std::strerror(errno)))};
  if (pid == 0) {
    // If mlctl dies, the server gets SIGTERM and stops its workers rather than outlive it.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (stdout_to_stderr) ::dup2(STDERR_FILENO, STDOUT_FILENO);
    if (::chdir(cwd.c_str()) == 0) ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  return pid;
}

// How the server ended, once it has; nullopt while it runs (`block`: wait for it).
std::optional<int> server_status(pid_t pid, bool block) {
  int status = 0;
  for (;;) {
    pid_t got = ::waitpid(pid, &status, block ? 0 : WNOHANG);
    if (got == pid) return status;
    if (got == 0) return std::nullopt;
    if (errno != EINTR)
      throw Fatal{Error(Errc::failed, fmt::format("waiting for the model server: {}", std::strerror(errno)))};
  }
}

[[noreturn]] void server_failed(int status, std::string_view when) {
  std::string how = WIFSIGNALED(status) ? fmt::format("was killed by signal {}", WTERMSIG(status))
                                        : fmt::format("exited with code {}", WEXITSTATUS(status));
  throw Fatal{Error(Errc::failed, fmt::format("the model server {}{}", how, when), "its log above says why")};
}

// Waits until /v2/health/ready answers 200 (the model is loaded and the workers run); false
// when the server ended first, with its wait status in `status`.
bool wait_until_ready(pid_t pid, const std::string& url, int& status) {
  oci::remote::CurlTransport transport;
  for (;;) {
    if (auto ended = server_status(pid, false)) {
      status = *ended;
      return false;
    }
    auto response = transport.send(oci::remote::Request("GET", url + "/v2/health/ready"));
    if (response && response->status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

void run_serve(Context& context, const ServeFlags& flags) {
  if (!flags.local)
    throw Fatal{Error(Errc::invalid, "mlctl serve runs a model on this machine only: add --local",
                      "to serve it in a cluster, render its manifests: mlctl deploy render MODEL --env ENV")};
  fs::path python = find_python(flags.python);
  RegistryPlace place = locate_registry(context, {.database = flags.registry_db, .artifacts = flags.artifact_store});
  models::Registry registry = open_registry(place);
  models::VersionRecord record = unwrap(registry.version(unwrap(models::parse_ref(flags.ref))));
  fs::path dir = fresh_serve_dir(place, record);
  fs::path model = dir / (record.artifact.directory ? "model" : "model.pkl");
  unwrap(artifact_store_for(place, record.artifact)->get(record.artifact, model, context.reporter()));
  write_server(place, dir);
  context.reporter().step(fmt::format("fetched {}@{} ({}) to {}", record.name, record.version,
                                      record.artifact.digest, core::display_path(model)));

  std::string url = fmt::format("http://127.0.0.1:{}", flags.port);
  std::string pythonpath = place.project_root.string();
  if (const char* old = std::getenv("PYTHONPATH"); old && *old) pythonpath += fmt::format(":{}", old);
  std::map<std::string, std::string> env{{"MLCTL_MODEL_NAME", record.name},
                                         {"MLCTL_MODEL_VERSION", std::to_string(record.version)},
                                         {"MLCTL_MODEL_PATH", fs::absolute(model).string()},
                                         {"MLCTL_FLAVOR", record.flavor},
                                         {"MLCTL_HOST", "127.0.0.1"},
                                         {"MLCTL_PORT", std::to_string(flags.port)},
                                         {"MLCTL_WORKERS", std::to_string(flags.workers)},
                                         {"PYTHONPATH", pythonpath}};
  if (!context.json())
    context.print({}, fmt::format("serving {} version {} at {} (POST {}/v2/models/{}/infer); Ctrl-C stops it",
                                  record.name, record.version, url, url, record.name));
  ForwardStopSignals forward;
  pid_t pid = start_server(python, dir, env, context.json());
  g_server = pid;
  if (int pending = g_stop_signal.load()) ::kill(pid, pending);
  if (context.json()) {
    int status = 0;
    if (!wait_until_ready(pid, url, status)) {
      if (g_stop_signal && WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
      server_failed(status, " before it was ready");
    }
    context.print({{"url", url}, {"model", record.name}, {"version", record.version}, {"pid", pid}}, "");
  }
  int status = *server_status(pid, true);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) server_failed(status, "");
}

}  // namespace

void add_serve(CLI::App& app) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* serve = app.add_subcommand("serve", "Run a registered model behind the model server on this machine");
  serve->footer(R"(Examples:
  mlctl serve --local fraud-detector@production
  mlctl serve --local fraud-detector@4 --port 9000 --workers 4
  curl -d '{"inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP64", "data": [0.1, 2.5]}]}' \
      http://127.0.0.1:8080/v2/models/fraud-detector/infer)");
  serve->add_option("model", flags->ref, "NAME, NAME@VERSION or NAME@ALIAS")->required();
  serve->add_flag("--local", flags->local, "Run it here, in the foreground, on 127.0.0.1 (required)");
  serve->add_option("--port", flags->port, "The port (default 8080)")->check(CLI::Range(1, 65535))->option_text("P");
  serve->add_option("--workers", flags->workers, "Worker processes sharing the loaded model (default 2)")
      ->check(CLI::Range(1, 256))
      ->option_text("N");
  serve->add_option("--python", flags->python, "The Python that runs the server (default /usr/bin/python3, else "
                                               "python3 on PATH)")
      ->option_text("PATH");
  serve->add_option("--artifact-store", flags->artifact_store, "The artifact store to read from")
      ->option_text("LOCATION");
  add_registry_db_option(serve, flags->registry_db);
  on_run(serve, [flags](Context& context) { run_serve(context, *flags); });
}

}  // namespace mlctl::cli
