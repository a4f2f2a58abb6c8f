#pragma once

#include <support/temp_dir.hpp>

#include <sys/types.h>

#include <filesystem>
#include <string>

namespace mlctl::test::security {

// The name the TLS registry is reached by. mlctl speaks plain http to loopback addresses
// (localhost, 127.x, [::1]), so a TLS registry on this machine needs a name that is not one of
// those yet still reaches 127.0.0.1: libcurl resolves every *.localhost name to loopback itself
// (RFC 6761), without DNS or /etc/hosts.
inline constexpr std::string_view k_tls_name = "registry.localhost";

// A self-signed certificate and its key made by `openssl req` for `name` (and IP 127.0.0.1),
// written to DIR/NAME.crt and DIR/NAME.key; returns the certificate. Throws std::runtime_error
// when openssl is missing or fails.
std::filesystem::path make_self_signed(const std::filesystem::path& dir, const std::string& name);

// A real Distribution registry (Debian's docker-registry) serving only HTTPS on 127.0.0.1 and a
// free port, with a fresh self-signed certificate for k_tls_name, storing in a temporary folder.
// The constructor returns once GET /v2/ answers 200 over verified TLS (trusting that
// certificate); the destructor kills it. Throws std::runtime_error when it cannot start (a
// missing openssl or docker-registry is a failure, never a skip), with the registry's log.
class TlsRegistry {
public:
  TlsRegistry();
  ~TlsRegistry();
  TlsRegistry(const TlsRegistry&) = delete;
  TlsRegistry& operator=(const TlsRegistry&) = delete;

  // "registry.localhost:PORT"
  std::string host() const { return std::string(k_tls_name) + ":" + std::to_string(port_); }
  // The PEM certificate the registry presents; trusting it is trusting the registry.
  const std::filesystem::path& certificate() const { return certificate_; }
  const std::filesystem::path& storage() const { return storage_; }
  std::string log() const;

private:
  void start();
  bool wait_until_ready();
  void stop();

  TempDir dir_;
  std::filesystem::path certificate_;
  std::filesystem::path storage_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace mlctl::test::security
