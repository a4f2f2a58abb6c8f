#include <mlctl/git/push.hpp>

#include <mlctl/core/process.hpp>
#include <mlctl/core/text.hpp>
#include <mlctl/git/libgit2.hpp>

#include <fmt/format.h>

namespace mlctl::git {

namespace fs = std::filesystem;

namespace {

struct UserPassword {
  std::string username;
  std::string password;
};

// What the callbacks of one push share: libgit2 calls the credential callback again after each
// refusal, so every kind of credential is offered once and then the push gives up.
struct PushState {
  fs::path workdir{};
  bool tried_helpers = false;
  bool tried_agent = false;
  std::string rejection{};
};

// The credentials git's helpers hold for `url`, without prompting (a hook or CI has no terminal).
std::optional<UserPassword> credential_fill(const fs::path& workdir, const char* url, const char* username) {
  auto request = credential_request(url, username);
  if (!request) return std::nullopt;
  core::Command command{.argv = {"git", "credential", "fill"}, .cwd = workdir,
                        .env = {{"GIT_TERMINAL_PROMPT", "0"}, {"GIT_ASKPASS", ""}, {"SSH_ASKPASS", ""}},
                        .input = *request, .timeout = std::chrono::seconds(30)};
  auto done = core::run(command);
  if (!done || !done->ok()) return std::nullopt;
  UserPassword found;
  for (std::string_view rest = done->out; !rest.empty();) {
    size_t end = std::min(rest.find('\n'), rest.size());
    std::string_view line = rest.substr(0, end);
    rest.remove_prefix(std::min(end + 1, rest.size()));
    if (line.starts_with("username=")) found.username = line.substr(9);
    if (line.starts_with("password=")) found.password = line.substr(9);
  }
  if (found.username.empty() || found.password.empty()) return std::nullopt;
  return found;
}

int acquire_credential(git_credential** out, const char* url, const char* username, unsigned int allowed,
                       void* payload) {
  auto& state = *static_cast<PushState*>(payload);
  if ((allowed & GIT_CREDENTIAL_SSH_KEY) && !state.tried_agent) {
    state.tried_agent = true;
    return git_credential_ssh_key_from_agent(out, username ? username : "git");
  }
  if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && !state.tried_helpers) {
    state.tried_helpers = true;
    if (auto found = credential_fill(state.workdir, url, username))
      return git_credential_userpass_plaintext_new(out, found->username.c_str(), found->password.c_str());
  }
  git_error_set_str(GIT_ERROR_NET,
                    "authentication failed: neither git's credential helpers nor the ssh agent have "
                    "credentials that the remote accepts");
  return GIT_EAUTH;
}

int record_rejection(const char* refname, const char* status, void* payload) {
  if (status) static_cast<PushState*>(payload)->rejection = fmt::format("the remote refused {}: {}", refname, status);
  return 0;
}

}  // namespace

std::optional<std::string> credential_request(std::string_view url, const char* username) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) return std::nullopt;
  std::string_view rest = url.substr(scheme_end + 3);
  size_t path_start = std::min(rest.find('/'), rest.size());
  std::string_view host = rest.substr(0, path_start);
  if (size_t at = host.rfind('@'); at != std::string_view::npos) host.remove_prefix(at + 1);
  if (host.empty()) return std::nullopt;
  std::string_view path = rest.substr(std::min(path_start + 1, rest.size()));
  std::string request = fmt::format("protocol={}\nhost={}\n", url.substr(0, scheme_end), host);
  if (!path.empty()) request += fmt::format("path={}\n", path);
  if (username && *username) request += fmt::format("username={}\n", username);
  return request + "\n";
}

namespace {

// Pushes the local reference `ref` (refs/heads/main, refs/tags/v1.0.0) to the same name at the remote.
Result<void> push_reference(const fs::path& repo_path, const std::string& ref, const std::string& remote_name) {
  auto repo = open_repository(repo_path);
  if (!repo) return std::unexpected(repo.error());
  git_remote* raw = nullptr;
  if (git_remote_lookup(&raw, repo->get(), remote_name.c_str()) != 0)
    return fail(Errc::not_found, fmt::format("no remote '{}' in {}", remote_name, repo_path.string()),
                fmt::format("add it with 'git remote add {} URL'", remote_name));
  Remote remote(raw);
  const char* url = git_remote_pushurl(remote.get()) ? git_remote_pushurl(remote.get()) : git_remote_url(remote.get());
  std::string what = fmt::format("pushing {} to {}", ref.substr(ref.find('/', 5) + 1), core::strip_url_credentials(url ? url : remote_name));

  PushState state{.workdir = git_repository_is_bare(repo->get()) ? fs::path(repo_path) : workdir(repo->get())};
  git_push_options options = GIT_PUSH_OPTIONS_INIT;
  options.callbacks.credentials = acquire_credential;
  options.callbacks.push_update_reference = record_rejection;
  options.callbacks.payload = &state;
  std::string refspec = fmt::format("{0}:{0}", ref);
  char* refspecs[] = {refspec.data()};
  git_strarray specs{refspecs, 1};
  if (int rc = git_remote_push(remote.get(), &specs, &options); rc != 0) {
    std::string hint = rc == GIT_ENONFASTFORWARD ? "the remote branch has commits this one lacks: pull them first" : "";
    return fail(Errc::remote, core::strip_url_credentials(fmt::format("{}: {}", what, last_error())), hint);
  }
  if (!state.rejection.empty())
    return fail(Errc::remote, core::strip_url_credentials(fmt::format("{}: {}", what, state.rejection)));
  return {};
}

}  // namespace

Result<void> push(const fs::path& repo_path, const std::string& branch, const std::string& remote_name) {
  return push_reference(repo_path, "refs/heads/" + branch, remote_name);
}

Result<void> push_tag(const fs::path& repo_path, const std::string& tag, const std::string& remote_name) {
  return push_reference(repo_path, "refs/tags/" + tag, remote_name);
}

}  // namespace mlctl::git
