#pragma once

#include <mlctl/oci/remote/transport.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace mlctl::oci::remote {

struct CurlOptions {
  std::chrono::seconds connect_timeout{30};
  // A transfer slower than this many bytes per second for low_speed_time is abandoned (and
  // retried by the client): a stalled connection must not hang a CI job.
  std::uint64_t low_speed_limit = 1024;
  std::chrono::seconds low_speed_time{60};
  // Bodies kept in memory (manifests, error bodies, tokens) larger than this fail the request.
  std::uint64_t max_memory_body = 64ull << 20;
  std::string user_agent = "mlctl";
  // The CA certificates TLS peers are verified against instead of the system's bundle (a PEM
  // file) and folder (hashed names). Empty: SSL_CERT_FILE and SSL_CERT_DIR when set, the
  // variables OpenSSL, curl and Go tools (skopeo, crane) read, so a private registry's CA can be
  // trusted without root; otherwise the system's.
  std::filesystem::path ca_file{};
  std::filesystem::path ca_dir{};
};

// The libcurl transport. TLS peers are always verified (against CurlOptions::ca_file); only
// http and https are spoken; redirects are not followed here. Connections and DNS answers are
// shared between requests and threads.
class CurlTransport final : public Transport {
public:
  explicit CurlTransport(CurlOptions options = {});
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  RegistryResult<Response> send(const Request& request) override;

private:
  struct Shared;
  CurlOptions options_;
  std::unique_ptr<Shared> shared_;
};

}  // namespace mlctl::oci::remote
