#pragma once

#include <mlctl/oci/remote/registry_error.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace mlctl::oci::remote {

using Headers = std::vector<std::pair<std::string, std::string>>;

// The first value of a header, names compared case-insensitively.
std::optional<std::string> find_header(const Headers& headers, std::string_view name);
// Every value of a header, in order (WWW-Authenticate may come several times).
std::vector<std::string> find_headers(const Headers& headers, std::string_view name);
void remove_header(Headers& headers, std::string_view name);

// A byte range of a file sent as a request body; read again from the start on each attempt.
struct FileRange {
  std::filesystem::path path;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

// No body, bytes owned by the caller (they must outlive the request), or part of a file.
using RequestBody = std::variant<std::monostate, std::string_view, FileRange>;

std::uint64_t body_size(const RequestBody& body);

// Where a successful (2xx) response body goes instead of memory: a blob download.
class BodySink {
public:
  virtual ~BodySink() = default;
  // Called before each attempt, so a retried download starts from an empty sink.
  virtual void reset() = 0;
  // False stops the transfer (a local failure: disk full, too large).
  virtual bool write(std::string_view chunk) = 0;
};

struct Request {
  Request() = default;
  Request(std::string method_, std::string url_) : method(std::move(method_)), url(std::move(url_)) {}

  std::string method;  // "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"
  std::string url;
  Headers headers;
  RequestBody body;
  BodySink* sink = nullptr;
  // Bytes sent and received so far in this attempt.
  std::function<void(std::uint64_t sent, std::uint64_t received)> progress;
  // Whether an https server's certificate is checked; off only where the user said --insecure.
  bool verify_tls = true;
};

struct Response {
  int status = 0;
  Headers headers;
  std::string body;  // empty when the body went to the request's sink

  std::optional<std::string> header(std::string_view name) const { return find_header(headers, name); }
};

// Sends one HTTP request, never following redirects (the caller decides where credentials may
// go). Fails only when no complete response arrived: connection refused or broken, timeouts,
// TLS failures; the error's retryable() says whether another attempt may help.
// Implementations are safe to call from several threads at once.
class Transport {
public:
  virtual ~Transport() = default;
  virtual RegistryResult<Response> send(const Request& request) = 0;
};

}  // namespace mlctl::oci::remote
