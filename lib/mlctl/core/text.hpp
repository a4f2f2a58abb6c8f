#pragma once

#include <mlctl/core/error.hpp>

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace mlctl::core {

// Edit distance (insert, delete, substitute, transpose), for "did you mean" hints.
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word`, if it is close enough to be a plausible typo.
std::optional<std::string> nearest(std::string_view word, std::span<const std::string_view> candidates);

// `text` as it can be shown inside one line of a message: control characters become C escapes
// ("\n", "\t", "\x1b"), so a hostile name cannot split an error into forged lines (a CI log
// reads "::error::" or a fake "registered" line as real).
std::string printable(std::string_view text);

// A Kubernetes DNS-1123 label: lowercase alphanumerics and '-', starting and ending
// alphanumeric, at most 63 characters. The message says which rule is broken.
Result<void> check_dns1123_label(std::string_view name);

// Turns any string into a DNS-1123 label when it can (lowercase, other characters to '-').
std::optional<std::string> to_dns1123_label(std::string_view text);

// Removes the user name and password of every scheme://user:password@host URL in `text`,
// so that a URL echoed by another tool (pip, git) cannot leak a secret into a message.
// scp-like addresses (git@host:org/repo) carry no secret and are kept.
std::string strip_url_credentials(std::string_view text);

}  // namespace mlctl::core
