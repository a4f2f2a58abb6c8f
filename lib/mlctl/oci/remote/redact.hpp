#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace mlctl::oci::remote {

// Remembers every secret the client has seen (passwords, identity and bearer tokens, Basic
// header values) and blanks them out of any text before it becomes an error or a reporter line,
// so a server that echoes a header back cannot leak it either. Thread-safe.
class Redactor {
public:
  static constexpr std::string_view k_mask = "***";

  // Secrets shorter than 4 characters are not masked: that would garble ordinary words.
  void add(std::string_view secret);
  std::string apply(std::string_view text) const;

private:
  mutable std::mutex mutex_;
  std::vector<std::string> secrets_;
};

// The header value as it may be shown: Authorization and cookies are replaced by "<redacted>".
std::string redact_header(std::string_view name, std::string_view value);

}  // namespace mlctl::oci::remote
