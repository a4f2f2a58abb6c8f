#include "model_test_support.hpp"

#include <mlctl/core/digest.hpp>
#include <mlctl/models/time.hpp>

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

namespace mlctl::test {
namespace {

using ModelCliTest = ModelCli;

std::string now() {
  return models::format_time(std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now()));
}

void pause() { std::this_thread::sleep_for(std::chrono::milliseconds(30)); }

TEST_F(ModelCliTest, RegisterPrintsTheNewVersion) {
  dir_.write("model.bin", "weights");
  auto first = mlctl({"register", "fraud", "--artifact", "model.bin", "--metric", "auc=0.9"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(first.out, "1\n");
  auto second = mlctl({"register", "fraud", "--artifact", "model.bin", "--run", "run-7", "-o", "json"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  auto document = nlohmann::json::parse(second.out);
  EXPECT_EQ(document["name"], "fraud");
  EXPECT_EQ(document["version"], 2);
  EXPECT_EQ(document["artifact_digest"], core::sha256_digest("weights"));
  EXPECT_FALSE(document["artifact_uri"].get<std::string>().empty());
  auto shown = nlohmann::json::parse(mlctl({"show", "fraud@2", "-o", "json"}).out);
  EXPECT_EQ(shown["lineage"]["run"], "run-7");
  EXPECT_EQ(shown["created_by"], "tester");
  EXPECT_EQ(mlctl({"uri", "fraud@2"}).out, document["artifact_uri"].get<std::string>() + "\n");
}

// Every process opens the database anew: what a write leaves behind must not make the readers
// after it write. The -wal is kept (so that no process creates it again) but emptied by the
// checkpoint of the last connection to close; a reader then finds nothing to copy back, and
// leaves the database file as it was.
TEST_F(ModelCliTest, AQueryAfterAWriteWritesNothing) {
  dir_.write("model.bin", "weights");
  for (int i = 0; i < 3; ++i) ASSERT_EQ(mlctl({"register", "fraud", "--artifact", "model.bin"}).exit_code, 0);
  auto wal = dir_ / "registry.db-wal";
  ASSERT_TRUE(std::filesystem::exists(wal));
  EXPECT_EQ(std::filesystem::file_size(wal), 0u);
  struct stat before {};
  ASSERT_EQ(::stat((dir_ / "registry.db").c_str(), &before), 0);
  pause();
  EXPECT_EQ(mlctl({"list"}).exit_code, 0);
  EXPECT_EQ(mlctl({"show", "fraud@3"}).exit_code, 0);
  struct stat after {};
  ASSERT_EQ(::stat((dir_ / "registry.db").c_str(), &after), 0);
  EXPECT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
  EXPECT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
  EXPECT_EQ(std::filesystem::file_size(wal), 0u);
}

TEST_F(ModelCliTest, HistoryAtAnswersWhatWasInProductionThen) {
  dir_.write("model.bin", "weights");
  for (int i = 0; i < 3; ++i) ASSERT_EQ(mlctl({"register", "fraud", "--artifact", "model.bin"}).exit_code, 0);
  std::vector<std::string> times{now()};
  for (const char* version : {"1", "2", "3"}) {
    pause();
    auto promoted = mlctl({"promote", "fraud", version, "--to", "production", "--reason", "release"});
    ASSERT_EQ(promoted.exit_code, 0) << promoted.err;
    pause();
    times.push_back(now());
  }
  std::vector<nlohmann::json> expected{nullptr, 1, 2, 3};
  for (std::size_t i = 0; i < times.size(); ++i) {
    auto at = mlctl({"history", "fraud", "--alias", "production", "--at", times[i], "-o", "json"});
    ASSERT_EQ(at.exit_code, 0) << at.err;
    EXPECT_EQ(nlohmann::json::parse(at.out)["aliases"]["production"], expected[i]) << times[i];
  }
  EXPECT_EQ(mlctl({"history", "fraud", "--at", "2000-01-01"}).out, "ALIAS       VERSION\nproduction  -\n");
  auto log = nlohmann::json::parse(mlctl({"history", "fraud", "--alias", "production", "-o", "json"}).out);
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[2]["action"], "alias.move");
  EXPECT_EQ(log[2]["old_value"], "2");
  EXPECT_EQ(log[2]["new_value"], "3");
  EXPECT_EQ(log[2]["reason"], "release");
  EXPECT_EQ(log[2]["actor"], "tester");
}

TEST_F(ModelCliTest, GateRefusalExitsFourAndChangesNothing) {
  dir_.write("model.bin", "weights");
  for (const char* auc : {"auc=0.9", "auc=0.85", "auc=0.95"})
    ASSERT_EQ(mlctl({"register", "fraud", "--artifact", "model.bin", "--metric", auc}).exit_code, 0);
  ASSERT_EQ(mlctl({"promote", "fraud", "1", "--to", "champion"}).exit_code, 0);
  std::string before = mlctl({"export"}).out;
  std::string audit_rows = query("SELECT count(*) FROM audit");

  auto worse = mlctl({"promote", "fraud", "2", "--to", "champion", "--require-better-than", "champion", "--on",
                      "metrics.auc"});
  EXPECT_EQ(worse.exit_code, 4);
  EXPECT_EQ(worse.err, "mlctl: error: not promoting fraud@2 to champion: metrics.auc 0.85 is not better than "
                       "champion's (version 1) 0.9\n");
  auto below = mlctl({"promote", "fraud", "2", "--to", "champion", "--require", "metrics.auc >= 0.88"});
  EXPECT_EQ(below.exit_code, 4);
  EXPECT_EQ(below.err, "mlctl: error: not promoting fraud@2 to champion: metrics.auc >= 0.88 does not hold "
                       "(metrics.auc is 0.85)\n");
  EXPECT_EQ(mlctl({"export"}).out, before);
  EXPECT_EQ(query("SELECT count(*) FROM audit"), audit_rows);
  EXPECT_EQ(query("SELECT version FROM aliases WHERE alias = 'champion'"), "1");

  auto better = mlctl({"promote", "fraud", "3", "--to", "champion", "--require", "metrics.auc >= 0.9",
                       "--require-better-than", "champion", "--on", "metrics.auc"});
  EXPECT_EQ(better.exit_code, 0) << better.err;
  EXPECT_EQ(better.out, "fraud@champion: 1 -> 3\n");
  EXPECT_EQ(query("SELECT version FROM aliases WHERE alias = 'champion'"), "3");
}

TEST_F(ModelCliTest, BadInputIsRefusedAndWritesNothing) {
  dir_.write("model.bin", "weights");
  ASSERT_EQ(mlctl({"register", "fraud", "--artifact", "model.bin"}).exit_code, 0);
  std::string before = mlctl({"export"}).out;
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string error;
  };
  std::vector<Case> cases{
      {{"register", "fraud", "--artifact", "missing.bin"}, 3, "--artifact missing.bin: no such file or directory"},
      {{"register", "fraud", "--artifact", "model.bin", "--metric", "auc=high"}, 2, "'high' is not a number"},
      {{"register", "fraud", "--artifact", "model.bin", "--metric", "auc"}, 2, "--metric 'auc' is not KEY=VALUE"},
      {{"register", "fraud", "--artifact", "model.bin", "--image", "repo:latest"}, 2, "has no digest"},
      {{"show", "nosuch"}, 3, "no model 'nosuch' in the registry"},
      {{"show", "fraud@9"}, 3, "model 'fraud' has no version 9"},
      {{"promote", "nosuch", "1", "--to", "production"}, 3, "no model 'nosuch'"},
      {{"list", "fraud", "--where", "metrics.auc >= high"}, 2, "a metric is compared with a number"},
      {{"history", "fraud", "--at", "yesterday"}, 2, "'yesterday' is not a time"},
  };
  for (const std::string& hostile : std::vector<std::string>{"x'; DROP TABLE models; --", "\"quoted\"", "mod\u00e8le-\u6a21\u578b", std::string(300, 'a')}) {
    cases.push_back({{"register", hostile, "--artifact", "model.bin"}, 2, "invalid model name"});
    cases.push_back({{"promote", "fraud", "1", "--to", hostile}, 2, "invalid alias"});
    cases.push_back({{"show", hostile}, 2, "invalid model name"});
  }
  for (const auto& c : cases) {
    auto result = mlctl(c.args);
    EXPECT_EQ(result.exit_code, c.exit_code) << c.args[1] << ": " << result.err;
    EXPECT_NE(result.err.find(c.error), std::string::npos) << result.err;
    EXPECT_TRUE(result.out.empty()) << result.out;
  }
  EXPECT_EQ(mlctl({"export"}).out, before);
  EXPECT_EQ(query("SELECT count(*) FROM models"), "1");
  EXPECT_EQ(query("SELECT count(*) FROM versions"), "1");
  EXPECT_EQ(query("SELECT count(*) FROM audit"), "1");
  EXPECT_EQ(query("PRAGMA integrity_check"), "ok");
}

TEST_F(ModelCliTest, ArchivedVersionsCannotBeAliased) {
  dir_.write("model.bin", "weights");
  ASSERT_EQ(mlctl({"register", "fraud", "--artifact", "model.bin"}).exit_code, 0);
  ASSERT_EQ(mlctl({"alias", "set", "fraud", "staging", "1"}).exit_code, 0);
  EXPECT_EQ(mlctl({"archive", "fraud", "1"}).exit_code, 4);
  ASSERT_EQ(mlctl({"alias", "unset", "fraud", "staging"}).exit_code, 0);
  EXPECT_EQ(mlctl({"archive", "fraud", "1"}).out, "fraud@1 archived\n");
  auto refused = mlctl({"alias", "set", "fraud", "staging", "1"});
  EXPECT_EQ(refused.exit_code, 4);
  EXPECT_NE(refused.err.find("fraud@1 is archived and cannot be aliased"), std::string::npos);
  EXPECT_EQ(mlctl({"restore", "fraud", "1"}).exit_code, 0);
  EXPECT_EQ(mlctl({"alias", "set", "fraud", "staging", "1"}).exit_code, 0);
}

TEST_F(ModelCliTest, UpdateChangesTheModelsDescriptionAndTagsWithAnAuditEntry) {
  dir_.write("model.bin", "weights");
  ASSERT_EQ(mlctl({"register", "fraud", "--artifact", "model.bin", "--tag", "stage=a"}).exit_code, 0);
  auto updated = mlctl({"update", "fraud", "--description", "card fraud", "--tag", "team=risk", "--tag", "tier=1",
                        "--reason", "ownership", "-o", "json"});
  ASSERT_EQ(updated.exit_code, 0) << updated.err;
  auto model = nlohmann::json::parse(updated.out);
  EXPECT_EQ(model["description"], "card fraud");
  EXPECT_EQ(model["tags"], (nlohmann::json{{"team", "risk"}, {"tier", "1"}}));
  auto untagged = mlctl({"update", "fraud", "--untag", "tier", "--untag", "absent"});
  ASSERT_EQ(untagged.exit_code, 0) << untagged.err;
  EXPECT_NE(untagged.out.find("tags:         team=risk\n"), std::string::npos) << untagged.out;
  // Nothing changes: no audit entry. The version keeps its own tags.
  ASSERT_EQ(mlctl({"update", "fraud", "--tag", "team=risk"}).exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(mlctl({"show", "fraud@1", "-o", "json"}).out)["tags"], (nlohmann::json{{"stage", "a"}}));

  auto log = nlohmann::json::parse(mlctl({"history", "fraud", "-o", "json"}).out);
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[1]["action"], "model.update");
  EXPECT_EQ(log[1]["old_value"], R"({"description":"","tags":{}})");
  EXPECT_EQ(log[1]["new_value"], R"({"description":"card fraud","tags":{"team":"risk","tier":"1"}})");
  EXPECT_EQ(log[1]["reason"], "ownership");
  EXPECT_EQ(log[2]["new_value"], R"({"description":"card fraud","tags":{"team":"risk"}})");

  auto nothing = mlctl({"update", "fraud"});
  EXPECT_EQ(nothing.exit_code, 2);
  EXPECT_EQ(nothing.err, "mlctl: error: nothing to update\nhint: give --description, --tag or --untag\n");
  auto unknown = mlctl({"update", "ghost", "--description", "x"});
  EXPECT_EQ(unknown.exit_code, 3);
  EXPECT_EQ(unknown.err, "mlctl: error: no model 'ghost' in the registry\nhint: run 'mlctl model list' to see the models\n");
  EXPECT_EQ(mlctl({"update", "fraud", "--tag", "bad key=1"}).exit_code, 2);
  auto bad_untag = mlctl({"update", "fraud", "--untag", "bad key"});
  EXPECT_EQ(bad_untag.exit_code, 2);
  EXPECT_EQ(bad_untag.err.rfind("mlctl: error: --untag 'bad key': ", 0), 0u) << bad_untag.err;
}

// The shared libraries a command loaded, from the dynamic loader's own trace.
std::set<std::string> loaded_libraries(const core::Completed& traced) {
  std::set<std::string> names;
  std::istringstream lines(traced.err);
  for (std::string line; std::getline(lines, line);)
    if (auto at = line.find("file="); at != std::string::npos)
      names.insert(line.substr(at + 5, line.find_first_of(" \t", at) - at - 5));
  return names;
}

// Queries are mostly process start, so libcurl, libgit2 and libcrypto (and the 40 libraries they
// pull in) are opened on first use (core/lazy_library.hpp): a query never loads them. SQLite is
// linked in from its static archive: no shared copy is loaded either.
TEST_F(ModelCliTest, QueriesDoNotLoadTheNetworkGitOrCryptoLibraries) {
  dir_.write("model.bin", "weights");
  auto traced = env();
  traced["LD_DEBUG"] = "files";
  // Outside a repository, libgit2 is not loaded to learn that there is none.
  auto outside = run_mlctl({"model", "register", "fraud", "--artifact", "model.bin"}, dir_.path(), traced);
  ASSERT_EQ(outside.exit_code, 0) << outside.err;
  EXPECT_FALSE(loaded_libraries(outside).contains("libgit2.so.1.5")) << outside.err;
  ASSERT_EQ(run_command({"git", "init", "-q"}, dir_.path()).exit_code, 0);
  auto registered = run_mlctl({"model", "register", "fraud", "--artifact", "model.bin"}, dir_.path(), traced);
  ASSERT_EQ(registered.exit_code, 0) << registered.err;
  auto for_register = loaded_libraries(registered);
  EXPECT_TRUE(for_register.contains("libcrypto.so.3")) << registered.err;  // the artifact's sha256
  EXPECT_TRUE(for_register.contains("libgit2.so.1.5")) << registered.err;  // the lineage
  for (const auto& args : std::vector<std::vector<std::string>>{{"model", "list", "fraud"},
                                                                 {"model", "show", "fraud@2"}, {"version"}}) {
    auto query = run_mlctl(args, dir_.path(), traced);
    ASSERT_EQ(query.exit_code, 0) << query.err;
    auto libraries = loaded_libraries(query);
    EXPECT_TRUE(libraries.contains("libc.so.6")) << query.err;  // the trace works
    for (const char* lazy : {"libcurl.so.4", "libgit2.so.1.5", "libcrypto.so.3", "libsqlite3.so.0"})
      EXPECT_FALSE(libraries.contains(lazy)) << args[0] << " " << args.back() << " loaded " << lazy;
  }
}

TEST_F(ModelCliTest, ListFiltersSortsAndPages) {
  dir_.write("model.bin", "weights");
  for (const char* auc : {"auc=0.7", "auc=0.95", "auc=0.85", "auc=0.91"})
    ASSERT_EQ(mlctl({"register", "fraud", "--artifact", "model.bin", "--metric", auc, "--tag", "team=risk"}).exit_code, 0);
  auto listed = mlctl({"list", "fraud", "--where", "metrics.auc >= 0.85", "--sort", "metrics.auc", "-o", "json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  std::vector<int> versions;
  for (const auto& v : nlohmann::json::parse(listed.out)) versions.push_back(v["version"]);
  EXPECT_EQ(versions, (std::vector<int>{2, 4, 3}));
  auto page = mlctl({"list", "fraud", "--tag", "team=risk", "--sort", "version:asc", "--limit", "2", "--offset", "1"});
  EXPECT_EQ(page.exit_code, 0) << page.err;
  EXPECT_EQ(page.out.substr(0, page.out.find('\n')), "VERSION  CREATED                   FLAVOR   ALIASES  STATUS  METRICS");
  EXPECT_EQ(std::count(page.out.begin(), page.out.end(), '\n'), 3);
  EXPECT_EQ(page.out.substr(page.out.find('\n') + 1, 1), "2");
}

TEST_F(ModelCliTest, ExportImportRoundTripIsByteIdentical) {
  dir_.write("model.bin", "weights");
  ASSERT_EQ(mlctl({"register", "fraud", "--artifact", "model.bin", "--metric", "auc=0.3", "--param", "lr=0.1",
                   "--dataset", "train=sha256:" + std::string(64, 'd'), "--description", "first \"one\""})
                .exit_code, 0);
  ASSERT_EQ(mlctl({"register", "churn", "--artifact", "model.bin", "--tag", "team=growth"}).exit_code, 0);
  ASSERT_EQ(mlctl({"promote", "fraud", "1", "--to", "production", "--reason", "go"}).exit_code, 0);
  ASSERT_EQ(mlctl({"update", "churn", "--description", "who leaves", "--tag", "owner=ana"}).exit_code, 0);
  auto exported = mlctl({"export"});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  dir_.write("export.jsonl", exported.out);
  auto fresh = env();
  fresh["MLCTL_REGISTRY_DB"] = (dir_ / "fresh.db").string();
  auto imported = run_mlctl({"model", "import", "export.jsonl"}, dir_.path(), fresh);
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_EQ(imported.out, "imported 9 records\n");
  EXPECT_EQ(run_mlctl({"model", "export"}, dir_.path(), fresh).out, exported.out);
  EXPECT_EQ(run_mlctl({"model", "import", "export.jsonl"}, dir_.path(), fresh).exit_code, 4);
}

TEST_F(ModelCliTest, RegisterRecordsGitLineageInTheProjectRegistry) {
  auto project = dir_ / "project";
  dir_.write("project/mlctl.yaml", "name: fraud\nversion: 0.1.0\nmodel: {flavor: sklearn}\n");
  dir_.write("model.bin", "weights");
  std::map<std::string, std::string> git_env{{"GIT_CONFIG_NOSYSTEM", "1"}, {"HOME", dir_.path().string()}};
  for (std::vector<std::string> argv : std::vector<std::vector<std::string>>{
           {"git", "init", "-q", "-b", "main"},
           {"git", "remote", "add", "origin", "https://deploy:s3cret@git.example.com/ml/fraud.git"},
           {"git", "add", "mlctl.yaml"},
           {"git", "-c", "user.name=Ada", "-c", "user.email=ada@example.com", "commit", "-q", "-m", "init"}})
    ASSERT_EQ(run_command(argv, project, git_env).exit_code, 0) << argv[1];
  std::string commit = run_command({"git", "rev-parse", "HEAD"}, project, git_env).out;
  commit.pop_back();
  std::map<std::string, std::string> env{{"MLCTL_ACTOR", "ci-bot"}};
  auto registered = run_mlctl({"model", "register", "fraud", "--artifact", "../model.bin", "--image",
                               "registry.example.com/fraud@sha256:" + std::string(64, 'e'), "--dataset",
                               "train=sha256:" + std::string(64, 'd')},
                              project, env);
  ASSERT_EQ(registered.exit_code, 0) << registered.err;
  EXPECT_TRUE(std::filesystem::is_regular_file(project / ".mlctl/registry.db"));
  auto shown = nlohmann::json::parse(run_mlctl({"model", "show", "fraud@1", "-o", "json"}, project, env).out);
  EXPECT_EQ(shown["flavor"], "sklearn");
  EXPECT_EQ(shown["created_by"], "ci-bot");
  EXPECT_EQ(shown["lineage"], nlohmann::json::parse(R"({
      "git": {"repository": "https://git.example.com/ml/fraud.git", "commit": ")" + commit + R"(",
              "branch": "main", "dirty": false},
      "image": "registry.example.com/fraud@sha256:)" + std::string(64, 'e') + R"(",
      "datasets": {"train": "sha256:)" + std::string(64, 'd') + R"("}})"));
}

}  // namespace
}  // namespace mlctl::test
