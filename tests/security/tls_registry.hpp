#pragma once

#include <oci/remote/registry_fixture.hpp>
#include <support/temp_dir.hpp>

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

// A real Distribution registry (Debian's docker-registry, tests/oci/remote/registry_fixture.hpp)
// serving only HTTPS on 127.0.0.1 and a free port, with a fresh self-signed certificate for
// k_tls_name. The constructor returns once GET /v2/ answers over verified TLS (trusting that
// certificate); the destructor kills it. Throws std::runtime_error when it cannot start (a
// missing openssl or docker-registry is a failure, never a skip), with the registry's log.
class TlsRegistry {
public:
  TlsRegistry();

  // "registry.localhost:PORT"
  std::string host() const { return server_.host(); }
  // The PEM certificate the registry presents; trusting it is trusting the registry.
  const std::filesystem::path& certificate() const { return certificate_; }
  const std::filesystem::path& storage() const { return server_.storage(); }
  std::string log() const { return server_.log(); }

private:
  TempDir dir_;
  std::filesystem::path certificate_;
  RegistryServer server_;
};

}  // namespace mlctl::test::security
