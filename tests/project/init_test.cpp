#include <mlctl/project/init.hpp>

#include <mlctl/core/config.hpp>

#include <support/run.hpp>
#include <support/temp_dir.hpp>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

namespace mlctl::project {
namespace {

namespace fs = std::filesystem;

Result<InitResult> init(const fs::path& dir, std::string template_name, std::optional<std::string> name = std::nullopt,
                        Overwrite overwrite = Overwrite::no) {
  return init_project({dir, std::move(template_name), std::move(name), overwrite});
}

TEST(InitTest, TemplateNamesAreTheFoldersOfTemplatesInit) {
  EXPECT_EQ(template_names(), (std::vector<std::string>{"generic", "sklearn"}));
}

TEST(InitTest, SklearnProjectValidates) {
  test::TempDir dir;
  auto result = init(dir / "Fraud_Detector", "sklearn");
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(result->name, "fraud-detector");
  EXPECT_EQ(result->files, (std::vector<std::string>{".gitignore", "README.md", "mlctl.yaml", "pipelines/train.yaml",
                                                     "predict.py", "requirements.txt", "train.py"}));
  auto checked = core::check_project_file(dir / "Fraud_Detector/mlctl.yaml", [](const std::string&) {
    return std::optional<std::string>();
  });
  ASSERT_TRUE(checked.project) << checked.problems.front().to_string();
  EXPECT_EQ(checked.project->name, "fraud-detector");
  EXPECT_EQ(checked.project->version, "0.1.0");
  EXPECT_EQ(checked.project->image->repository, "localhost:5000/fraud-detector");
  EXPECT_EQ(checked.project->image->base, "python:3.11-slim");
  EXPECT_EQ(checked.project->model.flavor, "sklearn");
  EXPECT_EQ(dir.read("Fraud_Detector/README.md").substr(0, 17), "# fraud-detector\n");
}

TEST(InitTest, GenericProjectValidatesWithExplicitName) {
  test::TempDir dir;
  auto result = init(dir.path(), "generic", "shell-demo");
  ASSERT_TRUE(result);
  auto checked = core::check_project_file(dir / "mlctl.yaml", core::process_env());
  ASSERT_TRUE(checked.project) << checked.problems.front().to_string();
  EXPECT_EQ(checked.project->name, "shell-demo");
  EXPECT_EQ(checked.project->model.flavor, "generic");
}

TEST(InitTest, RefusesToOverwriteAndWritesNothing) {
  test::TempDir dir;
  dir.write("README.md", "mine\n");
  dir.write("train.sh", "mine too\n");
  auto refused = init(dir.path(), "generic", "demo");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Errc::precondition);
  EXPECT_EQ(refused.error().message(), dir.path().string() + " already has README.md, train.sh");
  EXPECT_EQ(refused.error().hint(), "nothing was written; pass --force to overwrite these files");
  EXPECT_EQ(dir.read("README.md"), "mine\n");
  EXPECT_FALSE(fs::exists(dir / "mlctl.yaml"));

  ASSERT_TRUE(init(dir.path(), "generic", "demo", Overwrite::yes));
  EXPECT_EQ(dir.read("README.md").substr(0, 7), "# demo\n");
}

TEST(InitTest, RejectsBadNamesAndTemplates) {
  test::TempDir dir;
  auto bad_name = init(dir.path(), "generic", "Bad_Name");
  ASSERT_FALSE(bad_name);
  EXPECT_EQ(bad_name.error().code(), Errc::invalid);
  EXPECT_EQ(bad_name.error().message(), "--name: 'Bad_Name' is not a valid name: 'B' is not allowed");
  auto bad_template = init(dir.path(), "pytorch");
  ASSERT_FALSE(bad_template);
  EXPECT_EQ(bad_template.error().message(), "unknown template 'pytorch'");
  EXPECT_EQ(bad_template.error().hint(), "choose one of: generic, sklearn");
  auto unnameable = init(dir / "___", "generic");
  ASSERT_FALSE(unnameable);
  EXPECT_EQ(unnameable.error().hint(), "pass --name NAME (lowercase letters, digits and '-')");
  EXPECT_FALSE(fs::exists(dir / "___"));
}

TEST(InitTest, GenericTemplateTrainsAndPredictsWithTheShell) {
  test::TempDir dir;
  ASSERT_TRUE(init(dir.path(), "generic", "demo"));
  auto prepare = test::run_command({"sh", "-c", "seq 1 100 > data.txt"}, dir.path());
  ASSERT_EQ(prepare.exit_code, 0);
  auto train = test::run_command({"sh", "train.sh", "data.txt", "model.json", "metrics.json"}, dir.path());
  ASSERT_EQ(train.exit_code, 0) << train.err;
  EXPECT_EQ(dir.read("model.json"), "{\"threshold\": 50.5000}\n");
  EXPECT_EQ(dir.read("metrics.json"), "{\"rows\": 100, \"mean\": 50.5000}\n");
  auto predict = test::run_command({"sh", "predict.sh", "10", "90"}, dir.path(), {{"MODEL_PATH", "model.json"}});
  EXPECT_EQ(predict.out, "10 low\n90 high\n");
}

// Debian's python3-sklearn, through /usr/bin/python3 (a python3 elsewhere on PATH may not see it).
TEST(InitTest, SklearnTemplateTrainsOnBundledDataAndPredicts) {
  test::TempDir dir;
  ASSERT_TRUE(init(dir.path(), "sklearn", "demo"));
  auto train = test::run_command({"/usr/bin/python3", "train.py", "--model", "model.pkl", "--metrics", "metrics.json"},
                                 dir.path());
  ASSERT_EQ(train.exit_code, 0) << train.err;
  auto metrics = nlohmann::json::parse(dir.read("metrics.json"));
  EXPECT_EQ(metrics["train_rows"], 426);
  EXPECT_EQ(metrics["test_rows"], 143);
  EXPECT_GE(metrics["accuracy"].get<double>(), 0.95);
  EXPECT_GE(metrics["auc"].get<double>(), 0.98);
  auto predict = test::run_command({"/usr/bin/python3", "predict.py", "--model", "model.pkl"}, dir.path());
  ASSERT_EQ(predict.exit_code, 0) << predict.err;
  auto output = nlohmann::json::parse(predict.out);
  EXPECT_EQ(output["labels"], nlohmann::json({0, 0, 0, 0, 0}));
  EXPECT_EQ(output["predictions"], output["labels"]);
}

}  // namespace
}  // namespace mlctl::project
