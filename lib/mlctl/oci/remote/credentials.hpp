#pragma once

#include <mlctl/core/error.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mlctl::oci::remote {

// What the client authenticates with: a username and password (sent as Basic, or to a token
// service), or an identity token (an OAuth2 refresh token, what `docker login` stores for some
// registries).
struct Credential {
  std::string username;
  std::string password;
  std::string identity_token;
  std::string source;  // where it came from, for messages: a file path or a variable name

  bool operator==(const Credential&) const = default;
};

// Where credentials are looked for, highest priority first: the MLCTL_REGISTRY_USERNAME and
// MLCTL_REGISTRY_PASSWORD variables, then each auth file in order (REGISTRY_AUTH_FILE, then
// $DOCKER_CONFIG/config.json or ~/.docker/config.json).
struct CredentialSources {
  std::optional<std::string> username;
  std::optional<std::string> password;
  std::vector<std::filesystem::path> auth_files;

  static CredentialSources from_environment();
};

// The credential for a registry host ("ghcr.io", "127.0.0.1:5000", "docker.io"), or none for
// anonymous access. Fails on a half-set pair of variables, an unreadable or malformed auth file
// (the message names the file), or a credential helper that fails other than "not found".
Result<std::optional<Credential>> find_credential(const CredentialSources& sources, std::string_view registry);

// What one auth file says about a registry: a credential it holds, or the credential helper to
// ask (`docker-credential-<helper>`), or neither.
struct AuthLookup {
  std::optional<Credential> credential;
  std::string helper;

  bool operator==(const AuthLookup&) const = default;
};

// Reads the text of a docker config.json / containers auth.json for `registry`: credHelpers for
// the host first, then the `auths` entry (`auth` as base64 "user:pass", or `identitytoken`), then
// the credsStore. `source` names the file in messages and in Credential::source. Runs nothing.
Result<AuthLookup> lookup_auth_config(std::string_view text, std::string_view source, std::string_view registry);

// lookup_auth_config on a file, running the helper it names. A missing file gives none.
Result<std::optional<Credential>> read_auth_file(const std::filesystem::path& path, std::string_view registry);

// Runs `docker-credential-<helper> get` with the server on stdin; none when it has no entry.
Result<std::optional<Credential>> run_credential_helper(std::string_view helper, std::string_view server);

std::string base64_encode(std::string_view data);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace mlctl::oci::remote
