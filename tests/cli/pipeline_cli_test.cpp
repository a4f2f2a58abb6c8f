// `mlctl pipeline run|runs|show|graph|compile|action` through the real binary: the diamond the
// issue asks for, failures, Ctrl-C, and what the run records.
#include <support/run.hpp>
#include <support/temp_dir.hpp>

#include <mlctl/core/fs.hpp>
#include <mlctl/core/process.hpp>

#include <csignal>
#include <thread>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

namespace mlctl::test {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// source makes 1..n; double (scale) and square read it; total adds both up and reports metrics.
constexpr std::string_view k_diamond = R"(name: diamond
params: {n: "3", scale: "2"}
steps:
  - name: source
    command: [sh, -c, "seq 1 {{params.n}} > {{outputs.numbers}}; echo made {{params.n}} numbers"]
    outputs: [numbers]
  - name: double
    command: [sh, -c, "awk '{print $1 * {{params.scale}}}' {{steps.source.outputs.numbers}} > {{outputs.scaled}}"]
    outputs: [scaled]
  - name: square
    command: [sh, -c, "awk '{print $1 * $1}' {{steps.source.outputs.numbers}} > {{outputs.squared}}"]
    outputs: [squared]
  - name: total
    command: [sh, -c, "cat {{steps.double.outputs.scaled}} {{steps.square.outputs.squared}} | awk '{s += $1} END {print s}' > {{outputs.sum}}; echo \"{\\\"sum\\\": $(cat {{outputs.sum}})}\" > {{outputs.metrics}}"]
    outputs: [sum, metrics]
    metrics: metrics
)";

// name -> status of a run's -o json document.
std::map<std::string, std::string> statuses(const Json& run) {
  std::map<std::string, std::string> result;
  for (const auto& step : run["steps"]) result[step["name"]] = step["status"];
  return result;
}

std::string read(const fs::path& path) { return core::read_file(path).value_or("<missing>"); }

Json run_json(const std::vector<std::string>& args, const fs::path& cwd, int expected_exit = 0) {
  std::vector<std::string> argv{"-o", "json", "pipeline", "run"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto run = run_mlctl(argv, cwd);
  EXPECT_EQ(run.exit_code, expected_exit) << run.err;
  Json document = Json::parse(run.out, nullptr, false);
  EXPECT_FALSE(document.is_discarded()) << run.out;
  return document;
}

TEST(PipelineCliTest, DiamondRunsThenCachesThenRerunsOnlyWhatAParamChanges) {
  TempDir dir;
  dir.write("mlctl.yaml", "name: demo\nversion: 1.0.0\npipelines:\n  diamond: pipelines/diamond.yaml\n");
  dir.write("pipelines/diamond.yaml", std::string(k_diamond));

  auto first = run_mlctl({"pipeline", "run", "diamond"}, dir.path());
  ASSERT_EQ(first.exit_code, 0) << first.err;
  // The step's own output, prefixed with its name; the summary names the run's folder.
  EXPECT_NE(first.out.find("source | made 3 numbers\n"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find(" succeeded in "), std::string::npos) << first.out;
  EXPECT_NE(first.out.find(": 4 succeeded\nits files: .mlctl/runs/"), std::string::npos) << first.out;
  EXPECT_NE(first.err.find("total  | succeeded: "), std::string::npos) << first.err;

  Json runs = Json::parse(run_mlctl({"-o", "json", "pipeline", "runs"}, dir.path()).out);
  ASSERT_EQ(runs.size(), 1u);
  std::string id = runs[0]["run_id"];
  fs::path folder = dir / ".mlctl/runs" / id;
  // 2+4+6 and 1+4+9
  EXPECT_EQ(read(folder / "total/sum"), "26\n");
  EXPECT_EQ(read(folder / "source/step.log"), "made 3 numbers\n");

  Json cached = run_json({"diamond"}, dir.path());
  EXPECT_EQ(statuses(cached), (std::map<std::string, std::string>{
                                  {"source", "cached"}, {"double", "cached"}, {"square", "cached"}, {"total", "cached"}}));
  EXPECT_EQ(cached["steps"][3]["metrics"], (Json{{"sum", 26}}));
  EXPECT_EQ(read(fs::path(cached["directory"].get<std::string>()) / "total/sum"), "26\n");

  Json scaled = run_json({"diamond", "--param", "scale=10"}, dir.path());
  EXPECT_EQ(statuses(scaled), (std::map<std::string, std::string>{{"source", "cached"},
                                                                  {"double", "succeeded"},
                                                                  {"square", "cached"},
                                                                  {"total", "succeeded"}}));
  EXPECT_EQ(scaled["params"], (Json{{"n", "3"}, {"scale", "10"}}));
  EXPECT_EQ(scaled["steps"][3]["metrics"], (Json{{"sum", 74}}));  // 10+20+30 + 1+4+9

  auto show = run_mlctl({"-o", "json", "pipeline", "show", scaled["run_id"]}, dir.path());
  ASSERT_EQ(show.exit_code, 0) << show.err;
  Json shown = Json::parse(show.out);
  EXPECT_EQ(statuses(shown), statuses(scaled));
  EXPECT_EQ(shown["steps"][3]["metrics"], (Json{{"sum", 74}}));
  auto show_text = run_mlctl({"pipeline", "show", scaled["run_id"]}, dir.path());
  EXPECT_NE(show_text.out.find("params n=\"3\" scale=\"10\"\n"), std::string::npos) << show_text.out;
  EXPECT_NE(show_text.out.find("sum=74"), std::string::npos) << show_text.out;

  Json listed = Json::parse(run_mlctl({"-o", "json", "pipeline", "runs", "diamond", "--limit", "2"}, dir.path()).out);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0]["run_id"], scaled["run_id"]);
  EXPECT_EQ(listed[0]["counts"], "2 succeeded, 2 cached");
  EXPECT_EQ(listed[1]["counts"], "4 cached");

  // --no-cache runs everything; a graph of the run shows each step's status.
  Json fresh = run_json({"diamond", "--no-cache", "-j", "1"}, dir.path());
  EXPECT_EQ(fresh["steps"][0]["status"], "succeeded");
  EXPECT_EQ(fresh["steps"][3]["status"], "succeeded");
  auto graph = run_mlctl({"pipeline", "graph", fresh["run_id"], "--format", "mermaid"}, dir.path());
  ASSERT_EQ(graph.exit_code, 0) << graph.err;
  EXPECT_NE(graph.out.find("s3[\"total (succeeded)\"]"), std::string::npos) << graph.out;
  auto nothing = run_mlctl({"pipeline", "graph", "20000101-000000-000000"}, dir.path());
  EXPECT_EQ(nothing.exit_code, 3);
  EXPECT_EQ(nothing.err, "mlctl: error: no pipeline and no run '20000101-000000-000000'\n"
                         "hint: its pipelines: diamond\n");
}

TEST(PipelineCliTest, AFailingStepFailsTheRunSkipsWhatNeedsItAndLetsTheRestFinish) {
  TempDir dir;
  dir.write("fails.yaml", R"(name: fails
steps:
  - name: broken
    command: [sh, -c, "echo about to fail; exit 3"]
  - name: after
    needs: [broken]
    command: [sh, -c, "echo never"]
  - name: other
    command: [sh, -c, "echo fine > {{outputs.done}}"]
    outputs: [done]
)");
  // A file with no mlctl.yaml around it: state goes next to the file.
  Json run = run_json({"fails.yaml"}, dir.path(), 1);
  EXPECT_EQ(run["status"], "failed");
  EXPECT_EQ(statuses(run), (std::map<std::string, std::string>{
                               {"broken", "failed"}, {"after", "skipped"}, {"other", "succeeded"}}));
  EXPECT_EQ(run["steps"][0]["exit_code"], 3);
  EXPECT_EQ(run["steps"][0]["message"], "exited with code 3");
  EXPECT_EQ(run["steps"][1]["message"], "broken failed");
  EXPECT_TRUE(fs::exists(dir / ".mlctl/registry.db"));
  EXPECT_EQ(read(dir / ".mlctl/runs" / run["run_id"].get<std::string>() / "broken/step.log"), "about to fail\n");

  auto text = run_mlctl({"pipeline", "run", "fails.yaml"}, dir.path());
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_NE(text.err.find("broken | failed: exited with code 3\n"), std::string::npos) << text.err;
  EXPECT_NE(text.err.find("after  | skipped: broken failed\n"), std::string::npos) << text.err;
  EXPECT_NE(text.out.find(" failed in "), std::string::npos) << text.out;

  auto unknown = run_mlctl({"pipeline", "run", "fails.yaml", "--param", "lr=1"}, dir.path());
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_EQ(unknown.err, "mlctl: error: pipeline fails has no param 'lr'\nhint: it declares no params\n");
  auto malformed = run_mlctl({"pipeline", "run", "fails.yaml", "--param", "lr"}, dir.path());
  EXPECT_EQ(malformed.exit_code, 2);
  EXPECT_EQ(malformed.err, "mlctl: error: --param lr: expected NAME=VALUE\n");
  auto no_run = run_mlctl({"pipeline", "show", "20000101-000000-000000"}, dir.path());
  EXPECT_EQ(no_run.exit_code, 3);
  // Where nothing ever ran, reading runs says so and creates nothing.
  TempDir empty;
  auto none = run_mlctl({"pipeline", "runs"}, empty.path());
  EXPECT_EQ(none.exit_code, 3);
  EXPECT_EQ(none.err, "mlctl: error: no runs recorded here: there is no registry database yet\n"
                      "hint: run a pipeline first: mlctl pipeline run NAME\n");
  EXPECT_FALSE(fs::exists(empty / ".mlctl"));
}

bool alive(pid_t pid) { return ::kill(pid, 0) == 0; }

TEST(PipelineCliTest, InterruptKillsEveryStepAndRecordsTheRunCancelled) {
  TempDir dir;
  // Each step records its shell's pid, then waits in a child process of its own (sleep).
  // (Host steps run in the project's folder, here the pipeline file's. Each pid file appears
  // whole, renamed into place.)
  dir.write("slow.yaml", R"(name: slow
steps:
  - name: one
    command: [sh, -c, "echo $$ > one.tmp && mv one.tmp one.pid; sleep 60.0417; echo late"]
  - name: two
    command: [sh, -c, "echo $$ > two.tmp && mv two.tmp two.pid; sleep 60.0417"]
  - name: after
    needs: [one]
    command: [sh, -c, "echo never"]
)");
  // stderr to a file: mlctl must not be the one that dies of a closed pipe.
  auto child = core::Child::spawn({.argv = {"sh", "-c", "exec \"$0\" \"$@\" 2>stderr.txt", MLCTL_BINARY, "-o", "json",
                                            "pipeline", "run", "slow.yaml", "-j", "2"},
                                   .cwd = dir.path(),
                                   .env = {{"NO_COLOR", "1"}}});
  ASSERT_TRUE(child) << child.error().message();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::error_code ec;
  while ((!fs::exists(dir / "one.pid", ec) || !fs::exists(dir / "two.pid", ec)) &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(fs::exists(dir / "one.pid") && fs::exists(dir / "two.pid")) << "the steps never started";
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the shells reach their sleeps
  pid_t one = std::stoi(read(dir / "one.pid"));
  pid_t two = std::stoi(read(dir / "two.pid"));
  ASSERT_TRUE(alive(one) && alive(two));

  // What a terminal's Ctrl-C does to the foreground job (mlctl; steps have groups of their own).
  ASSERT_EQ(::kill(child->pid(), SIGINT), 0);
  std::string out;
  char buffer[4096];
  for (ssize_t n; (n = ::read(child->stdout_fd(), buffer, sizeof buffer)) > 0;) out.append(buffer, n);
  core::ExitStatus status = child->wait();
  EXPECT_EQ(status.exit_code, 130);
  Json run = Json::parse(out);
  EXPECT_EQ(run["status"], "cancelled");
  EXPECT_EQ(statuses(run), (std::map<std::string, std::string>{
                               {"one", "cancelled"}, {"two", "cancelled"}, {"after", "cancelled"}}));
  // No step outlives the run: not the shells, not their sleeps (each shell's group is killed).
  EXPECT_FALSE(alive(one));
  EXPECT_FALSE(alive(two));
  // (A duration no other program on the machine is likely to be sleeping.)
  auto leftover = run_command({"pgrep", "-f", "sleep 60.0417"}, dir.path());
  EXPECT_EQ(leftover.exit_code, 1) << leftover.out;

  Json recorded = Json::parse(run_mlctl({"-o", "json", "pipeline", "show", run["run_id"]}, dir.path(),
                                        {{"MLCTL_REGISTRY_DB", (dir / ".mlctl/registry.db").string()}})
                                  .out);
  EXPECT_EQ(recorded["status"], "cancelled");
}

TEST(PipelineCliTest, CompileWritesTheDocumentAtomicallyAndNamesWhatIsMissing) {
  TempDir dir;
  dir.write("mlctl.yaml", "name: demo\nversion: 1.4.0\npipelines:\n  diamond: diamond.yaml\n");
  dir.write("diamond.yaml", std::string(k_diamond));
  auto missing = run_mlctl({"pipeline", "compile", "diamond"}, dir.path());
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(missing.err, "mlctl: error: compiling pipeline 'diamond' for Argo: step 'source': a step without an "
                         "image runs in the project image, but none was given\n"
                         "hint: build and push it with `mlctl build --push`, then pass it as --image "
                         "REF@sha256:DIGEST\n");
  std::string image = "registry.local/demo@sha256:" + std::string(64, 'c');
  auto argo = run_mlctl({"-o", "json", "pipeline", "compile", "diamond", "--image", image, "-o", "out/argo.yaml",
                         "--kind", "template"},
                        dir.path());
  ASSERT_EQ(argo.exit_code, 0) << argo.err;
  EXPECT_EQ(Json::parse(argo.out), (Json{{"file", "out/argo.yaml"}, {"backend", "argo"}, {"kind", "WorkflowTemplate"}}));
  std::string yaml = read(dir / "out/argo.yaml");
  EXPECT_TRUE(yaml.starts_with("apiVersion: argoproj.io/v1alpha1\nkind: WorkflowTemplate\n")) << yaml.substr(0, 200);
  EXPECT_NE(yaml.find("name: diamond-1-4-0\n"), std::string::npos);
  EXPECT_NE(yaml.find("image: " + image + "\n"), std::string::npos);

  auto kfp = run_mlctl({"pipeline", "compile", "diamond", "--backend", "kfp", "--param", "n=5"}, dir.path(),
                       {{"MLCTL_IMAGE", image}});
  ASSERT_EQ(kfp.exit_code, 0) << kfp.err;
  EXPECT_NE(kfp.out.find("pipelineInfo:\n  description: version 1.4.0\n  name: diamond\n"), std::string::npos) << kfp.out.substr(0, 400);
  auto bad = run_mlctl({"pipeline", "compile", "diamond", "--backend", "airflow"}, dir.path());
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err, "mlctl: error: --backend airflow: expected argo or kfp\n");
}

TEST(PipelineCliTest, TheRegisterActionRecordsTheCompiledCommitWithoutAGitTree) {
  TempDir dir;
  dir.write("model/weights.bin", "0123456789");
  dir.write("metrics.json", R"({"auc": 0.91})");
  std::string commit(40, 'e');
  auto registered = run_mlctl({"-o", "json", "pipeline", "action", "register", "--run-id", "train-x7k2p", "--pipeline",
                               "train", "--git-commit", commit, "--artifact", "model", "--metrics", "metrics.json",
                               "--model", "churn", "--registry-db", "registry.db"},
                              dir.path());
  ASSERT_EQ(registered.exit_code, 0) << registered.err;
  Json version = Json::parse(registered.out);
  EXPECT_EQ(version["name"], "churn");
  EXPECT_EQ(version["version"], 1);
  EXPECT_EQ(version["metrics"], (Json{{"auc", 0.91}}));
  EXPECT_EQ(version["lineage"]["git"], (Json{{"commit", commit}}));
  EXPECT_EQ(version["lineage"]["run"], "train-x7k2p");
  EXPECT_EQ(version["tags"], (Json{{"pipeline", "train"}}));

  auto unknown = run_mlctl({"pipeline", "action", "deploy", "--run-id", "r", "--pipeline", "p", "--artifact", "model",
                            "--registry-db", "registry.db"},
                           dir.path());
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_EQ(unknown.err, "mlctl: error: unknown action 'deploy'\nhint: the built-in actions: register\n");
}

}  // namespace
}  // namespace mlctl::test
