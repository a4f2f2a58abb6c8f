// `mlctl serve --local` through the real binary: the sklearn template's model, registered and
// aliased, served over the Open Inference Protocol with the predictions the model gives in
// Python, and stopped by a signal with exit code 0. Needs /usr/bin/python3 with python3-sklearn.
#include <support/free_port.hpp>
#include <support/run.hpp>
#include <support/temp_dir.hpp>

#include <mlctl/core/process.hpp>
#include <mlctl/oci/remote/curl_transport.hpp>

#include <poll.h>
#include <signal.h>

#include <chrono>
#include <functional>
#include <thread>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

namespace mlctl::test {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

constexpr auto k_limit = 60s;

// The first 20 rows of the data set and what the model predicts for them, computed in Python.
constexpr const char* k_expected = R"(
import json, pickle, sys
from sklearn.datasets import load_breast_cancer
rows = load_breast_cancer(return_X_y=True)[0][:20]
with open(sys.argv[1], "rb") as source:
    model = pickle.load(source)
print(json.dumps({"rows": rows.tolist(), "predictions": model.predict(rows).tolist()}))
)";

// Reads `child`'s stdout until `done` says the text is complete, the output ends, or the limit.
std::string read_until(core::Child& child, const std::function<bool(const std::string&)>& done) {
  std::string text;
  auto deadline = std::chrono::steady_clock::now() + k_limit;
  while (!done(text) && std::chrono::steady_clock::now() < deadline) {
    pollfd fd{.fd = child.stdout_fd(), .events = POLLIN, .revents = 0};
    if (::poll(&fd, 1, 100) <= 0) continue;
    char buffer[4096];
    ssize_t got = ::read(child.stdout_fd(), buffer, sizeof buffer);
    if (got <= 0) break;
    text.append(buffer, static_cast<std::size_t>(got));
  }
  return text;
}

std::optional<core::ExitStatus> wait_for_exit(core::Child& child) {
  auto deadline = std::chrono::steady_clock::now() + k_limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto status = child.try_wait()) return status;
    std::this_thread::sleep_for(20ms);
  }
  return std::nullopt;
}

const std::string k_project = "name: cancer\nversion: 0.1.0\nmodel: {name: cancer, flavor: sklearn}\n";

class ServeCliTest : public ::testing::Test {
protected:
  // Trains the model once for the suite, and what it predicts.
  static void SetUpTestSuite() {
    trained_ = new TempDir;
    auto trained = run_command({"/usr/bin/python3", MLCTL_SOURCE_DIR "/templates/init/sklearn/train.py", "--model",
                                "model.pkl", "--metrics", "metrics.json"},
                               trained_->path());
    ASSERT_EQ(trained.exit_code, 0) << trained.err;
    auto expected = run_command({"/usr/bin/python3", "-c", k_expected, "model.pkl"}, trained_->path());
    ASSERT_EQ(expected.exit_code, 0) << expected.err;
    expected_ = Json::parse(expected.out, nullptr, false);
  }
  static void TearDownTestSuite() {
    delete trained_;
    trained_ = nullptr;
  }

  ServeCliTest() {
    dir_.write("mlctl.yaml", k_project);
    auto registered =
        run_mlctl({"model", "register", "cancer", "--artifact", (trained_->path() / "model.pkl").string()}, dir_.path());
    EXPECT_EQ(registered.exit_code, 0) << registered.err;
    EXPECT_EQ(run_mlctl({"model", "alias", "set", "cancer", "production", "1"}, dir_.path()).exit_code, 0);
  }

  // `mlctl serve --local cancer@production --port P ARGS...`, its stderr (the server's log) in a file.
  core::Child serve(const std::vector<std::string>& args) {
    std::string command = "exec \"$0\" \"$@\" 2>serve.log";
    std::vector<std::string> argv{"sh", "-c", command, MLCTL_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    for (const char* arg : {"serve", "--local", "cancer@production", "--port"}) argv.push_back(arg);
    argv.push_back(std::to_string(port_));
    auto child = core::Child::spawn({.argv = argv, .cwd = dir_.path(), .env = {{"NO_COLOR", "1"}}, .unset_env = {},
                                     .input = std::nullopt, .timeout = 0ms});
    if (!child) throw std::runtime_error(child.error().message());
    return std::move(*child);
  }

  // POSTs the rows to the server and returns the response's status and JSON body.
  std::pair<int, Json> infer(const std::string& url) {
    oci::remote::CurlTransport transport;
    Json request = {{"inputs", {{{"name", "x"}, {"shape", {20, 30}}, {"datatype", "FP64"}, {"data", expected_["rows"]}}}}};
    std::string body = request.dump();
    oci::remote::Request post("POST", url + "/v2/models/cancer/infer");
    post.headers = {{"Content-Type", "application/json"}};
    post.body = std::string_view(body);
    auto response = transport.send(post);
    if (!response) return {0, Json(response.error().message())};
    return {response->status, Json::parse(response->body, nullptr, false)};
  }

  static inline TempDir* trained_ = nullptr;
  static inline Json expected_;
  TempDir dir_;
  int port_ = free_port();
};

TEST_F(ServeCliTest, ServesTheAliasedVersionWithTheModelsOwnPredictionsUntilSigint) {
  core::Child child = serve({"-o", "json"});
  std::string out = read_until(child, [](const std::string& text) { return Json::accept(text); });
  ASSERT_TRUE(Json::accept(out)) << out << dir_.read("serve.log");
  Json started = Json::parse(out);
  std::string url = "http://127.0.0.1:" + std::to_string(port_);
  EXPECT_EQ(started["url"], url);
  EXPECT_EQ(started["model"], "cancer");
  EXPECT_EQ(started["version"], 1);
  EXPECT_TRUE(std::filesystem::is_regular_file(dir_ / ".mlctl/serve/cancer/1/model.pkl"));
  EXPECT_TRUE(std::filesystem::is_regular_file(dir_ / ".mlctl/serve/cancer/1/server.py"));

  auto [status, response] = infer(url);
  ASSERT_EQ(status, 200) << response.dump();
  EXPECT_EQ(response["model_name"], "cancer");
  EXPECT_EQ(response["model_version"], "1");
  EXPECT_EQ(response["outputs"][0]["data"], expected_["predictions"]);
  EXPECT_EQ(response["outputs"][0]["shape"], Json({20}));

  ASSERT_EQ(::kill(child.pid(), SIGINT), 0);
  auto exit = wait_for_exit(child);
  ASSERT_TRUE(exit) << "mlctl serve did not stop within a minute of SIGINT";
  EXPECT_EQ(exit->exit_code, 0) << dir_.read("serve.log");
  pid_t server = started["pid"].get<pid_t>();
  EXPECT_TRUE(::kill(server, 0) != 0 && errno == ESRCH) << "the server process outlived mlctl";
  EXPECT_NE(dir_.read("serve.log").find("\"event\": \"stopped\""), std::string::npos);
}

TEST_F(ServeCliTest, PrintsTheUrlFirstAndStopsOnSigterm) {
  core::Child child = serve({});
  std::string line = read_until(child, [](const std::string& text) { return text.ends_with('\n'); });
  std::string url = "http://127.0.0.1:" + std::to_string(port_);
  EXPECT_EQ(line, "serving cancer version 1 at " + url + " (POST " + url +
                      "/v2/models/cancer/infer); Ctrl-C stops it\n");
  auto deadline = std::chrono::steady_clock::now() + k_limit;
  int status = 0;
  while (status != 200 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
    status = infer(url).first;
  }
  ASSERT_EQ(status, 200) << dir_.read("serve.log");
  ASSERT_EQ(::kill(child.pid(), SIGTERM), 0);
  auto exit = wait_for_exit(child);
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->exit_code, 0) << dir_.read("serve.log");
}

TEST(ServeCliErrorsTest, WithoutLocalPointsAtDeployRender) {
  TempDir dir_;
  dir_.write("mlctl.yaml", k_project);
  auto result = run_mlctl({"serve", "cancer@production"}, dir_.path());
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.err, "mlctl: error: mlctl serve runs a model on this machine only: add --local\n"
                        "hint: to serve it in a cluster, render its manifests: mlctl deploy render MODEL --env ENV\n");
  auto missing = run_mlctl({"serve", "--local", "cancer@7"}, dir_.path());
  EXPECT_EQ(missing.exit_code, 3) << missing.err;
}

}  // namespace
}  // namespace mlctl::test
