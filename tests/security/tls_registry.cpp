#include "tls_registry.hpp"

#include <mlctl/oci/remote/curl_transport.hpp>

#include <support/free_port.hpp>
#include <support/run.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace mlctl::test::security {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
constexpr auto k_start_timeout = std::chrono::seconds(20);
constexpr int k_start_attempts = 3;

std::string config_yaml(const fs::path& storage, int port, const fs::path& certificate, const fs::path& key) {
  return "version: 0.1\n"
         "log:\n  level: info\n"
         "storage:\n  filesystem:\n    rootdirectory: " + storage.string() + "\n"
         "http:\n  addr: 127.0.0.1:" + std::to_string(port) + "\n  secret: mlctl-test-secret\n"
         "  tls:\n    certificate: " + certificate.string() + "\n    key: " + key.string() + "\n";
}

}  // namespace

fs::path make_self_signed(const fs::path& dir, const std::string& name) {
  fs::path certificate = dir / (name + ".crt"), key = dir / (name + ".key");
  // An EC key: RSA key generation takes seconds on a busy machine.
  auto made = run_command({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                           "-nodes", "-days", "2", "-subj", "/CN=" + name, "-addext",
                           "subjectAltName=DNS:" + name + ",IP:127.0.0.1", "-keyout", key.string(), "-out",
                           certificate.string()},
                          dir);
  if (!made.ok())
    throw std::runtime_error("openssl req failed (Debian package openssl): exit " + std::to_string(made.exit_code) +
                             ": " + made.err);
  return certificate;
}

TlsRegistry::TlsRegistry() : storage_(dir_ / "storage") {
  fs::create_directories(storage_);
  certificate_ = make_self_signed(dir_.path(), std::string(k_tls_name));
  for (int attempt = 1;; ++attempt) {
    port_ = free_port();  // a fresh one each attempt: another process may have taken the last
    start();
    if (wait_until_ready()) return;
    stop();
    if (attempt == k_start_attempts)
      throw std::runtime_error("docker-registry did not answer over TLS on " + host() + "; its log:\n" + log());
  }
}

TlsRegistry::~TlsRegistry() { stop(); }

std::string TlsRegistry::log() const { return dir_.read("registry.log"); }

void TlsRegistry::start() {
  fs::path key = dir_ / (std::string(k_tls_name) + ".key");
  auto config = dir_.write("config.yml", config_yaml(storage_, port_, certificate_, key));
  int log_fd = ::open((dir_ / "registry.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, log_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, log_fd, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  std::string program = "docker-registry", serve = "serve", path = config.string();
  char* argv[] = {program.data(), serve.data(), path.data(), nullptr};
  int rc = ::posix_spawnp(&pid_, argv[0], &actions, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(log_fd);
  if (rc != 0) {
    pid_ = -1;
    throw std::runtime_error("cannot start docker-registry (Debian package docker-registry): " +
                             std::string(std::strerror(rc)));
  }
}

bool TlsRegistry::wait_until_ready() {
  oci::remote::CurlOptions options;
  options.connect_timeout = std::chrono::seconds(2);
  options.ca_file = certificate_;
  oci::remote::CurlTransport transport(options);
  auto deadline = Clock::now() + k_start_timeout;
  while (Clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    auto response = transport.send(oci::remote::Request("GET", "https://" + host() + "/v2/"));
    if (response && response->status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

void TlsRegistry::stop() {
  if (pid_ <= 0) return;
  ::kill(-pid_, SIGTERM);
  auto deadline = Clock::now() + std::chrono::seconds(5);
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (Clock::now() > deadline) {
      ::kill(-pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  pid_ = -1;
}

}  // namespace mlctl::test::security
