// `mlctl pipeline submit|status|logs` through the real binary against the fake Argo Server and
// Kubeflow Pipelines API: what reaches the server, what the user sees, exit codes, and that the
// token never shows.
#include "fake_argo.hpp"
#include "fake_kfp.hpp"

#include <support/run.hpp>
#include <support/temp_dir.hpp>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

namespace mlctl::test {
namespace {

using Json = nlohmann::json;

constexpr std::string_view k_pipeline = R"(name: train
params: {lr: "0.1"}
steps:
  - name: prepare
    command: [sh, -c, "echo data > {{outputs.data}}"]
    outputs: [data]
  - name: train
    command: [python3, train.py, --data, "{{steps.prepare.outputs.data}}", --lr, "{{params.lr}}"]
)";

class SubmitCliTest : public ::testing::Test {
protected:
  SubmitCliTest() {
    dir_.write("mlctl.yaml", "name: demo\nversion: 1.4.0\npipelines:\n  train: train.yaml\n");
    dir_.write("train.yaml", std::string(k_pipeline));
  }

  core::Completed mlctl(std::vector<std::string> args, std::string_view token) {
    dir_.write("token", "Bearer " + std::string(token) + "\n");
    args.insert(args.end(), {"--token-file", "token"});
    return run_mlctl(args, dir_.path(), {{"MLCTL_IMAGE", image_}});
  }

  TempDir dir_;
  std::string image_ = "registry.local/demo@sha256:" + std::string(64, 'd');
};

Json succeeded_workflow() {
  return {{"phase", "Succeeded"},
          {"startedAt", "2024-05-01T03:00:00Z"},
          {"finishedAt", "2024-05-01T03:02:00Z"},
          {"nodes",
           {{"train-x7k2p-1111",
             {{"id", "train-x7k2p-1111"}, {"name", "train-x7k2p.prepare"}, {"displayName", "prepare"}, {"type", "Pod"},
              {"templateName", "prepare"}, {"phase", "Succeeded"}, {"startedAt", "2024-05-01T03:00:01Z"}}}}}};
}

TEST_F(SubmitCliTest, ArgoSubmitWaitsForTheWorkflowThenStatusAndLogsReadIt) {
  FakeArgo argo;
  argo.script("train-x7k2p", {Json{{"phase", "Running"}}, succeeded_workflow()});
  auto submitted = mlctl({"-o", "json", "pipeline", "submit", "train", "--server", argo.url(), "-n", "ml-dev", "--param",
                          "lr=0.05", "--wait", "--poll-interval", "1s"},
                         FakeArgo::k_token);
  ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
  EXPECT_TRUE(argo.server().problems().empty()) << argo.server().problems().front();
  Json status = Json::parse(submitted.out);
  EXPECT_EQ(status["name"], "train-x7k2p");
  EXPECT_EQ(status["phase"], "Succeeded");
  EXPECT_EQ(status["nodes"][0]["name"], "prepare");
  auto workflow = argo.object("workflows/ml-dev/train-x7k2p");
  ASSERT_TRUE(workflow);
  EXPECT_EQ((*workflow)["metadata"]["labels"]["mlctl.dev/pipeline"], "train");
  EXPECT_EQ((*workflow)["spec"]["arguments"]["parameters"][0], (Json{{"name", "lr"}, {"value", "0.05"}}));
  EXPECT_NE(submitted.err.find("train-x7k2p: Succeeded"), std::string::npos) << submitted.err;
  EXPECT_EQ(submitted.err.find(FakeArgo::k_token), std::string::npos);

  auto text = mlctl({"pipeline", "status", "train-x7k2p", "--server", argo.url(), "-n", "ml-dev"}, FakeArgo::k_token);
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_EQ(text.out, "workflow ml-dev/train-x7k2p: Succeeded\nSTEP     TYPE  PHASE      MESSAGE\n"
                      "prepare  Pod   Succeeded\n");

  argo.set_logs("train-x7k2p", {{"train-x7k2p-prepare-1632405317", "data ready"}});
  auto logs = mlctl({"pipeline", "logs", "train-x7k2p", "--server", argo.url(), "-n", "ml-dev"}, FakeArgo::k_token);
  ASSERT_EQ(logs.exit_code, 0) << logs.err;
  EXPECT_EQ(logs.out, "train-x7k2p-prepare-1632405317 | data ready\n");
}

TEST_F(SubmitCliTest, ArgoRefusalsAreClearAndKeepTheTokenOut) {
  FakeArgo argo;
  auto denied = mlctl({"pipeline", "submit", "train", "--server", argo.url(), "-n", "ml-dev"}, "wrong-token-1234");
  EXPECT_EQ(denied.exit_code, 5);
  EXPECT_NE(denied.err.find("401"), std::string::npos) << denied.err;
  EXPECT_EQ(denied.err.find("wrong-token-1234"), std::string::npos) << denied.err;

  auto no_server = run_mlctl({"pipeline", "submit", "train"}, dir_.path(), {{"MLCTL_IMAGE", image_}});
  EXPECT_EQ(no_server.exit_code, 2);
  EXPECT_TRUE(no_server.err.starts_with("mlctl: error: no server to talk to\n")) << no_server.err;

  argo.script("train-x7k2p", {Json{{"phase", "Failed"}, {"message", "child 'train' failed"}}});
  auto failed = mlctl({"pipeline", "submit", "train", "--server", argo.url(), "-n", "ml-dev", "--wait", "--poll-interval",
                       "1s"},
                      FakeArgo::k_token);
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_EQ(failed.out, "workflow ml-dev/train-x7k2p: Failed (child 'train' failed)\nSTEP  TYPE  PHASE  MESSAGE\n");
}

TEST_F(SubmitCliTest, KfpSubmitUploadsTheProjectVersionAndStartsARun) {
  FakeKfp kfp;
  auto submitted = mlctl({"-o", "json", "pipeline", "submit", "train", "--backend", "kfp", "--server", kfp.url()},
                         FakeKfp::k_token);
  ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
  EXPECT_TRUE(kfp.server().problems().empty()) << kfp.server().problems().front();
  // Outside a git repository the version is the project's alone.
  EXPECT_EQ(Json::parse(submitted.out), (Json{{"backend", "kfp"}, {"pipeline_id", "p-1"}, {"pipeline_version_id", "v-1"},
                                             {"version", "1.4.0"}, {"run_id", "r-1"}}));
  EXPECT_NE(kfp.uploaded("v-1").find("pipelineInfo:\n  description: version 1.4.0\n  name: train\n"), std::string::npos);

  kfp.script("r-1", {Json{{"state", "SUCCEEDED"}}});
  auto status = mlctl({"pipeline", "status", "r-1", "--backend", "kfp", "--server", kfp.url()}, FakeKfp::k_token);
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_TRUE(status.out.starts_with("run r-1 (train-1.4.0): SUCCEEDED\n")) << status.out;

  auto logs = mlctl({"pipeline", "logs", "r-1", "--backend", "kfp", "--server", kfp.url()}, FakeKfp::k_token);
  EXPECT_EQ(logs.exit_code, 2);
  EXPECT_TRUE(logs.err.starts_with("mlctl: error: the Kubeflow Pipelines API serves no logs\n")) << logs.err;
}

TEST_F(SubmitCliTest, AScheduledPipelineBecomesAKfpRecurringRun) {
  FakeKfp kfp;
  dir_.write("train.yaml", "schedule: \"0 3 * * *\"\n" + std::string(k_pipeline));
  auto submitted = mlctl({"-o", "json", "pipeline", "submit", "train", "--backend", "kfp", "--server", kfp.url(),
                          "--param", "lr=0.05"},
                         FakeKfp::k_token);
  ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
  EXPECT_TRUE(kfp.server().problems().empty()) << kfp.server().problems().front();
  EXPECT_EQ(Json::parse(submitted.out),
            (Json{{"backend", "kfp"}, {"pipeline_id", "p-1"}, {"pipeline_version_id", "v-1"}, {"version", "1.4.0"},
                  {"recurring_run_id", "rr-1"}, {"cron", "0 0 3 * * *"}, {"status", "ENABLED"}}));
  // Only the overrides travel; the spec's defaults are the rest.
  EXPECT_EQ((*kfp.recurring_run("rr-1"))["runtime_config"]["parameters"], (Json{{"lr", "0.05"}}));

  // --kind workflow: one run now, schedule or not.
  auto once = mlctl({"pipeline", "submit", "train", "--backend", "kfp", "--server", kfp.url(), "--kind", "workflow"},
                    FakeKfp::k_token);
  EXPECT_EQ(once.exit_code, 4) << once.err;  // the version 1.4.0 is there already
  EXPECT_NE(once.err.find("1.4.0"), std::string::npos) << once.err;
}

}  // namespace
}  // namespace mlctl::test
