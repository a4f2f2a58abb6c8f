#include <mlctl/oci/remote/credentials.hpp>

#include <mlctl/core/fs.hpp>
#include <mlctl/core/process.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <algorithm>
#include <cstdlib>

namespace mlctl::oci::remote {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::string_view k_docker_hub_server = "https://index.docker.io/v1/";
constexpr auto k_helper_timeout = std::chrono::seconds(30);

std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);
  if (!value || !*value) return std::nullopt;
  return std::string(value);
}

bool is_docker_hub(std::string_view registry) {
  return registry == "docker.io" || registry == "index.docker.io" || registry == "registry-1.docker.io";
}

// The host part of an `auths` key, which docker writes as "host", "https://host" or
// "https://index.docker.io/v1/".
std::string key_host(std::string_view key) {
  if (auto sep = key.find("://"); sep != std::string_view::npos) key = key.substr(sep + 3);
  key = key.substr(0, key.find('/'));
  std::string out(key);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return out;
}

bool key_matches(std::string_view key, std::string_view registry) {
  std::string host = key_host(key);
  return host == registry || (is_docker_hub(registry) && is_docker_hub(host));
}

const json* find_host(const json& object, std::string_view registry) {
  if (!object.is_object()) return nullptr;
  for (const auto& [key, value] : object.items())
    if (key_matches(key, registry)) return &value;
  return nullptr;
}

Result<std::optional<Credential>> from_auths_entry(const json& entry, std::string_view source) {
  Credential credential{{}, {}, {}, std::string(source)};
  auto text = [&](const char* key) {
    auto it = entry.find(key);
    return it != entry.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  credential.identity_token = text("identitytoken");
  if (auto auth = text("auth"); !auth.empty()) {
    auto decoded = base64_decode(auth);
    auto colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos)
      return fail(Errc::invalid, fmt::format("{}: the 'auth' entry is not base64 of user:password", source));
    credential.username = decoded->substr(0, colon);
    credential.password = decoded->substr(colon + 1);
  } else {
    credential.username = text("username");
    credential.password = text("password");
  }
  if (credential.password.empty() && credential.identity_token.empty()) return std::nullopt;
  return credential;
}

}  // namespace

CredentialSources CredentialSources::from_environment() {
  CredentialSources sources{env("MLCTL_REGISTRY_USERNAME"), env("MLCTL_REGISTRY_PASSWORD"), {}};
  if (auto file = env("REGISTRY_AUTH_FILE")) sources.auth_files.emplace_back(*file);
  if (auto dir = env("DOCKER_CONFIG"))
    sources.auth_files.push_back(fs::path(*dir) / "config.json");
  else if (auto home = env("HOME"))
    sources.auth_files.push_back(fs::path(*home) / ".docker" / "config.json");
  return sources;
}

Result<std::optional<Credential>> find_credential(const CredentialSources& sources, std::string_view registry) {
  if (sources.username.has_value() != sources.password.has_value()) {
    return fail(Errc::invalid,
                sources.username ? "MLCTL_REGISTRY_USERNAME is set but MLCTL_REGISTRY_PASSWORD is not"
                                 : "MLCTL_REGISTRY_PASSWORD is set but MLCTL_REGISTRY_USERNAME is not");
  }
  if (sources.username)
    return Credential{*sources.username, *sources.password, {}, "MLCTL_REGISTRY_USERNAME"};
  for (const auto& path : sources.auth_files) {
    auto found = read_auth_file(path, registry);
    if (!found || *found) return found;
  }
  return std::nullopt;
}

Result<AuthLookup> lookup_auth_config(std::string_view text, std::string_view source, std::string_view registry) {
  auto config = json::parse(text, nullptr, false);
  if (config.is_discarded() || !config.is_object())
    return fail(Errc::invalid, fmt::format("{}: not a valid JSON object", source));
  auto helper_named = [](const json* value) { return value && value->is_string() && !value->get<std::string>().empty(); };
  if (auto it = config.find("credHelpers"); it != config.end()) {
    if (const json* helper = find_host(*it, registry); helper_named(helper))
      return AuthLookup{std::nullopt, helper->get<std::string>()};
  }
  if (auto it = config.find("auths"); it != config.end()) {
    if (const json* entry = find_host(*it, registry); entry && entry->is_object()) {
      auto credential = from_auths_entry(*entry, source);
      if (!credential) return std::unexpected(credential.error());
      if (*credential) return AuthLookup{std::move(*credential), {}};
    }
  }
  if (auto it = config.find("credsStore"); it != config.end() && helper_named(&*it))
    return AuthLookup{std::nullopt, it->get<std::string>()};
  return AuthLookup{};
}

Result<std::optional<Credential>> read_auth_file(const fs::path& path, std::string_view registry) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  auto content = core::read_file(path);
  if (!content) return std::unexpected(content.error());
  auto found = lookup_auth_config(*content, path.string(), registry);
  if (!found) return std::unexpected(found.error());
  if (found->helper.empty()) return std::move(found->credential);
  std::string server = is_docker_hub(registry) ? std::string(k_docker_hub_server) : std::string(registry);
  return with_context(run_credential_helper(found->helper, server), path.string());
}

Result<std::optional<Credential>> run_credential_helper(std::string_view helper, std::string_view server) {
  std::string program = "docker-credential-" + std::string(helper);
  if (helper.empty() || helper.find('/') != std::string_view::npos)
    return fail(Errc::invalid, fmt::format("invalid credential helper name '{}'", helper));
  core::Command command;
  command.argv = {program, "get"};
  command.input = std::string(server);
  command.timeout = k_helper_timeout;
  auto done = core::run(command);
  if (!done) return fail(Errc::failed, fmt::format("cannot run {}: {}", program, done.error().message()));
  if (!done->ok()) {
    // The protocol's answer for "no entry"; the message goes to stdout.
    if (done->out.find("credentials not found") != std::string::npos) return std::nullopt;
    std::string why = done->timed_out ? "timed out" : fmt::format("exit code {}", done->exit_code);
    std::string err = done->err.substr(0, done->err.find('\n')).substr(0, 200);
    return fail(Errc::failed, fmt::format("{} get failed ({}){}{}", program, why, err.empty() ? "" : ": ", err));
  }
  auto reply = json::parse(done->out, nullptr, false);
  if (reply.is_discarded() || !reply.is_object() || !reply.contains("Secret") || !reply["Secret"].is_string())
    return fail(Errc::failed, fmt::format("{} get printed something other than the credential JSON", program));
  Credential credential{{}, {}, {}, program};
  std::string username = reply.value("Username", std::string());
  // The helper protocol's way of storing an identity token instead of a password.
  if (username == "<token>")
    credential.identity_token = reply["Secret"].get<std::string>();
  else
    credential = {username, reply["Secret"].get<std::string>(), {}, program};
  return credential;
}

std::string base64_encode(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()), int(data.size()));
  out.resize(size_t(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  std::string out(3 * text.size() / 4 + 1, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), int(text.size()));
  if (n < 0) return std::nullopt;
  size_t padding = text.ends_with("==") ? 2 : text.ends_with('=') ? 1 : 0;
  out.resize(size_t(n) - padding);
  return out;
}

}  // namespace mlctl::oci::remote
