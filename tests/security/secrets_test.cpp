// Secrets never shown: registry passwords (each way mlctl reads them), their Basic header form,
// bearer and identity tokens, and the pipeline API token stay out of stdout, stderr, `-v -v`
// output and every file mlctl writes (its project state, cache, HOME and TMPDIR), when the
// server accepts them, refuses them, or echoes them back. Also the evidence that mlctl writes
// no file holding a secret: the scan of every file it wrote finds none.
#include "security_support.hpp"

#include <build/e2e/e2e_fixture.hpp>
#include <oci/remote/fake_registry.hpp>
#include <oci/remote/registry_fixture.hpp>
#include <pipeline_submit/fake_argo.hpp>

#include <mlctl/oci/remote/credentials.hpp>

#include <support/run.hpp>
#include <support/temp_dir.hpp>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <functional>

#include <gtest/gtest.h>

namespace mlctl::test::security {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using oci::remote::base64_encode;

const std::string k_user = "mluser";
const std::string k_password = "Corr3ct-Horse-Battery-9f2c";
const std::string k_wrong = "Wr0ng-Staple-Guess-41d7";

// Everything that must never show, for a run given `password`: the password, the Basic
// header's base64 of user:password, and any header line naming the credential.
std::vector<std::string> secrets_of(const std::string& password) {
  return {password, base64_encode(k_user + ":" + password), "Authorization:"};
}

// One way of handing mlctl a registry credential.
struct Channel {
  std::string name;
  // Adds to `env` what gives mlctl `password` for `host`; files go under `secrets`.
  std::function<void(std::map<std::string, std::string>& env, const fs::path& secrets, const std::string& host,
                     const std::string& password)>
      give;
};

// What CTest names the test after (by default, the struct's bytes).
void PrintTo(const Channel& channel, std::ostream* out) { *out << channel.name; }

void write_json(const fs::path& file, const Json& content) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << content.dump(2) << "\n";
}

// A docker-credential-mlctl-test helper under `secrets`/bin that answers `get` with the credential.
void install_helper(std::map<std::string, std::string>& env, const fs::path& secrets, const std::string& password) {
  fs::path helper = secrets / "bin/docker-credential-mlctl-test";
  fs::create_directories(helper.parent_path());
  std::ofstream(helper) << "#!/bin/sh\nread server\nprintf '{\"ServerURL\":\"%s\",\"Username\":\"" << k_user
                        << "\",\"Secret\":\"" << password << "\"}\\n' \"$server\"\n";
  fs::permissions(helper, fs::perms::owner_all);
  const char* path = std::getenv("PATH");
  env["PATH"] = (secrets / "bin").string() + ":" + (path ? path : "/usr/bin:/bin");
}

const std::vector<Channel>& channels() {
  static const std::vector<Channel> all{
      {"EnvironmentVariables",
       [](auto& env, const fs::path&, const std::string&, const std::string& password) {
         env["MLCTL_REGISTRY_USERNAME"] = k_user;
         env["MLCTL_REGISTRY_PASSWORD"] = password;
       }},
      {"RegistryAuthFileBase64",
       [](auto& env, const fs::path& secrets, const std::string& host, const std::string& password) {
         write_json(secrets / "auth.json", {{"auths", {{host, {{"auth", base64_encode(k_user + ":" + password)}}}}}});
         env["REGISTRY_AUTH_FILE"] = (secrets / "auth.json").string();
       }},
      {"DockerConfigUsernameAndPassword",
       [](auto& env, const fs::path& secrets, const std::string& host, const std::string& password) {
         write_json(secrets / "docker/config.json",
                    {{"auths", {{"https://" + host, {{"username", k_user}, {"password", password}}}}}});
         env["DOCKER_CONFIG"] = (secrets / "docker").string();
       }},
      {"DockerConfigCredHelper",
       [](auto& env, const fs::path& secrets, const std::string& host, const std::string& password) {
         write_json(secrets / "docker/config.json", {{"credHelpers", {{host, "mlctl-test"}}}});
         env["DOCKER_CONFIG"] = (secrets / "docker").string();
         install_helper(env, secrets, password);
       }},
      {"DockerConfigCredsStore",
       [](auto& env, const fs::path& secrets, const std::string&, const std::string& password) {
         write_json(secrets / "docker/config.json", {{"credsStore", "mlctl-test"}});
         env["DOCKER_CONFIG"] = (secrets / "docker").string();
         install_helper(env, secrets, password);
       }},
  };
  return all;
}

class SecretsTest : public ::testing::Test {
protected:
  void SetUp() override {
    base_ = busybox_base();
    ASSERT_FALSE(base_.empty());
    project_ = e2e::copy_project("shell-app", dir_.path());
  }

  // `mlctl -v -v GLOBALS build --push EXTRA` with the environment `env`, checked for every secret.
  core::Completed push(const std::map<std::string, std::string>& env, const std::vector<std::string>& secrets,
                       const std::vector<std::string>& globals = {}, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv{"-v", "-v"};
    argv.insert(argv.end(), globals.begin(), globals.end());
    argv.insert(argv.end(), {"build", "--push"});
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto done = run_mlctl(argv, project_, env);
    // The check means something only if -v -v printed the requests it made.
    EXPECT_NE(done.err.find("GET http://127.0.0.1:"), std::string::npos) << done.err;
    EXPECT_EQ(leaks_in_output(done, secrets), std::vector<std::string>{}) << done.out << done.err;
    return done;
  }

  // Every file under the test's folder but the secrets it handed mlctl: the project with its
  // .mlctl state, the cache, HOME, TMPDIR.
  void expect_no_file_holds(const std::vector<std::string>& secrets) {
    EXPECT_EQ(leaks_in_files(dir_.path(), {secrets_dir()}, secrets), std::vector<std::string>{});
  }

  fs::path secrets_dir() const { return dir_ / "secrets"; }
  std::string local_base() const { return "oci:" + base_.string() + ":1"; }

  TempDir dir_;
  fs::path base_;
  fs::path project_;
};

class CredentialChannelTest : public SecretsTest, public ::testing::WithParamInterface<Channel> {};

TEST_P(CredentialChannelTest, PasswordNeverShowsWhenRefusedOrAccepted) {
  RegistryServer registry(RegistryServer::Htpasswd{k_user, k_password});
  auto env = isolated_env(dir_.path(), registry.host(), local_base());

  auto wrong_env = env;
  GetParam().give(wrong_env, secrets_dir(), registry.host(), k_wrong);
  auto refused = push(wrong_env, secrets_of(k_wrong));
  EXPECT_EQ(refused.exit_code, 5) << refused.err;
  EXPECT_EQ(error_line(refused.err), "mlctl: error: pushing to " + registry.host() + ": contacting registry " +
                                         registry.host() + ": 401 UNAUTHORIZED: authentication required")
      << refused.err;
  EXPECT_EQ(refused.out, "");
  EXPECT_FALSE(e2e::registry_has_repository(registry.storage(), "demo"));

  fs::remove_all(secrets_dir());
  auto right_env = env;
  GetParam().give(right_env, secrets_dir(), registry.host(), k_password);
  auto pushed = push(right_env, secrets_of(k_password), {"-o", "json"});
  ASSERT_EQ(pushed.exit_code, 0) << pushed.err;
  EXPECT_EQ(Json::parse(pushed.out, nullptr, false).value("pushed", false), true) << pushed.out;
  EXPECT_EQ(e2e::registry_tags(registry.storage(), "demo"),
            (std::vector<std::string>{"0.1.0", e2e::short_sha(project_)}));

  std::vector<std::string> all = secrets_of(k_password);
  for (auto& secret : secrets_of(k_wrong)) all.push_back(secret);
  expect_no_file_holds(all);
  // The scan finds a secret where there is one: in what the test handed mlctl.
  if (fs::exists(secrets_dir())) {
    EXPECT_NE(leaks_in_files(secrets_dir(), {}, secrets_of(k_password)), std::vector<std::string>{});
  }
}

INSTANTIATE_TEST_SUITE_P(Channels, CredentialChannelTest, ::testing::ValuesIn(channels()),
                         [](const auto& info) { return info.param.name; });

// The fake registry echoes the user:password it was sent in its 401 body, as some servers do.
TEST_F(SecretsTest, CredentialsEchoedByTheRegistryAreMasked) {
  FakeRegistry registry({FakeRegistry::Auth::basic, k_user, k_password});
  auto env = isolated_env(dir_.path(), registry.host(), local_base());
  env["MLCTL_REGISTRY_USERNAME"] = k_user;
  env["MLCTL_REGISTRY_PASSWORD"] = k_wrong;
  auto refused = push(env, secrets_of(k_wrong));
  EXPECT_EQ(refused.exit_code, 5) << refused.err;
  EXPECT_EQ(error_line(refused.err), "mlctl: error: pushing to " + registry.host() + ": contacting registry " +
                                         registry.host() + ": 401 UNAUTHORIZED: authentication required, got " +
                                         k_user + ":***")
      << refused.err;
  expect_no_file_holds(secrets_of(k_wrong));
}

TEST_F(SecretsTest, BearerAndIdentityTokensNeverShow) {
  FakeRegistry registry({FakeRegistry::Auth::bearer, k_user, k_password});
  auto env = isolated_env(dir_.path(), registry.host(), local_base());

  auto right = env;
  right["MLCTL_REGISTRY_USERNAME"] = k_user;
  right["MLCTL_REGISTRY_PASSWORD"] = k_password;
  auto pushed = push(right, secrets_of(k_password));
  ASSERT_EQ(pushed.exit_code, 0) << pushed.err;
  std::vector<std::string> tokens;
  for (const auto& seen : registry.requests())
    if (seen.authorization.starts_with("Bearer ")) tokens.push_back(seen.authorization.substr(7));
  ASSERT_FALSE(tokens.empty()) << "the push used bearer tokens";
  EXPECT_EQ(leaks_in_output(pushed, tokens), std::vector<std::string>{});

  auto wrong = env;
  wrong["MLCTL_REGISTRY_USERNAME"] = k_user;
  wrong["MLCTL_REGISTRY_PASSWORD"] = k_wrong;
  auto refused = push(wrong, secrets_of(k_wrong), {}, {"-t", "refused"});
  EXPECT_EQ(refused.exit_code, 5) << refused.err;
  EXPECT_EQ(error_line(refused.err), "mlctl: error: pushing to " + registry.host() + ": contacting registry " +
                                         registry.host() + ": fetching a token from " + "http://" + registry.host() +
                                         "/token: 401 UNAUTHORIZED: invalid username or password")
      << refused.err;

  // An identity token (docker login's refresh token) the token service refuses.
  const std::string identity = "idt-7c1e9b2f4a6d8e0c";
  write_json(secrets_dir() / "docker/config.json", {{"auths", {{registry.host(), {{"identitytoken", identity}}}}}});
  auto with_identity = env;
  with_identity["DOCKER_CONFIG"] = (secrets_dir() / "docker").string();
  auto refused_identity = push(with_identity, {identity, "Authorization:"}, {}, {"-t", "identity"});
  EXPECT_EQ(refused_identity.exit_code, 5) << refused_identity.err;
  EXPECT_NE(refused_identity.err.find("debug: POST http://" + registry.host() + "/token -> 401\n"), std::string::npos)
      << "the identity token went to the token service: " << refused_identity.err;
  EXPECT_EQ(error_line(refused_identity.err), error_line(refused.err));

  std::vector<std::string> all = tokens;
  for (const auto& list : {secrets_of(k_password), secrets_of(k_wrong)})
    all.insert(all.end(), list.begin(), list.end());
  all.push_back(identity);
  expect_no_file_holds(all);
}

// CI checkouts often carry a token in the origin URL; mlctl records the URL (model lineage, the
// image's org.opencontainers.image.source label) without it.
TEST_F(SecretsTest, CredentialsInTheGitRemoteNeverLeaveTheRepository) {
  const std::string token = "ghp_5f1e2d3c4b5a69788796a5b4";
  const std::string clean = "https://git.example.com/ml/demo.git";
  e2e::git(project_, {"remote", "add", "origin", "https://ci-bot:" + token + "@git.example.com/ml/demo.git"});
  auto env = isolated_env(dir_.path(), "registry.invalid", local_base());
  const std::vector<std::string> secrets{token, "ci-bot:"};
  auto check = [&](const std::vector<std::string>& args) {
    auto done = run_mlctl(args, project_, env);
    EXPECT_EQ(done.exit_code, 0) << done.err;
    EXPECT_EQ(leaks_in_output(done, secrets), std::vector<std::string>{}) << done.out << done.err;
    return done;
  };
  check({"-v", "-v", "build", "--output", "oci:" + (dir_ / "image").string()});
  check({"-v", "-v", "model", "register", "demo", "--artifact", "run.sh"});
  auto shown = check({"-o", "json", "model", "show", "demo@1"});
  EXPECT_EQ(Json::parse(shown.out, nullptr, false)["lineage"]["git"]["repository"], clean) << shown.out;
  // The URL is recorded, only without its credentials: the image config holds it too.
  EXPECT_NE(leaks_in_files(dir_ / "image", {}, {clean}), std::vector<std::string>{});
  EXPECT_EQ(leaks_in_files(dir_.path(), {project_ / ".git"}, secrets), std::vector<std::string>{});
}

constexpr std::string_view k_pipeline = R"(name: train
params: {lr: "0.1"}
steps:
  - name: prepare
    command: [sh, -c, "echo data > {{outputs.data}}"]
    outputs: [data]
)";

// `mlctl -v -v pipeline submit|status|logs --token-file` against the fake Argo Server, which
// answers a wrong token with "token not valid: got Bearer <token>".
TEST_F(SecretsTest, PipelineTokenNeverShows) {
  FakeArgo argo;
  TempDir project;
  project.write("mlctl.yaml", "name: demo\nversion: 1.4.0\npipelines:\n  train: train.yaml\n");
  project.write("train.yaml", std::string(k_pipeline));
  fs::path secrets = project / "secrets";
  auto env = isolated_env(project.path(), "registry.invalid", "none");
  env["MLCTL_IMAGE"] = "registry.local/demo@sha256:" + std::string(64, 'd');
  const std::string token(FakeArgo::k_token), wrong = "argo-token-wrong-5e3a91";
  auto mlctl = [&](std::vector<std::string> args, const std::string& given) {
    project.write("secrets/token", "Bearer " + given + "\n");
    args.insert(args.begin(), {"-v", "-v"});
    args.insert(args.end(), {"--server", argo.url(), "-n", "ml-dev", "--token-file", (secrets / "token").string()});
    auto done = run_mlctl(args, project.path(), env);
    EXPECT_EQ(leaks_in_output(done, {token, wrong, "Authorization:"}), std::vector<std::string>{})
        << done.out << done.err;
    return done;
  };

  argo.script("train-x7k2p", {Json{{"phase", "Running"}}, Json{{"phase", "Succeeded"}}});
  auto submitted = mlctl({"pipeline", "submit", "train", "--wait", "--poll-interval", "1s"}, token);
  EXPECT_EQ(submitted.exit_code, 0) << submitted.err;
  EXPECT_EQ(mlctl({"pipeline", "status", "train-x7k2p"}, token).exit_code, 0);
  argo.set_logs("train-x7k2p", {{"train-x7k2p-prepare-1632405317", "data ready"}});
  EXPECT_EQ(mlctl({"pipeline", "logs", "train-x7k2p"}, token).exit_code, 0);

  auto denied = mlctl({"pipeline", "submit", "train"}, wrong);
  EXPECT_EQ(denied.exit_code, 5) << denied.err;
  EXPECT_NE(error_line(denied.err).find("token not valid: got Bearer ***"), std::string::npos) << denied.err;

  // A create is never repeated, so one injected answer is the one the user sees.
  argo.server().fail_next("POST", "workflows/ml-dev", 500,
                          Json{{"code", 13}, {"message", "session " + token + " expired"}});
  auto echoed = mlctl({"pipeline", "submit", "train"}, token);
  EXPECT_EQ(echoed.exit_code, 5) << echoed.err;
  EXPECT_NE(error_line(echoed.err).find("session *** expired"), std::string::npos) << echoed.err;

  EXPECT_EQ(leaks_in_files(project.path(), {secrets}, {token, wrong}), std::vector<std::string>{});
}

}  // namespace
}  // namespace mlctl::test::security
