#pragma once

#include <mlctl/core/reporter.hpp>
#include <mlctl/oci/remote/challenge.hpp>
#include <mlctl/oci/remote/credentials.hpp>
#include <mlctl/oci/remote/redact.hpp>
#include <mlctl/oci/remote/transport.hpp>
#include <mlctl/oci/remote/url.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace mlctl::oci::remote {

// What --insecure allows for a registry that is not on this machine: https without checking the
// certificate, and plain http when the registry does not speak TLS (as docker's
// insecure-registries and skopeo's --tls-verify=false). Other hosts, such as the storage a
// registry redirects to, are checked as always.
enum class Insecure { no, yes };

// One registry's connection state: the credential, which auth scheme the registry wants, bearer
// tokens per scope, and the rules for where credentials may be sent. Sends single requests
// (no retries: the client decides what may be repeated). Thread-safe.
class Session {
public:
  Session(std::string registry, Transport& transport, std::optional<Credential> credential, Insecure insecure,
          core::Reporter& reporter);

  // "https://ghcr.io" or "http://127.0.0.1:5000"; with Insecure::yes it turns to http once the
  // registry has failed a TLS handshake.
  std::string base_url() const;

  // Sends `request` with the credentials the registry wants for `scopes` (e.g.
  // "repository:ml/model:pull,push"): answers one 401 challenge (Basic, or Bearer via the token
  // service), follows redirects for GET and HEAD, and drops Authorization when a request leaves
  // the registry's origin. Any HTTP status is a response; failures are transport or auth errors.
  RegistryResult<Response> send(Request request, const std::vector<std::string>& scopes);

  // The secrets seen so far are masked in everything below.
  std::string redact(std::string_view text) const { return redactor_.apply(text); }
  RegistryError redact(RegistryError error) const;
  void step(std::string_view message);
  void debug(std::string_view message);
  void begin(std::string_view id, std::string_view label, std::uint64_t total);
  void advance(std::string_view id, std::uint64_t done);
  void end(std::string_view id);
  void fail(std::string_view id, std::string_view why);

private:
  enum class Scheme { unknown, basic, bearer };
  struct Token {
    std::string value;
    std::chrono::steady_clock::time_point expires;
  };

  std::string origin() const;
  RegistryResult<Response> follow(Request request);
  // With Insecure::yes: whether `failure` of a request to `url` means the registry speaks plain
  // http, which is then used from here on.
  bool falls_back_to_http(const Url& url, const RegistryError& failure);
  RegistryResult<void> check_allowed(const Url& url) const;
  bool authorize(Request& request, const std::string& scope_key);
  // True when a new credential is ready and the request is worth sending again.
  RegistryResult<bool> answer_challenge(const Response& response, const std::vector<std::string>& scopes,
                                        bool sent_credentials);
  RegistryResult<void> fetch_token(const Challenge& challenge, const std::vector<std::string>& scopes);
  RegistryResult<Response> request_token(const Url& realm, const std::string& service,
                                         const std::vector<std::string>& scopes);

  std::string registry_;
  std::atomic<bool> plain_http_;
  Transport& transport_;
  std::optional<Credential> credential_;
  Insecure insecure_;
  core::Reporter& reporter_;
  Redactor redactor_;

  mutable std::mutex mutex_;  // guards the auth state below
  Scheme scheme_ = Scheme::unknown;
  std::map<std::string, Token> tokens_;

  std::mutex report_mutex_;  // reporters need not be thread-safe
};

}  // namespace mlctl::oci::remote
