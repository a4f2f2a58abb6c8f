// Golden tests of the mlctl binary: stdout, stderr and exit code of real runs.
#include <support/run.hpp>
#include <support/temp_dir.hpp>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

namespace mlctl::test {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr std::string_view k_valid = "name: demo\nversion: 1.2.3\n";

std::string golden(const std::string& name) {
  std::ifstream in(fs::path(MLCTL_SOURCE_DIR) / "tests/cli/golden" / name);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

TEST(CliTest, HelpMatchesGoldenAndListsOnlyWorkingCommands) {
  TempDir dir;
  auto help = run_mlctl({"--help"}, dir.path());
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_EQ(help.out, golden("help.txt"));
  EXPECT_EQ(help.err, "");
}

TEST(CliTest, SubcommandHelpTeachesWithExamples) {
  TempDir dir;
  auto help = run_mlctl({"init", "--help"}, dir.path());
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_EQ(help.out, golden("init-help.txt"));
}

TEST(CliTest, NoCommandIsAUsageError) {
  TempDir dir;
  auto run = run_mlctl({}, dir.path());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.out, "");
  EXPECT_TRUE(run.err.ends_with("mlctl: error: 'mlctl' needs a command\nhint: run 'mlctl --help' to see the commands\n"))
      << run.err;
}

TEST(CliTest, BadFlagsAreUsageErrors) {
  TempDir dir;
  auto unknown = run_mlctl({"--bogus", "version"}, dir.path());
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_EQ(unknown.err, "mlctl: error: The following argument was not expected: --bogus\n"
                         "hint: run 'mlctl --help' for usage\n");
  auto bad_format = run_mlctl({"-o", "yaml", "version"}, dir.path());
  EXPECT_EQ(bad_format.exit_code, 2);
  EXPECT_EQ(bad_format.err, "mlctl: error: --output: yaml not in {text,json}\nhint: run 'mlctl --help' for usage\n");
  auto bad_shell = run_mlctl({"completion", "tcsh"}, dir.path());
  EXPECT_EQ(bad_shell.exit_code, 2);
  EXPECT_EQ(bad_shell.err, "mlctl: error: shell: tcsh not in {bash,zsh,fish}\nhint: run 'mlctl --help' for usage\n");
}

TEST(CliTest, VersionJsonIsOneDocumentWithVersionAndCommit) {
  TempDir dir;
  auto run = run_mlctl({"version", "-o", "json"}, dir.path());
  ASSERT_EQ(run.exit_code, 0);
  Json document = Json::parse(run.out);  // throws, failing the test, if stdout is anything more
  EXPECT_EQ(document["version"], "0.1.0");
  auto commit = run_command({"git", "-C", MLCTL_SOURCE_DIR, "rev-parse", "HEAD"}, dir.path());
  EXPECT_EQ(document["git_commit"].get<std::string>() + "\n", commit.out);
  auto text = run_mlctl({"version"}, dir.path());
  EXPECT_TRUE(text.out.starts_with("mlctl 0.1.0 (commit " + commit.out.substr(0, 12))) << text.out;
  auto flag = run_mlctl({"--version"}, dir.path());
  EXPECT_EQ(flag.exit_code, 0) << flag.err;
  EXPECT_EQ(flag.out, text.out) << "--version prints what `mlctl version` does";
}

TEST(CliTest, ValidateReportsOkInTextAndJson) {
  TempDir dir;
  dir.write("mlctl.yaml", k_valid);
  fs::create_directories(dir / "sub");
  auto text = run_mlctl({"validate"}, dir.path());
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_EQ(text.out, "mlctl.yaml: ok (demo 1.2.3, 0 pipeline(s), 0 environment(s))\n");
  // From a subfolder the project file is found upward and named by its full path.
  auto json = run_mlctl({"validate", "-o", "json"}, dir / "sub");
  EXPECT_EQ(json.exit_code, 0);
  Json document = Json::parse(json.out);
  EXPECT_EQ(document["file"], (dir / "mlctl.yaml").string());
  EXPECT_EQ(document["valid"], true);
  EXPECT_EQ(document["project"]["name"], "demo");
  EXPECT_EQ(document["project"]["version"], "1.2.3");
  EXPECT_EQ(document["problems"], Json::array());
}

TEST(CliTest, ValidateReportsEveryProblemAndExits2) {
  TempDir dir;
  dir.write("mlctl.yaml", "name: demo\nversion: 1.2\nimage:\n  repository: r\n  bas: b\n");
  auto text = run_mlctl({"validate"}, dir.path());
  EXPECT_EQ(text.exit_code, 2);
  EXPECT_EQ(text.out, "");
  EXPECT_EQ(text.err, "mlctl: error: mlctl.yaml:2:10: version: '1.2' is not a semantic version: it needs three numbers, MAJOR.MINOR.PATCH\n"
                      "mlctl: error: mlctl.yaml:5:3: image.bas: unknown key; did you mean 'base'?\n"
                      "mlctl: error: mlctl.yaml:4:3: image.base: required field is missing\n");
  auto json = run_mlctl({"-o", "json", "validate"}, dir.path());
  EXPECT_EQ(json.exit_code, 2);
  Json document = Json::parse(json.out);
  EXPECT_EQ(document["valid"], false);
  ASSERT_EQ(document["problems"].size(), 3u);
  EXPECT_EQ(document["problems"][1], (Json{{"file", "mlctl.yaml"}, {"line", 5}, {"column", 3}, {"field", "image.bas"},
                                           {"message", "unknown key; did you mean 'base'?"}}));
}

TEST(CliTest, ValidateChecksThePipelinesTheProjectNames) {
  TempDir dir;
  dir.write("mlctl.yaml", "name: demo\nversion: 1.2.3\npipelines:\n  train: pipelines/train.yaml\n");
  dir.write("pipelines/train.yaml", R"(name: train
steps:
  - name: prepare
    command: [echo, "{{steps.train.outputs.model}}"]
    outputs: [data]
  - name: train
    command: [echo, "{{steps.prepare.outputs.data}}", "{{params.lr}}"]
    outputs: [model]
)");
  auto broken = run_mlctl({"validate"}, dir.path());
  EXPECT_EQ(broken.exit_code, 2);
  EXPECT_EQ(broken.out, "");
  EXPECT_EQ(broken.err, "mlctl: error: pipelines/train.yaml:7:55: steps[1].command[2]: unknown param 'lr'\n"
                        "mlctl: error: pipelines/train.yaml:3:11: steps[0]: cycle: prepare -> train -> prepare\n");
  auto json = run_mlctl({"-o", "json", "validate"}, dir.path());
  EXPECT_EQ(json.exit_code, 2);
  EXPECT_EQ(Json::parse(json.out)["valid"], false);

  dir.write("pipelines/train.yaml", "name: train\nparams: {lr: \"0.1\"}\nsteps:\n  - name: prepare\n"
                                     "    command: [echo, \"{{params.lr}}\"]\n");
  auto fixed = run_mlctl({"validate"}, dir.path());
  EXPECT_EQ(fixed.exit_code, 0) << fixed.err;
  EXPECT_EQ(fixed.out, "mlctl.yaml: ok (demo 1.2.3, 1 pipeline(s), 0 environment(s))\n");
}

TEST(CliTest, PipelineValidateAndGraphTakeANameOrAFile) {
  TempDir dir;
  dir.write("mlctl.yaml", "name: demo\nversion: 1.2.3\npipelines:\n  train: pipelines/train.yaml\n");
  dir.write("pipelines/train.yaml", R"(name: train
steps:
  - name: prepare
    command: [sh, -c, "echo data > {{outputs.data}}"]
    outputs: [data]
  - name: train
    command: [cat, "{{steps.prepare.outputs.data}}"]
)");
  auto by_name = run_mlctl({"pipeline", "validate", "train"}, dir.path());
  EXPECT_EQ(by_name.exit_code, 0) << by_name.err;
  EXPECT_EQ(by_name.out, "pipelines/train.yaml: ok (train, 2 step(s))\n");
  // A file needs no project around it.
  TempDir elsewhere;
  auto by_file = run_mlctl({"-o", "json", "pipeline", "validate", (dir / "pipelines/train.yaml").string()},
                           elsewhere.path());
  EXPECT_EQ(by_file.exit_code, 0) << by_file.err;
  EXPECT_EQ(Json::parse(by_file.out)["steps"], (Json{"prepare", "train"}));

  auto graph = run_mlctl({"pipeline", "graph", "train", "--format", "mermaid"}, dir.path());
  EXPECT_EQ(graph.exit_code, 0) << graph.err;
  EXPECT_NE(graph.out.find("flowchart LR"), std::string::npos) << graph.out;
  EXPECT_NE(graph.out.find("s0 --> s1"), std::string::npos) << graph.out;
  auto bad_format = run_mlctl({"pipeline", "graph", "train", "--format", "svg"}, dir.path());
  EXPECT_EQ(bad_format.exit_code, 2);

  auto unknown = run_mlctl({"pipeline", "validate", "trian"}, dir.path());
  EXPECT_EQ(unknown.exit_code, 3);
  EXPECT_EQ(unknown.err, "mlctl: error: no pipeline 'trian' in mlctl.yaml\nhint: its pipelines: train\n");
  EXPECT_EQ(run_mlctl({"pipeline", "validate", "missing.yaml"}, dir.path()).exit_code, 3);

  dir.write("pipelines/train.yaml", "name: train\nsteps:\n  - name: a\n    command: [echo]\n    needs: [b]\n"
                                     "  - name: b\n    command: [echo]\n    needs: [a]\n");
  auto cycle = run_mlctl({"pipeline", "validate", "train"}, dir.path());
  EXPECT_EQ(cycle.exit_code, 2);
  EXPECT_EQ(cycle.err, "mlctl: error: pipelines/train.yaml:3:11: steps[0]: cycle: a -> b -> a\n");
}

TEST(CliTest, MissingProjectIsNotFoundWithAHint) {
  TempDir dir;
  auto text = run_mlctl({"validate"}, dir.path());
  EXPECT_EQ(text.exit_code, 3);
  EXPECT_EQ(text.err, "mlctl: error: no mlctl.yaml in " + dir.path().string() + " or any parent folder\n"
                      "hint: run 'mlctl init' to create a project, or pass --config FILE or -C DIR\n");
  auto json = run_mlctl({"validate", "-o", "json"}, dir.path());
  EXPECT_EQ(json.exit_code, 3);
  Json document = Json::parse(json.out);
  EXPECT_EQ(document["error"]["code"], "not_found");
  EXPECT_EQ(document["error"]["exit_code"], 3);
}

TEST(CliTest, ChdirAndConfigChooseTheProject) {
  TempDir dir;
  dir.write("proj/mlctl.yaml", k_valid);
  dir.write("proj/other.yaml", "name: other\nversion: 2.0.0\n");
  auto chdir = run_mlctl({"-C", "proj", "validate", "-o", "json"}, dir.path());
  EXPECT_EQ(chdir.exit_code, 0);
  EXPECT_EQ(Json::parse(chdir.out)["project"]["name"], "demo");
  auto config = run_mlctl({"-C", "proj", "--config", "other.yaml", "validate", "-o", "json"}, dir.path());
  EXPECT_EQ(config.exit_code, 0);
  EXPECT_EQ(Json::parse(config.out)["project"]["name"], "other");
  auto missing_dir = run_mlctl({"-C", "nope", "validate"}, dir.path());
  EXPECT_EQ(missing_dir.exit_code, 3);
  EXPECT_EQ(missing_dir.err, "mlctl: error: -C nope: No such file or directory\n");
}

TEST(CliTest, InitWritesAProjectThatValidatesAndRefusesToOverwrite) {
  TempDir dir;
  auto init = run_mlctl({"init", "demo", "--template", "generic"}, dir.path());
  EXPECT_EQ(init.exit_code, 0) << init.err;
  EXPECT_EQ(init.out, "Created project 'demo' from the generic template in demo:\n  .gitignore\n  README.md\n"
                      "  mlctl.yaml\n  pipelines/train.yaml\n  predict.sh\n  train.sh\nNext: cd demo && mlctl validate\n");
  auto validate = run_mlctl({"-C", "demo", "validate"}, dir.path());
  EXPECT_EQ(validate.exit_code, 0) << validate.err;

  auto again = run_mlctl({"init", "demo", "--template", "generic"}, dir.path());
  EXPECT_EQ(again.exit_code, 4);
  EXPECT_EQ(again.err, "mlctl: error: demo already has .gitignore, README.md, mlctl.yaml, pipelines/train.yaml, "
                       "predict.sh, train.sh\nhint: nothing was written; pass --force to overwrite these files\n");
  auto forced = run_mlctl({"init", "demo", "--template", "generic", "--force", "-q"}, dir.path());
  EXPECT_EQ(forced.exit_code, 0);
  EXPECT_EQ(forced.out, "");
}

TEST(CliTest, InitJsonListsTheFiles) {
  TempDir dir;
  auto init = run_mlctl({"-o", "json", "init", "--name", "svc"}, dir.path());
  ASSERT_EQ(init.exit_code, 0) << init.err;
  Json document = Json::parse(init.out);
  EXPECT_EQ(document["name"], "svc");
  EXPECT_EQ(document["template"], "sklearn");
  EXPECT_EQ(document["dir"], dir.path().string());
  EXPECT_EQ(document["files"].size(), 7u);
}

// Colour only on a terminal, and never with NO_COLOR or --no-color: run under a pseudo-terminal.
TEST(CliTest, ColourFollowsTerminalAndNoColor) {
  TempDir dir;
  auto on_tty = [&](const std::string& args, const std::map<std::string, std::string>& env) {
    return run_command({"script", "-qec", std::string(MLCTL_BINARY) + " " + args, "/dev/null"}, dir.path(), env);
  };
  auto coloured = on_tty("validate", {});
  EXPECT_NE(coloured.out.find("\033[1;31merror:\033[0m"), std::string::npos) << coloured.out;
  auto no_color_env = on_tty("validate", {{"NO_COLOR", "1"}});
  EXPECT_EQ(no_color_env.out.find('\033'), std::string::npos) << no_color_env.out;
  auto no_color_flag = on_tty("--no-color validate", {});
  EXPECT_EQ(no_color_flag.out.find('\033'), std::string::npos) << no_color_flag.out;
}

}  // namespace
}  // namespace mlctl::test
