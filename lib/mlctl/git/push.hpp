#pragma once

#include <mlctl/core/error.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace mlctl::git {

// Pushes the local branch `branch` to the same branch of `remote`, with the credentials git
// would use: git's credential helpers (`git credential fill`, never a prompt) for HTTPS, the ssh
// agent for SSH; each is tried once.
// Fails: not_found for an unknown remote; remote, with the remote's reason, for a refused push
// (a non-fast-forward one, or no credential accepted). Messages never hold credentials.
Result<void> push(const std::filesystem::path& repo_path, const std::string& branch,
                  const std::string& remote = "origin");

// Pushes the tag `tag` to `remote` as push() pushes a branch. A tag the remote has at another
// object is refused (remote): tags are never moved.
Result<void> push_tag(const std::filesystem::path& repo_path, const std::string& tag,
                      const std::string& remote = "origin");

// What `git credential fill` reads to find the credentials for `url`:
// "protocol=https\nhost=git.example.com:8443\npath=ml/fraud.git\nusername=ada\n\n" (username only
// when given); nullopt for a URL without a scheme and a host.
std::optional<std::string> credential_request(std::string_view url, const char* username);

}  // namespace mlctl::git
