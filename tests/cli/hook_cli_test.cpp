// `mlctl hook` through the real binary on real repositories: the hooks run this very mlctl (by its
// absolute path) on the release branch, from the project's folder, and a user's own hooks come
// out of install and uninstall byte for byte as they went in.
#include <git/git_cli.hpp>
#include <support/run.hpp>
#include <support/temp_dir.hpp>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

namespace mlctl::test {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const std::string k_project = "name: fraud\nversion: 1.0.0\n";

class HookCliTest : public ::testing::Test {
protected:
  HookCliTest() { fs::create_directory(repo_); }

  core::Completed mlctl(const std::vector<std::string>& args, const fs::path& cwd) const {
    return run_mlctl(args, cwd, git_env());
  }
  core::Completed mlctl(const std::vector<std::string>& args) const { return mlctl(args, repo_); }

  fs::path hook(const std::string& name) const { return repo_ / ".git/hooks" / name; }
  static std::string read(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  static void write_executable(const fs::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
    fs::permissions(path, fs::perms(0755));
  }
  // The line of the hook that runs the release: `'/abs/mlctl' ARGS... </dev/null ...`.
  static std::string release_line(const std::string& args) {
    return "  '" + fs::canonical(MLCTL_BINARY).string() + "' " + args + " </dev/null >>\"$log\" 2>&1 ||\n";
  }

  TempDir dir_;
  fs::path repo_ = fs::canonical(dir_.path()) / "repo";
};

TEST_F(HookCliTest, InstallWritesBothHooksThatRunThisMlctlOnTheReleaseBranch) {
  init_repository(repo_, {{"mlctl.yaml", k_project}});
  auto installed = mlctl({"hook", "install"});
  ASSERT_EQ(installed.exit_code, 0) << installed.err;
  EXPECT_EQ(installed.out, "post-merge: installed (.git/hooks/post-merge)\n"
                           "post-rewrite: installed (.git/hooks/post-rewrite)\n");
  EXPECT_EQ(installed.err, "");
  for (const char* name : {"post-merge", "post-rewrite"}) {
    std::string text = read(hook(name));
    EXPECT_TRUE(text.starts_with("#!/bin/sh\n# >>> mlctl hook >>>\n")) << text;
    EXPECT_NE(text.find(release_line("'release' '--from-hook'")), std::string::npos) << text;
    EXPECT_NE(text.find("[ \"$(git symbolic-ref --short -q HEAD)\" = 'main' ] || exit 0\n"), std::string::npos) << text;
    EXPECT_EQ(fs::status(hook(name)).permissions(), fs::perms(0755)) << name;
  }
}

TEST_F(HookCliTest, JsonListsEachHookWithItsPathAndAction) {
  init_repository(repo_, {{"mlctl.yaml", k_project}});
  auto installed = mlctl({"-o", "json", "hook", "install"});
  ASSERT_EQ(installed.exit_code, 0) << installed.err;
  EXPECT_EQ(Json::parse(installed.out),
            Json::parse(R"([{"hook": "post-merge", "path": ".git/hooks/post-merge", "action": "installed"},
                            {"hook": "post-rewrite", "path": ".git/hooks/post-rewrite", "action": "installed"}])"));
  auto removed = mlctl({"hook", "uninstall", "-o", "json"});
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_EQ(Json::parse(removed.out),
            Json::parse(R"([{"hook": "post-merge", "path": ".git/hooks/post-merge", "action": "removed"},
                            {"hook": "post-rewrite", "path": ".git/hooks/post-rewrite", "action": "removed"}])"));
}

TEST_F(HookCliTest, InstallingAgainChangesNothingAndAnotherBranchUpdatesTheHooks) {
  init_repository(repo_, {{"mlctl.yaml", k_project}});
  ASSERT_EQ(mlctl({"hook", "install"}).exit_code, 0);
  std::string first = read(hook("post-merge"));

  auto again = mlctl({"hook", "install", "--branch", "main"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, "post-merge: unchanged (.git/hooks/post-merge)\n"
                       "post-rewrite: unchanged (.git/hooks/post-rewrite)\n");
  EXPECT_EQ(read(hook("post-merge")), first);

  auto develop = mlctl({"hook", "install", "--branch", "develop"});
  ASSERT_EQ(develop.exit_code, 0) << develop.err;
  EXPECT_EQ(develop.out, "post-merge: updated (.git/hooks/post-merge)\n"
                         "post-rewrite: updated (.git/hooks/post-rewrite)\n");
  EXPECT_NE(read(hook("post-merge")).find("= 'develop' ] || exit 0\n"), std::string::npos);
  EXPECT_EQ(read(hook("post-merge")).find("'main'"), std::string::npos);
}

TEST_F(HookCliTest, UninstallDeletesTheHooksItMadeAndIsIdempotent) {
  init_repository(repo_, {{"mlctl.yaml", k_project}});
  ASSERT_EQ(mlctl({"hook", "install"}).exit_code, 0);

  auto removed = mlctl({"hook", "uninstall"});
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_EQ(removed.out, "post-merge: removed (.git/hooks/post-merge)\n"
                         "post-rewrite: removed (.git/hooks/post-rewrite)\n");
  EXPECT_FALSE(fs::exists(hook("post-merge")));
  EXPECT_FALSE(fs::exists(hook("post-rewrite")));

  auto again = mlctl({"hook", "uninstall"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, "post-merge: absent (.git/hooks/post-merge)\n"
                       "post-rewrite: absent (.git/hooks/post-rewrite)\n");
}

TEST_F(HookCliTest, AProjectInASubfolderIsReachedWithDashC) {
  init_repository(repo_, {{"sub/mlctl.yaml", k_project}});
  fs::path hooks = repo_ / ".git/hooks";

  auto from_sub = mlctl({"hook", "install"}, repo_ / "sub");
  ASSERT_EQ(from_sub.exit_code, 0) << from_sub.err;
  EXPECT_EQ(from_sub.out, "post-merge: installed (" + (hooks / "post-merge").string() + ")\n" +
                              "post-rewrite: installed (" + (hooks / "post-rewrite").string() + ")\n")
      << "a path above the current folder is shown whole";
  EXPECT_NE(read(hook("post-merge")).find(release_line("'-C' 'sub' 'release' '--from-hook'")), std::string::npos)
      << read(hook("post-merge"));

  auto from_top = mlctl({"-C", "sub", "hook", "install"});
  ASSERT_EQ(from_top.exit_code, 0) << from_top.err;
  EXPECT_EQ(from_top.out, "post-merge: unchanged (" + (hooks / "post-merge").string() + ")\n" +
                              "post-rewrite: unchanged (" + (hooks / "post-rewrite").string() + ")\n");
}

TEST_F(HookCliTest, OutsideARepositoryItExitsThreeAndSaysToRunGitInit) {
  std::ofstream(repo_ / "mlctl.yaml") << k_project;
  std::string expected = "mlctl: error: " + repo_.string() +
                         " is not in a git repository\n"
                         "hint: git hooks live in a repository: run 'git init' there first, then install the hooks\n";

  auto installed = mlctl({"hook", "install"});
  EXPECT_EQ(installed.exit_code, 3);
  EXPECT_EQ(installed.out, "");
  EXPECT_EQ(installed.err, expected);

  auto removed = mlctl({"hook", "uninstall"});
  EXPECT_EQ(removed.exit_code, 3);
  EXPECT_EQ(removed.err, expected);
}

TEST_F(HookCliTest, WithoutAProjectFileInstallExitsThree) {
  init_repository(repo_, {{"README.md", "no project here\n"}});
  auto installed = mlctl({"hook", "install"});
  EXPECT_EQ(installed.exit_code, 3);
  EXPECT_EQ(installed.err, "mlctl: error: no mlctl.yaml in " + repo_.string() +
                               " or any parent folder\n"
                               "hint: run 'mlctl init' to create a project, or pass --config FILE or -C DIR\n");
  EXPECT_FALSE(fs::exists(hook("post-merge")));
}

TEST_F(HookCliTest, AnEmptyBranchIsRefused) {
  init_repository(repo_, {{"mlctl.yaml", k_project}});
  auto installed = mlctl({"hook", "install", "--branch", ""});
  EXPECT_EQ(installed.exit_code, 2);
  EXPECT_EQ(installed.err, "mlctl: error: --branch: the release branch cannot be empty\nhint: for example --branch main\n");
}

TEST_F(HookCliTest, UsersOwnHooksComeBackByteForByte) {
  init_repository(repo_, {{"mlctl.yaml", k_project}});
  const std::string script = "#!/bin/sh\n# the team's hook\nnpm install --silent\n";
  const std::string program = "#!/usr/bin/env python3\nprint('not a shell script')\n";
  write_executable(hook("post-merge"), script);
  write_executable(hook("post-rewrite"), program);
  fs::permissions(hook("post-rewrite"), fs::perms(0700));

  auto installed = mlctl({"hook", "install"});
  ASSERT_EQ(installed.exit_code, 0) << installed.err;
  EXPECT_EQ(installed.out, "post-merge: installed (.git/hooks/post-merge)\n"
                           "post-rewrite: installed (.git/hooks/post-rewrite)\n");
  EXPECT_TRUE(read(hook("post-merge")).starts_with(script + "# >>> mlctl hook >>>\n"));
  EXPECT_EQ(read(hook("post-rewrite.mlctl-chained")), program) << "moved aside and run first";

  auto removed = mlctl({"hook", "uninstall"});
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_EQ(read(hook("post-merge")), script);
  EXPECT_EQ(read(hook("post-rewrite")), program);
  EXPECT_EQ(fs::status(hook("post-merge")).permissions(), fs::perms(0755));
  EXPECT_EQ(fs::status(hook("post-rewrite")).permissions(), fs::perms(0700));
  EXPECT_FALSE(fs::exists(hook("post-rewrite.mlctl-chained")));
}

}  // namespace
}  // namespace mlctl::test
