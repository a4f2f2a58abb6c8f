#include "registry_fixture.hpp"

#include <mlctl/oci/remote/curl_transport.hpp>

#include <support/free_port.hpp>
#include <support/run.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace mlctl::test {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto k_start_timeout = std::chrono::seconds(20);
constexpr auto k_poll = std::chrono::milliseconds(50);
constexpr int k_start_attempts = 3;

std::string config_yaml(const std::filesystem::path& storage, int port, const std::filesystem::path& htpasswd,
                        const std::optional<RegistryServer::Tls>& tls) {
  std::string yaml = "version: 0.1\n"
                     "log:\n  level: info\n  accesslog:\n    disabled: false\n"
                     "storage:\n  filesystem:\n    rootdirectory: " + storage.string() + "\n"
                     "  delete:\n    enabled: true\n"
                     "http:\n  addr: 127.0.0.1:" + std::to_string(port) + "\n  secret: mlctl-test-secret\n";
  if (tls)
    yaml += "  tls:\n    certificate: " + tls->certificate.string() + "\n    key: " + tls->key.string() + "\n";
  if (!htpasswd.empty())
    yaml += "auth:\n  htpasswd:\n    realm: mlctl-test\n    path: " + htpasswd.string() + "\n";
  return yaml;
}

}  // namespace

RegistryServer::RegistryServer(std::optional<Htpasswd> auth, std::optional<Tls> tls)
    : auth_(std::move(auth)), tls_(std::move(tls)), storage_(dir_ / "storage") {
  std::filesystem::create_directories(storage_);
  for (int attempt = 1;; ++attempt) {
    port_ = 0;  // a fresh free port each attempt
    start(auth_);
    if (wait_until_ready()) return;
    stop();
    if (attempt == k_start_attempts)
      throw std::runtime_error("docker-registry did not answer on " + host() + "; its log:\n" + log());
  }
}

RegistryServer::~RegistryServer() { stop(); }

void RegistryServer::restart() {
  stop();
  start(auth_);
  if (!wait_until_ready())
    throw std::runtime_error("docker-registry did not answer again on " + host() + "; its log:\n" + log());
}

std::string RegistryServer::log() const { return dir_.read("registry.log"); }

void RegistryServer::start(const std::optional<Htpasswd>& auth) {
  std::filesystem::path htpasswd;
  if (auth) {
    auto made = run_command({"htpasswd", "-Bbn", auth->username, auth->password}, dir_.path());
    if (!made.ok()) throw std::runtime_error("htpasswd (apache2-utils) failed: " + made.err);
    htpasswd = dir_.write("htpasswd", made.out);
  }
  if (port_ == 0) port_ = free_port();
  auto config = dir_.write("config.yml", config_yaml(storage_, port_, htpasswd, tls_));
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

bool RegistryServer::wait_until_ready() {
  oci::remote::CurlOptions options;
  options.connect_timeout = std::chrono::seconds(2);
  if (tls_) options.ca_file = tls_->certificate;
  oci::remote::CurlTransport transport(options);
  auto deadline = Clock::now() + k_start_timeout;
  while (Clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    auto response = transport.send(oci::remote::Request("GET", (tls_ ? "https://" : "http://") + host() + "/v2/"));
    if (response && (response->status == 200 || response->status == 401)) return true;
    std::this_thread::sleep_for(k_poll);
  }
  return false;
}

void RegistryServer::stop() {
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

}  // namespace mlctl::test
