#include "tls_registry.hpp"

#include <support/run.hpp>

#include <stdexcept>

namespace mlctl::test::security {

namespace fs = std::filesystem;

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

TlsRegistry::TlsRegistry()
    : certificate_(make_self_signed(dir_.path(), std::string(k_tls_name))),
      server_(std::nullopt, RegistryServer::Tls{.certificate = certificate_,
                                                .key = dir_ / (std::string(k_tls_name) + ".key"),
                                                .name = std::string(k_tls_name)}) {}

}  // namespace mlctl::test::security
