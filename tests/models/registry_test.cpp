#include <mlctl/models/registry.hpp>
#include <mlctl/models/registry_rows.hpp>

#include <support/temp_dir.hpp>

#include <sqlite3.h>

#include <gtest/gtest.h>

namespace mlctl::models {
namespace {

class RegistryTest : public ::testing::Test {
protected:
  Registry open() {
    auto registry = Registry::open(dir_ / "registry.db", OpenMode::create);
    EXPECT_TRUE(registry) << registry.error().message();
    return std::move(*registry);
  }

  NewVersion version(const std::string& name, double auc) {
    NewVersion v{.name = name,
                 .artifact = {.uri = "file:///a/" + std::to_string(auc), .digest = "sha256:" + std::string(64, 'a'),
                              .size = 3},
                 .flavor = "sklearn"};
    v.metrics["auc"] = auc;
    v.params["lr"] = "0.01";
    v.tags["team"] = "fraud";
    return v;
  }

  Change who{.actor = "ci", .reason = "test"};
  test::TempDir dir_;
};

TEST_F(RegistryTest, VersionsCountUpPerModel) {
  Registry registry = open();
  EXPECT_EQ(registry.register_version(version("fraud", 0.8), who)->version, 1);
  EXPECT_EQ(registry.register_version(version("fraud", 0.9), who)->version, 2);
  EXPECT_EQ(registry.register_version(version("churn", 0.7), who)->version, 1);
  auto latest = registry.version({.name = "fraud"});
  ASSERT_TRUE(latest);
  EXPECT_EQ(latest->version, 2);
  EXPECT_EQ(latest->metrics["auc"], 0.9);
  EXPECT_EQ(latest->created_by, "ci");
  auto models = registry.list_models();
  ASSERT_EQ(models->size(), 2u);
  EXPECT_EQ((*models)[0].name, "churn");
  EXPECT_EQ((*models)[1].versions, 2);
}

TEST_F(RegistryTest, SchemaIsVersionedAndReopens) {
  { open(); }
  Registry registry = open();
  auto statement = registry.database().prepare("PRAGMA user_version");
  ASSERT_TRUE(statement->step());
  EXPECT_EQ(statement->integer(0), 4);  // v1: the registry, v2: pipeline runs, v3: rollouts, v4: releases
  auto mode = registry.database().prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode->step());
  EXPECT_EQ(mode->text(0), "wal");
}

TEST_F(RegistryTest, ListFiltersAndSortsInSql) {
  Registry registry = open();
  for (double auc : {0.7, 0.95, 0.85, 0.91}) ASSERT_TRUE(registry.register_version(version("fraud", auc), who));
  ListQuery query{.name = "fraud", .where = *parse_filter("metrics.auc >= 0.85"), .sort = "metrics.auc"};
  auto versions = registry.list_versions(query);
  ASSERT_TRUE(versions) << versions.error().message();
  std::vector<std::int64_t> numbers;
  for (const auto& v : *versions) numbers.push_back(v.version);
  EXPECT_EQ(numbers, (std::vector<std::int64_t>{2, 4, 3}));
  query.limit = 1;
  query.offset = 1;
  EXPECT_EQ(registry.list_versions(query)->front().version, 4);
  ListQuery by_param{.name = "fraud", .where = *parse_filter("params.lr < 0.1 and version > 3")};
  EXPECT_EQ(registry.list_versions(by_param)->size(), 1u);
}

// `list NAME --limit 20` and `show NAME@alias` must stay index lookups at a million versions.
TEST_F(RegistryTest, ListingAndAliasLookupUseIndexes) {
  Registry registry = open();
  auto plan = [&](const std::string& sql) {
    auto statement = registry.database().prepare("EXPLAIN QUERY PLAN " + sql);
    std::string details;
    while (*statement->step()) details += statement->text(3) + "\n";
    return details;
  };
  std::string list = plan(std::string(k_version_select) +
                          " WHERE v.model_id = 1 AND 1 ORDER BY v.version DESC, v.version DESC LIMIT 20 OFFSET 0");
  EXPECT_NE(list.find("INDEX sqlite_autoindex_versions_1 (model_id=?)"), std::string::npos) << list;
  EXPECT_EQ(list.find("TEMP B-TREE"), std::string::npos) << list;
  std::string alias = plan(std::string(k_version_select) +
                           " WHERE v.model_id = 1 AND v.version = (SELECT version FROM aliases WHERE model_id = "
                           "v.model_id AND alias = 'production')");
  EXPECT_NE(alias.find("sqlite_autoindex_versions_1 (model_id=? AND version=?)"), std::string::npos) << alias;
  EXPECT_NE(alias.find("SEARCH aliases USING PRIMARY KEY (model_id=? AND alias=?)"), std::string::npos) << alias;
  EXPECT_EQ(alias.find("SCAN"), std::string::npos) << alias;
}

TEST_F(RegistryTest, AliasesMoveAndAreAudited) {
  Registry registry = open();
  for (double auc : {0.8, 0.9}) ASSERT_TRUE(registry.register_version(version("fraud", auc), who));
  auto set = registry.set_alias("fraud", "production", 1, who);
  ASSERT_TRUE(set);
  EXPECT_EQ(set->old_version, std::nullopt);
  auto moved = registry.set_alias("fraud", "production", 2, who);
  EXPECT_EQ(moved->old_version, 1);
  EXPECT_EQ(registry.version({.name = "fraud", .alias = "production"})->version, 2);
  ASSERT_TRUE(registry.unset_alias("fraud", "production", who));
  EXPECT_EQ(registry.version({.name = "fraud", .alias = "production"}).error().code(), Errc::not_found);
  auto history = registry.history("fraud", std::string("production"));
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[0].action, "alias.set");
  EXPECT_EQ((*history)[1].action, "alias.move");
  EXPECT_EQ((*history)[1].old_value, "1");
  EXPECT_EQ((*history)[1].new_value, "2");
  EXPECT_EQ((*history)[2].action, "alias.unset");
  EXPECT_EQ((*history)[2].reason, "test");
}

TEST_F(RegistryTest, ArchivedVersionsCannotBeAliased) {
  Registry registry = open();
  ASSERT_TRUE(registry.register_version(version("fraud", 0.8), who));
  ASSERT_TRUE(registry.set_alias("fraud", "staging", 1, who));
  EXPECT_EQ(registry.set_archived("fraud", 1, true, who).error().code(), Errc::precondition);
  ASSERT_TRUE(registry.unset_alias("fraud", "staging", who));
  ASSERT_TRUE(registry.set_archived("fraud", 1, true, who));
  EXPECT_EQ(registry.set_alias("fraud", "staging", 1, who).error().code(), Errc::precondition);
  ASSERT_TRUE(registry.set_archived("fraud", 1, false, who));
  EXPECT_TRUE(registry.set_alias("fraud", "staging", 1, who));
}

TEST_F(RegistryTest, GateRefusesAndWritesNothing) {
  Registry registry = open();
  for (double auc : {0.9, 0.85}) ASSERT_TRUE(registry.register_version(version("fraud", auc), who));
  ASSERT_TRUE(registry.set_alias("fraud", "champion", 1, who));
  auto before = registry.history("fraud", std::nullopt)->size();
  auto refused = registry.promote("fraud", 2, "champion", {.better_than = "champion", .on = "metrics.auc"}, who);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Errc::precondition);
  EXPECT_EQ(refused.error().message(),
            "not promoting fraud@2 to champion: metrics.auc 0.85 is not better than champion's (version 1) 0.9");
  auto required = registry.promote("fraud", 2, "champion", {.require = *parse_filter("metrics.auc >= 0.88")}, who);
  ASSERT_FALSE(required);
  EXPECT_EQ(required.error().message(),
            "not promoting fraud@2 to champion: metrics.auc >= 0.88 does not hold (metrics.auc is 0.85)");
  EXPECT_EQ(registry.history("fraud", std::nullopt)->size(), before);
  EXPECT_EQ(registry.version({.name = "fraud", .alias = "champion"})->version, 1);
  auto accepted = registry.promote("fraud", 2, "champion", {.require = *parse_filter("metrics.auc >= 0.8")}, who);
  ASSERT_TRUE(accepted) << accepted.error().message();
  EXPECT_EQ(accepted->new_version, 2);
}

TEST_F(RegistryTest, RegisteredVersionsAndTheAuditLogCannotChange) {
  Registry registry = open();
  ASSERT_TRUE(registry.register_version(version("fraud", 0.8), who));
  EXPECT_FALSE(registry.database().exec("UPDATE versions SET artifact_digest = 'x'"));
  EXPECT_FALSE(registry.database().exec("DELETE FROM versions"));
  EXPECT_FALSE(registry.database().exec("UPDATE audit SET actor = 'mallory'"));
  EXPECT_FALSE(registry.database().exec("DELETE FROM audit"));
  EXPECT_EQ(registry.version({.name = "fraud", .version = 1})->artifact.digest, "sha256:" + std::string(64, 'a'));
}

TEST_F(RegistryTest, HostileNamesNeverReachTheDatabase) {
  Registry registry = open();
  for (const std::string& name : std::vector<std::string>{"a'; DROP TABLE models; --", "Fraud", "modèle", std::string(300, 'a'), "a\"b", ""}) {
    auto registered = registry.register_version(version(name, 0.5), who);
    ASSERT_FALSE(registered) << name;
    EXPECT_EQ(registered.error().code(), Errc::invalid);
  }
  EXPECT_TRUE(registry.list_models()->empty());
}

TEST_F(RegistryTest, ExportImportRoundTripIsByteIdentical) {
  std::string exported;
  {
    Registry registry = open();
    auto v = version("fraud", 0.1 + 0.2);
    v.lineage = {{"git", {{"commit", std::string(40, 'c')}, {"dirty", false}}}, {"run", "r-1"}};
    ASSERT_TRUE(registry.register_version(v, who));
    ASSERT_TRUE(registry.register_version(version("fraud", 0.9), who));
    ASSERT_TRUE(registry.register_version(version("churn", 0.7), who));
    ASSERT_TRUE(registry.set_alias("fraud", "production", 2, who));
    ASSERT_TRUE(registry.set_archived("fraud", 1, true, who));
    ASSERT_TRUE(registry.register_version(version("fraud", 0.95), who));
    ASSERT_TRUE(registry.set_rollout_weight(
        "fraud", {.environment = "prod", .strategy = "ab", .candidate = 3, .weight = 10}, who));
    exported = *registry.export_jsonl(std::nullopt);
    EXPECT_NE(exported.find(R"({"candidate":3,"environment":"prod","kind":"rollout","name":"fraud","stable":2,)"),
              std::string::npos)
        << exported;
  }
  test::TempDir other;
  auto fresh = Registry::open(other / "fresh.db", OpenMode::create);
  ASSERT_TRUE(fresh);
  auto imported = fresh->import_jsonl(exported);
  ASSERT_TRUE(imported) << imported.error().message();
  EXPECT_EQ(*imported, 15u);  // 2 models, 4 versions, 1 alias, 1 rollout, 7 audit entries
  EXPECT_EQ(*fresh->export_jsonl(std::nullopt), exported);
  EXPECT_EQ(fresh->import_jsonl(exported).error().code(), Errc::precondition);
  EXPECT_EQ(fresh->version({.name = "fraud", .version = 1})->metrics["auc"].get<double>(), 0.1 + 0.2);
  auto rollout = fresh->rollout("fraud", "prod");
  ASSERT_TRUE(rollout && *rollout);
  EXPECT_EQ((*rollout)->candidate, 3);
  EXPECT_EQ((*rollout)->weight, 10);
}

}  // namespace
}  // namespace mlctl::models
