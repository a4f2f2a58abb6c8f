#include "fake_argo.hpp"
#include "submit_support.hpp"

#include <mlctl/pipeline/submit/argo.hpp>

#include <gtest/gtest.h>

namespace mlctl::pipeline {
namespace {

using std::chrono::milliseconds;
using submit_test::FakeClock;
using test::FakeArgo;

std::string token() { return std::string(FakeArgo::k_token); }

// A workflow half way: prepare done, train failed once and retrying, evaluate waiting.
nlohmann::json running_status() {
  auto node = [](std::string id, std::string name, std::string display, std::string type, std::string template_name,
                 std::string phase, std::string started) {
    nlohmann::json json = {
        {"id", id},      {"name", name}, {"displayName", display}, {"type", type}, {"templateName", template_name},
        {"phase", phase}};
    if (!started.empty()) json["startedAt"] = started;
    return json;
  };
  nlohmann::json nodes = {
      {"train-x7k2p",
       node("train-x7k2p", "train-x7k2p", "train-x7k2p", "DAG", "main", "Running", "2024-05-01T03:00:00Z")},
      {"train-x7k2p-1111", node("train-x7k2p-1111", "train-x7k2p.prepare", "prepare", "Pod", "prepare", "Succeeded",
                                "2024-05-01T03:00:01Z")},
      {"train-x7k2p-2222",
       node("train-x7k2p-2222", "train-x7k2p.train", "train", "Retry", "train", "Running", "2024-05-01T03:00:10Z")},
      {"train-x7k2p-3333",
       node("train-x7k2p-3333", "train-x7k2p.train(0)", "train(0)", "Pod", "train", "Failed", "2024-05-01T03:00:10Z")},
      {"train-x7k2p-4444",
       node("train-x7k2p-4444", "train-x7k2p.train(1)", "train(1)", "Pod", "train", "Running", "2024-05-01T03:01:00Z")},
      {"train-x7k2p-5555",
       node("train-x7k2p-5555", "train-x7k2p.evaluate", "evaluate", "Pod", "evaluate", "Pending", "")},
  };
  nodes["train-x7k2p-3333"]["message"] = "Error (exit code 1)";
  nodes["train-x7k2p-1111"]["finishedAt"] = "2024-05-01T03:00:05Z";
  return {{"phase", "Running"}, {"startedAt", "2024-05-01T03:00:00Z"}, {"nodes", nodes}};
}

class ArgoClientTest : public ::testing::Test {
protected:
  // Submits the train pipeline as a Workflow, which the server names train-x7k2p.
  void submit_workflow() {
    auto submitted = submit_argo(server_, "ml-dev", submit_test::train_argo(ArgoKind::workflow));
    ASSERT_TRUE(submitted) << submitted.error().message();
    ASSERT_EQ(submitted->name, "train-x7k2p");
  }

  std::string url(std::string_view path) const { return argo_.url() + std::string(path); }

  FakeArgo argo_;
  std::vector<milliseconds> sleeps_;
  ArgoServer server_{submit_test::client(argo_.url(), token(), sleeps_)};
};

TEST_F(ArgoClientTest, WorkflowIsPostedInsideACreateRequest) {
  auto document = submit_test::train_argo(ArgoKind::workflow);
  auto submitted = submit_argo(server_, "ml-dev", document);
  ASSERT_TRUE(submitted) << submitted.error().message();
  EXPECT_EQ(*submitted, (ArgoSubmitted{ArgoKind::workflow, "ml-dev", "train-x7k2p", "uid-1"}));
  auto seen = argo_.server().requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(seen[0].path, "/api/v1/workflows/ml-dev");
  EXPECT_EQ(seen[0].authorization, "Bearer " + token());
  EXPECT_EQ(seen[0].content_type, "application/json");
  EXPECT_EQ(nlohmann::json::parse(seen[0].body), (nlohmann::json{{"namespace", "ml-dev"}, {"workflow", document}}));
  EXPECT_EQ(argo_.server().problems(), std::vector<std::string>{});
  EXPECT_EQ(argo_.object("workflows/ml-dev/train-x7k2p").value()["spec"], document["spec"]);
}

TEST_F(ArgoClientTest, ScheduledPipelineIsPostedAsACronWorkflow) {
  auto document = submit_test::train_argo(ArgoKind::automatic);
  ASSERT_EQ(document["kind"], "CronWorkflow");
  auto submitted = submit_argo(server_, "ml-dev", document);
  ASSERT_TRUE(submitted) << submitted.error().message();
  EXPECT_EQ(*submitted, (ArgoSubmitted{ArgoKind::cron_workflow, "ml-dev", "train", "uid-1"}));
  auto seen = argo_.server().requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].path, "/api/v1/cron-workflows/ml-dev");
  EXPECT_EQ(nlohmann::json::parse(seen[0].body), (nlohmann::json{{"namespace", "ml-dev"}, {"cronWorkflow", document}}));
  EXPECT_EQ(argo_.server().problems(), std::vector<std::string>{});
}

TEST_F(ArgoClientTest, SameTemplateVersionTwiceIsAPrecondition) {
  auto document = submit_test::train_argo(ArgoKind::workflow_template);
  auto first = submit_argo(server_, "ml-dev", document);
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(*first, (ArgoSubmitted{ArgoKind::workflow_template, "ml-dev", "train-1-4-0", "uid-1"}));
  EXPECT_EQ(argo_.server().requests().at(0).path, "/api/v1/workflow-templates/ml-dev");
  EXPECT_EQ(nlohmann::json::parse(argo_.server().requests().at(0).body),
            (nlohmann::json{{"namespace", "ml-dev"}, {"template", document}}));

  auto second = submit_argo(server_, "ml-dev", document);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code(), Errc::precondition);
  EXPECT_EQ(second.error().message(),
            "creating WorkflowTemplate train-1-4-0 in namespace ml-dev: POST " +
                url("/api/v1/workflow-templates/ml-dev") +
                ": 409 Conflict: \"workflowtemplates.argoproj.io \"train-1-4-0\" already exists\"");
  EXPECT_EQ(second.error().hint(),
            "each pipeline version is its own WorkflowTemplate: bump the project version, or delete the old template");
  EXPECT_EQ(argo_.server().problems(), std::vector<std::string>{});
}

TEST_F(ArgoClientTest, RefusedTokenIsAnAuthErrorThatNeverShowsIt) {
  std::string stale = "stale-token-51e0a9";
  std::vector<milliseconds> sleeps;
  ArgoServer server{submit_test::client(argo_.url(), stale, sleeps)};
  auto submitted = submit_argo(server, "ml-dev", submit_test::train_argo(ArgoKind::workflow));
  ASSERT_FALSE(submitted);
  EXPECT_EQ(submitted.error().code(), Errc::remote);
  EXPECT_EQ(submitted.error().message(), "creating Workflow train-* in namespace ml-dev: POST " +
                                             url("/api/v1/workflows/ml-dev") +
                                             ": 401 Unauthorized: \"token not valid: got Bearer ***\"");
  EXPECT_EQ(submitted.error().hint(),
            "the server did not accept the token: check the token file, and that the token has not expired");
  EXPECT_EQ(submitted.error().message().find(stale), std::string::npos);
  EXPECT_EQ(argo_.server().requests().at(0).authorization, "Bearer " + stale);
}

TEST_F(ArgoClientTest, ForbiddenHasAPermissionHint) {
  argo_.server().fail_next("POST", "/api/v1/workflows/", 403,
                           {{"code", 7}, {"message", "workflows.argoproj.io is forbidden: User \"ci\" cannot create"}});
  auto submitted = submit_argo(server_, "ml-dev", submit_test::train_argo(ArgoKind::workflow));
  ASSERT_FALSE(submitted);
  EXPECT_EQ(submitted.error().code(), Errc::remote);
  EXPECT_EQ(submitted.error().message(),
            "creating Workflow train-* in namespace ml-dev: POST " + url("/api/v1/workflows/ml-dev") +
                ": 403 Forbidden: \"workflows.argoproj.io is forbidden: User \"ci\" cannot create\"");
  EXPECT_EQ(submitted.error().hint(),
            "the token was accepted but may not do this: check the role of its service account in the namespace");
}

TEST_F(ArgoClientTest, UnknownNamespaceIsNotFound) {
  auto submitted = submit_argo(server_, "ml-prod", submit_test::train_argo(ArgoKind::workflow));
  ASSERT_FALSE(submitted);
  EXPECT_EQ(submitted.error().code(), Errc::not_found);
  EXPECT_EQ(submitted.error().message(), "creating Workflow train-* in namespace ml-prod: POST " +
                                             url("/api/v1/workflows/ml-prod") +
                                             ": 404 Not Found: \"namespaces \"ml-prod\" not found\"");
  EXPECT_EQ(submitted.error().hint(), "check that the namespace exists and that the URL is Argo Server's");
}

TEST_F(ArgoClientTest, ServerErrorIsRemoteAndNotRepeated) {
  argo_.server().fail_next("POST", "/api/v1/workflows/", 500,
                           {{"code", 13}, {"message", "etcdserver: request timed out"}});
  auto submitted = submit_argo(server_, "ml-dev", submit_test::train_argo(ArgoKind::workflow));
  ASSERT_FALSE(submitted);
  EXPECT_EQ(submitted.error().code(), Errc::remote);
  EXPECT_EQ(submitted.error().message(), "creating Workflow train-* in namespace ml-dev: POST " +
                                             url("/api/v1/workflows/ml-dev") +
                                             ": 500 Internal Server Error: \"etcdserver: request timed out\"");
  EXPECT_EQ(argo_.server().requests().size(), 1u);
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(ArgoClientTest, StalledServerTimesOut) {
  submit_workflow();
  argo_.server().stall_next("GET", "/api/v1/workflows/", milliseconds(5000), 2);
  ApiOptions twice;
  twice.retry.max_attempts = 2;
  twice.sleep = [](milliseconds) {};
  ArgoServer server{ApiClient::create(argo_.url(), submit_test::transport(), token(), twice).value()};
  auto start = std::chrono::steady_clock::now();
  auto status = argo_status(server, "ml-dev", "train-x7k2p");
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code(), Errc::remote);
  EXPECT_EQ(status.error().message(), "getting workflow train-x7k2p in namespace ml-dev: GET " +
                                          url("/api/v1/workflows/ml-dev/train-x7k2p") +
                                          ": Operation too slow. Less than 1 bytes/sec transferred the last 1 seconds");
  EXPECT_EQ(argo_.server().requests().size(), 3u);  // the create, then two tries
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

// libcurl judges the speed over its last five seconds, which still hold the upload: a stalled
// create is given up after about six seconds rather than one.
TEST_F(ArgoClientTest, StalledCreateTimesOut) {
  argo_.server().stall_next("POST", "/api/v1/workflows/", milliseconds(15000));
  auto start = std::chrono::steady_clock::now();
  auto submitted = submit_argo(server_, "ml-dev", submit_test::train_argo(ArgoKind::workflow));
  ASSERT_FALSE(submitted);
  EXPECT_EQ(submitted.error().code(), Errc::remote);
  EXPECT_EQ(submitted.error().message(),
            "creating Workflow train-* in namespace ml-dev: POST " + url("/api/v1/workflows/ml-dev") +
                ": Operation too slow. Less than 1 bytes/sec transferred the last 1 seconds");
  EXPECT_EQ(argo_.server().requests().size(), 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(12));
}

TEST_F(ArgoClientTest, AnswerThatIsNotAnObjectIsARemoteError) {
  argo_.server().fail_next("POST", "/api/v1/workflows/", 200, "created");
  auto submitted = submit_argo(server_, "ml-dev", submit_test::train_argo(ArgoKind::workflow));
  ASSERT_FALSE(submitted);
  EXPECT_EQ(submitted.error().code(), Errc::remote);
  EXPECT_EQ(submitted.error().message(),
            "creating Workflow train-* in namespace ml-dev: the server's answer for the created Workflow is not a JSON "
            "object");
}

TEST_F(ArgoClientTest, WrongDocumentsAreRefusedBeforeSending) {
  auto pod = nlohmann::json{{"apiVersion", "argoproj.io/v1alpha1"}, {"kind", "Pod"}, {"metadata", {{"name", "x"}}}};
  auto refused = submit_argo(server_, "ml-dev", pod);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Errc::invalid);
  EXPECT_EQ(refused.error().message(), "cannot submit a 'Pod': only a Workflow, CronWorkflow or WorkflowTemplate");

  auto elsewhere = submit_test::train_argo(ArgoKind::workflow);
  elsewhere["metadata"]["namespace"] = "ml-prod";
  refused = submit_argo(server_, "ml-dev", elsewhere);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Errc::invalid);
  EXPECT_EQ(refused.error().message(), "the document belongs to namespace ml-prod but is submitted to ml-dev");

  refused = submit_argo(server_, "ML_DEV", submit_test::train_argo(ArgoKind::workflow));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Errc::invalid);
  EXPECT_TRUE(refused.error().message().starts_with("invalid namespace 'ML_DEV': ")) << refused.error().message();
  EXPECT_TRUE(argo_.server().requests().empty());
}

TEST_F(ArgoClientTest, StatusReadsThePhaseAndEveryNode) {
  submit_workflow();
  argo_.script("train-x7k2p", {running_status()});
  auto status = argo_status(server_, "ml-dev", "train-x7k2p");
  ASSERT_TRUE(status) << status.error().message();
  EXPECT_EQ(status->name, "train-x7k2p");
  EXPECT_EQ(status->namespace_name, "ml-dev");
  EXPECT_EQ(status->uid, "uid-1");
  EXPECT_EQ(status->phase, ArgoPhase::running);
  EXPECT_EQ(status->started_at, "2024-05-01T03:00:00Z");
  using P = ArgoPhase;
  std::vector<ArgoNode> expected{
      {"train-x7k2p", "train-x7k2p", "train-x7k2p", "DAG", "main", P::running, "", "2024-05-01T03:00:00Z", "", "", {}},
      {"train-x7k2p-1111", "train-x7k2p.prepare", "prepare", "Pod", "prepare", P::succeeded, "", "2024-05-01T03:00:01Z",
       "2024-05-01T03:00:05Z", "train-x7k2p-prepare-1632405317", {}},
      {"train-x7k2p-2222", "train-x7k2p.train", "train", "Retry", "train", P::running, "", "2024-05-01T03:00:10Z", "",
       "", {}},
      {"train-x7k2p-3333", "train-x7k2p.train(0)", "train(0)", "Pod", "train", P::failed, "Error (exit code 1)",
       "2024-05-01T03:00:10Z", "", "train-x7k2p-train-2121258423", {}},
      {"train-x7k2p-4444", "train-x7k2p.train(1)", "train(1)", "Pod", "train", P::running, "", "2024-05-01T03:01:00Z",
       "", "train-x7k2p-train-2725399802", {}},
      {"train-x7k2p-5555", "train-x7k2p.evaluate", "evaluate", "Pod", "evaluate", P::pending, "", "", "",
       "train-x7k2p-evaluate-1218747221", {}},
  };
  EXPECT_EQ(status->nodes, expected);
  auto seen = argo_.server().requests();
  EXPECT_EQ(seen.back().method, "GET");
  EXPECT_EQ(seen.back().path, "/api/v1/workflows/ml-dev/train-x7k2p");
  EXPECT_EQ(seen.back().authorization, "Bearer " + token());
}

TEST_F(ArgoClientTest, StatusReadsEachNodesOutputParameters) {
  submit_workflow();
  nlohmann::json status = running_status();
  status["nodes"]["train-x7k2p-1111"]["outputs"] = {
      {"parameters", {{{"name", "registration"}, {"value", R"({"model": "m"})"}}, {{"name", "metrics"}, {"value", "{}"}}}},
      {"artifacts", {{{"name", "data"}, {"path", "/mlctl/outputs/prepare/data"}}}}};
  argo_.script("train-x7k2p", {status});
  auto read = argo_status(server_, "ml-dev", "train-x7k2p");
  ASSERT_TRUE(read) << read.error().message();
  EXPECT_EQ(read->nodes[1].display_name, "prepare");
  EXPECT_EQ(read->nodes[1].output_parameters,
            (std::map<std::string, std::string>{{"metrics", "{}"}, {"registration", R"({"model": "m"})"}}));
  EXPECT_TRUE(read->nodes[2].output_parameters.empty());

  status["nodes"]["train-x7k2p-1111"]["outputs"]["parameters"] = "registration";
  argo_.script("train-x7k2p", {status});
  auto bad = argo_status(server_, "ml-dev", "train-x7k2p");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), Errc::remote);
  EXPECT_EQ(bad.error().message(),
            "getting workflow train-x7k2p in namespace ml-dev: workflow train-x7k2p: node train-x7k2p-1111: "
            "outputs.parameters is not a list");
}

TEST_F(ArgoClientTest, PodNamesAreNodeIdsInTheOldFormat) {
  auto workflow = nlohmann::json{
      {"metadata", {{"name", "train-x7k2p"}, {"annotations", {{"workflows.argoproj.io/pod-name-format", "v1"}}}}},
      {"status", running_status()}};
  auto status = parse_argo_workflow(workflow);
  ASSERT_TRUE(status) << status.error().message();
  EXPECT_EQ(status->nodes.at(1).pod_name, "train-x7k2p-1111");
  EXPECT_EQ(status->nodes.at(0).pod_name, "");
}

TEST_F(ArgoClientTest, UnknownWorkflowIsNotFound) {
  auto status = argo_status(server_, "ml-dev", "nope");
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code(), Errc::not_found);
  EXPECT_EQ(status.error().message(), "getting workflow nope in namespace ml-dev: GET " +
                                          url("/api/v1/workflows/ml-dev/nope") +
                                          ": 404 Not Found: \"workflows.argoproj.io \"nope\" not found\"");
}

TEST_F(ArgoClientTest, UnknownPhaseIsARemoteError) {
  submit_workflow();
  argo_.script("train-x7k2p", {nlohmann::json{{"phase", "Exploded"}}});
  auto status = argo_status(server_, "ml-dev", "train-x7k2p");
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code(), Errc::remote);
  EXPECT_EQ(status.error().message(),
            "getting workflow train-x7k2p in namespace ml-dev: workflow train-x7k2p: unknown phase 'Exploded'");
}

TEST_F(ArgoClientTest, StatusIsAskedAgainAfter503) {
  submit_workflow();
  argo_.server().fail_next("GET", "/api/v1/workflows/", 503, {{"code", 14}, {"message", "connection refused"}});
  auto status = argo_status(server_, "ml-dev", "train-x7k2p");
  ASSERT_TRUE(status) << status.error().message();
  EXPECT_EQ(status->phase, ArgoPhase::pending);
  EXPECT_EQ(sleeps_, std::vector<milliseconds>{milliseconds(187)});
}

TEST_F(ArgoClientTest, WaitPollsUntilTheWorkflowFinishes) {
  submit_workflow();
  argo_.script("train-x7k2p", {nlohmann::json::object(),
                               {{"phase", "Running"}},
                               {{"phase", "Running"}},
                               {{"phase", "Failed"}, {"message", "child 'train-x7k2p-4444' failed"}}});
  FakeClock clock;
  std::vector<ArgoPhase> seen;
  auto status = argo_wait(server_, "ml-dev", "train-x7k2p", WaitOptions{milliseconds(1000)}, clock,
                          [&](const ArgoStatus& status) { seen.push_back(status.phase); });
  ASSERT_TRUE(status) << status.error().message();
  EXPECT_EQ(status->phase, ArgoPhase::failed);
  EXPECT_EQ(status->message, "child 'train-x7k2p-4444' failed");
  EXPECT_EQ(seen,
            (std::vector<ArgoPhase>{ArgoPhase::pending, ArgoPhase::running, ArgoPhase::running, ArgoPhase::failed}));
  EXPECT_EQ(clock.sleeps, (std::vector<milliseconds>{milliseconds(1000), milliseconds(2000), milliseconds(4000)}));
}

TEST_F(ArgoClientTest, WaitGivesUpAfterTheTimeout) {
  submit_workflow();
  argo_.script("train-x7k2p", {nlohmann::json{{"phase", "Running"}}});
  FakeClock clock;
  auto status = argo_wait(server_, "ml-dev", "train-x7k2p",
                          WaitOptions{milliseconds(1000), milliseconds(2000), milliseconds(5000)}, clock);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code(), Errc::failed);
  EXPECT_EQ(status.error().message(), "waiting for workflow train-x7k2p in namespace ml-dev: still Running after 5s");
  EXPECT_EQ(status.error().hint(), "the workflow goes on running: ask for its status again later");
  EXPECT_EQ(clock.sleeps, (std::vector<milliseconds>{milliseconds(1000), milliseconds(2000), milliseconds(2000)}));
}

TEST_F(ArgoClientTest, LogsOfAStepCoverEachOfItsRetries) {
  submit_workflow();
  argo_.script("train-x7k2p", {running_status()});
  argo_.set_logs("train-x7k2p", {{"train-x7k2p-prepare-1632405317", "data ready"},
                                 {"train-x7k2p-train-2121258423", "CUDA out of memory"},
                                 {"train-x7k2p-train-2725399802", "epoch 1 loss 0.31"}});
  ArgoLogOptions options;
  options.step = "train";
  auto lines = argo_logs(server_, "ml-dev", "train-x7k2p", options);
  ASSERT_TRUE(lines) << lines.error().message();
  EXPECT_EQ(*lines, (std::vector<ArgoLogLine>{{"train-x7k2p-train-2121258423", "CUDA out of memory"},
                                              {"train-x7k2p-train-2725399802", "epoch 1 loss 0.31"}}));
  auto seen = argo_.server().requests();
  EXPECT_EQ(seen.back().path, "/api/v1/workflows/ml-dev/train-x7k2p/log");
  EXPECT_EQ(seen.back().params, (std::multimap<std::string, std::string>{{"logOptions.container", "main"}}));
  EXPECT_EQ(seen.back().accept, "text/event-stream");
  EXPECT_EQ(argo_.server().problems(), std::vector<std::string>{});
}

TEST_F(ArgoClientTest, LogsOfOnePod) {
  submit_workflow();
  argo_.set_logs("train-x7k2p", {{"train-x7k2p-prepare-1632405317", "data ready"},
                                 {"train-x7k2p-train-2121258423", "CUDA out of memory"}});
  ArgoLogOptions options;
  options.pod_name = "train-x7k2p-prepare-1632405317";
  options.tail_lines = 100;
  auto lines = argo_logs(server_, "ml-dev", "train-x7k2p", options);
  ASSERT_TRUE(lines) << lines.error().message();
  EXPECT_EQ(*lines, (std::vector<ArgoLogLine>{{"train-x7k2p-prepare-1632405317", "data ready"}}));
  EXPECT_EQ(argo_.server().requests().back().params,
            (std::multimap<std::string, std::string>{{"logOptions.container", "main"},
                                                     {"logOptions.tailLines", "100"},
                                                     {"podName", "train-x7k2p-prepare-1632405317"}}));
}

TEST_F(ArgoClientTest, LogsOfAStepWithoutPodsIsNotFound) {
  submit_workflow();
  argo_.script("train-x7k2p", {running_status()});
  ArgoLogOptions options;
  options.step = "deploy";
  auto lines = argo_logs(server_, "ml-dev", "train-x7k2p", options);
  ASSERT_FALSE(lines);
  EXPECT_EQ(lines.error().code(), Errc::not_found);
  EXPECT_EQ(
      lines.error().message(),
      "getting the logs of workflow train-x7k2p in namespace ml-dev: workflow train-x7k2p has no pod for step deploy");
  EXPECT_EQ(lines.error().hint(), "steps with pods: evaluate, prepare, train");
}

TEST(ArgoLogStreamTest, EventsAndPlainLinesBothRead) {
  auto lines = parse_argo_log_stream(
      "data: {\"result\":{\"content\":\"a\",\"podName\":\"p1\"}}\n\n"
      "event: message\n"
      "{\"result\":{\"content\":\"b c\",\"podName\":\"p2\"}}\r\n");
  ASSERT_TRUE(lines) << lines.error().message();
  EXPECT_EQ(*lines, (std::vector<ArgoLogLine>{{"p1", "a"}, {"p2", "b c"}}));
}

TEST(ArgoLogStreamTest, ErrorEntryFails) {
  auto lines = parse_argo_log_stream(
      "data: {\"result\":{\"content\":\"a\",\"podName\":\"p1\"}}\n"
      "data: {\"error\":{\"grpc_code\":5,\"message\":\"pods \\\"p9\\\" not found\"}}\n");
  ASSERT_FALSE(lines);
  EXPECT_EQ(lines.error().code(), Errc::remote);
  EXPECT_EQ(lines.error().message(), "the log stream failed: \"pods \"p9\" not found\"");
  auto broken = parse_argo_log_stream("data: {\"result\":\n");
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().message(), "line 1 of the log stream is not a JSON object");
}

}  // namespace
}  // namespace mlctl::pipeline
