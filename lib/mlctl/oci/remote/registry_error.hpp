#pragma once

#include <mlctl/core/error.hpp>

#include <chrono>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mlctl::oci::remote {

// One entry of a registry's error body: {"errors":[{"code":"BLOB_UNKNOWN","message":...}]}.
struct ErrorEntry {
  std::string code;     // "BLOB_UNKNOWN", "UNAUTHORIZED", ...
  std::string message;  // "blob unknown to registry"
  std::string detail;   // the detail as compact JSON, or empty

  bool operator==(const ErrorEntry&) const = default;
};

// A failure talking to a registry. It is an mlctl::Error (so a RegistryResult<T> converts to a
// Result<T>), and keeps what callers may act on: the HTTP status (0 when no response came),
// the registry's error codes, and whether trying again may help.
class RegistryError : public Error {
public:
  RegistryError(Errc code, std::string message, int status = 0, std::vector<ErrorEntry> entries = {},
                bool retryable = false)
      : Error(code, std::move(message)), status_(status), entries_(std::move(entries)), retryable_(retryable) {}
  RegistryError(Error error) : Error(std::move(error)) {}  // NOLINT: a plain error is a registry error

  int status() const { return status_; }
  const std::vector<ErrorEntry>& entries() const { return entries_; }
  bool retryable() const { return retryable_; }
  bool has_code(std::string_view code) const;
  // How long the server asked to wait (Retry-After), when it did.
  std::optional<std::chrono::milliseconds> retry_after() const { return retry_after_; }
  void set_retry_after(std::chrono::milliseconds delay) { retry_after_ = delay; }
  // The TLS handshake failed before any certificate was checked, as when the server speaks plain http.
  bool tls_handshake_failed() const { return tls_handshake_failed_; }
  void set_tls_handshake_failed() { tls_handshake_failed_ = true; }

  RegistryError& context(std::string_view what) {
    Error::context(what);
    return *this;
  }

private:
  int status_ = 0;
  std::vector<ErrorEntry> entries_;
  bool retryable_ = false;
  std::optional<std::chrono::milliseconds> retry_after_;
  bool tls_handshake_failed_ = false;
};

template <typename T>
using RegistryResult = std::expected<T, RegistryError>;

// Reads the registry's JSON error body; anything else (HTML from a proxy, truncated JSON)
// gives no entries rather than an error, since the status still says what happened.
std::vector<ErrorEntry> parse_error_body(std::string_view body);

// "401 UNAUTHORIZED: authentication required" from the entries, or "502 Bad Gateway" and the
// start of a non-JSON body when there are none.
std::string describe_failure(int status, const std::vector<ErrorEntry>& entries, std::string_view body);

// 408, 429 and 5xx: the server may answer differently later.
bool is_retryable_status(int status);

// Whether a request only reads (GET, HEAD): an unknown blob, manifest or repository is then
// Errc::not_found rather than Errc::remote.
enum class Access { read, write };

// The error for an unexpected response; `body` is the response body already redacted.
RegistryError error_from_status(int status, std::string_view body, Access access);

}  // namespace mlctl::oci::remote
