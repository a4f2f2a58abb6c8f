#include "fake_kfp.hpp"
#include "submit_support.hpp"

#include <mlctl/pipeline/submit/kfp.hpp>

#include <gtest/gtest.h>

namespace mlctl::pipeline {
namespace {

using std::chrono::milliseconds;
using submit_test::FakeClock;
using test::FakeKfp;

std::string token() { return std::string(FakeKfp::k_token); }

class KfpClientTest : public ::testing::Test {
protected:
  KfpSubmit submit(std::string version) const {
    return KfpSubmit{"train", "", std::move(version), spec_, "train 2024-05-01", {{"lr", "0.05"}}, "", "", ""};
  }

  std::string url(std::string_view path) const { return kfp_.url() + std::string(path); }

  FakeKfp kfp_;
  std::vector<milliseconds> sleeps_;
  KfpServer server_{submit_test::client(kfp_.url(), token(), sleeps_)};
  std::string spec_ = submit_test::train_kfp_yaml();
};

TEST_F(KfpClientTest, FirstSubmitCreatesThePipelineThenUploadsAndRuns) {
  auto submitted = submit_kfp(server_, submit("1.4.0"));
  ASSERT_TRUE(submitted) << submitted.error().message();
  EXPECT_EQ(submitted->pipeline, (KfpPipeline{"p-1", "train", "train"}));
  EXPECT_TRUE(submitted->created_pipeline);
  EXPECT_EQ(submitted->version, (KfpPipelineVersion{"p-1", "v-1", "1.4.0", "1.4.0"}));
  EXPECT_EQ(submitted->run.run_id, "r-1");
  EXPECT_EQ(submitted->run.display_name, "train 2024-05-01");
  EXPECT_EQ(submitted->run.state, KfpState::pending);

  auto seen = kfp_.server().requests();
  ASSERT_EQ(seen.size(), 4u);
  for (const auto& request : seen) EXPECT_EQ(request.authorization, "Bearer " + token());
  EXPECT_EQ(seen[0].method + " " + seen[0].path, "GET /apis/v2beta1/pipelines/names/train");
  EXPECT_TRUE(seen[0].params.empty());
  EXPECT_EQ(seen[1].method + " " + seen[1].path, "POST /apis/v2beta1/pipelines");
  EXPECT_EQ(nlohmann::json::parse(seen[1].body), (nlohmann::json{{"name", "train"}, {"display_name", "train"}}));
  EXPECT_EQ(seen[2].method + " " + seen[2].path, "POST /apis/v2beta1/pipelines/upload_version");
  EXPECT_EQ(seen[2].params, (std::multimap<std::string, std::string>{{"name", "1.4.0"}, {"pipelineid", "p-1"}}));
  EXPECT_TRUE(seen[2].content_type.starts_with("multipart/form-data; boundary=mlctl-")) << seen[2].content_type;
  ASSERT_EQ(seen[2].files.size(), 1u);
  EXPECT_EQ(seen[2].files[0].field, "uploadfile");
  EXPECT_EQ(seen[2].files[0].filename, "pipeline.yaml");
  EXPECT_EQ(seen[2].files[0].content_type, "application/x-yaml");
  EXPECT_EQ(seen[2].files[0].content, spec_);
  EXPECT_EQ(seen[3].method + " " + seen[3].path, "POST /apis/v2beta1/runs");
  EXPECT_EQ(nlohmann::json::parse(seen[3].body),
            (nlohmann::json{{"display_name", "train 2024-05-01"},
                            {"pipeline_version_reference", {{"pipeline_id", "p-1"}, {"pipeline_version_id", "v-1"}}},
                            {"runtime_config", {{"parameters", {{"lr", "0.05"}}}}}}));
  EXPECT_EQ(kfp_.uploaded("v-1"), spec_);
  EXPECT_EQ(kfp_.server().problems(), std::vector<std::string>{});
}

TEST_F(KfpClientTest, NextVersionGoesUnderTheSamePipeline) {
  ASSERT_TRUE(submit_kfp(server_, submit("1.4.0")));
  auto submitted = submit_kfp(server_, submit("1.4.1"));
  ASSERT_TRUE(submitted) << submitted.error().message();
  EXPECT_FALSE(submitted->created_pipeline);
  EXPECT_EQ(submitted->pipeline, (KfpPipeline{"p-1", "train", "train"}));
  EXPECT_EQ(submitted->version, (KfpPipelineVersion{"p-1", "v-2", "1.4.1", "1.4.1"}));
  EXPECT_EQ(submitted->run.run_id, "r-2");
  auto seen = kfp_.server().requests();
  ASSERT_EQ(seen.size(), 7u);
  EXPECT_EQ(seen[4].method + " " + seen[4].path, "GET /apis/v2beta1/pipelines/names/train");
  EXPECT_EQ(seen[5].method + " " + seen[5].path, "POST /apis/v2beta1/pipelines/upload_version");
  EXPECT_EQ(seen[6].method + " " + seen[6].path, "POST /apis/v2beta1/runs");
  EXPECT_EQ(kfp_.server().problems(), std::vector<std::string>{});
}

TEST_F(KfpClientTest, NamespaceIsPassedOn) {
  KfpSubmit in_namespace = submit("1.4.0");
  in_namespace.namespace_name = "team-a";
  in_namespace.experiment_id = "e-7";
  in_namespace.service_account = "pipeline-runner";
  ASSERT_TRUE(submit_kfp(server_, in_namespace));
  auto seen = kfp_.server().requests();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0].params, (std::multimap<std::string, std::string>{{"namespace", "team-a"}}));
  EXPECT_EQ(nlohmann::json::parse(seen[1].body),
            (nlohmann::json{{"name", "train"}, {"display_name", "train"}, {"namespace", "team-a"}}));
  auto run = nlohmann::json::parse(seen[3].body);
  EXPECT_EQ(run["experiment_id"], "e-7");
  EXPECT_EQ(run["service_account"], "pipeline-runner");
  EXPECT_EQ(kfp_.server().problems(), std::vector<std::string>{});
}

TEST_F(KfpClientTest, SameVersionTwiceIsAPrecondition) {
  ASSERT_TRUE(submit_kfp(server_, submit("1.4.0")));
  auto again = submit_kfp(server_, submit("1.4.0"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), Errc::precondition);
  EXPECT_EQ(again.error().message(),
            "uploading version 1.4.0 of pipeline p-1: POST " + url("/apis/v2beta1/pipelines/upload_version") +
                ": 409 Conflict: \"Failed to create a pipeline version. The pipeline already exists.: "
                "AlreadyExistsError: pipeline version 1.4.0 exists\"");
  EXPECT_EQ(again.error().hint(),
            "this version was uploaded before: bump the project version, or delete the version in KFP");
  EXPECT_EQ(kfp_.server().requests().size(), 6u);  // no run for the refused version
}

TEST_F(KfpClientTest, RefusedTokenIsAnAuthErrorThatNeverShowsIt) {
  std::string stale = "stale-kfp-token-22c8";
  std::vector<milliseconds> sleeps;
  KfpServer server{submit_test::client(kfp_.url(), stale, sleeps)};
  auto submitted = submit_kfp(server, submit("1.4.0"));
  ASSERT_FALSE(submitted);
  EXPECT_EQ(submitted.error().code(), Errc::remote);
  EXPECT_EQ(submitted.error().message(), "finding pipeline train: GET " + url("/apis/v2beta1/pipelines/names/train") +
                                             ": 401 Unauthorized: \"Jwt verification fails for Bearer ***\"");
  EXPECT_EQ(submitted.error().message().find(stale), std::string::npos);
  EXPECT_EQ(kfp_.server().requests().size(), 1u);
}

TEST_F(KfpClientTest, UploadServerErrorIsRemoteAndNotRepeated) {
  kfp_.server().fail_next("POST", "/upload_version", 500,
                          {{"error_message", "Failed to create a pipeline version: database is locked"},
                           {"error_details", "database is locked"}});
  auto submitted = submit_kfp(server_, submit("1.4.0"));
  ASSERT_FALSE(submitted);
  EXPECT_EQ(submitted.error().code(), Errc::remote);
  EXPECT_EQ(submitted.error().message(), "uploading version 1.4.0 of pipeline p-1: POST " +
                                             url("/apis/v2beta1/pipelines/upload_version") +
                                             ": 500 Internal Server Error: \"Failed to create a pipeline version: "
                                             "database is locked\"");
  EXPECT_EQ(kfp_.server().requests().size(), 3u);
}

TEST_F(KfpClientTest, RunOfAnUnknownVersionIsInvalid) {
  KfpRunRequest request{"x", "p-9", "v-9", {}, "", ""};
  auto run = kfp_create_run(server_, request);
  ASSERT_FALSE(run);
  EXPECT_EQ(run.error().code(), Errc::invalid);
  EXPECT_EQ(run.error().message(), "creating run x of pipeline version v-9: POST " + url("/apis/v2beta1/runs") +
                                       ": 400 Bad Request: \"Invalid input error: unknown pipeline_id\"");
}

TEST_F(KfpClientTest, AScheduleMakesARecurringRunInsteadOfARun) {
  KfpSubmit scheduled = submit("1.4.0");
  scheduled.schedule = "0 3 * * *";
  auto submitted = submit_kfp(server_, scheduled);
  ASSERT_TRUE(submitted) << submitted.error().message();
  EXPECT_TRUE(kfp_.server().problems().empty()) << kfp_.server().problems().front();
  ASSERT_TRUE(submitted->recurring_run);
  EXPECT_EQ(*submitted->recurring_run, (KfpRecurringRun{"rr-1", "train 2024-05-01", "0 0 3 * * *", "ENABLED"}));
  EXPECT_EQ(submitted->run.run_id, "");
  auto seen = kfp_.server().requests();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[3].method + " " + seen[3].path, "POST /apis/v2beta1/recurringruns");
  EXPECT_EQ(nlohmann::json::parse(seen[3].body),
            (nlohmann::json{{"display_name", "train 2024-05-01"},
                            {"pipeline_version_reference", {{"pipeline_id", "p-1"}, {"pipeline_version_id", "v-1"}}},
                            {"runtime_config", {{"parameters", {{"lr", "0.05"}}}}},
                            {"trigger", {{"cron_schedule", {{"cron", "0 0 3 * * *"}}}}},
                            {"max_concurrency", "1"},
                            {"mode", "ENABLE"},
                            {"no_catchup", true}}));
  EXPECT_EQ(kfp_cron("*/15 * * * 1-5"), "0 */15 * * * 1-5");
  EXPECT_EQ(kfp_cron("@daily"), "@daily");
}

TEST_F(KfpClientTest, RunStatusReadsTheStateAndEachTask) {
  ASSERT_TRUE(submit_kfp(server_, submit("1.4.0")));
  kfp_.script("r-1",
              {nlohmann::json{
                  {"state", "RUNNING"},
                  {"run_details",
                   {{"task_details",
                     {{{"task_id", "t1"}, {"display_name", "prepare"}, {"state", "SUCCEEDED"}, {"pod_name", "train-1"}},
                      {{"task_id", "t2"},
                       {"display_name", "train"},
                       {"state", "FAILED"},
                       {"error", {{"code", 2}, {"message", "exit status 1"}}},
                       {"pod_name", "train-2"}}}}}}}});
  auto run = kfp_run_status(server_, "r-1");
  ASSERT_TRUE(run) << run.error().message();
  EXPECT_EQ(run->run_id, "r-1");
  EXPECT_EQ(run->state, KfpState::running);
  EXPECT_EQ(run->created_at, "2024-05-01T03:00:00Z");
  EXPECT_EQ(run->tasks, (std::vector<KfpTask>{{"t1", "prepare", KfpState::succeeded, "", "train-1"},
                                              {"t2", "train", KfpState::failed, "exit status 1", "train-2"}}));
  EXPECT_EQ(kfp_.server().requests().back().path, "/apis/v2beta1/runs/r-1");
}

TEST_F(KfpClientTest, UnknownRunIsNotFound) {
  auto run = kfp_run_status(server_, "r-9");
  ASSERT_FALSE(run);
  EXPECT_EQ(run.error().code(), Errc::not_found);
  EXPECT_EQ(run.error().message(),
            "getting run r-9: GET " + url("/apis/v2beta1/runs/r-9") +
                ": 404 Not Found: \"Failed to get run: ResourceNotFoundError: Run r-9 not found\"");
}

TEST_F(KfpClientTest, WaitEndsOnAFinalState) {
  ASSERT_TRUE(submit_kfp(server_, submit("1.4.0")));
  kfp_.script("r-1", {nlohmann::json{{"state", "PENDING"}}, nlohmann::json{{"state", "RUNNING"}},
                      nlohmann::json{{"state", "FAILED"}, {"error", {{"code", 2}, {"message", "task train failed"}}}}});
  FakeClock clock;
  std::vector<KfpState> seen;
  auto run = kfp_wait_run(server_, "r-1", WaitOptions{milliseconds(1000)}, clock,
                          [&](const KfpRun& run) { seen.push_back(run.state); });
  ASSERT_TRUE(run) << run.error().message();
  EXPECT_EQ(run->state, KfpState::failed);
  EXPECT_EQ(run->error, "task train failed");
  EXPECT_EQ(seen, (std::vector<KfpState>{KfpState::pending, KfpState::running, KfpState::failed}));
  EXPECT_EQ(clock.sleeps, (std::vector<milliseconds>{milliseconds(1000), milliseconds(2000)}));
}

TEST_F(KfpClientTest, WaitGivesUpAfterTheTimeout) {
  ASSERT_TRUE(submit_kfp(server_, submit("1.4.0")));
  kfp_.script("r-1", {nlohmann::json{{"state", "RUNNING"}}});
  FakeClock clock;
  auto run =
      kfp_wait_run(server_, "r-1", WaitOptions{milliseconds(1000), milliseconds(1000), milliseconds(2000)}, clock);
  ASSERT_FALSE(run);
  EXPECT_EQ(run.error().code(), Errc::failed);
  EXPECT_EQ(run.error().message(), "waiting for run r-1: still RUNNING after 2s");
  EXPECT_EQ(clock.sleeps, (std::vector<milliseconds>{milliseconds(1000), milliseconds(1000)}));
}

TEST(KfpRunTest, StateReadsAsANameOrANumber) {
  EXPECT_EQ(parse_kfp_run({{"run_id", "r"}, {"state", 3}}).value().state, KfpState::succeeded);
  EXPECT_EQ(parse_kfp_run({{"run_id", "r"}, {"state", "CANCELED"}}).value().state, KfpState::canceled);
  EXPECT_EQ(parse_kfp_run({{"run_id", "r"}}).value().state, KfpState::unspecified);
  auto unknown = parse_kfp_run({{"run_id", "r"}, {"state", "EXPLODED"}});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), Errc::remote);
  EXPECT_EQ(unknown.error().message(), "run r: unknown state \"EXPLODED\"");
  EXPECT_TRUE(is_final(KfpState::skipped));
  EXPECT_FALSE(is_final(KfpState::canceling));
}

}  // namespace
}  // namespace mlctl::pipeline
