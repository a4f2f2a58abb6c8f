#pragma once

#include <support/temp_dir.hpp>

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>

namespace mlctl::test {

// A real Distribution registry (Debian's docker-registry) on 127.0.0.1 and a free port, storing
// in a temporary folder, with deletes enabled and optionally htpasswd (Basic) auth. Started by
// the constructor, which returns once /v2/ answers; killed by the destructor. Throws
// std::runtime_error when it cannot start (a missing docker-registry or htpasswd is a failure,
// never a skip), with the registry's log in the message.
class RegistryServer {
public:
  struct Htpasswd {
    std::string username;
    std::string password;
  };

  // Serving HTTPS only, with this certificate and key, reached by `name` (which must resolve to
  // 127.0.0.1: *.localhost does, in libcurl itself).
  struct Tls {
    std::filesystem::path certificate;
    std::filesystem::path key;
    std::string name;
  };

  RegistryServer() : RegistryServer(std::nullopt) {}
  explicit RegistryServer(std::optional<Htpasswd> auth, std::optional<Tls> tls = std::nullopt);
  ~RegistryServer();
  RegistryServer(const RegistryServer&) = delete;
  RegistryServer& operator=(const RegistryServer&) = delete;

  // "127.0.0.1:PORT", or with TLS "NAME:PORT"
  std::string host() const { return (tls_ ? tls_->name : std::string("127.0.0.1")) + ":" + std::to_string(port_); }
  const std::filesystem::path& storage() const { return storage_; }
  std::string log() const;

  // Stops the registry (connections are then refused), and starts it again on the same port with
  // the same storage: a registry that goes away in the middle of a release and comes back.
  void stop_serving() { stop(); }
  void restart();

private:
  void start(const std::optional<Htpasswd>& auth);
  bool wait_until_ready();
  void stop();

  TempDir dir_;
  std::optional<Htpasswd> auth_;
  std::optional<Tls> tls_;
  std::filesystem::path storage_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace mlctl::test
