#pragma once

#include <expected>
#include <string>
#include <utility>

namespace mlctl {

// The kind of failure; its value is the process exit code (documented in man/mlctl.1).
enum class Errc {
  failed = 1,        // the operation failed
  invalid = 2,       // usage or invalid input
  not_found = 3,     // a named thing does not exist
  precondition = 4,  // a gate, a drift check, or an existing state refuses the change
  remote = 5,        // a registry or API is unreachable or refuses
};

// An error carries a kind, a message with context added at each hop
// ("pushing x: uploading blob y: 401 UNAUTHORIZED"), and an optional hint for the user.
class Error {
public:
  Error(Errc code, std::string message, std::string hint = {})
      : code_(code), message_(std::move(message)), hint_(std::move(hint)) {}

  Errc code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::string& hint() const { return hint_; }

  // Prefixes the message with what was being done: "what: message".
  Error& context(std::string_view what);
  Error& with_hint(std::string hint);

private:
  Errc code_;
  std::string message_;
  std::string hint_;
};

template <typename T>
using Result = std::expected<T, Error>;

// Shorthand for returning a failure: `return fail(Errc::invalid, "no such file");`
inline std::unexpected<Error> fail(Errc code, std::string message, std::string hint = {}) {
  return std::unexpected(Error(code, std::move(message), std::move(hint)));
}

// Adds context to the error of a result, passing a value through unchanged.
template <typename T>
Result<T> with_context(Result<T> result, std::string_view what) {
  if (!result) result.error().context(what);
  return result;
}

const char* errc_name(Errc code);

}  // namespace mlctl
