#include "local_run_test.hpp"

#include <mlctl/core/digest.hpp>
#include <mlctl/models/registry.hpp>
#include <mlctl/pipeline/local/register_action.hpp>

#include <support/run.hpp>
#include <support/temp_dir.hpp>

namespace mlctl::pipeline {
namespace {

namespace fs = std::filesystem;
using ComponentStepTest = LocalRunTest;

// filesystem/get_file from the Kubeflow Pipelines repository: `sh -ex -c` copying a file out of
// an {inputPath} directory to an {outputPath}, with an {inputValue} subpath.
TEST_F(ComponentStepTest, RealKfpComponentRunsWithItsPlaceholdersBound) {
  Pipeline pipeline = load(R"(name: kfp
steps:
  - name: make-dir
    command: [sh, -c, "mkdir -p {{outputs.dir}}/sub && echo content > {{outputs.dir}}/sub/file.txt"]
    outputs: [dir]
  - name: get-file
    component: )" MLCTL_TEST_DATA R"(/kfp-components/filesystem-get-file/component.yaml
    arguments: {Directory: "{{steps.make-dir.outputs.dir}}", Subpath: sub/file.txt}
)");
  RunRecord record = run(pipeline);
  ASSERT_EQ(record.status, RunStatus::succeeded) << record.steps[1].message;
  EXPECT_EQ(output(record, "get-file", "File"), "content\n");
  std::string dir = output_path(record, "make-dir", "dir").string();
  std::string file = output_path(record, "get-file", "File").string();
  // sh -x traces the commands it runs, on stderr, which the runner merges into the step's log.
  std::string log = dir_.read(".mlctl/runs/" + record.id + "/get-file/step.log");
  EXPECT_EQ(log, "+ dirname " + file + "\n+ mkdir -p " + output_path(record, "get-file", "").parent_path().string() +
                     "\n+ cp -r " + dir + "/sub/file.txt " + file + "\n");

  RunRecord cached = run(pipeline);
  EXPECT_EQ(statuses(cached), (std::vector<std::string>{"make-dir=cached", "get-file=cached"}));
  EXPECT_EQ(dir_.read((output_path(cached, "make-dir", "dir") / "sub" / "file.txt").lexically_relative(dir_.path()).string()),
            "content\n")
      << "a directory output is restored whole";
  EXPECT_EQ(output(cached, "get-file", "File"), "content\n");
}

TEST_F(ComponentStepTest, InputValueReadFromAFileIsWrittenForTheStep) {
  dir_.write("components/upper/component.yaml", R"(name: Upper
inputs:
- {name: text, type: String}
outputs:
- {name: shouted, type: String}
implementation:
  container:
    image: alpine
    command: [sh, -c, 'tr a-z A-Z < "$0" > "$1"', {inputPath: text}, {outputPath: shouted}]
)");
  Pipeline pipeline = load(R"(name: values
params: {word: quiet}
steps:
  - name: upper
    component: components/upper/component.yaml
    arguments: {text: "{{params.word}} please"}
)");
  RunRecord record = run(pipeline);
  ASSERT_EQ(record.status, RunStatus::succeeded) << record.steps[0].message;
  EXPECT_EQ(output(record, "upper", "shouted"), "QUIET PLEASE");
  EXPECT_EQ(dir_.read(".mlctl/runs/" + record.id + "/upper/.inputs/text"), "quiet please");
}

// A project that is a git repository, so that lineage names its commit.
class RegisterStepTest : public LocalRunTest {
protected:
  void SetUp() override {
    std::map<std::string, std::string> env{{"GIT_AUTHOR_NAME", "Ada"}, {"GIT_AUTHOR_EMAIL", "ada@example.com"},
                                           {"GIT_COMMITTER_NAME", "Ada"}, {"GIT_COMMITTER_EMAIL", "ada@example.com"}};
    dir_.write(".gitignore", ".mlctl/\nran.log\npipeline.yaml\n");  // a clean tree: lineage says dirty: false
    for (auto args : std::vector<std::vector<std::string>>{
             {"git", "init", "-q", "-b", "main"}, {"git", "add", "-A"}, {"git", "commit", "-q", "-m", "start"}})
      ASSERT_EQ(test::run_command(args, dir_.path(), env).exit_code, 0);
    commit_ = test::run_command({"git", "rev-parse", "HEAD"}, dir_.path()).out.substr(0, 40);
  }
  std::string commit_;
};

constexpr std::string_view k_register = R"(name: train
params: {lr: "0.1"}
steps:
  - name: train
    command: [sh, -c, "echo weights-{{params.lr}} > {{outputs.model}}; echo '{\"auc\": 0.91}' > {{outputs.metrics}}"]
    outputs: [model, metrics]
    metrics: metrics
  - name: register
    uses: register
    with: {artifact: "{{steps.train.outputs.model}}", metrics: "{{steps.train.outputs.metrics}}", model: fraud}
)";

TEST_F(RegisterStepTest, RegistersAVersionWithTheRunAsLineage) {
  Pipeline pipeline = load(k_register);
  RunRecord record = run(pipeline);
  ASSERT_EQ(record.status, RunStatus::succeeded) << record.steps[1].message;
  EXPECT_EQ(record.git_commit, commit_);
  auto registry = models::Registry::open(dir_ / ".mlctl" / "registry.db", models::OpenMode::existing);
  ASSERT_TRUE(registry);
  auto version = registry->version({.name = "fraud"});
  ASSERT_TRUE(version) << version.error().message();
  EXPECT_EQ(version->version, 1);
  EXPECT_EQ(version->lineage["run"], record.id);
  EXPECT_EQ(version->lineage["git"]["commit"], commit_);
  EXPECT_EQ(version->metrics, (nlohmann::json{{"auc", 0.91}}));
  EXPECT_EQ(version->params, (nlohmann::json{{"lr", "0.1"}}));
  EXPECT_EQ(version->tags, (nlohmann::json{{"pipeline", "train"}}));
  EXPECT_EQ(version->artifact.digest, core::sha256_digest(output(record, "train", "model")));
  EXPECT_EQ(observer_.lines,
            (std::vector<std::string>{"register: registered fraud version 1 (" + version->artifact.digest + ")"}));

  RunRecord again = run(pipeline);
  EXPECT_EQ(statuses(again), (std::vector<std::string>{"train=cached", "register=cached"}));
  EXPECT_EQ(registry->version({.name = "fraud"})->version, 1) << "nothing changed, nothing registered";

  RunOptions changed = options();
  changed.params = {{"lr", "0.2"}};
  RunRecord retrained = run(pipeline, changed);
  EXPECT_EQ(statuses(retrained), (std::vector<std::string>{"train=succeeded", "register=succeeded"}));
  auto second = registry->version({.name = "fraud"});
  EXPECT_EQ(second->version, 2);
  EXPECT_EQ(second->lineage["run"], retrained.id);
}

TEST_F(RegisterStepTest, ARunForAnImageRegistersItsModelOncePerCommitAndImage) {
  Pipeline pipeline = load(k_register);
  const std::string image = "127.0.0.1:5000/fraud:1.5.0@sha256:" + std::string(64, 'a');
  RunOptions release = options();
  release.registry.image = image;
  RunRecord first = run(pipeline, release);
  ASSERT_EQ(first.status, RunStatus::succeeded) << first.steps[1].message;
  auto registry = models::Registry::open(dir_ / ".mlctl" / "registry.db", models::OpenMode::existing);
  ASSERT_TRUE(registry);
  EXPECT_EQ(registry->version({.name = "fraud"})->lineage["image"], image);

  // Run again without the cache (as after a kill between registering and caching): the version
  // registered for this commit, artifact and image is found, not registered twice.
  release.cache = UseCache::no;
  RunRecord again = run(pipeline, release);
  EXPECT_EQ(statuses(again), (std::vector<std::string>{"train=succeeded", "register=succeeded"}));
  EXPECT_EQ(observer_.lines.back(), observer_.lines.front());
  EXPECT_EQ(registry->version({.name = "fraud"})->version, 1);
  EXPECT_EQ(registry->version({.name = "fraud"})->lineage["run"], first.id);

  // Another image (the next release) registers a new version; so does a run without one.
  release.registry.image = "127.0.0.1:5000/fraud:1.5.1@sha256:" + std::string(64, 'b');
  run(pipeline, release);
  EXPECT_EQ(registry->version({.name = "fraud"})->version, 2);
  RunOptions plain = options();
  plain.cache = UseCache::no;
  run(pipeline, plain);
  EXPECT_EQ(registry->version({.name = "fraud"})->version, 3);
}

// A cluster's register step stages (it has no database); the machine that submitted the run
// registers what it staged, once however often it is taken.
TEST_F(RegisterStepTest, AStagedVersionIsStoredThenRegisteredOnceByTheSubmitter) {
  test::TempDir pod;  // no git work tree, no project, no database
  fs::path model = pod.write("outputs/train/model", "weights-0.1\n");
  fs::path metrics = pod.write("outputs/train/metrics", R"({"auc": 0.93})");
  const std::string store = (dir_.path() / "store").string();
  const std::string commit(40, 'c');
  RegisterRequest request{.artifact = model.string(), .metrics = metrics.string(), .model = "fraud",
                          .pipeline = "train", .run_id = "train-x7k2p", .git_commit = commit,
                          .project_root = pod.path()};
  auto staged = stage_model(request, {.database = {}, .artifacts = store});
  ASSERT_TRUE(staged) << staged.error().message();
  EXPECT_EQ((*staged)["model"], "fraud");
  EXPECT_EQ((*staged)["metrics"], (nlohmann::json{{"auc", 0.93}}));
  EXPECT_EQ((*staged)["tags"], (nlohmann::json{{"pipeline", "train"}}));
  EXPECT_EQ((*staged)["lineage"]["run"], "train-x7k2p");
  EXPECT_EQ((*staged)["lineage"]["git"], (nlohmann::json{{"commit", commit}}));
  EXPECT_EQ((*staged)["artifact"]["digest"], core::sha256_digest("weights-0.1\n"));
  EXPECT_EQ((*staged)["artifact"]["size"], 12);
  EXPECT_FALSE(fs::exists(dir_.path() / ".mlctl")) << "staging needs no database";

  const std::string image = "127.0.0.1:5000/fraud:1.5.0@sha256:" + std::string(64, 'a');
  fs::create_directories(dir_.path() / ".mlctl");
  RegistryLocation here{.database = dir_.path() / ".mlctl" / "registry.db", .artifacts = store, .model = {},
                        .flavor = "sklearn", .image = image};
  auto version = register_staged(*staged, "step register of workflow train-x7k2p", here);
  ASSERT_TRUE(version) << version.error().message();
  EXPECT_EQ(version->name, "fraud");
  EXPECT_EQ(version->version, 1);
  EXPECT_EQ(version->flavor, "sklearn");
  EXPECT_EQ(version->lineage["image"], image);
  EXPECT_EQ(version->lineage["run"], "train-x7k2p");
  EXPECT_EQ(version->artifact.digest, (*staged)["artifact"]["digest"]);
  auto again = register_staged(*staged, "step register of workflow train-x7k2p", here);
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(again->version, 1) << "taken twice, registered once";

  // A description that is not stage_model's fails, naming where it came from.
  nlohmann::json forged = *staged;
  forged["artifact"]["digest"] = "md5:0";
  auto refused = register_staged(forged, "step register of workflow train-x7k2p", here);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Errc::invalid);
  EXPECT_EQ(refused.error().message(),
            "step register of workflow train-x7k2p: the staged registration's artifact names no stored artifact");
  forged = *staged;
  forged.erase("lineage");
  EXPECT_EQ(register_staged(forged, "step register", here).error().message(),
            "step register: the staged registration's lineage is missing or not an object");
  auto registry = models::Registry::open(dir_.path() / ".mlctl" / "registry.db", models::OpenMode::existing);
  EXPECT_EQ(registry->version({.name = "fraud"})->version, 1);
}

TEST_F(RegisterStepTest, WithoutAModelNameTheStepFails) {
  Pipeline pipeline = load(R"(name: train
steps:
  - name: train
    command: [sh, -c, "echo w > {{outputs.model}}"]
    outputs: [model]
  - name: register
    uses: register
    with: {artifact: "{{steps.train.outputs.model}}"}
)");
  RunRecord record = run(pipeline);
  EXPECT_EQ(statuses(record), (std::vector<std::string>{"train=succeeded", "register=failed"}));
  EXPECT_EQ(record.steps[1].message, "no model to register");
  RunOptions named = options();
  named.registry.model = "churn";
  EXPECT_EQ(run(pipeline, named).status, RunStatus::succeeded);
}

}  // namespace
}  // namespace mlctl::pipeline
