// Rollout state in the registry: weights, promotion and abort, each audited in one transaction.
#include <mlctl/models/registry.hpp>

#include <support/temp_dir.hpp>

#include <gtest/gtest.h>

namespace mlctl::models {
namespace {

class RolloutTest : public ::testing::Test {
protected:
  // fraud with versions 1..4, version 3 in production.
  void SetUp() override {
    auto opened = Registry::open(dir_ / "registry.db", OpenMode::create);
    ASSERT_TRUE(opened) << opened.error().message();
    registry_.emplace(std::move(*opened));
    for (int i = 1; i <= 4; ++i) {
      NewVersion v{.name = "fraud",
                   .artifact = {.uri = "file:///m/" + std::to_string(i), .digest = "sha256:" + std::string(64, 'a'),
                                .size = 1}};
      ASSERT_TRUE(registry_->register_version(v, who_));
    }
    ASSERT_TRUE(registry_->set_alias("fraud", "production", 3, who_));
  }

  Result<RolloutState> weigh(std::int64_t candidate, int weight, std::string strategy = "ab",
                             std::string environment = "prod") {
    return registry_->set_rollout_weight(
        "fraud", {.environment = environment, .strategy = strategy, .candidate = candidate, .weight = weight}, who_);
  }

  std::vector<AuditEntry> rollout_log() {
    auto history = registry_->history("fraud", std::nullopt);
    std::vector<AuditEntry> entries;
    for (auto& entry : *history)
      if (entry.action.starts_with("rollout.")) entries.push_back(entry);
    return entries;
  }

  Change who_{.actor = "alice", .reason = "try v4"};
  test::TempDir dir_;
  std::optional<Registry> registry_;
};

TEST_F(RolloutTest, TheFirstWeightStartsFromTheProductionVersionAndIsAudited) {
  EXPECT_EQ(*registry_->rollout("fraud", "prod"), std::nullopt);
  auto state = weigh(4, 10);
  ASSERT_TRUE(state) << state.error().message();
  EXPECT_EQ(state->stable, 3);
  EXPECT_EQ(state->candidate, 4);
  EXPECT_EQ(state->weight, 10);
  EXPECT_EQ(state->strategy, "ab");
  auto stored = registry_->rollout("fraud", "prod");
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ((*stored)->to_json(), state->to_json());

  ASSERT_TRUE(weigh(4, 50));
  auto log = rollout_log();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].action, "rollout.weight");
  EXPECT_EQ(log[0].actor, "alice");
  EXPECT_EQ(log[0].reason, "try v4");
  EXPECT_EQ(log[0].version, 4);
  EXPECT_EQ(log[0].old_value, std::nullopt);
  EXPECT_EQ(log[0].new_value, R"({"candidate":4,"environment":"prod","stable":3,"strategy":"ab","weight":10})");
  EXPECT_EQ(log[1].old_value, log[0].new_value);
  EXPECT_EQ(log[1].new_value, R"({"candidate":4,"environment":"prod","stable":3,"strategy":"ab","weight":50})");

  // The same weight again writes nothing.
  ASSERT_TRUE(weigh(4, 50));
  EXPECT_EQ(rollout_log().size(), 2u);
}

TEST_F(RolloutTest, PromoteMakesTheCandidateStableAndMovesTheProductionAlias) {
  ASSERT_TRUE(weigh(4, 30));
  auto promoted = registry_->promote_rollout("fraud", "prod", who_);
  ASSERT_TRUE(promoted) << promoted.error().message();
  EXPECT_EQ(promoted->stable, 4);
  EXPECT_EQ(promoted->candidate, std::nullopt);
  EXPECT_EQ(promoted->weight, 0);
  EXPECT_EQ(registry_->version({.name = "fraud", .alias = "production"})->version, 4);

  auto history = *registry_->history("fraud", std::nullopt);
  ASSERT_GE(history.size(), 2u);
  const AuditEntry& alias = history[history.size() - 2];
  EXPECT_EQ(alias.action, "alias.move");
  EXPECT_EQ(alias.old_value, "3");
  EXPECT_EQ(alias.new_value, "4");
  EXPECT_EQ(history.back().action, "rollout.promote");
  EXPECT_EQ(history.back().new_value, R"({"candidate":null,"environment":"prod","stable":4,"strategy":"ab","weight":0})");

  // Nothing is tried now: promote and abort refuse.
  auto again = registry_->promote_rollout("fraud", "prod", who_);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), Errc::precondition);
  EXPECT_EQ(again.error().message(), "fraud has no candidate in prod to promote");
}

TEST_F(RolloutTest, AbortReturnsEveryRequestToStableAndKeepsTheAlias) {
  ASSERT_TRUE(weigh(4, 30, "canary"));
  auto aborted = registry_->abort_rollout("fraud", "prod", who_);
  ASSERT_TRUE(aborted) << aborted.error().message();
  EXPECT_EQ(aborted->stable, 3);
  EXPECT_EQ(aborted->candidate, std::nullopt);
  EXPECT_EQ(aborted->weight, 0);
  EXPECT_EQ(registry_->version({.name = "fraud", .alias = "production"})->version, 3);
  auto log = rollout_log();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[1].action, "rollout.abort");
  EXPECT_EQ(log[1].version, 3);
  // After an abort, another candidate and another strategy may start.
  auto next = weigh(2, 5, "ab");
  ASSERT_TRUE(next) << next.error().message();
  EXPECT_EQ(next->candidate, 2);
  EXPECT_EQ(next->strategy, "ab");
}

TEST_F(RolloutTest, EnvironmentsRollOutIndependently) {
  ASSERT_TRUE(weigh(4, 10, "ab", "prod"));
  ASSERT_TRUE(weigh(2, 50, "canary", "staging"));
  auto all = registry_->rollouts("fraud");
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].environment, "prod");
  EXPECT_EQ((*all)[0].candidate, 4);
  EXPECT_EQ((*all)[1].environment, "staging");
  EXPECT_EQ((*all)[1].weight, 50);
  ASSERT_TRUE(registry_->abort_rollout("fraud", "staging", who_));
  EXPECT_EQ((*registry_->rollout("fraud", "prod"))->weight, 10);
}

TEST_F(RolloutTest, BadChangesAreRefusedAndWriteNothing) {
  auto expect_refused = [&](Result<RolloutState> result, Errc code, const std::string& message) {
    ASSERT_FALSE(result) << "accepted";
    EXPECT_EQ(result.error().code(), code);
    EXPECT_EQ(result.error().message(), message);
  };
  expect_refused(weigh(4, 101), Errc::invalid, "weight 101: the candidate's percent is 0..100");
  expect_refused(weigh(4, -1), Errc::invalid, "weight -1: the candidate's percent is 0..100");
  expect_refused(weigh(9, 10), Errc::not_found, "model 'fraud' has no version 9");
  expect_refused(weigh(3, 10), Errc::invalid, "version 3 is the stable version of fraud in prod");
  expect_refused(weigh(4, 0, "canary"), Errc::invalid, "a canary step sends 1..100 percent to the candidate");
  expect_refused(weigh(4, 10, "blue-green"), Errc::invalid, "strategy 'blue-green': a rollout is ab or canary");
  expect_refused(registry_->abort_rollout("fraud", "prod", who_), Errc::precondition,
                 "fraud has no candidate in prod to abort");
  expect_refused(registry_->set_rollout_weight("nope", {.environment = "prod", .strategy = "ab", .candidate = 1,
                                                        .weight = 1},
                                               who_),
                 Errc::not_found, "no model 'nope' in the registry");
  EXPECT_TRUE(rollout_log().empty());

  ASSERT_TRUE(weigh(4, 10));
  expect_refused(weigh(2, 10), Errc::precondition, "fraud is trying version 4 in prod; one candidate at a time");
  expect_refused(weigh(4, 20, "canary"), Errc::precondition, "the rollout of fraud in prod is ab, not canary");
  EXPECT_EQ(rollout_log().size(), 1u);
  EXPECT_EQ((*registry_->rollout("fraud", "prod"))->weight, 10);
}

TEST_F(RolloutTest, NoProductionAliasNoRollout) {
  ASSERT_TRUE(registry_->unset_alias("fraud", "production", who_));
  auto started = weigh(4, 10);
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().code(), Errc::precondition);
  EXPECT_EQ(started.error().message(), "fraud has no production alias: a rollout needs a stable version to start from");
  EXPECT_EQ(*registry_->rollout("fraud", "prod"), std::nullopt);
}

}  // namespace
}  // namespace mlctl::models
