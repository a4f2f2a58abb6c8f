#pragma once

#include <mlctl/core/error.hpp>
#include <mlctl/oci/remote/redact.hpp>
#include <mlctl/oci/remote/retry.hpp>
#include <mlctl/oci/remote/session.hpp>
#include <mlctl/oci/remote/transport.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace mlctl::pipeline {

// Reads the bearer token an API server wants (a Kubernetes service account token, or what
// `argo auth token` prints, whose "Bearer " prefix is dropped). Surrounding whitespace is
// ignored. Fails not_found when the file is missing and invalid when it holds no token or
// characters a token cannot have; the token itself never appears in a message.
Result<std::string> read_token_file(const std::filesystem::path& path);

struct ApiOptions {
  // Plain http to a host other than this machine is refused while a token would travel over
  // it, and an https server's certificate is checked, unless the user asked otherwise.
  oci::remote::Insecure insecure = oci::remote::Insecure::no;
  oci::remote::RetryPolicy retry;  // for reads; a create is never sent twice
  oci::remote::Sleeper sleep;      // empty: really sleep (tests pass a recorder)
};

// A JSON-over-HTTP API server (Argo Server, the Kubeflow Pipelines API server) reached
// through the project's HTTP transport, with bearer authentication. Failures are Errors whose
// message names the request and quotes the server's own message, with the kind taken from the
// status: 400 invalid, 404 not_found, 409 precondition, 401, 403, 5xx and transport failures
// (refused connections, timeouts) remote. Every message has the token masked, even when the
// server echoes it back.
class ApiClient {
public:
  // `url` is the server's base URL, "https://host[:port][/path-prefix]".
  static Result<ApiClient> create(std::string_view url, oci::remote::Transport& transport, std::string token = {},
                                  ApiOptions options = {});

  // "https://host:port/prefix", without a trailing slash.
  const std::string& base_url() const { return base_url_; }

  // GETs base_url() + target ("/api/v1/..."), retrying what may succeed later; the 2xx body.
  Result<std::string> get(std::string_view target, std::string_view accept = "application/json") const;
  // POSTs `body`; not retried, since a create whose answer was lost may have happened.
  Result<std::string> post(std::string_view target, std::string_view body, std::string_view content_type) const;

  // `text` with the token masked, for messages built from server data.
  std::string redact(std::string_view text) const { return redactor_->apply(text); }

private:
  ApiClient(std::string base_url, oci::remote::Transport& transport, std::string token, ApiOptions options);

  oci::remote::Request request(std::string method, std::string_view target, std::string_view accept) const;
  oci::remote::RegistryResult<std::string> attempt(const oci::remote::Request& request) const;
  Result<std::string> finish(oci::remote::RegistryResult<std::string> result) const;

  std::string base_url_;
  oci::remote::Transport* transport_;
  std::string token_;
  ApiOptions options_;
  std::shared_ptr<oci::remote::Redactor> redactor_;  // shared: a Redactor holds a mutex
};

}  // namespace mlctl::pipeline
