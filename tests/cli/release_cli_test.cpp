// `mlctl release` through the real binary on real git repositories, up to the point where it
// would build: whether a release is due, its plan, and every refusal (exit 4) with its override.
// The whole flow against a real registry is tests/release/release_e2e_test.cpp.
#include <git/git_cli.hpp>
#include <support/run.hpp>
#include <support/temp_dir.hpp>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <fstream>

namespace mlctl::test {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

std::string project(const std::string& version, const std::string& release = "") {
  return "name: fraud\nversion: " + version +
         "\npipelines: {train: train.yaml}\n"
         "environments:\n  dev: {namespace: ml-dev, branch: develop}\n  prod: {namespace: ml-prod, branch: main}\n" +
         release;
}
const std::string k_pipeline = "name: train\nsteps:\n  - name: fit\n    command: [sh, -c, \"true\"]\n";

class ReleaseCliTest : public ::testing::Test {
protected:
  void SetUp() override {
    init_repository(dir_.path(), {{"mlctl.yaml", project("1.4.0")}, {"train.yaml", k_pipeline}});
    bump("1.5.0");
  }
  void bump(const std::string& version, const std::string& release = "") {
    std::ofstream(dir_ / "mlctl.yaml") << project(version, release);
    git({"commit", "-q", "-am", "fraud " + version});
  }
  std::string git(std::vector<std::string> args) { return test::git(dir_.path(), std::move(args)); }
  core::Completed mlctl(const std::vector<std::string>& args) const { return run_mlctl(args, dir_.path(), git_env()); }
  Json json(const std::vector<std::string>& args, int exit_code) const {
    std::vector<std::string> all{"-o", "json"};
    all.insert(all.end(), args.begin(), args.end());
    auto ran = mlctl(all);
    EXPECT_EQ(ran.exit_code, exit_code) << ran.out << ran.err;
    // A failure prints the release record, then the error as a second document.
    size_t error = ran.out.rfind("\n{");
    return Json::parse(exit_code != 0 && error != std::string::npos ? ran.out.substr(0, error) : ran.out, nullptr,
                       false);
  }

  TempDir dir_;
};

TEST_F(ReleaseCliTest, DryRunPrintsThePlanAndChangesNothing) {
  std::string head = git({"rev-parse", "HEAD"});
  auto plan = mlctl({"release", "--dry-run"});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_EQ(plan.out, "would release fraud 1.5.0 (commit " + head.substr(0, 7) +
                          ") to prod (namespace ml-prod): version 1.4.0 -> 1.5.0\n"
                          "  build     build the image (mlctl.yaml has no image section: it will fail)\n"
                          "  train     run pipeline train (train.yaml) on this machine with the image\n"
                          "  register  take the model version the run registered, its lineage naming the commit, "
                          "the image and the run\n"
                          "  gate      promote it to production\n"
                          "  render    render its Kubernetes manifests for prod (namespace ml-prod) into "
                          ".mlctl/releases/1.5.0\n"
                          "  tag       tag commit " + head.substr(0, 7) + " as v1.5.0\n"
                          "  commit    keep the manifests there (mlctl.yaml has no release.gitops)\n"
                          "(dry run: nothing was changed)\n");
  Json document = json({"release", "--dry-run", "--only", "tag,build"}, 0);
  EXPECT_EQ(document["dry_run"], true);
  EXPECT_EQ(document["commit"], head);
  EXPECT_EQ(document["tag"], "v1.5.0");
  ASSERT_EQ(document["steps"].size(), 2u);
  EXPECT_EQ(document["steps"][0]["step"], "build");
  EXPECT_EQ(document["steps"][1]["step"], "tag");
  EXPECT_FALSE(fs::exists(dir_ / ".mlctl/registry.db")) << "a dry run records nothing";
  EXPECT_EQ(git({"tag", "--list"}), "");
}

TEST_F(ReleaseCliTest, NoBumpIsNothingToReleaseAndExitsZero) {
  std::ofstream(dir_ / "README.md") << "docs\n";
  git({"add", "README.md"});
  git({"commit", "-q", "-m", "docs"});
  std::string base = git({"rev-parse", "HEAD~1"});
  auto ran = mlctl({"release"});
  ASSERT_EQ(ran.exit_code, 0) << ran.err;
  EXPECT_EQ(ran.out, "nothing to release: version 1.5.0 was not bumped since " + base.substr(0, 7) + "\n");
  Json document = json({"release"}, 0);
  EXPECT_EQ(document["released"], false);
  EXPECT_EQ(document["due"], false);
  EXPECT_EQ(document["version"], "1.5.0");
  EXPECT_FALSE(fs::exists(dir_ / ".mlctl"));

  // --since an older revision, or --force, makes it due again.
  EXPECT_EQ(json({"release", "--dry-run", "--since", "HEAD~2"}, 0)["due"], true);
  Json forced = json({"release", "--dry-run", "--force"}, 0);
  EXPECT_EQ(forced["reason"], "version 1.5.0 was not bumped since " + base.substr(0, 7) + "; released anyway (--force)");
}

TEST_F(ReleaseCliTest, RefusesADirtyTreeABranchWithoutEnvironmentAndATagElsewhere) {
  std::ofstream(dir_ / "notes.txt") << "untracked\n";
  auto dirty = mlctl({"release", "--dry-run"});
  EXPECT_EQ(dirty.exit_code, 4);
  EXPECT_EQ(dirty.err, "mlctl: error: the work tree " + fs::canonical(dir_.path()).string() +
                           "/ has uncommitted changes: a release is made from a commit\n"
                           "hint: commit or stash them (git status lists them), or pass --allow-dirty\n");
  EXPECT_EQ(json({"release", "--dry-run", "--allow-dirty"}, 0)["due"], true);
  fs::remove(dir_ / "notes.txt");

  git({"checkout", "-q", "-b", "feature/x"});
  auto unmapped = mlctl({"release", "--dry-run"});
  EXPECT_EQ(unmapped.exit_code, 4);
  EXPECT_EQ(unmapped.err.substr(0, unmapped.err.find('\n')),
            "mlctl: error: branch feature/x has no environment in mlctl.yaml");
  EXPECT_EQ(json({"release", "--dry-run", "--env", "dev"}, 0)["environment"], "dev");
  auto unknown = mlctl({"release", "--dry-run", "--env", "qa"});
  EXPECT_EQ(unknown.exit_code, 3);
  EXPECT_EQ(unknown.err, "mlctl: error: no environment 'qa' in mlctl.yaml\n"
                         "hint: its environments: dev (branch develop), prod (branch main)\n");
  git({"checkout", "-q", "main"});

  git({"tag", "v1.5.0", "HEAD~1"});
  auto tagged = mlctl({"release", "--dry-run"});
  EXPECT_EQ(tagged.exit_code, 4);
  std::string earlier = git({"rev-parse", "--short=7", "HEAD~1"}), head = git({"rev-parse", "--short=7", "HEAD"});
  EXPECT_EQ(tagged.err, "mlctl: error: tag v1.5.0 already points at commit " + earlier + ", not at " + head +
                            ": version 1.5.0 was released from another commit\n"
                            "hint: bump the version, or pass --keep-tag to release without tagging\n");
  Json kept = json({"release", "--dry-run", "--keep-tag"}, 0);
  ASSERT_EQ(kept["steps"].size(), 6u);
  for (const auto& step : kept["steps"]) EXPECT_NE(step["step"], "tag");
}

TEST_F(ReleaseCliTest, AStepWhoseInputsNeverRanAndAGitOpsRepoThatIsTheProjectAreRefused) {
  auto render = mlctl({"release", "--only", "render"});
  EXPECT_EQ(render.exit_code, 4);
  EXPECT_NE(render.err.find("mlctl: error: the render step needs the register step's model, and that step has not "
                            "succeeded for this release\n"),
            std::string::npos)
      << render.err;
  Json record = json({"release", "--only", "render"}, 4);
  EXPECT_EQ(record["status"], "failed");
  EXPECT_EQ(record["steps"][0]["step"], "render");

  bump("1.6.0", "release:\n  gitops: {repo: ., dir: deploy}\n");
  auto own = mlctl({"release", "--dry-run"});
  EXPECT_EQ(own.exit_code, 4);
  EXPECT_EQ(own.err.substr(0, own.err.find('\n')),
            "mlctl: error: mlctl.yaml:8:18: release.gitops.repo: . is the project's own repository: a release never "
            "commits to the branch it was triggered from");
}

TEST_F(ReleaseCliTest, AGitOpsRepoThatIsNotAWorkTreeAndACommitWithNothingRenderedAreRefused) {
  fs::path ops = dir_.path().parent_path() / (dir_.path().filename().string() + "-ops");
  bump("1.6.0", "release:\n  gitops: {repo: ../" + ops.filename().string() + ", dir: deploy}\n");
  auto missing = mlctl({"release", "--dry-run"});
  EXPECT_EQ(missing.exit_code, 4);
  EXPECT_TRUE(missing.err.starts_with("mlctl: error: mlctl.yaml:8:18: release.gitops.repo: " + ops.string() +
                                      " is not a git work tree: "))
      << missing.err;
  EXPECT_TRUE(missing.err.ends_with("\nhint: clone the GitOps repository there first\n")) << missing.err;

  fs::create_directories(ops);
  init_repository(ops, {{"README.md", "manifests\n"}});
  std::string ops_head = test::git(ops, {"rev-parse", "HEAD"});
  auto commit = mlctl({"release", "--only", "commit"});
  EXPECT_EQ(commit.exit_code, 4);
  EXPECT_NE(commit.err.find("mlctl: error: nothing is rendered in .mlctl/releases/1.6.0\n"
                            "hint: run the release with the render step (leave it in --only)\n"),
            std::string::npos)
      << commit.err;
  EXPECT_EQ(test::git(ops, {"rev-parse", "HEAD"}), ops_head) << "nothing was committed";
  fs::remove_all(ops);
}

TEST_F(ReleaseCliTest, TrainingOnArgoIsPlannedAndRefusedWithoutAServerASharedStoreOrATimeout) {
  bump("1.6.0", "release:\n  train: {backend: argo, namespace: ml-train, timeout: 2x}\n");
  auto plan = mlctl({"release", "--dry-run", "--only", "train"});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_EQ(plan.out.substr(plan.out.find('\n') + 1),
            "  train     submit pipeline train (train.yaml) with the image to Argo Workflows (no server: it will fail) "
            "(namespace ml-train) and wait for it\n(dry run: nothing was changed)\n");
  auto planned = run_mlctl({"release", "--dry-run", "--only", "train"}, dir_.path(),
                           {{"MLCTL_PIPELINE_SERVER", "https://argo.example.com:2746"}});
  EXPECT_NE(planned.out.find("to Argo Workflows at https://argo.example.com:2746 (namespace ml-train)"),
            std::string::npos)
      << planned.out;

  // Each refused before anything is submitted (there is no server to submit to).
  auto no_server = mlctl({"release", "--only", "train"});
  EXPECT_EQ(no_server.exit_code, 2) << no_server.err;
  EXPECT_NE(no_server.err.find("mlctl: error: release.train.backend argo: no Argo Server to submit the training to\n"
                               "hint: set release.train.server in mlctl.yaml, pass --server URL, or set "
                               "MLCTL_PIPELINE_SERVER\n"),
            std::string::npos)
      << no_server.err;
  auto local_store = mlctl({"release", "--only", "train", "--server", "http://127.0.0.1:9"});
  EXPECT_EQ(local_store.exit_code, 4) << local_store.err;
  EXPECT_NE(local_store.err.find("mlctl: error: release.train.backend argo: the cluster stores the model, and this "
                                 "machine must reach it, but the artifact store is local to each\n"
                                 "hint: set registry.artifacts in mlctl.yaml (or MLCTL_ARTIFACT_STORE) to an oci:// "
                                 "or s3:// location\n"),
            std::string::npos)
      << local_store.err;
  auto timeout = run_mlctl({"release", "--only", "train", "--server", "http://127.0.0.1:9"}, dir_.path(),
                           {{"MLCTL_ARTIFACT_STORE", "oci://127.0.0.1:9/models/fraud"}});
  EXPECT_EQ(timeout.exit_code, 2) << timeout.err;
  EXPECT_NE(timeout.err.find("mlctl: error: mlctl.yaml: release.train.timeout: "), std::string::npos) << timeout.err;
  auto run = mlctl({"-o", "json", "model", "list"});
  EXPECT_EQ(run.out, "[]\n") << "nothing was registered";
}

TEST_F(ReleaseCliTest, ABadReleaseSectionIsNamedWithItsLine) {
  bump("1.6.0", "release:\n  gate: {require: \"metrics.auc >>= 0.9\"}\n");
  auto bad = mlctl({"release", "--only", "gate"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_EQ(bad.err.substr(0, bad.err.find('\n')), "mlctl: error: mlctl.yaml:8:19: release.gate.require: "
                                                  "'metrics.auc > >=': a metric is compared with a number");
  EXPECT_FALSE(fs::exists(dir_ / ".mlctl/registry.db")) << "refused before anything ran";
}

}  // namespace
}  // namespace mlctl::test
