#pragma once

// Internal to the client's source files.

#include <mlctl/oci/remote/client.hpp>

#include <fmt/format.h>

#include <initializer_list>

namespace mlctl::oci::remote {

std::string pull_scope(std::string_view repository);
std::string push_scope(std::string_view repository);

// A repository name is put in URL paths: it must follow the reference grammar.
RegistryResult<void> check_repository(std::string_view repository);

struct Client::Impl {
  Impl(std::string registry, Transport& transport, std::optional<Credential> credential, ClientOptions options,
       core::Reporter& reporter);

  // "<base>/v2/<repository><suffix>"
  std::string url(std::string_view repository, std::string_view suffix) const;

  // One attempt: a response whose status is in `ok`, or the registry's error for it (with the
  // Retry-After it asked for), redacted.
  RegistryResult<Response> expect(const Request& request, const std::vector<std::string>& scopes,
                                  std::initializer_list<int> ok, Access access);

  template <typename T, typename F>
  RegistryResult<T> retry(F&& attempt) {
    return retrier.run<T>(std::forward<F>(attempt), [&](const RegistryError& error, int tries, auto delay) {
      session.debug(fmt::format("retrying after: {} (attempt {} of {}, waiting {} ms)", error.message(), tries + 1,
                                options.retry.max_attempts, delay.count()));
    });
  }

  // Starts an upload session (POST) and returns its absolute Location.
  RegistryResult<std::string> start_upload(std::string_view repository);
  // Tries a cross-repository mount: none when mounted, else the upload Location the registry
  // offered instead (empty when it gave none).
  RegistryResult<std::optional<std::string>> mount(std::string_view repository, std::string_view digest,
                                                   std::string_view from);
  // One attempt at uploading a blob, from a fresh session unless `location` is given.
  RegistryResult<std::uint64_t> upload_once(std::string_view repository, const Blob& blob,
                                            std::optional<std::string> location);
  RegistryResult<Response> upload_chunks(std::string_view repository, const Blob& blob, std::string location);

  std::string registry;
  ClientOptions options;
  Session session;
  Retrier retrier;
};

}  // namespace mlctl::oci::remote
