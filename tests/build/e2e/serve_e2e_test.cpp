// `mlctl build --serve` end to end: a project from `mlctl init --template sklearn`, its model
// trained with Debian's scikit-learn and registered, baked into a serving image on a Debian base
// with python3-sklearn, pushed to the real docker-registry, and run by podman the way the pods
// run it (read-only root, no capabilities): it answers the Open Inference Protocol with the
// model's own predictions, counts them in /metrics, and runs as the serving uid.
#include "e2e_fixture.hpp"

#include "../../oci/remote/registry_fixture.hpp"

#include <mlctl/oci/remote/curl_transport.hpp>

#include <support/free_port.hpp>
#include <support/run.hpp>
#include <support/temp_dir.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <regex>
#include <thread>

#include <gtest/gtest.h>

namespace mlctl::test::e2e {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace std::string_literals;
using Clock = std::chrono::steady_clock;

constexpr std::string_view k_epoch = "1700000000";
// The uid the pods run as (deploy::k_serving_uid), and the server's port.
constexpr int k_serving_uid = 65532;
constexpr int k_port = 8080;

// The first 20 rows of load_breast_cancer and what the trained model predicts for them, computed
// here by Debian's Python loading the pickle that was registered.
constexpr std::string_view k_predict = R"(import json, pickle, sys
from sklearn.datasets import load_breast_cancer
with open(sys.argv[1], "rb") as source:
    model = pickle.load(source)
rows = load_breast_cancer(return_X_y=True)[0][:20]
print(json.dumps({"rows": rows.tolist(), "predictions": model.predict(rows).tolist()}))
)";

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Removes the container when the test ends, however it ends.
class ContainerGuard {
public:
  ContainerGuard(std::string name, fs::path dir) : name_(std::move(name)), dir_(std::move(dir)) {}
  ~ContainerGuard() {
    auto removed = podman({"rm", "--force", "--time", "0", name_}, dir_);
    if (removed.exit_code != 0) ADD_FAILURE() << "podman rm " << name_ << ": " << removed.err;
  }
  ContainerGuard(const ContainerGuard&) = delete;
  ContainerGuard& operator=(const ContainerGuard&) = delete;

private:
  std::string name_;
  fs::path dir_;
};

class ServeE2eTest : public ::testing::Test {
protected:
  ServeE2eTest()
      : http_({.connect_timeout = 5s, .low_speed_limit = 1, .low_speed_time = 10s, .max_memory_body = 1 << 20,
               .user_agent = "mlctl-serve-e2e"}) {}

  // The environment of every mlctl run: its own cache, no credentials from this machine, the
  // registry and base the sklearn template's mlctl.yaml reads, and a fixed epoch.
  std::map<std::string, std::string> env(const std::string& registry, const fs::path& cache) const {
    return {{"MLCTL_CACHE_DIR", cache.string()},
            {"DOCKER_CONFIG", (dir_ / "docker").string()},
            {"REGISTRY_AUTH_FILE", (dir_ / "docker/auth.json").string()},
            {"MLCTL_REGISTRY", registry},
            {"MLCTL_BASE_IMAGE", registry + "/base:1"},
            {"SOURCE_DATE_EPOCH", std::string(k_epoch)}};
  }

  // `mlctl -o json ARGS` in `project`, expected to succeed with one JSON document on stdout.
  Json mlctl_json(std::vector<std::string> args, const fs::path& project,
                  const std::map<std::string, std::string>& environment) {
    args.insert(args.begin(), {"-o", "json"});
    auto done = run_mlctl(args, project, environment);
    EXPECT_EQ(done.exit_code, 0) << "mlctl " << args[2] << ":\n" << done.out << done.err;
    Json document = Json::parse(done.out, nullptr, false);
    EXPECT_TRUE(document.is_object()) << done.out;
    return document.is_object() ? document : Json::object();
  }

  // status and body of an HTTP request to the container; status 0 when nothing answered.
  std::pair<int, std::string> http(const std::string& method, const std::string& url, const std::string& body = {}) {
    oci::remote::Request request(method, url);
    if (!body.empty()) {
      request.headers.emplace_back("Content-Type", "application/json");
      request.body = std::string_view(body);
    }
    auto response = http_.send(request);
    if (!response) return {0, {}};
    return {response->status, response->body};
  }

  // Polls /v2/health/ready until it answers 200 or `limit` passes.
  bool wait_until_ready(const std::string& url, std::chrono::seconds limit) {
    auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
      if (http("GET", url + "/v2/health/ready").first == 200) return true;
      std::this_thread::sleep_for(250ms);
    }
    return false;
  }

  TempDir dir_;
  oci::remote::CurlTransport http_;
};

TEST_F(ServeE2eTest, ServingImageWithTheRegisteredModelAnswersInPodman) {
  fs::create_directories(dir_ / "docker");
  auto started = Clock::now();
  fs::path base = make_base_layout("python-sklearn", dir_.path());
  ASSERT_FALSE(base.empty());
  std::printf("[serve e2e] python-sklearn base layout: %.1f s\n", seconds_since(started));

  // The project as `mlctl init` makes it, without its requirements: Debian's sklearn is in the base.
  auto made = run_mlctl({"init", "cancer", "--template", "sklearn"}, dir_.path());
  ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
  fs::path project = dir_ / "cancer";
  std::string yaml = read_file(project / "mlctl.yaml");
  const std::string requirements = "  python:\n    requirements: requirements.txt\n";
  ASSERT_NE(yaml.find(requirements), std::string::npos) << yaml;
  yaml.erase(yaml.find(requirements), requirements.size());
  std::ofstream(project / "mlctl.yaml") << yaml;
  fs::remove(project / "requirements.txt");

  auto trained = run({"/usr/bin/python3", "train.py", "--model", "model.pkl", "--metrics", "metrics.json"}, project);
  ASSERT_EQ(trained.exit_code, 0) << trained.out << trained.err;
  Json registered = mlctl_json({"model", "register", "cancer", "--artifact", "model.pkl"}, project, {});
  ASSERT_EQ(registered["version"], 1) << registered.dump();
  auto predicted = run({"/usr/bin/python3", "-c", std::string(k_predict), "model.pkl"}, project);
  ASSERT_EQ(predicted.exit_code, 0) << predicted.err;
  Json expected = Json::parse(predicted.out, nullptr, false);
  ASSERT_EQ(expected["predictions"].size(), 20u) << predicted.out;

  RegistryServer registry;
  started = Clock::now();
  push_base(base, registry.host());
  std::printf("[serve e2e] base pushed: %.1f s\n", seconds_since(started));
  started = Clock::now();
  Json report = mlctl_json({"build", "--serve", "--model", "cancer@1", "--push"}, project,
                           env(registry.host(), dir_ / "cache"));
  std::printf("[serve e2e] mlctl build --serve --push: %.1f s\n", seconds_since(started));
  std::vector<std::string> names;
  for (const auto& layer : report["layers"]) names.push_back(layer.value("name", "?"));
  EXPECT_EQ(names, (std::vector<std::string>{"base", "code", "serve", "model"}));
  EXPECT_EQ(report["pushed"], true);
  const std::string digest = report.value("digest", "");
  const std::string repository = registry.host() + "/cancer";
  ASSERT_EQ(report["image"], repository + ":0.1.0@" + digest) << report.dump();

  // The same inputs give the same image, even from an empty cache.
  Json again = mlctl_json({"build", "--serve", "--model", "cancer@1"}, project, env(registry.host(), dir_ / "cache2"));
  EXPECT_EQ(again["digest"], digest);

  Json config = skopeo_json({"inspect", "--config", "--tls-verify=false", "docker://" + repository + "@" + digest},
                            dir_.path());
  const Json& c = config["config"];
  EXPECT_EQ(c["Entrypoint"], (Json{"python3", "/opt/mlctl/serve/server.py"}));
  EXPECT_FALSE(c.contains("Cmd")) << c.dump();
  EXPECT_EQ(c["User"], std::to_string(k_serving_uid));
  EXPECT_EQ(c["ExposedPorts"], (Json{{"8080/tcp", Json::object()}}));
  EXPECT_EQ(c["Labels"]["dev.mlctl.serve"], "oip-v2");
  EXPECT_EQ(c["Labels"]["dev.mlctl.model"], "cancer@1");
  for (const std::string variable :
       {"PYTHONDONTWRITEBYTECODE=1", "MLCTL_PORT=8080", "MLCTL_MODEL_PATH=/opt/mlctl/model/model.pkl",
        "MLCTL_MODEL_NAME=cancer", "MLCTL_MODEL_VERSION=1", "MLCTL_FLAVOR=sklearn"})
    EXPECT_NE(std::find(c["Env"].begin(), c["Env"].end(), Json(variable)), c["Env"].end())
        << variable << " in " << c["Env"].dump();

  // Run as the pods do: read-only root (podman mounts a tmpfs on /tmp), every capability dropped.
  const int host_port = free_port();
  const std::string container = "mlctl-serve-e2e-" + std::to_string(::getpid());
  ContainerGuard guard(container, dir_.path());
  started = Clock::now();
  auto ran = podman({"run", "--detach", "--name", container, "--runtime", "runc", "--read-only", "--cap-drop", "all",
                     "--publish", "127.0.0.1:" + std::to_string(host_port) + ":" + std::to_string(k_port),
                     "--tls-verify=false", repository + "@" + digest},
                    dir_.path());
  ASSERT_EQ(ran.exit_code, 0) << ran.out << ran.err;
  const std::string url = "http://127.0.0.1:" + std::to_string(host_port);
  bool ready = wait_until_ready(url, 120s);
  std::printf("[serve e2e] podman pull + run until ready: %.1f s\n", seconds_since(started));
  if (!ready) {
    auto logs = podman({"logs", container}, dir_.path());
    FAIL() << "not ready within 120 s; the container's log:\n" << logs.out << logs.err;
  }

  Json rows = Json::array();
  for (const auto& row : expected["rows"])
    for (const auto& value : row) rows.push_back(value);
  const std::string request = Json{{"inputs", {{{"name", "input-0"}, {"shape", {20, 30}}, {"datatype", "FP64"},
                                                {"data", rows}}}}}
                                  .dump();
  const int k_infers = 3;
  for (int i = 0; i < k_infers; ++i) {
    auto [status, body] = http("POST", url + "/v2/models/cancer/infer", request);
    ASSERT_EQ(status, 200) << body;
    Json answer = Json::parse(body, nullptr, false);
    EXPECT_EQ(answer["model_name"], "cancer") << body;
    EXPECT_EQ(answer["model_version"], "1") << body;
    ASSERT_EQ(answer["outputs"].size(), 1u) << body;
    EXPECT_EQ(answer["outputs"][0]["data"], expected["predictions"]) << body;
    EXPECT_EQ(answer["outputs"][0]["shape"], Json({20})) << body;
  }
  auto [metrics_status, metrics] = http("GET", url + "/metrics");
  ASSERT_EQ(metrics_status, 200);
  std::smatch counted;
  ASSERT_TRUE(std::regex_search(
      metrics, counted, std::regex(R"re(mlctl_requests_total\{model="cancer",endpoint="infer",code="200"\} (\d+))re")))
      << metrics;
  EXPECT_EQ(counted[1], std::to_string(k_infers)) << metrics;

  // The server is the container's first process, as the serving uid.
  auto status = podman({"exec", container, "cat", "/proc/1/status", "/proc/1/cmdline"}, dir_.path());
  ASSERT_EQ(status.exit_code, 0) << status.err;
  const std::string uid = std::to_string(k_serving_uid);
  EXPECT_NE(status.out.find("\nUid:\t" + uid + "\t" + uid + "\t" + uid + "\t" + uid + "\n"), std::string::npos)
      << status.out;
  EXPECT_NE(status.out.find("python3\0/opt/mlctl/serve/server.py\0"s), std::string::npos) << status.out;
}

}  // namespace
}  // namespace mlctl::test::e2e
