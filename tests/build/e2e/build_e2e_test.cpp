// `mlctl build` end to end: the real binary builds the example projects in data/ on real base
// images, pushes them to the real Debian docker-registry (directly, with htpasswd auth, or
// behind a proxy that drops uploads), and what it made is read back by skopeo, umoci, podman
// and the OCI JSON schemas. Every expectation is the contract's (build --help, mlctl-build(1)).
#include "e2e_fixture.hpp"

#include "../../oci/remote/registry_fixture.hpp"

#include <support/fault_proxy.hpp>
#include <support/run.hpp>
#include <support/temp_dir.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

namespace mlctl::test::e2e {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view k_epoch = "1700000000";
const std::string k_epoch_rfc3339 = "2023-11-14T22:13:20Z";
const std::string k_base_path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
// What data/shell-app prints: run.sh as root (the base's user) in WORKDIR /app, no arguments
// (an entrypoint resets the base's Cmd, as in a Dockerfile), then a file of its context.
const std::string k_shell_output = "demo prod in /app as 0, args: []\nthe message from the build context\n";

// The digest in `line` when it is exactly `reference@sha256:<64 hex>`, else "".
std::string digest_in(const std::string& line, const std::string& reference) {
  std::string prefix = reference + "@sha256:";
  if (!line.starts_with(prefix) || line.size() != prefix.size() + 64) return {};
  std::string hex = line.substr(prefix.size());
  if (!std::ranges::all_of(hex, [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); })) return {};
  return "sha256:" + hex;
}

// The line of `err` that reports the error (progress lines may come before it), or "".
std::string error_line(const std::string& err) {
  for (const auto& line : lines(err))
    if (line.starts_with("mlctl: error: ")) return line;
  return {};
}

std::vector<std::string> layer_names(const Json& report) {
  std::vector<std::string> names;
  for (const auto& layer : report["layers"]) names.push_back(layer.value("name", "?"));
  return names;
}

const Json& layer_named(const Json& report, std::string_view name) {
  static const Json missing;
  for (const auto& layer : report["layers"])
    if (layer.value("name", "") == name) return layer;
  ADD_FAILURE() << "no layer named " << name << " in " << report.dump();
  return missing;
}

std::vector<std::string> sorted(std::vector<std::string> values) {
  std::ranges::sort(values);
  return values;
}

std::vector<std::string> strings(const Json& array) {
  std::vector<std::string> out;
  if (array.is_array())
    for (const auto& value : array) out.push_back(value.is_string() ? value.get<std::string>() : value.dump());
  return out;
}

class BuildE2eTest : public ::testing::Test {
protected:
  // The busybox base is made once per test process; it takes a few seconds.
  static void SetUpTestSuite() {
    suite_dir_ = new TempDir();
    busybox_ = make_base_layout("busybox", suite_dir_->path());
  }
  static void TearDownTestSuite() {
    delete suite_dir_;
    suite_dir_ = nullptr;
  }

  void SetUp() override { fs::create_directories(dir_ / "docker"); }

  // The environment of every mlctl run: its own cache, no credentials from this machine, the
  // registry and base the example projects name, and a fixed epoch.
  std::map<std::string, std::string> env(const std::string& registry, const std::string& base,
                                         const fs::path& cache = {}) {
    return {{"MLCTL_CACHE_DIR", (cache.empty() ? dir_ / "cache" : cache).string()},
            {"DOCKER_CONFIG", (dir_ / "docker").string()},
            {"REGISTRY_AUTH_FILE", (dir_ / "docker/auth.json").string()},
            {"E2E_REGISTRY", registry},
            {"E2E_BASE", base},
            {"SOURCE_DATE_EPOCH", std::string(k_epoch)}};
  }

  core::Completed mlctl(const std::vector<std::string>& args, const fs::path& project,
                        const std::map<std::string, std::string>& environment) {
    auto done = run_mlctl(args, project, environment);
    EXPECT_FALSE(done.timed_out) << "mlctl " << args.back() << " did not finish in time";
    return done;
  }

  // `mlctl -o json ARGS`, expected to succeed with one JSON document on stdout.
  Json mlctl_json(std::vector<std::string> args, const fs::path& project,
                  const std::map<std::string, std::string>& environment) {
    args.insert(args.begin(), {"-o", "json"});
    auto done = mlctl(args, project, environment);
    EXPECT_EQ(done.exit_code, 0) << done.out << done.err;
    Json report = Json::parse(done.out, nullptr, false);
    EXPECT_TRUE(report.is_object()) << done.out;
    return report.is_object() ? report : Json::object();
  }

  static TempDir* suite_dir_;
  static fs::path busybox_;
  TempDir dir_;
};

TempDir* BuildE2eTest::suite_dir_ = nullptr;
fs::path BuildE2eTest::busybox_;

TEST_F(BuildE2eTest, PushedImageHasTheContractMetadataAndRunsInPodman) {
  RegistryServer registry;
  push_base(busybox_, registry.host());
  fs::path project = copy_project("shell-app", dir_.path());
  const std::string remote_token = "s3cr3t-remote-token";
  git(project, {"remote", "add", "origin", "https://ci-bot:" + remote_token + "@git.example.com/ml/demo.git"});
  const std::string head = head_sha(project);
  const std::string repository = registry.host() + "/demo";

  auto built = mlctl({"build", "--push"}, project, env(registry.host(), registry.host() + "/base:1"));
  ASSERT_EQ(built.exit_code, 0) << built.out << built.err;
  auto out = lines(built.out);
  ASSERT_EQ(out.size(), 2u) << "one line per default tag:\n" << built.out;
  std::string digest = digest_in(out[0], repository + ":0.1.0");
  ASSERT_FALSE(digest.empty()) << out[0];
  EXPECT_EQ(out[1], repository + ":" + short_sha(project) + "@" + digest);
  EXPECT_EQ(built.out.find(remote_token), std::string::npos) << built.out;
  EXPECT_EQ(built.err.find(remote_token), std::string::npos) << built.err;

  std::string reference = "docker://" + repository + ":0.1.0";
  Json inspected = skopeo_json({"inspect", "--tls-verify=false", reference}, dir_.path());
  EXPECT_EQ(inspected["Digest"], digest);
  EXPECT_EQ(inspected["Created"], k_epoch_rfc3339);
  EXPECT_EQ(inspected["Labels"], (Json{{"org.opencontainers.image.created", k_epoch_rfc3339},
                                       {"org.opencontainers.image.revision", head},
                                       {"org.opencontainers.image.source", "https://git.example.com/ml/demo.git"},
                                       {"org.opencontainers.image.version", "0.1.0"}}));
  EXPECT_EQ(sorted(strings(inspected["Env"])), (std::vector<std::string>{"MODE=prod", k_base_path}));
  EXPECT_EQ(inspected["Layers"].size(), 2u) << "the base's one layer and the code";

  Json config = skopeo_json({"inspect", "--config", "--raw", "--tls-verify=false", reference}, dir_.path());
  EXPECT_EQ(config["created"], k_epoch_rfc3339);
  EXPECT_EQ(config["config"]["Entrypoint"], (Json{"/bin/sh", "/app/run.sh"}));
  EXPECT_EQ(config["config"]["WorkingDir"], "/app");
  EXPECT_TRUE(!config["config"].contains("Cmd") || config["config"]["Cmd"].is_null() ||
              config["config"]["Cmd"].empty())
      << "an entrypoint resets the base's Cmd: " << config["config"].dump();
  EXPECT_EQ(config.dump().find(remote_token), std::string::npos);

  Json tags = skopeo_json({"list-tags", "--tls-verify=false", "docker://" + repository}, dir_.path());
  EXPECT_EQ(sorted(strings(tags["Tags"])), sorted({"0.1.0", short_sha(project)}));

  auto ran = podman({"run", "--rm", "--runtime", "runc", "--network", "none", "--tls-verify=false",
                     repository + ":0.1.0"},
                    dir_.path());
  EXPECT_EQ(ran.exit_code, 0) << ran.err;
  EXPECT_EQ(ran.out, k_shell_output);
}

TEST_F(BuildE2eTest, PythonProjectRunsWithItsWheelOnTheDebianBase) {
  // One pure-Python wheel, built offline and served from a folder, as in python_deps_test.
  dir_.write("wheel/pyproject.toml", "[build-system]\nrequires = [\"setuptools\"]\n"
                                     "build-backend = \"setuptools.build_meta\"\n");
  dir_.write("wheel/setup.cfg", "[metadata]\nname = mlctl-demo-dep\nversion = 1.0\n\n[options]\n"
                                "packages = mlctl_demo_dep\n");
  dir_.write("wheel/mlctl_demo_dep/__init__.py", "VALUE = 42\n");
  auto wheel = run({"/usr/bin/python3", "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                    "-w", (dir_ / "wheels").string(), "./wheel"},
                   dir_.path());
  ASSERT_EQ(wheel.exit_code, 0) << wheel.out << wheel.err;
  fs::path python_base = make_base_layout("python", dir_.path());
  ASSERT_FALSE(python_base.empty());

  RegistryServer registry;
  push_base(python_base, registry.host());
  fs::path project = copy_project("python-app", dir_.path());
  const std::string repository = registry.host() + "/pydemo";
  auto environment = env(registry.host(), registry.host() + "/base:1");
  environment["PIP_FIND_LINKS"] = (dir_ / "wheels").string();
  environment["PIP_NO_INDEX"] = "1";

  Json report = mlctl_json({"build", "--push"}, project, environment);
  EXPECT_EQ(layer_names(report), (std::vector<std::string>{"base", "python-deps", "code"}));
  EXPECT_EQ(report["pushed"], true);
  EXPECT_EQ(report["repository"], repository);
  EXPECT_EQ(report["tags"], (Json{"0.1.0", short_sha(project)}));
  std::string digest = report.value("digest", "");
  EXPECT_EQ(report["image"], repository + ":0.1.0@" + digest);

  std::string reference = "docker://" + repository + ":0.1.0";
  Json inspected = skopeo_json({"inspect", "--tls-verify=false", reference}, dir_.path());
  EXPECT_EQ(inspected["Digest"], digest);
  EXPECT_EQ(sorted(strings(inspected["Env"])), (std::vector<std::string>{k_base_path, "PYTHONPATH=/app/.deps"}));

  auto ran = podman({"run", "--rm", "--runtime", "runc", "--network", "none", "--tls-verify=false",
                     repository + ":0.1.0"},
                    dir_.path());
  EXPECT_EQ(ran.exit_code, 0) << ran.err;
  EXPECT_EQ(ran.out, "value 42 from python 3.11\nloaded from /app/.deps/mlctl_demo_dep/__init__.py\n");
}

// 10 MiB and a bit of bytes that do not compress away: the project's "model", which goes to the
// large-files layer.
void write_weights(const fs::path& file) {
  fs::create_directories(file.parent_path());
  std::string bytes((10u << 20) + 123, '\0');
  std::uint32_t state = 12345;
  for (auto& byte : bytes) {
    state = state * 1664525u + 1013904223u;
    byte = static_cast<char>(state >> 24);
  }
  std::ofstream(file, std::ios::binary) << bytes;
}

TEST_F(BuildE2eTest, SameProjectGivesTheSameBytesAndARebuildPushesOnlyWhatChanged) {
  RegistryServer registry;
  push_base(busybox_, registry.host());
  fs::path project = copy_project("shell-app", dir_.path());
  write_weights(project / "model/weights.bin");
  const std::string head = commit_all(project, "add the model");
  // The layer cache does not trust the timestamps of a file changed in the last moments (a
  // change within the same clock tick would go unseen), and stores nothing for it; let the
  // project age so the rebuild below can come from the cache.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  // A copy elsewhere, with new mtimes, built with another empty cache and no SOURCE_DATE_EPOCH:
  // the epoch is then the commit time, the same in both.
  fs::copy(project, dir_ / "copy", fs::copy_options::recursive);
  auto environment = env(registry.host(), registry.host() + "/base:1", dir_ / "cache-a");
  environment.erase("SOURCE_DATE_EPOCH");
  auto other_environment = environment;
  other_environment["MLCTL_CACHE_DIR"] = (dir_ / "cache-b").string();

  Json first = mlctl_json({"build", "--output", "oci:" + (dir_ / "out-a").string()}, project, environment);
  Json second =
      mlctl_json({"build", "--output", "oci:" + (dir_ / "out-b").string()}, dir_ / "copy", other_environment);
  EXPECT_EQ(layer_names(first), (std::vector<std::string>{"base", "large-files", "code"}));
  ASSERT_TRUE(first.contains("digest"));
  EXPECT_EQ(first["digest"], second["digest"]);
  EXPECT_EQ(first["image"], second["image"]);
  EXPECT_EQ(first["layers"], second["layers"]);
  Json index_a = Json::parse(read_file(dir_ / "out-a/index.json"), nullptr, false);
  Json index_b = Json::parse(read_file(dir_ / "out-b/index.json"), nullptr, false);
  ASSERT_EQ(index_a["manifests"].size(), 1u) << index_a.dump();
  ASSERT_EQ(index_b["manifests"].size(), 1u) << index_b.dump();
  std::string digest = index_a["manifests"][0]["digest"];
  EXPECT_EQ(index_b["manifests"][0]["digest"], digest);
  EXPECT_EQ(first["digest"], digest);
  std::string manifest_a = read_file(layout_blob(dir_ / "out-a", digest));
  ASSERT_FALSE(manifest_a.empty());
  EXPECT_TRUE(manifest_a == read_file(layout_blob(dir_ / "out-b", digest))) << "byte-identical manifests";
  Json layout_inspected = skopeo_json({"inspect", "oci:" + (dir_ / "out-a").string() + ":0.1.0"}, dir_.path());
  EXPECT_EQ(layout_inspected["Created"], std::string(k_commit_date));
  EXPECT_EQ(layout_inspected["Labels"]["org.opencontainers.image.revision"], head);

  // The first push uploads the new layers; a rebuild of the unchanged project uploads nothing.
  Json pushed = mlctl_json({"build", "--push"}, project, environment);
  EXPECT_EQ(pushed["digest"], digest);
  EXPECT_EQ(layer_named(pushed, "code")["push"], "uploaded");
  EXPECT_EQ(layer_named(pushed, "large-files")["push"], "uploaded");
  Json again = mlctl_json({"build", "--push"}, project, environment);
  EXPECT_EQ(again["digest"], digest);
  EXPECT_EQ(again["bytes_uploaded"], 0);
  EXPECT_EQ(layer_named(again, "code")["cached"], true);
  for (const auto& layer : again["layers"]) EXPECT_EQ(layer["push"], "existed") << layer.dump();

  // One changed line of one file: only the code layer and the config are new.
  std::ofstream(project / "data/message.txt") << "the message, changed\n";
  commit_all(project, "change the message");
  Json changed = mlctl_json({"build", "--push"}, project, environment);
  EXPECT_NE(changed["digest"], digest);
  EXPECT_EQ(layer_named(changed, "code")["push"], "uploaded");
  EXPECT_EQ(layer_named(changed, "code")["cached"], false);
  EXPECT_EQ(layer_named(changed, "base")["push"], "existed");
  EXPECT_EQ(layer_named(changed, "large-files")["push"], "existed");
  EXPECT_EQ(layer_named(changed, "large-files")["digest"], layer_named(pushed, "large-files")["digest"]);
  auto raw = run({"skopeo", "inspect", "--raw", "--tls-verify=false",
                  "docker://" + registry.host() + "/demo:0.1.0"},
                 dir_.path());
  Json manifest = Json::parse(raw.out, nullptr, false);
  ASSERT_TRUE(manifest.is_object()) << raw.out << raw.err;
  EXPECT_EQ(changed["bytes_uploaded"],
            layer_named(changed, "code")["size"].get<std::uint64_t>() + manifest["config"]["size"].get<std::uint64_t>());
  Json inspected = skopeo_json({"inspect", "--tls-verify=false", "docker://" + registry.host() + "/demo:0.1.0"},
                               dir_.path());
  EXPECT_EQ(inspected["Digest"], changed["digest"]);
}

TEST_F(BuildE2eTest, OciLayoutAndDockerArchiveOutputsAreReadByTheRealTools) {
  // The base comes from a layout on disk and nothing is pushed: the registry only names the image.
  RegistryServer registry;
  fs::path project = copy_project("shell-app", dir_.path());
  const std::string repository = registry.host() + "/demo";
  auto environment = env(registry.host(), "oci:" + busybox_.string() + ":1");
  fs::path layout = dir_ / "out";

  auto built = mlctl({"build", "--output", "oci:" + layout.string()}, project, environment);
  ASSERT_EQ(built.exit_code, 0) << built.out << built.err;
  auto out = lines(built.out);
  ASSERT_EQ(out.size(), 2u) << built.out;
  std::string digest = digest_in(out[0], repository + ":0.1.0");
  ASSERT_FALSE(digest.empty()) << out[0];

  auto unpacked = run({"umoci", "unpack", "--rootless", "--image", layout.string() + ":0.1.0",
                       (dir_ / "bundle").string()},
                      dir_.path());
  ASSERT_EQ(unpacked.exit_code, 0) << unpacked.err;
  fs::path rootfs = dir_ / "bundle/rootfs";
  EXPECT_EQ(read_file(rootfs / "app/run.sh"), read_file(project / "run.sh"));
  EXPECT_EQ(read_file(rootfs / "app/data/message.txt"), "the message from the build context\n");
  EXPECT_FALSE(fs::exists(rootfs / "app/notes.tmp")) << "excluded by *.tmp";
  EXPECT_TRUE(fs::exists(rootfs / "bin/busybox")) << "the base's layer is under the code";
  struct stat info {};
  ASSERT_EQ(::stat((rootfs / "app/run.sh").c_str(), &info), 0);
  EXPECT_EQ(std::to_string(info.st_mtime), k_epoch) << "every mtime is the epoch";
  EXPECT_NE(info.st_mode & S_IXUSR, 0u) << "run.sh keeps its executable bit";
  Json runtime = Json::parse(read_file(dir_ / "bundle/config.json"), nullptr, false);
  EXPECT_EQ(runtime["process"]["args"], (Json{"/bin/sh", "/app/run.sh"}));
  EXPECT_EQ(runtime["process"]["cwd"], "/app");

  Json inspected = skopeo_json({"inspect", "oci:" + layout.string() + ":0.1.0"}, dir_.path());
  EXPECT_EQ(inspected["Digest"], digest);
  Json index = Json::parse(read_file(layout / "index.json"), nullptr, false);
  ASSERT_EQ(index["manifests"].size(), 1u) << index.dump();
  EXPECT_EQ(index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"], "0.1.0");
  Json manifest = Json::parse(read_file(layout_blob(layout, digest)), nullptr, false);
  std::string config_digest = manifest["config"].value("digest", "");
  ASSERT_FALSE(config_digest.empty()) << manifest.dump();
  for (auto [kind, file] : {std::pair<std::string, fs::path>{"layout", layout / "oci-layout"},
                            {"index", layout / "index.json"},
                            {"manifest", layout_blob(layout, digest)},
                            {"config", layout_blob(layout, config_digest)}}) {
    auto checked = run({"/usr/bin/python3", MLCTL_SOURCE_DIR "/tests/oci/validate_schema.py",
                        MLCTL_TEST_DATA "/schemas/oci", kind, file.string()},
                       dir_.path());
    EXPECT_EQ(checked.exit_code, 0) << kind << ": " << checked.out << checked.err;
  }

  fs::path archive = dir_ / "image.tar";
  auto saved = mlctl({"build", "--output", "docker-archive:" + archive.string()}, project, environment);
  ASSERT_EQ(saved.exit_code, 0) << saved.out << saved.err;
  EXPECT_EQ(saved.out, built.out) << "the same image, whatever the output";
  auto loaded = podman({"load", "-i", archive.string()}, dir_.path());
  ASSERT_EQ(loaded.exit_code, 0) << loaded.out << loaded.err;
  auto ran = podman({"run", "--rm", "--runtime", "runc", "--network", "none", "--pull", "never",
                     repository + ":0.1.0"},
                    dir_.path());
  EXPECT_EQ(ran.exit_code, 0) << ran.err;
  EXPECT_EQ(ran.out, k_shell_output);
  auto tagged = podman({"run", "--rm", "--runtime", "runc", "--network", "none", "--pull", "never",
                        repository + ":" + short_sha(project)},
                       dir_.path());
  EXPECT_EQ(tagged.out, k_shell_output) << "every tag is in RepoTags: " << tagged.err;

  EXPECT_FALSE(registry_has_repository(registry.storage(), "demo")) << "nothing was pushed";
}

TEST_F(BuildE2eTest, BaseLayersAreMountedOnTheSameRegistryAndCopiedFromAnother) {
  RegistryServer base_registry;
  RegistryServer other;
  push_base(busybox_, base_registry.host());
  fs::path project = copy_project("shell-app", dir_.path());
  Json base_manifest = skopeo_json({"inspect", "--raw", "--tls-verify=false",
                                    "docker://" + base_registry.host() + "/base:1"},
                                   dir_.path());
  ASSERT_EQ(base_manifest["layers"].size(), 1u);
  const std::string base_layer = base_manifest["layers"][0]["digest"];
  const fs::path cached_blob = dir_ / "cache/blobs/sha256" / base_layer.substr(7);

  // Same registry: a cross-repository mount, so the base's bytes never pass through mlctl.
  Json mounted = mlctl_json({"build", "--push", "-t", "1"}, project,
                            env(base_registry.host(), base_registry.host() + "/base:1"));
  ASSERT_EQ(layer_names(mounted), (std::vector<std::string>{"base", "code"}));
  EXPECT_EQ(mounted["layers"][0]["digest"], base_layer);
  EXPECT_EQ(mounted["layers"][0]["push"], "mounted");
  EXPECT_EQ(mounted["layers"][1]["push"], "uploaded");
  EXPECT_FALSE(fs::exists(cached_blob)) << "a mounted base layer is not downloaded";

  // Another registry: the layer is streamed through the cache and uploaded.
  Json copied = mlctl_json({"build", "--push", "-t", "1"}, project, env(other.host(), base_registry.host() + "/base:1"));
  ASSERT_EQ(layer_names(copied), (std::vector<std::string>{"base", "code"}));
  EXPECT_EQ(copied["layers"][0]["push"], "uploaded");
  EXPECT_EQ(copied["digest"], mounted["digest"]) << "where the base comes from does not change the image";
  EXPECT_TRUE(fs::exists(cached_blob));
  Json pushed = skopeo_json({"inspect", "--raw", "--tls-verify=false", "docker://" + other.host() + "/demo:1"},
                            dir_.path());
  EXPECT_EQ(pushed["layers"][0]["digest"], base_layer);
}

TEST_F(BuildE2eTest, MissingBaseExitsThreeNamingItAndPushesNothing) {
  RegistryServer registry;
  push_base(busybox_, registry.host());
  fs::path project = copy_project("shell-app", dir_.path());
  std::string missing = registry.host() + "/nope:1";
  auto built = mlctl({"build", "--push"}, project, env(registry.host(), missing));
  EXPECT_EQ(built.exit_code, 3) << built.out << built.err;
  EXPECT_NE(error_line(built.err).find(missing), std::string::npos) << built.err;
  EXPECT_EQ(built.out, "");
  auto tags = run({"skopeo", "list-tags", "--tls-verify=false", "docker://" + registry.host() + "/demo"},
                  dir_.path());
  EXPECT_NE(tags.exit_code, 0) << "the repository is unknown: " << tags.out;
  EXPECT_FALSE(registry_has_repository(registry.storage(), "demo"));
}

class AuthE2eTest : public BuildE2eTest {
protected:
  const Credentials credentials_{"mluser", "Corr3ct-Horse-Battery"};
};

TEST_F(AuthE2eTest, NoOrWrongCredentialsExitFiveWithoutThePasswordAndRightOnesPush) {
  RegistryServer registry(RegistryServer::Htpasswd{credentials_.username, credentials_.password});
  push_base(busybox_, registry.host(), credentials_);
  fs::path project = copy_project("shell-app", dir_.path());
  auto environment = env(registry.host(), registry.host() + "/base:1");
  const std::string wrong_password = "Wr0ng-Staple-Guess";

  auto anonymous = mlctl({"build", "--push"}, project, environment);
  EXPECT_EQ(anonymous.exit_code, 5) << anonymous.out << anonymous.err;
  EXPECT_TRUE(anonymous.err.find("401") != std::string::npos ||
              anonymous.err.find("UNAUTHORIZED") != std::string::npos)
      << anonymous.err;

  auto wrong = environment;
  wrong["MLCTL_REGISTRY_USERNAME"] = credentials_.username;
  wrong["MLCTL_REGISTRY_PASSWORD"] = wrong_password;
  for (bool json : {false, true}) {
    std::vector<std::string> args{"build", "--push"};
    if (json) args.insert(args.begin(), {"-o", "json"});
    auto refused = mlctl(args, project, wrong);
    EXPECT_EQ(refused.exit_code, 5) << refused.out << refused.err;
    EXPECT_TRUE(refused.err.find("401") != std::string::npos || refused.out.find("401") != std::string::npos ||
                refused.err.find("UNAUTHORIZED") != std::string::npos ||
                refused.out.find("UNAUTHORIZED") != std::string::npos)
        << refused.out << refused.err;
    EXPECT_EQ(refused.out.find(wrong_password), std::string::npos) << refused.out;
    EXPECT_EQ(refused.err.find(wrong_password), std::string::npos) << refused.err;
    if (json) {
      EXPECT_TRUE(Json::parse(refused.out, nullptr, false).contains("error")) << refused.out;
    }
  }
  EXPECT_TRUE(registry_tags(registry.storage(), "demo").empty());

  auto right = environment;
  right["MLCTL_REGISTRY_USERNAME"] = credentials_.username;
  right["MLCTL_REGISTRY_PASSWORD"] = credentials_.password;
  auto pushed = mlctl({"build", "--push"}, project, right);
  ASSERT_EQ(pushed.exit_code, 0) << pushed.out << pushed.err;
  EXPECT_EQ(pushed.out.find(credentials_.password), std::string::npos);
  EXPECT_EQ(pushed.err.find(credentials_.password), std::string::npos);
  std::string digest = digest_in(lines(pushed.out).at(0), registry.host() + "/demo:0.1.0");
  Json inspected = skopeo_json({"inspect", "--tls-verify=false", "--creds",
                                credentials_.username + ":" + credentials_.password,
                                "docker://" + registry.host() + "/demo:0.1.0"},
                               dir_.path());
  EXPECT_EQ(inspected["Digest"], digest);
}

TEST_F(AuthE2eTest, RefusedPushOfALocalBaseLeavesNoTag) {
  // The base is on disk, so the first request that needs credentials is the push itself.
  RegistryServer registry(RegistryServer::Htpasswd{credentials_.username, credentials_.password});
  fs::path project = copy_project("shell-app", dir_.path());
  auto environment = env(registry.host(), "oci:" + busybox_.string() + ":1");
  environment["MLCTL_REGISTRY_USERNAME"] = credentials_.username;
  environment["MLCTL_REGISTRY_PASSWORD"] = "Wr0ng-Staple-Guess";
  auto refused = mlctl({"build", "--push"}, project, environment);
  EXPECT_EQ(refused.exit_code, 5) << refused.out << refused.err;
  EXPECT_TRUE(refused.err.find("401") != std::string::npos || refused.err.find("UNAUTHORIZED") != std::string::npos)
      << refused.err;
  EXPECT_EQ(refused.err.find("Wr0ng-Staple-Guess"), std::string::npos) << refused.err;
  EXPECT_FALSE(registry_has_repository(registry.storage(), "demo"));
}

const FaultRule k_drop_upload{.action = FaultRule::Action::drop,
                              .methods = {"PATCH", "PUT"},
                              .path_contains = "/blobs/uploads/",
                              .times = 1,
                              .after_bytes = 4096};

TEST_F(BuildE2eTest, UploadDroppedOnceIsRetriedAndPushesTheCleanImage) {
  RegistryServer registry;
  push_base(busybox_, registry.host());
  FaultProxy proxy(registry.host(), {k_drop_upload});
  fs::path project = copy_project("shell-app", dir_.path());
  auto environment = env(proxy.host(), proxy.host() + "/base:1");

  // The clean image: the same build written to a layout, which uploads nothing.
  Json clean = mlctl_json({"build", "--output", "oci:" + (dir_ / "clean").string()}, project, environment);
  ASSERT_EQ(proxy.fired(0), 0);
  Json pushed = mlctl_json({"build", "--push"}, project, environment);
  EXPECT_EQ(proxy.fired(0), 1) << "one upload was cut mid-body";
  ASSERT_TRUE(clean.contains("digest"));
  EXPECT_EQ(pushed["digest"], clean["digest"]);
  EXPECT_EQ(pushed["pushed"], true);

  // Read back without the proxy: the tag and every blob are whole.
  std::string reference = "docker://" + registry.host() + "/demo:0.1.0";
  Json inspected = skopeo_json({"inspect", "--tls-verify=false", reference}, dir_.path());
  EXPECT_EQ(inspected["Digest"], clean["digest"]);
  auto copied = run({"skopeo", "copy", "--quiet", "--src-tls-verify=false", reference,
                     "oci:" + (dir_ / "pulled").string() + ":0.1.0"},
                    dir_.path());
  EXPECT_EQ(copied.exit_code, 0) << copied.err;
}

TEST_F(BuildE2eTest, UploadAlwaysDroppedExitsFiveAndTagsNothing) {
  RegistryServer registry;
  push_base(busybox_, registry.host());
  FaultRule always = k_drop_upload;
  always.times = -1;
  FaultProxy proxy(registry.host(), {always});
  fs::path project = copy_project("shell-app", dir_.path());

  auto built = mlctl({"build", "--push"}, project, env(proxy.host(), proxy.host() + "/base:1"));
  EXPECT_EQ(built.exit_code, 5) << built.out << built.err;
  EXPECT_TRUE(error_line(built.err).starts_with("mlctl: error: pushing the layers: uploading blob sha256:"))
      << "names what failed: " << built.err;
  EXPECT_EQ(built.out, "");
  EXPECT_GT(proxy.fired(0), 1) << "the upload was retried before giving up";
  for (const auto& request : proxy.requests())
    EXPECT_FALSE(request.starts_with("PUT /v2/demo/manifests/")) << "no tag without its blobs: " << request;
  EXPECT_TRUE(registry_tags(registry.storage(), "demo").empty());
  auto tags = run({"skopeo", "list-tags", "--tls-verify=false", "docker://" + registry.host() + "/demo"},
                  dir_.path());
  EXPECT_TRUE(tags.exit_code != 0 || strings(Json::parse(tags.out, nullptr, false)["Tags"]).empty()) << tags.out;
}

TEST_F(BuildE2eTest, ContextSymlinkPointingOutsideExitsTwoNamingItAndPushesNothing) {
  RegistryServer registry;
  push_base(busybox_, registry.host());
  fs::path project = copy_project("shell-app", dir_.path());
  dir_.write("outside.txt", "not part of the project\n");
  fs::create_symlink("../../outside.txt", project / "data/leak");
  commit_all(project, "a link out of the project");

  auto built = mlctl({"build", "--push"}, project, env(registry.host(), registry.host() + "/base:1"));
  EXPECT_EQ(built.exit_code, 2) << built.out << built.err;
  EXPECT_NE(error_line(built.err).find("data/leak"), std::string::npos) << built.err;
  EXPECT_FALSE(registry_has_repository(registry.storage(), "demo"));
}

TEST_F(BuildE2eTest, IncludeEntryWithDotDotExitsTwoAndPushesNothing) {
  RegistryServer registry;
  push_base(busybox_, registry.host());
  fs::path project = copy_project("shell-app", dir_.path());
  dir_.write("outside.txt", "not part of the project\n");
  std::string yaml = read_file(project / "mlctl.yaml");
  yaml += "  include: [run.sh, data, ../outside.txt]\n";
  std::ofstream(project / "mlctl.yaml") << yaml;
  commit_all(project, "include a file from outside");

  auto built = mlctl({"build", "--push"}, project, env(registry.host(), registry.host() + "/base:1"));
  EXPECT_EQ(built.exit_code, 2) << built.out << built.err;
  EXPECT_NE(error_line(built.err).find("../outside.txt"), std::string::npos) << built.err;
  EXPECT_FALSE(registry_has_repository(registry.storage(), "demo"));
}

}  // namespace
}  // namespace mlctl::test::e2e
