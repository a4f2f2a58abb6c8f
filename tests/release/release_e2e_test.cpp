// `mlctl release` end to end: a real git repository with the hook installed, the real Debian
// docker-registry, the local pipeline runner, the SQLite registry and a GitOps repository. A merge
// of a version bump into main releases everything; nothing else releases anything; a failure in
// the middle is continued, not redone.
#include <mlctl/core/process.hpp>

#include <build/e2e/e2e_fixture.hpp>
#include <git/git_cli.hpp>
#include <oci/remote/registry_fixture.hpp>
#include <pipeline_submit/fake_argo.hpp>
#include <support/temp_dir.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <functional>
#include <mutex>

#include <unistd.h>

namespace mlctl::test {
namespace {

namespace fs = std::filesystem;
using e2e::Json;

// The mlctl image a compiled pipeline's `uses:` steps run in.
std::string argo_tool_image() { return "ghcr.io/mlctl/mlctl@sha256:" + std::string(64, '2'); }

class ReleaseE2eTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    suite_dir_ = new TempDir();
    busybox_ = e2e::make_base_layout("busybox", suite_dir_->path());
  }
  static void TearDownTestSuite() {
    delete suite_dir_;
    suite_dir_ = nullptr;
  }

  // A project from the generic template (a shell-only pipeline whose last step registers the
  // model) releasing to a GitOps repository beside it, committed on main with the hook installed.
  void SetUp() override {
    ASSERT_FALSE(busybox_.empty());
    git(dir_.path(), {"init", "-q", "-b", "main", "gitops"});
    git(gitops_, {"commit", "-q", "--allow-empty", "-m", "the GitOps repository"});
    auto made = mlctl({"init", "app", "--template", "generic"}, dir_.path());
    ASSERT_EQ(made.exit_code, 0) << made.err;
    std::ofstream(app_ / "mlctl.yaml", std::ios::app) << "release:\n  gitops: {repo: ../gitops, dir: deploy}\n";
    git(app_, {"init", "-q", "-b", "main"});
    git(app_, {"add", "-A"});
    git(app_, {"commit", "-q", "-m", "app 0.1.0"});
    auto hooked = mlctl({"hook", "install"});
    ASSERT_EQ(hooked.exit_code, 0) << hooked.err;
  }

  std::map<std::string, std::string> env() const {
    auto vars = git_env();
    vars["MLCTL_REGISTRY"] = registry_.host();
    vars["MLCTL_BASE_IMAGE"] = "oci:" + busybox_.string() + ":1";
    vars["MLCTL_CACHE_DIR"] = (dir_ / "cache").string();
    return vars;
  }
  core::Completed mlctl(const std::vector<std::string>& args, const fs::path& cwd) const {
    std::vector<std::string> argv{MLCTL_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    return e2e::run(argv, cwd, env());
  }
  core::Completed mlctl(const std::vector<std::string>& args) const { return mlctl(args, app_); }
  std::string git(const fs::path& repo, const std::vector<std::string>& args) const {
    std::vector<std::string> argv{"git"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto done = e2e::run(argv, repo, env());
    EXPECT_EQ(done.exit_code, 0) << "git " << args.front() << ": " << done.err;
    if (done.out.ends_with('\n')) done.out.pop_back();
    return done.out;
  }

  // On a feature branch: set the version (if given) and change README.md; merge it into `into`
  // with a merge commit, which runs the hook (MLCTL_HOOK_WAIT=1: the test waits for the release).
  std::string merge_feature(const std::string& name, const std::string& version, const std::string& into = "main") {
    git(app_, {"checkout", "-q", "-b", name, into});
    if (!version.empty()) {
      std::string text = e2e::read_file(app_ / "mlctl.yaml");
      text.replace(text.find("version: "), text.find('\n', text.find("version: ")) - text.find("version: "),
                   "version: " + version);
      std::ofstream(app_ / "mlctl.yaml") << text;
    }
    std::ofstream(app_ / "README.md", std::ios::app) << name << "\n";
    git(app_, {"commit", "-q", "-am", name});
    git(app_, {"checkout", "-q", into});
    git(app_, {"merge", "-q", "--no-ff", "-m", "Merge " + name, name});
    return git(app_, {"rev-parse", "HEAD"});
  }

  // Adds a last pipeline step after the registration that prints "published" and, when
  // SLOW_PUBLISH names a file, then waits for that file to exist, at most `seconds` (a release
  // held in its training until the test lets it go on), and commits it.
  void add_publish_step(int seconds) {
    std::ofstream(app_ / "pipelines/train.yaml", std::ios::app)
        << "  - name: publish\n    needs: [register]\n"
           "    command: [sh, -c, \"echo published; i=0; while [ -n \\\"$SLOW_PUBLISH\\\" ] && "
           "[ ! -e \\\"$SLOW_PUBLISH\\\" ] && [ $i -lt "
        << seconds * 10 << " ]; do sleep 0.1; i=$((i+1)); done\"]\n";
    git(app_, {"commit", "-q", "-am", "publish step"});
  }

  // The release record of the last release, as `mlctl -o json release` prints it (a re-run,
  // which does nothing).
  Json record() const {
    auto shown = mlctl({"-o", "json", "release"});
    EXPECT_EQ(shown.exit_code, 0) << shown.err;
    return Json::parse(shown.out, nullptr, false);
  }
  // The versions of the model `app` registered so far (none before the first: exit 3).
  Json model_versions() const {
    auto listed = mlctl({"-o", "json", "model", "list", "app"});
    if (listed.exit_code == 3 && listed.err.starts_with("mlctl: error: no model 'app'")) return Json::array();
    EXPECT_EQ(listed.exit_code, 0) << listed.err;
    return Json::parse(listed.out, nullptr, false);
  }
  std::string release_log() const { return e2e::read_file(app_ / ".mlctl/release.log"); }
  std::map<std::string, std::string> merge_bump_trained_on(const FakeArgo& argo, std::string& merge);
  // A release run with `vars` that trains again, saying `why` (the earlier workflow is not
  // waited for), and registers the new workflow's run as version 1.
  void expect_trained_again(const std::map<std::string, std::string>& vars, const std::string& why);

  static TempDir* suite_dir_;
  static fs::path busybox_;

  RegistryServer registry_;
  TempDir dir_;
  fs::path app_ = dir_ / "app";
  fs::path gitops_ = dir_ / "gitops";
};

TempDir* ReleaseE2eTest::suite_dir_ = nullptr;
fs::path ReleaseE2eTest::busybox_;

TEST_F(ReleaseE2eTest, AMergedBumpReleasesEverythingOnceAndNothingElseReleases) {
  std::string merge = merge_feature("bump", "0.2.0");
  ASSERT_NE(release_log().find("app 0.2.0 release succeeded (commit " + merge.substr(0, 7) + ") to prod"),
            std::string::npos)
      << release_log();

  // The image: pushed under the version and the short merge commit, its digest the record's.
  Json release = record();
  EXPECT_EQ(release["released"], true);
  EXPECT_EQ(release["status"], "succeeded");
  EXPECT_EQ(release["version"], "0.2.0");
  EXPECT_EQ(release["commit"], merge);
  EXPECT_EQ(release["environment"], "prod");
  EXPECT_EQ(e2e::registry_tags(registry_.storage(), "app"), (std::vector<std::string>{"0.2.0", merge.substr(0, 7)}));
  std::string digest = release["digest"].get<std::string>();
  Json inspected = e2e::skopeo_json({"inspect", "--tls-verify=false", "docker://" + registry_.host() + "/app:0.2.0"},
                                    app_);
  EXPECT_EQ(inspected["Digest"], digest);
  EXPECT_EQ(inspected["Labels"]["org.opencontainers.image.revision"], merge);
  std::string image = registry_.host() + "/app:0.2.0@" + digest;
  EXPECT_EQ(release["image"], image);

  // The pipeline ran, and its model version records the merge commit, the image and the run.
  auto run = mlctl({"-o", "json", "pipeline", "show", release["run_id"].get<std::string>()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(Json::parse(run.out)["status"], "succeeded");
  EXPECT_EQ(release["model"], "app");
  EXPECT_EQ(release["model_version"], 1);
  auto shown = mlctl({"-o", "json", "model", "show", "app@1"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  Json version = Json::parse(shown.out);
  EXPECT_EQ(version["lineage"]["git"]["commit"], merge);
  EXPECT_EQ(version["lineage"]["git"]["dirty"], false);
  EXPECT_EQ(version["lineage"]["image"], image);
  EXPECT_EQ(version["lineage"]["run"], release["run_id"]);
  EXPECT_EQ(version["aliases"], Json::array({"production"})) << "the gate promoted it";
  EXPECT_EQ(release["gate"]["passed"], true);

  // The manifests: rendered, committed to the GitOps repository (its only new commit), naming
  // the image by digest; the tag at the merge commit; the project's branch left as it was.
  EXPECT_EQ(release["manifests"].size(), 3u);
  EXPECT_EQ(git(gitops_, {"rev-list", "--count", "HEAD"}), "2");
  EXPECT_EQ(git(gitops_, {"log", "-1", "--format=%s"}), "app 0.2.0 for prod: model app version 1");
  EXPECT_EQ(git(gitops_, {"ls-tree", "-r", "--name-only", "HEAD"}),
            "deploy/base/kustomization.yaml\ndeploy/overlays/prod/app.yaml\ndeploy/overlays/prod/kustomization.yaml");
  std::string deployment = git(gitops_, {"show", "HEAD:deploy/overlays/prod/app.yaml"});
  EXPECT_NE(deployment.find("image: " + image), std::string::npos) << deployment;
  EXPECT_NE(deployment.find("namespace: ml-prod"), std::string::npos);
  EXPECT_EQ(release["gitops"]["commit"], git(gitops_, {"rev-parse", "HEAD"}));
  EXPECT_EQ(release["tag"], "v0.2.0");
  EXPECT_EQ(git(app_, {"rev-parse", "v0.2.0^{commit}"}), merge);
  EXPECT_EQ(git(app_, {"rev-parse", "HEAD"}), merge);
  EXPECT_EQ(git(app_, {"status", "--porcelain"}), "");

  // Again on the same commit: nothing is done.
  auto again = mlctl({"release"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out.substr(0, again.out.find('\n')),
            "app 0.2.0 was released before: succeeded (commit " + merge.substr(0, 7) + ") to prod at " +
                release["finished_at"].get<std::string>());
  EXPECT_EQ(model_versions().size(), 1u);
  EXPECT_EQ(git(gitops_, {"rev-list", "--count", "HEAD"}), "2");

  // A merge without a bump, then a bump merged into another branch: neither releases.
  merge_feature("docs", "");
  EXPECT_NE(release_log().find("nothing to release: version 0.2.0 was not bumped since"), std::string::npos)
      << release_log();
  git(app_, {"branch", "staging", "main"});
  merge_feature("bump-on-staging", "0.3.0", "staging");
  auto tags = git(app_, {"tag", "--list"});
  EXPECT_EQ(tags, "v0.2.0");
  EXPECT_EQ(model_versions().size(), 1u);
  EXPECT_EQ(git(gitops_, {"rev-list", "--count", "HEAD"}), "2");
  EXPECT_EQ(e2e::registry_tags(registry_.storage(), "app"), (std::vector<std::string>{"0.2.0", merge.substr(0, 7)}));
  EXPECT_EQ(release_log().find("0.3.0"), std::string::npos) << "the hook ran no release on staging";
}

TEST_F(ReleaseE2eTest, AFailedStepIsContinuedByTheNextRunNotRedone) {
  // Run by hand here, each run checked; the hook would run the first one.
  ASSERT_EQ(mlctl({"hook", "uninstall"}).exit_code, 0);
  // The registry goes away: the build fails, and nothing after it runs.
  registry_.stop_serving();
  std::string merge = merge_feature("bump", "0.2.0");
  auto failed = mlctl({"-o", "json", "release"});
  ASSERT_EQ(failed.exit_code, 5) << failed.out << failed.err;
  Json first = Json::parse(failed.out.substr(0, failed.out.rfind("\n{")), nullptr, false);
  ASSERT_TRUE(first.is_object()) << failed.out;
  EXPECT_EQ(first["status"], "failed");
  ASSERT_EQ(first["steps"].size(), 1u);
  EXPECT_EQ(first["steps"][0]["step"], "build");
  EXPECT_EQ(first["steps"][0]["status"], "failed");
  EXPECT_EQ(model_versions().size(), 0u);

  // It comes back, but the training data's source fails (a `seq` that exits 3 comes first on
  // PATH): the build is done and stays done.
  registry_.restart();
  auto vars = env();
  vars["PATH"] = (dir_ / "bin").string() + ":" + std::getenv("PATH");
  fs::create_directories(dir_ / "bin");
  {
    std::ofstream seq(dir_ / "bin" / "seq");
    seq << "#!/bin/sh\necho 'seq: the data source is down' >&2\nexit 3\n";
  }
  fs::permissions(dir_ / "bin" / "seq", fs::perms(0755));
  std::vector<std::string> argv{MLCTL_BINARY, "-o", "json", "release"};
  auto second = e2e::run(argv, app_, vars);
  ASSERT_EQ(second.exit_code, 1) << second.out << second.err;
  EXPECT_NE(second.err.find("train: failed: run "), std::string::npos) << second.err;
  EXPECT_NE(second.err.find(" of pipeline train failed (prepare: exited with code 3)"), std::string::npos) << second.err;
  Json middle = Json::parse(second.out.substr(0, second.out.rfind("\n{")), nullptr, false);
  ASSERT_TRUE(middle.is_object()) << second.out;
  EXPECT_EQ(middle["steps"][0]["status"], "succeeded");
  EXPECT_EQ(middle["steps"][1]["step"], "train");
  EXPECT_EQ(middle["steps"][1]["status"], "failed");
  std::string built_at = middle["steps"][0]["finished_at"];
  EXPECT_EQ(e2e::registry_tags(registry_.storage(), "app"), (std::vector<std::string>{"0.2.0", merge.substr(0, 7)}));

  // The data source is back: the next run continues at training, and builds nothing again.
  auto third = mlctl({"-o", "json", "release"});
  ASSERT_EQ(third.exit_code, 0) << third.out << third.err;
  EXPECT_NE(third.err.find("build: done before"), std::string::npos) << third.err;
  Json done = Json::parse(third.out);
  EXPECT_EQ(done["status"], "succeeded");
  EXPECT_EQ(done["steps"].size(), 7u);
  EXPECT_EQ(done["steps"][0]["finished_at"], built_at);
  EXPECT_EQ(done["model_version"], 1);
  EXPECT_EQ(model_versions().size(), 1u);
  EXPECT_EQ(git(app_, {"rev-parse", "v0.2.0^{commit}"}), merge);
  EXPECT_EQ(git(gitops_, {"rev-list", "--count", "HEAD"}), "2");
}

// Reads `fd` into `text` until `text` holds `marker` (true) or the pipe ends (false).
bool read_until(int fd, const std::string& marker, std::string& text) {
  char buffer[4096];
  while (text.find(marker) == std::string::npos) {
    ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got <= 0) return false;
    text.append(buffer, static_cast<size_t>(got));
  }
  return true;
}

// What is left to read on `fd`, to its end.
std::string read_rest(int fd) {
  std::string text;
  char buffer[4096];
  for (ssize_t got; (got = ::read(fd, buffer, sizeof buffer)) > 0;) text.append(buffer, static_cast<size_t>(got));
  return text;
}

// Starts `mlctl -o json release` (its progress and the pipeline's output on stderr) and kills its
// whole process group with SIGKILL as soon as a line of stderr holds `marker`. Returns whether it
// was killed there (false: it ended first, with the stderr it printed in `err` and its release
// record in `out`).
bool kill_release_at(const std::string& marker, const fs::path& cwd, const std::map<std::string, std::string>& env,
                     std::string& err, std::string& out) {
  auto child = core::Child::spawn(
      {.argv = {MLCTL_BINARY, "-o", "json", "release"}, .cwd = cwd, .env = env, .unset_env = {}, .input = {},
       .timeout = {}});
  if (!child) {
    ADD_FAILURE() << child.error().message();
    return false;
  }
  if (read_until(child->stderr_fd(), marker, err)) {
    child->signal_group(SIGKILL);
    return child->wait().signal == SIGKILL;
  }
  out = read_rest(child->stdout_fd());
  child->wait();
  return false;
}

TEST_F(ReleaseE2eTest, KilledInEveryStepTheNextRunCompletesItExactlyOnce) {
  ASSERT_EQ(mlctl({"hook", "uninstall"}).exit_code, 0);
  // A kill in the dawdling last step comes after the model was registered and before the release
  // recorded its training.
  add_publish_step(120);
  std::string merge = merge_feature("bump", "0.2.0");
  // Killed as each step starts, and in the pipeline's last step (which waits there, so that kill
  // always lands after the registration and before the release recorded its training). The later
  // steps take milliseconds: a kill may land after the step it aimed at, and that step is then
  // done before (tests/release/run_test.cpp kills in each step deterministically). Each next run
  // takes the release over from the dead process and goes on from where it was.
  const std::vector<std::string> markers = {"build: started",  "train: started",  "| published",
                                            "register: started", "gate: started", "render: started",
                                            "tag: started",      "commit: started"};
  int kills = 0;
  for (const auto& marker : markers) {
    auto vars = env();
    if (marker == "| published") vars["SLOW_PUBLISH"] = (app_.parent_path() / "never-created").string();
    std::string err, out;
    bool killed = kill_release_at(marker, app_, vars, err, out);
    if (marker == "| published") {
      ASSERT_TRUE(killed) << err;
    }
    kills += killed;
    // Not killed: the step it aimed at was done before, or the kill before landed so late that
    // the whole release was done (a re-run then only prints the record).
    if (!killed) {
      bool done_before = err.find(marker.substr(0, marker.find(':')) + ": done before") != std::string::npos;
      bool released = Json::parse(out, nullptr, false).value("status", "") == "succeeded";
      ASSERT_TRUE(done_before || released) << err << out;
    }
  }
  EXPECT_GE(kills, 3);
  auto last = mlctl({"-o", "json", "release"});
  ASSERT_EQ(last.exit_code, 0) << last.err;
  Json done = Json::parse(last.out);
  EXPECT_EQ(done["status"], "succeeded");
  EXPECT_EQ(done["steps"].size(), 7u);

  // Exactly once: one image under its two tags, one model version (the pipeline's registration
  // before the kill, found again), one alias move, one tag, one GitOps commit.
  EXPECT_EQ(e2e::registry_tags(registry_.storage(), "app"), (std::vector<std::string>{"0.2.0", merge.substr(0, 7)}));
  ASSERT_EQ(model_versions().size(), 1u);
  EXPECT_EQ(done["model_version"], 1);
  auto history = mlctl({"-o", "json", "model", "history", "app"});
  ASSERT_EQ(history.exit_code, 0) << history.err;
  std::vector<std::string> actions;
  for (const auto& entry : Json::parse(history.out)) actions.push_back(entry["action"]);
  std::ranges::sort(actions);
  EXPECT_EQ(actions, (std::vector<std::string>{"alias.set", "register"}));
  EXPECT_EQ(git(app_, {"tag", "--list"}), "v0.2.0");
  EXPECT_EQ(git(app_, {"rev-parse", "v0.2.0^{commit}"}), merge);
  EXPECT_EQ(git(gitops_, {"rev-list", "--count", "HEAD"}), "2");
  EXPECT_EQ(git(app_, {"status", "--porcelain"}), "");
}

TEST_F(ReleaseE2eTest, ASecondReleaseWhileOneRunsIsRefusedOrWaitsForIt) {
  ASSERT_EQ(mlctl({"hook", "uninstall"}).exit_code, 0);
  add_publish_step(120);
  merge_feature("bump", "0.2.0");

  // The first release is held in its training until the test opens the gate; meanwhile a second
  // one is refused (exit 4, naming the first's process), and one from a hook waits, then finds it
  // released.
  fs::path gate = app_.parent_path() / "publish-gate";
  auto vars = env();
  vars["SLOW_PUBLISH"] = gate.string();
  auto first = core::Child::spawn({.argv = {MLCTL_BINARY, "-o", "json", "release"}, .cwd = app_, .env = vars,
                                   .unset_env = {}, .input = {}, .timeout = {}});
  ASSERT_TRUE(first) << first.error().message();  // its record (stdout) fits in the pipe: read after it ends
  std::string err;
  ASSERT_TRUE(read_until(first->stderr_fd(), "| published", err)) << err;

  auto refused = mlctl({"release"});
  EXPECT_EQ(refused.exit_code, 4);
  EXPECT_TRUE(refused.err.starts_with("mlctl: error: release 0.2.0 of commit " +
                                      git(app_, {"rev-parse", "HEAD"}).substr(0, 12) + " is running in process " +
                                      std::to_string(first->pid()) + "@"))
      << refused.err;
  auto waiter = core::Child::spawn({.argv = {MLCTL_BINARY, "release", "--from-hook"}, .cwd = app_, .env = env(),
                                    .unset_env = {}, .input = {}, .timeout = {}});
  ASSERT_TRUE(waiter) << waiter.error().message();
  std::string waiter_err, waiter_out;
  EXPECT_TRUE(read_until(waiter->stderr_fd(),
                         "waiting for release 0.2.0 (process " + std::to_string(first->pid()) + "@", waiter_err))
      << waiter_err;
  std::ofstream(gate) << "open\n";
  EXPECT_EQ(first->wait().exit_code, 0);
  waiter_out = read_rest(waiter->stdout_fd());
  waiter_err += read_rest(waiter->stderr_fd());
  ASSERT_EQ(waiter->wait().exit_code, 0) << waiter_err;
  EXPECT_TRUE(waiter_out.starts_with("app 0.2.0 was released before: succeeded")) << waiter_out;
  EXPECT_EQ(model_versions().size(), 1u);
  EXPECT_EQ(git(gitops_, {"rev-list", "--count", "HEAD"}), "2");
}

// The cluster behind a fake Argo Server, played by the test: each task of a created Workflow's DAG
// runs its container's command on this machine, in the order of the DAG, with /mlctl/outputs a
// folder of the run's own (its volume) and the workflow's name filled in. Steps in the project
// image run in the project (the work tree the image was built from), the others (the mlctl image's
// `uses: register`) in an empty folder, as a pod without a project would. The workflow then reports
// each task as a succeeded pod with its output parameters (read from their files), or fails at the
// first task that does.
class PlayedCluster {
public:
  PlayedCluster(FakeArgo& argo, fs::path root, fs::path project, std::map<std::string, std::string> env)
      : argo_(argo), root_(std::move(root)), project_(std::move(project)), env_(std::move(env)) {
    argo_.on_create([this](const std::string& name, const Json& workflow) {
      std::unique_lock lock(mutex_);
      if (!held_) {
        lock.unlock();
        return run(name, workflow);
      }
      workflows_[name] = workflow;
      argo_.script(name, {{{"phase", "Running"}, {"nodes", Json::object()}}});
    });
  }
  // What the workflow's status says a step put out: `edit` gets each output parameter (name, value).
  void tamper(std::function<std::string(const std::string&, std::string)> edit) { tamper_ = std::move(edit); }
  // The task STEP of workflows created from now on fails without running ("": none does).
  void fail(const std::string& step) {
    std::lock_guard lock(mutex_);
    failing_ = step;
  }
  // Workflows created from now on stay running until finish() runs them (hold(false): they run).
  void hold(bool held = true) {
    std::lock_guard lock(mutex_);
    held_ = held;
  }
  void finish(const std::string& name) {
    Json workflow;
    {
      std::lock_guard lock(mutex_);
      workflow = workflows_.at(name);
    }
    run(name, workflow);
  }
  // Where the run of workflow NAME kept its outputs.
  fs::path outputs(const std::string& name) const { return root_ / name / "outputs"; }
  // The image each task ran in, by task.
  std::map<std::string, std::string> images() const {
    std::lock_guard lock(mutex_);
    return images_;
  }

private:
  std::string pod_path(std::string text, const std::string& name) const {
    for (size_t at; (at = text.find("/mlctl/outputs")) != std::string::npos;)
      text.replace(at, std::string_view("/mlctl/outputs").size(), outputs(name).string());
    for (size_t at; (at = text.find("{{workflow.name}}")) != std::string::npos;)
      text.replace(at, std::string_view("{{workflow.name}}").size(), name);
    return text;
  }

  void run(const std::string& name, const Json& workflow) {
    const Json& spec = workflow["spec"];
    std::map<std::string, Json> templates;
    for (const Json& t : spec["templates"]) templates[t["name"]] = t;
    Json nodes = Json::object();
    std::string phase = "Succeeded";
    for (const Json& task : templates[spec["entrypoint"]]["dag"]["tasks"]) {
      std::string step = task["template"];
      const Json& container = templates[step]["container"];
      std::vector<std::string> argv;
      for (const char* part : {"command", "args"})
        for (const Json& word : container.value(part, Json::array())) argv.push_back(pod_path(word, name));
      if (argv.front() == "mlctl") argv.front() = MLCTL_BINARY;
      auto env = env_;
      for (const Json& var : container.value("env", Json::array())) env[var["name"]] = var["value"];
      bool self = container["image"] != argo_tool_image();
      fs::path cwd = self ? project_ : root_ / name / "pods" / step;
      fs::create_directories(cwd);
      fs::create_directories(outputs(name) / step);
      bool fails;
      {
        std::lock_guard lock(mutex_);
        fails = step == failing_;
      }
      Json node = {{"id", name + "-" + step}, {"name", name + "." + step}, {"displayName", step}, {"type", "Pod"},
                   {"templateName", step},    {"phase", "Failed"}, {"message", "Error (exit code 1)"}};
      if (fails) {
        nodes[name + "-" + step] = node;
        phase = "Failed";
        break;
      }
      auto done = e2e::run(argv, cwd, env);
      EXPECT_TRUE(done.ok()) << step << ": " << done.out << done.err;
      if (done.ok()) node.erase("message");
      node["phase"] = done.ok() ? "Succeeded" : "Failed";
      for (const Json& parameter : templates[step].value("outputs", Json::object()).value("parameters", Json::array()))
        node["outputs"]["parameters"].push_back(
            {{"name", parameter["name"]},
             {"value", tamper_(parameter["name"], e2e::read_file(pod_path(parameter["valueFrom"]["path"], name)))}});
      nodes[name + "-" + step] = node;
      {
        std::lock_guard lock(mutex_);
        images_[step] = container["image"];
      }
      if (!done.ok()) {
        phase = "Failed";
        break;
      }
    }
    argo_.script(name, {{{"phase", phase}, {"nodes", nodes}}});
  }

  FakeArgo& argo_;
  fs::path root_;
  fs::path project_;
  std::map<std::string, std::string> env_;
  mutable std::mutex mutex_;
  std::map<std::string, std::string> images_;
  bool held_ = false;
  std::string failing_;
  std::function<std::string(const std::string&, std::string)> tamper_ = [](const std::string&, std::string value) {
    return value;
  };
  std::map<std::string, Json> workflows_;  // held
};

// The project trains on Argo (release.train), its models stored in the test registry; a bump
// merged (the hook uninstalled: the test runs each release). Returns the environment a release
// there runs with: the server, its token file, the mlctl image, the shared artifact store.
std::map<std::string, std::string> ReleaseE2eTest::merge_bump_trained_on(const FakeArgo& argo, std::string& merge) {
  EXPECT_EQ(mlctl({"hook", "uninstall"}).exit_code, 0);
  std::ofstream(app_ / "mlctl.yaml", std::ios::app) << "  train: {backend: argo, namespace: ml-dev}\n";
  git(app_, {"commit", "-q", "-am", "train on argo"});
  merge = merge_feature("bump", "0.2.0");
  std::ofstream(dir_ / "argo-token") << FakeArgo::k_token;
  auto vars = env();
  vars["MLCTL_PIPELINE_SERVER"] = argo.url();
  vars["MLCTL_PIPELINE_TOKEN_FILE"] = (dir_ / "argo-token").string();
  vars["MLCTL_TOOL_IMAGE"] = argo_tool_image();
  vars["MLCTL_ARTIFACT_STORE"] = "oci://" + registry_.host() + "/models/app";
  return vars;
}

void ReleaseE2eTest::expect_trained_again(const std::map<std::string, std::string>& vars, const std::string& why) {
  auto again = e2e::run({MLCTL_BINARY, "-o", "json", "release"}, app_, vars);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find(why), std::string::npos) << again.err;
  EXPECT_EQ(Json::parse(again.out)["run_id"], "train-m4q9z");
  auto shown = mlctl({"-o", "json", "model", "show", "app@1"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_EQ(Json::parse(shown.out)["lineage"]["run"], "train-m4q9z");
  EXPECT_EQ(model_versions().size(), 1u);
}

TEST_F(ReleaseE2eTest, TrainingOnArgoRegistersWhatTheWorkflowStagedOnce) {
  FakeArgo argo;
  PlayedCluster cluster(argo, dir_ / "cluster", app_, env());
  std::string merge;
  auto vars = merge_bump_trained_on(argo, merge);
  // Up to the training: the workflow runs; nothing is registered yet.
  auto trained_only = e2e::run({MLCTL_BINARY, "release", "--only", "build,train"}, app_, vars);
  ASSERT_EQ(trained_only.exit_code, 0) << trained_only.out << trained_only.err;
  EXPECT_NE(trained_only.err.find("submitted ml-dev/train-x7k2p; waiting for it to finish"), std::string::npos)
      << trained_only.err;
  EXPECT_EQ(model_versions().size(), 0u);
  // The rest: registered here from what the register step staged, without running the workflow again.
  auto released = e2e::run({MLCTL_BINARY, "-o", "json", "release"}, app_, vars);
  ASSERT_EQ(released.exit_code, 0) << released.out << released.err;
  Json release = record();
  ASSERT_EQ(release["status"], "succeeded") << release.dump() << released.err;
  std::string image = release["image"];
  EXPECT_EQ(image, registry_.host() + "/app:0.2.0@" + release["digest"].get<std::string>());

  // One Workflow, named by the server, in the namespace of release.train: the project's steps ran
  // in the image just built, the registration in the mlctl image.
  EXPECT_EQ(release["run_id"], "train-x7k2p");
  ASSERT_TRUE(argo.object("workflows/ml-dev/train-x7k2p"));
  EXPECT_FALSE(argo.object("workflows/ml-dev/train-m4q9z")) << "one workflow only";
  EXPECT_EQ(cluster.images(), (std::map<std::string, std::string>{
                                  {"prepare", image}, {"train", image}, {"register", argo_tool_image()}}));

  // The version: registered here, from what the register step staged in the shared store, once;
  // its lineage names the merge commit, the image and the workflow, its artifact is the model the
  // cluster trained, and the gate promoted it.
  Json versions = model_versions();
  ASSERT_EQ(versions.size(), 1u) << versions.dump();
  auto shown = mlctl({"-o", "json", "model", "show", "app@1"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  Json version = Json::parse(shown.out);
  EXPECT_EQ(version["lineage"]["git"]["commit"], merge);
  EXPECT_EQ(version["lineage"]["image"], image);
  EXPECT_EQ(version["lineage"]["run"], "train-x7k2p");
  EXPECT_EQ(version["tags"]["pipeline"], "train");
  EXPECT_EQ(version["aliases"], Json::array({"production"}));
  Json trained = Json::parse(e2e::read_file(cluster.outputs("train-x7k2p") / "train/metrics"));
  EXPECT_EQ(version["metrics"], trained);
  EXPECT_TRUE(version.value("artifact_uri", "").starts_with("oci://" + registry_.host() + "/models/app"))
      << version.dump();
  auto pulled = e2e::run({MLCTL_BINARY, "model", "pull", "app@1", (dir_ / "pulled").string()}, app_, vars);
  ASSERT_EQ(pulled.exit_code, 0) << pulled.err;
  EXPECT_EQ(e2e::read_file(dir_ / "pulled"), e2e::read_file(cluster.outputs("train-x7k2p") / "train/model"));
  EXPECT_EQ(git(gitops_, {"rev-list", "--count", "HEAD"}), "2");
  EXPECT_EQ(git(app_, {"rev-parse", "v0.2.0^{commit}"}), merge);

  // Again on the same commit: nothing is done.
  auto again = e2e::run({MLCTL_BINARY, "-o", "json", "release"}, app_, vars);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(model_versions().size(), 1u);
  EXPECT_FALSE(argo.object("workflows/ml-dev/train-m4q9z"));
}

TEST_F(ReleaseE2eTest, KilledWhileItsWorkflowRunsTheNextRunWaitsForThatWorkflow) {
  FakeArgo argo;
  PlayedCluster cluster(argo, dir_ / "cluster", app_, env());
  cluster.hold();
  std::string merge;
  auto vars = merge_bump_trained_on(argo, merge);
  std::string err, out;
  ASSERT_TRUE(kill_release_at("waiting for it to finish", app_, vars, err, out)) << err << out;
  ASSERT_NE(err.find("submitted ml-dev/train-x7k2p"), std::string::npos) << err;

  // The workflow goes on without the release, and finishes; the next run takes it up.
  cluster.finish("train-x7k2p");
  auto resumed = e2e::run({MLCTL_BINARY, "-o", "json", "release"}, app_, vars);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  EXPECT_NE(resumed.err.find("workflow ml-dev/train-x7k2p was submitted by an earlier run of this release"),
            std::string::npos)
      << resumed.err;
  EXPECT_FALSE(argo.object("workflows/ml-dev/train-m4q9z")) << "not trained again";
  Json release = Json::parse(resumed.out, nullptr, false);
  EXPECT_EQ(release["status"], "succeeded") << resumed.out;
  EXPECT_EQ(release["run_id"], "train-x7k2p");
  ASSERT_EQ(model_versions().size(), 1u);
  auto shown = mlctl({"-o", "json", "model", "show", "app@1"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_EQ(Json::parse(shown.out)["lineage"]["run"], "train-x7k2p");
  EXPECT_EQ(Json::parse(shown.out)["lineage"]["git"]["commit"], merge);
}

// --push publishes the tag to the project's origin and the GitOps commit to the GitOps
// repository's origin (both bare repositories here, as a git server keeps them); a GitOps work
// tree on a detached HEAD is refused before anything is committed there.
TEST_F(ReleaseE2eTest, PushPublishesTheTagAndTheGitOpsCommitToTheirOrigins) {
  ASSERT_EQ(mlctl({"hook", "uninstall"}).exit_code, 0);
  fs::path app_origin = dir_ / "app.git", gitops_origin = dir_ / "gitops.git";
  git(dir_.path(), {"init", "-q", "--bare", "-b", "main", app_origin.string()});
  git(dir_.path(), {"init", "-q", "--bare", "-b", "main", gitops_origin.string()});
  git(app_, {"remote", "add", "origin", app_origin.string()});
  git(gitops_, {"remote", "add", "origin", gitops_origin.string()});
  git(gitops_, {"push", "-q", "origin", "main"});
  std::string start = git(gitops_, {"rev-parse", "HEAD"});
  git(gitops_, {"checkout", "-q", "--detach"});
  std::string merge = merge_feature("bump", "0.2.0");

  auto detached = mlctl({"release", "--push"});
  EXPECT_EQ(detached.exit_code, 4) << detached.err;
  EXPECT_NE(detached.err.find("mlctl: error: the GitOps repository " + gitops_.string() +
                              " has a detached HEAD: no branch to push\nhint: check out its branch there\n"),
            std::string::npos)
      << detached.err;
  EXPECT_EQ(git(gitops_, {"rev-parse", "HEAD"}), start) << "nothing committed on the detached HEAD";

  git(gitops_, {"checkout", "-q", "main"});
  auto pushed = mlctl({"-o", "json", "release", "--push"});
  ASSERT_EQ(pushed.exit_code, 0) << pushed.err;
  Json release = Json::parse(pushed.out);
  EXPECT_EQ(release["status"], "succeeded");
  std::string committed = git(gitops_, {"rev-parse", "HEAD"});
  EXPECT_NE(committed, start);
  EXPECT_EQ(release["gitops"]["commit"], committed);
  EXPECT_EQ(git(gitops_origin, {"rev-parse", "main"}), committed);
  EXPECT_EQ(git(gitops_origin, {"log", "-1", "--format=%s", "main"}), "app 0.2.0 for prod: model app version 1");
  EXPECT_EQ(git(app_origin, {"rev-parse", "v0.2.0^{commit}"}), merge);
  EXPECT_EQ(git(app_origin, {"for-each-ref", "--format=%(refname)"}), "refs/tags/v0.2.0")
      << "the tag only: a release never pushes the branch it was triggered from";
}

// A registration whose lineage names another run than the workflow the release waited for is
// refused, and nothing is registered.
TEST_F(ReleaseE2eTest, AStagedRegistrationOfAnotherRunIsRefused) {
  FakeArgo argo;
  PlayedCluster cluster(argo, dir_ / "cluster", app_, env());
  cluster.tamper([](const std::string& name, std::string value) {
    if (name != "registration") return value;
    Json staged = Json::parse(value);
    staged["lineage"]["run"] = "train-other";
    return staged.dump();
  });
  std::string merge;
  auto vars = merge_bump_trained_on(argo, merge);
  auto refused = e2e::run({MLCTL_BINARY, "release"}, app_, vars);
  EXPECT_EQ(refused.exit_code, 5) << refused.err;
  EXPECT_NE(refused.err.find("mlctl: error: step register of workflow train-x7k2p: the staged registration names "
                             "run \"train-other\"\n"),
            std::string::npos)
      << refused.err;
  EXPECT_EQ(model_versions().size(), 0u);
}

// A workflow that fails fails the train step, naming the failed task and how to read its logs;
// the next run trains again (a failed workflow is not waited for twice) and registers that run.
TEST_F(ReleaseE2eTest, AFailedWorkflowFailsTheTrainingAndTheNextRunTrainsAgain) {
  FakeArgo argo;
  PlayedCluster cluster(argo, dir_ / "cluster", app_, env());
  cluster.fail("train");
  std::string merge;
  auto vars = merge_bump_trained_on(argo, merge);
  auto failed = e2e::run({MLCTL_BINARY, "release"}, app_, vars);
  EXPECT_EQ(failed.exit_code, 1) << failed.err;
  EXPECT_NE(failed.err.find("mlctl: error: workflow ml-dev/train-x7k2p of pipeline train ended in phase Failed (train: "
                            "Error (exit code 1))\nhint: its logs: mlctl pipeline logs train-x7k2p -n ml-dev --server " +
                            argo.url() + "\n"),
            std::string::npos)
      << failed.err;
  EXPECT_EQ(model_versions().size(), 0u);

  cluster.fail("");
  expect_trained_again(vars, "workflow train-x7k2p ended in phase Failed: training again");
}

// A workflow the release was waiting for when it was killed, and that the server no longer has
// (deleted, or garbage-collected), is not waited for: the next run trains again.
TEST_F(ReleaseE2eTest, AWorkflowTheServerNoLongerHasIsTrainedAgain) {
  FakeArgo argo;
  PlayedCluster cluster(argo, dir_ / "cluster", app_, env());
  cluster.hold();
  std::string merge;
  auto vars = merge_bump_trained_on(argo, merge);
  std::string err, out;
  ASSERT_TRUE(kill_release_at("waiting for it to finish", app_, vars, err, out)) << err << out;
  argo.remove("workflows/ml-dev/train-x7k2p");

  cluster.hold(false);
  expect_trained_again(vars, "workflow train-x7k2p is gone: training again");
}

// A registration output that is not JSON is the cluster's fault (exit 5), named by step and
// workflow; nothing is registered.
TEST_F(ReleaseE2eTest, AStagedRegistrationThatIsNotJsonIsRefused) {
  FakeArgo argo;
  PlayedCluster cluster(argo, dir_ / "cluster", app_, env());
  cluster.tamper([](const std::string& name, std::string value) {
    return name == "registration" ? std::string("{\"name\": \"app\", ") : value;
  });
  std::string merge;
  auto vars = merge_bump_trained_on(argo, merge);
  auto refused = e2e::run({MLCTL_BINARY, "release"}, app_, vars);
  EXPECT_EQ(refused.exit_code, 5) << refused.err;
  EXPECT_NE(refused.err.find("mlctl: error: step register of workflow train-x7k2p put out a registration that is not "
                             "JSON\n"),
            std::string::npos)
      << refused.err;
  EXPECT_EQ(model_versions().size(), 0u);
}

}  // namespace
}  // namespace mlctl::test
