// `mlctl build --push` through a proxy that answers 500, 503 or 429, stalls or truncates what
// the real Debian docker-registry says: a push retries what may pass later and succeeds with
// the whole image, or exits 5 naming what failed, and never leaves a tag in the registry's
// storage whose blobs are not all there.
#include "e2e_fixture.hpp"

#include "../../oci/remote/registry_fixture.hpp"

#include <mlctl/core/digest.hpp>
#include <mlctl/oci/remote/client.hpp>
#include <mlctl/oci/remote/curl_transport.hpp>
#include <mlctl/oci/remote/retry.hpp>

#include <support/fault_proxy.hpp>
#include <support/run.hpp>
#include <support/temp_dir.hpp>

#include <algorithm>
#include <chrono>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace mlctl::test::e2e {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr std::string_view k_epoch = "1700000000";
// How many times the client tries a request before the push gives up.
constexpr int k_attempts = oci::remote::RetryPolicy{}.max_attempts;
// The message of the proxy's error responses, and the Retry-After it sends with 429 and 503.
const std::string k_injected = "injected by the test fault proxy";
constexpr milliseconds k_retry_after{1000};

std::string hex_of(const std::string& digest) { return digest.substr(digest.find(':') + 1); }

fs::path blob_data(const fs::path& storage, const std::string& digest) {
  std::string hex = hex_of(digest);
  return storage / "docker/registry/v2/blobs/sha256" / hex.substr(0, 2) / hex / "data";
}

fs::path repository_dir(const fs::path& storage) { return storage / "docker/registry/v2/repositories/demo"; }

// Whether the registry stores the blob and has it linked into demo, so demo serves it.
bool stored_in_demo(const fs::path& storage, const std::string& digest) {
  return fs::exists(blob_data(storage, digest)) &&
         fs::exists(repository_dir(storage) / "_layers/sha256" / hex_of(digest) / "link");
}

// Checks, in the registry's own storage, that demo:`tag` is `digest` and that its manifest, its
// config and every layer are stored and linked into the repository: a tag the registry would
// serve with a blob missing fails here, whatever a client might make of it.
void expect_whole_image(const fs::path& storage, const std::string& tag, const std::string& digest) {
  SCOPED_TRACE("demo:" + tag);
  fs::path tag_link = repository_dir(storage) / "_manifests/tags" / tag / "current/link";
  ASSERT_TRUE(fs::exists(tag_link)) << "no tag " << tag;
  EXPECT_EQ(read_file(tag_link), digest);
  Json manifest = Json::parse(read_file(blob_data(storage, digest)), nullptr, false);
  ASSERT_TRUE(manifest.is_object()) << "the manifest blob is stored";
  std::vector<std::string> blobs{manifest["config"]["digest"].get<std::string>()};
  for (const auto& layer : manifest["layers"]) blobs.push_back(layer["digest"].get<std::string>());
  ASSERT_EQ(blobs.size(), 3u) << "config, base and code: " << manifest.dump();
  for (const auto& blob : blobs) EXPECT_TRUE(stored_in_demo(storage, blob)) << blob;
}

// How many requests the proxy saw whose "METHOD /path?query" line contains every one of `parts`.
int count_requests(const FaultProxy& proxy, std::initializer_list<std::string> parts) {
  return static_cast<int>(std::ranges::count_if(proxy.requests(), [&](const std::string& line) {
    return std::ranges::all_of(parts, [&](const std::string& part) { return line.find(part) != std::string::npos; });
  }));
}

// The time between one request `line` and the next with the same line: the waits before retries.
std::vector<milliseconds> waits_between(const FaultProxy& proxy, const std::string& line) {
  auto requests = proxy.requests();
  auto arrivals = proxy.arrivals();
  std::vector<milliseconds> waits;
  std::optional<Clock::time_point> previous;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (requests[i] != line) continue;
    if (previous) waits.push_back(std::chrono::duration_cast<milliseconds>(arrivals[i] - *previous));
    previous = arrivals[i];
  }
  return waits;
}

// The line of `err` that reports the error (progress lines may come before it), or "".
std::string error_line(const std::string& err) {
  for (const auto& line : lines(err))
    if (line.starts_with("mlctl: error: ")) return line;
  return {};
}

std::string layer_digest(const Json& report, std::string_view name) {
  for (const auto& layer : report["layers"])
    if (layer.value("name", "") == name) return layer.value("digest", "");
  ADD_FAILURE() << "no layer named " << name << " in " << report.dump();
  return {};
}

class RegistryFaultsTest : public ::testing::Test {
protected:
  // The base only has to be an image in the registry whose layer the push mounts: one mlctl
  // builds from scratch takes a fraction of a second, where make_base_layout's busybox takes
  // seconds in every test process ctest starts.
  static void SetUpTestSuite() {
    suite_dir_ = new TempDir();
    suite_dir_->write("base/mlctl.yaml", "name: base\nversion: 1.0.0\n"
                                         "image: {repository: registry.invalid/base, base: scratch}\n");
    suite_dir_->write("base/etc/base-release", "the fault tests' base\n");
    fs::path layout = *suite_dir_ / "base-layout";
    auto made = run_mlctl({"build", "--tag", "1", "--output", "oci:" + layout.string()}, *suite_dir_ / "base",
                          {{"MLCTL_CACHE_DIR", (*suite_dir_ / "cache").string()},
                           {"SOURCE_DATE_EPOCH", std::string(k_epoch)}});
    EXPECT_EQ(made.exit_code, 0) << "making the base: " << made.out << made.err;
    if (made.ok()) base_layout_ = layout;
  }
  static void TearDownTestSuite() {
    delete suite_dir_;
    suite_dir_ = nullptr;
  }

  // The registry holds the base; a build straight against it (no proxy) gives the digests of
  // the layers, so the faults can aim at one blob.
  void SetUp() override {
    ASSERT_FALSE(base_layout_.empty());
    fs::create_directories(dir_ / "docker");
    push_base(base_layout_, registry_.host());
    project_ = copy_project("shell-app", dir_.path());
    tags_ = {"0.1.0", short_sha(project_)};
    auto built = mlctl({"-o", "json", "build"}, registry_.host());
    ASSERT_EQ(built.exit_code, 0) << built.out << built.err;
    Json report = Json::parse(built.out, nullptr, false);
    base_layer_ = layer_digest(report, "base");
    code_layer_ = layer_digest(report, "code");
  }

  // mlctl ARGS in the project, with its registry and base at `host`, its own cache, no
  // credentials from this machine and a fixed epoch.
  core::Completed mlctl(const std::vector<std::string>& args, const std::string& host) {
    auto done = run_mlctl(args, project_,
                          {{"MLCTL_CACHE_DIR", (dir_ / "cache").string()},
                           {"DOCKER_CONFIG", (dir_ / "docker").string()},
                           {"REGISTRY_AUTH_FILE", (dir_ / "docker/auth.json").string()},
                           {"E2E_REGISTRY", host},
                           {"E2E_BASE", host + "/base:1"},
                           {"SOURCE_DATE_EPOCH", std::string(k_epoch)}});
    EXPECT_FALSE(done.timed_out) << "mlctl " << args.back() << " did not finish in time";
    return done;
  }

  // `mlctl -o json build --push` through `proxy`, expected to succeed: its report.
  Json push(const FaultProxy& proxy) {
    auto done = mlctl({"-o", "json", "build", "--push"}, proxy.host());
    EXPECT_EQ(done.exit_code, 0) << done.out << done.err;
    Json report = Json::parse(done.out, nullptr, false);
    EXPECT_TRUE(report.is_object()) << done.out;
    return report.is_object() ? report : Json::object();
  }

  // Both tags name the pushed image, and all of it is in the registry's storage.
  void expect_pushed(const Json& report) {
    EXPECT_EQ(report["pushed"], true);
    EXPECT_EQ(report["layers"][0]["push"], "mounted") << report.dump();
    EXPECT_EQ(report["layers"][1]["push"], "uploaded") << report.dump();
    EXPECT_EQ(registry_tags(registry_.storage(), "demo"), (std::vector<std::string>{tags_[0], tags_[1]}));
    for (const auto& tag : tags_) expect_whole_image(registry_.storage(), tag, report.value("digest", ""));
  }

  std::string manifest_put(const std::string& tag) const { return "PUT /v2/demo/manifests/" + tag; }

  static TempDir* suite_dir_;
  static fs::path base_layout_;
  TempDir dir_;
  RegistryServer registry_;
  fs::path project_;
  std::vector<std::string> tags_;  // the version's, then the short commit's: sorted, as "." < hex
  std::string base_layer_;
  std::string code_layer_;
};

TempDir* RegistryFaultsTest::suite_dir_ = nullptr;
fs::path RegistryFaultsTest::base_layout_;

TEST_F(RegistryFaultsTest, BlobUploadAnswered500ThreeTimesIsRetriedAndPushesTheWholeImage) {
  FaultProxy proxy(registry_.host(), {{.action = FaultRule::Action::status, .methods = {"PUT"},
                                       .path_contains = hex_of(code_layer_), .times = 3, .status = 500}});
  Json report = push(proxy);
  EXPECT_EQ(proxy.fired(0), 3);
  EXPECT_EQ(count_requests(proxy, {"PUT /v2/demo/blobs/uploads/", hex_of(code_layer_)}), 4)
      << "each failed upload was started again";
  expect_pushed(report);
}

TEST_F(RegistryFaultsTest, ManifestPutAnswered503TwiceWaitsTheRetryAfterAndTags) {
  FaultProxy proxy(registry_.host(), {{.action = FaultRule::Action::status, .methods = {"PUT"},
                                       .path_contains = "/manifests/0.1.0", .times = 2, .status = 503}});
  Json report = push(proxy);
  EXPECT_EQ(proxy.fired(0), 2);
  EXPECT_EQ(proxy.faults(), (std::vector<std::string>{manifest_put("0.1.0") + " answered 503",
                                                      manifest_put("0.1.0") + " answered 503"}));
  auto waits = waits_between(proxy, manifest_put("0.1.0"));
  ASSERT_EQ(waits.size(), 2u) << "two retries";
  for (auto wait : waits) EXPECT_GE(wait, k_retry_after) << "Retry-After: 1 is longer than the backoff";
  EXPECT_EQ(count_requests(proxy, {manifest_put(tags_[1])}), 1);
  expect_pushed(report);
}

TEST_F(RegistryFaultsTest, BlobHeadAndMountAnswered429AreRetriedAfterTheRetryAfter) {
  const std::string head = "HEAD /v2/demo/blobs/" + code_layer_;
  const std::string mount = "POST /v2/demo/blobs/uploads/?mount=sha256%3A" + hex_of(base_layer_) + "&from=base";
  FaultProxy proxy(registry_.host(),
                   {{.action = FaultRule::Action::status, .methods = {"HEAD"}, .path_contains = hex_of(code_layer_),
                     .times = 1, .status = 429},
                    {.action = FaultRule::Action::status, .methods = {"POST"}, .path_contains = "?mount=",
                     .times = 1, .status = 429}});
  Json report = push(proxy);
  EXPECT_EQ(proxy.fired(0), 1);
  EXPECT_EQ(proxy.fired(1), 1);
  for (const auto& line : {head, mount}) {
    auto waits = waits_between(proxy, line);
    ASSERT_EQ(waits.size(), 1u) << line << " was sent twice";
    EXPECT_GE(waits[0], k_retry_after) << line;
  }
  expect_pushed(report);
}

TEST_F(RegistryFaultsTest, TruncatedResponseToABlobUploadIsRetried) {
  FaultProxy proxy(registry_.host(), {{.action = FaultRule::Action::truncate, .methods = {"PUT"},
                                       .path_contains = hex_of(code_layer_), .times = 1}});
  Json report = push(proxy);
  EXPECT_EQ(proxy.fired(0), 1);
  ASSERT_EQ(proxy.faults().size(), 1u);
  EXPECT_TRUE(proxy.faults()[0].ends_with(" head bytes")) << "a 201 has no body: " << proxy.faults()[0];
  EXPECT_EQ(count_requests(proxy, {"PUT /v2/demo/blobs/uploads/", hex_of(code_layer_)}), 2);
  expect_pushed(report);
}

TEST_F(RegistryFaultsTest, TruncatedResponseToTheManifestPutIsRetried) {
  FaultProxy proxy(registry_.host(), {{.action = FaultRule::Action::truncate, .methods = {"PUT"},
                                       .path_contains = "/manifests/0.1.0", .times = 1}});
  Json report = push(proxy);
  EXPECT_EQ(proxy.fired(0), 1);
  EXPECT_EQ(count_requests(proxy, {manifest_put("0.1.0")}), 2);
  EXPECT_EQ(count_requests(proxy, {manifest_put(tags_[1])}), 1);
  expect_pushed(report);
}

TEST_F(RegistryFaultsTest, ManifestPutAlways500ExitsFiveNamingTheRegistryAndTagsNothing) {
  FaultProxy proxy(registry_.host(), {{.action = FaultRule::Action::status, .methods = {"PUT"},
                                       .path_contains = "/manifests/", .times = -1, .status = 500}});
  auto pushed = mlctl({"build", "--push"}, proxy.host());
  EXPECT_EQ(pushed.exit_code, 5) << pushed.out << pushed.err;
  EXPECT_EQ(error_line(pushed.err), "mlctl: error: tagging " + proxy.host() +
                                        "/demo:0.1.0: pushing manifest demo:0.1.0: 500 UNKNOWN: " + k_injected)
      << pushed.err;
  EXPECT_EQ(pushed.out, "");
  EXPECT_EQ(proxy.fired(0), k_attempts);
  EXPECT_EQ(count_requests(proxy, {manifest_put("0.1.0")}), k_attempts);
  EXPECT_EQ(count_requests(proxy, {manifest_put(tags_[1])}), 0) << "the first tag's failure ends the push";
  EXPECT_TRUE(registry_has_repository(registry_.storage(), "demo")) << "the blobs were pushed";
  EXPECT_EQ(registry_tags(registry_.storage(), "demo"), std::vector<std::string>{});
}

TEST_F(RegistryFaultsTest, BlobUploadAlways500ExitsFiveAndTagsNothing) {
  FaultProxy proxy(registry_.host(), {{.action = FaultRule::Action::status, .methods = {"PUT"},
                                       .path_contains = hex_of(code_layer_), .times = -1, .status = 500}});
  auto pushed = mlctl({"build", "--push"}, proxy.host());
  EXPECT_EQ(pushed.exit_code, 5) << pushed.out << pushed.err;
  EXPECT_EQ(error_line(pushed.err),
            "mlctl: error: pushing the layers: uploading blob " + code_layer_ + ": 500 UNKNOWN: " + k_injected)
      << pushed.err;
  EXPECT_EQ(pushed.out, "");
  EXPECT_EQ(proxy.fired(0), k_attempts);
  EXPECT_EQ(count_requests(proxy, {"/v2/demo/manifests/"}), 0) << "no manifest is put without its blobs";
  EXPECT_EQ(registry_tags(registry_.storage(), "demo"), std::vector<std::string>{});
}

// The client library on its own, through the proxy: what the binary cannot be made to show
// quickly, and a cut the binary would not notice.
class RegistryClientFaultsTest : public ::testing::Test {
protected:
  oci::remote::Blob blob() const {
    return {.digest = digest_, .size = blob_.size(), .content = std::string_view(blob_)};
  }

  RegistryServer registry_;
  // Under the transport's 1 KiB/s from the start, so a stalled upload is abandoned 2 s into it.
  const std::string blob_ = std::string(1000, 's');
  const std::string digest_ = core::sha256_digest(blob_);
};

// mlctl's own transport gives up on a transfer only after 60 s under 1 KiB/s (CurlOptions'
// defaults; no option or variable changes them), too long for a test of the binary. So the
// same client and transport are given a 2 s limit here.
TEST_F(RegistryClientFaultsTest, UploadStalledPastTheTransferTimeoutIsAbandonedAndRetried) {
  const auto stall = std::chrono::seconds(30);
  FaultProxy proxy(registry_.host(), {{.action = FaultRule::Action::stall, .methods = {"PUT"},
                                       .path_contains = "/blobs/uploads/", .times = 1, .stall = stall}});
  oci::remote::CurlTransport transport({.connect_timeout = std::chrono::seconds(5),
                                        .low_speed_limit = 1024,
                                        .low_speed_time = std::chrono::seconds(2)});
  oci::remote::Client client(proxy.host(), transport, std::nullopt);
  auto started = Clock::now();
  auto pushed = client.push_blob("demo", blob());
  auto took = Clock::now() - started;
  ASSERT_TRUE(pushed) << pushed.error().message();
  EXPECT_EQ(pushed->how, oci::remote::BlobPush::How::uploaded);
  EXPECT_EQ(client.retries(), 1u);
  EXPECT_EQ(proxy.fired(0), 1);
  EXPECT_EQ(count_requests(proxy, {"PUT /v2/demo/blobs/uploads/"}), 2);
  EXPECT_GE(took, std::chrono::seconds(2)) << "the stalled upload was given its time";
  EXPECT_LT(took, stall) << "and abandoned before the stall ended";
  EXPECT_TRUE(stored_in_demo(registry_.storage(), digest_));
}

// A 202 whose head is cut loses the upload Location with the rest: the transport must call it a
// failed request, which is retried, and not an answer without a Location.
TEST_F(RegistryClientFaultsTest, UploadStartWithItsHeadCutIsRetried) {
  FaultProxy proxy(registry_.host(), {{.action = FaultRule::Action::truncate, .methods = {"POST"},
                                       .path_contains = "/blobs/uploads/", .times = 1}});
  oci::remote::CurlTransport transport;
  oci::remote::Client client(proxy.host(), transport, std::nullopt);
  auto pushed = client.push_blob("demo", blob());
  ASSERT_TRUE(pushed) << pushed.error().message();
  EXPECT_EQ(client.retries(), 1u);
  EXPECT_EQ(proxy.fired(0), 1);
  EXPECT_EQ(count_requests(proxy, {"POST /v2/demo/blobs/uploads/"}), 2);
  EXPECT_TRUE(stored_in_demo(registry_.storage(), digest_));
}

}  // namespace
}  // namespace mlctl::test::e2e
