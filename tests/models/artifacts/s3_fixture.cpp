#include "s3_fixture.hpp"

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
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace mlctl::test {

namespace {

bool answers(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

ServerProcess::ServerProcess(std::vector<std::string> args, int port, std::filesystem::path log, std::string what)
    : log_(std::move(log)) {
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  int spawned = posix_spawnp(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) throw std::runtime_error("cannot start " + what + " (" + args[0] + ")");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!answers(port)) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error(what + " exited: " + this->log());
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
      throw std::runtime_error(what + " did not answer within 30 s: " + this->log());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

ServerProcess::~ServerProcess() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 100 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (::waitpid(pid_, &status, WNOHANG) == 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
  }
}

std::string ServerProcess::log() const {
  std::ifstream in(log_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

S3Server::S3Server() {
  auto installed = run_command({std::string(MLCTL_SOURCE_DIR) + "/scripts/install-npm-deps",
                                std::string(MLCTL_SOURCE_DIR) + "/tests/models/artifacts/s3rver"},
                               dir_.path());
  if (!installed.ok()) throw std::runtime_error("scripts/install-npm-deps failed: " + installed.err);
  std::string modules = installed.out.substr(0, installed.out.find('\n')) + "/node_modules";
  std::filesystem::create_directories(dir_ / "data");
  port_ = free_port();
  process_ = std::make_unique<ServerProcess>(
      std::vector<std::string>{"node", modules + "/s3rver/bin/s3rver.js", "-d", (dir_ / "data").string(), "-a",
                               "127.0.0.1", "-p", std::to_string(port_), "--no-vhost-buckets", "--configure-bucket",
                               "models"},
      port_, dir_ / "s3rver.log", "s3rver (node; apt-get install nodejs)");
}

SigV4Proxy::SigV4Proxy(const std::string& upstream, const std::string& access_key, const std::string& secret_key,
                       const std::string& region) {
  port_ = free_port();
  process_ = std::make_unique<ServerProcess>(
      std::vector<std::string>{"/usr/bin/python3", std::string(MLCTL_SOURCE_DIR) + "/tests/models/artifacts/sigv4_proxy.py",
                               std::to_string(port_), upstream, access_key, secret_key, region},
      port_, dir_ / "proxy.log", "the SigV4 proxy (/usr/bin/python3 with python3-botocore)");
}

}  // namespace mlctl::test
