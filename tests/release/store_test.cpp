// The release record: steps parsed in release order, a claim per (version, commit) that a second
// live process cannot take, steps kept across a failure, and a finished release returned as is.
#include <mlctl/release/store.hpp>

#include <support/temp_dir.hpp>

#include <unistd.h>

#include <gtest/gtest.h>

namespace mlctl::release {
namespace {

TEST(ReleaseStepsTest, OnlyListsStepsInReleaseOrder) {
  auto steps = parse_steps("commit,build,render");
  ASSERT_TRUE(steps) << steps.error().message();
  EXPECT_EQ(*steps, (std::vector<Step>{Step::build, Step::render, Step::commit}));
  EXPECT_EQ(parse_steps("register")->front(), Step::register_model);
  auto bad = parse_steps("build,bild");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), Errc::invalid);
  EXPECT_EQ(bad.error().message(), "unknown release step 'bild'");
  EXPECT_EQ(bad.error().hint(), "the steps: build, train, register, gate, render, tag, commit");
  EXPECT_FALSE(parse_steps(""));
  EXPECT_FALSE(parse_steps("build,"));
}

class ReleaseStoreTest : public ::testing::Test {
protected:
  ReleaseStore open() { return std::move(*ReleaseStore::open(dir_ / ".mlctl/registry.db")); }
  std::string host() const { return this_owner().substr(this_owner().find('@')); }

  test::TempDir dir_;
  const ReleaseKey key_{.version = "1.5.0", .commit = std::string(40, 'a')};
};

TEST_F(ReleaseStoreTest, AFailedReleaseKeepsItsStepsAndIsClaimedAgain) {
  ReleaseStore store = open();
  EXPECT_EQ(*store.get(key_), std::nullopt);
  auto claimed = store.claim(key_, "prod", this_owner());
  ASSERT_TRUE(claimed) << claimed.error().message();
  EXPECT_EQ(claimed->status, ReleaseStatus::running);
  EXPECT_EQ(claimed->environment, "prod");
  EXPECT_TRUE(claimed->steps.empty());

  ASSERT_TRUE(store.record_step(key_, {.step = Step::train, .succeeded = false, .output = {}, .message = "exit 1",
                                       .finished_at = "2026-11-30T10:00:01.000Z"}));
  ASSERT_TRUE(store.record_step(key_, {.step = Step::build, .succeeded = true, .output = {{"digest", "sha256:ab"}},
                                       .message = "", .finished_at = "2026-11-30T10:00:00.000Z"}));
  ASSERT_TRUE(store.finish(key_, ReleaseStatus::failed));

  // A later process (the one before is gone) continues it: the steps are there, in release order.
  ReleaseStore again = open();
  auto resumed = again.claim(key_, "prod", "2147483646" + host());
  ASSERT_TRUE(resumed) << resumed.error().message();
  EXPECT_EQ(resumed->status, ReleaseStatus::running);
  EXPECT_EQ(resumed->owner, "2147483646" + host());
  ASSERT_EQ(resumed->steps.size(), 2u);
  EXPECT_EQ(resumed->steps[0].step, Step::build);
  EXPECT_TRUE(resumed->steps[0].succeeded);
  EXPECT_EQ(resumed->steps[0].output, (nlohmann::json{{"digest", "sha256:ab"}}));
  EXPECT_EQ(resumed->step(Step::train)->message, "exit 1");
  EXPECT_EQ(resumed->step(Step::tag), nullptr);

  // The step that failed succeeds this time; the record says so, once.
  ASSERT_TRUE(again.record_step(key_, {.step = Step::train, .succeeded = true, .output = {{"run", "r1"}},
                                       .message = "", .finished_at = ""}));
  ASSERT_TRUE(again.finish(key_, ReleaseStatus::succeeded));
  auto done = *again.get(key_);
  ASSERT_TRUE(done);
  EXPECT_EQ(done->status, ReleaseStatus::succeeded);
  EXPECT_FALSE(done->finished_at.empty());
  EXPECT_TRUE(done->step(Step::train)->succeeded);
  EXPECT_EQ(done->step(Step::train)->message, "");
  EXPECT_EQ(done->to_json()["steps"].size(), 2u);
}

TEST_F(ReleaseStoreTest, ALiveProcessKeepsItsRelease) {
  ReleaseStore store = open();
  // The release is running in the test's parent process, alive on this host.
  std::string parent = std::to_string(::getppid()) + host();
  auto running = store.claim(key_, "prod", parent);
  ASSERT_TRUE(running);
  auto refused = store.claim(key_, "prod", this_owner());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Errc::precondition);
  EXPECT_EQ(refused.error().message(), "release 1.5.0 of commit aaaaaaaaaaaa is running in process " + parent +
                                           " (since " + running->started_at + ")");
  EXPECT_EQ(refused.error().hint(), "wait for it to finish, then run mlctl release again");

  // One release at a time per database: another commit (or version) waits for it too.
  ReleaseKey other{.version = "1.6.0", .commit = std::string(40, 'b')};
  auto second = store.claim(other, "prod", this_owner());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().message(), refused.error().message());
  auto elsewhere = store.running_elsewhere(this_owner());
  ASSERT_TRUE(elsewhere);
  ASSERT_TRUE(elsewhere->has_value());
  EXPECT_EQ((*elsewhere)->key.version, "1.5.0");
  EXPECT_EQ((*elsewhere)->owner, parent);

  ASSERT_TRUE(store.finish(key_, ReleaseStatus::failed));
  EXPECT_FALSE(store.running_elsewhere(this_owner()).value().has_value());
  EXPECT_TRUE(store.claim(other, "prod", this_owner()));
}

TEST_F(ReleaseStoreTest, AFinishedReleaseIsReturnedAsItIs) {
  ReleaseStore store = open();
  ASSERT_TRUE(store.claim(key_, "prod", this_owner()));
  ASSERT_TRUE(store.record_step(key_, {.step = Step::tag, .succeeded = true, .output = {{"tag", "v1.5.0"}},
                                       .message = "", .finished_at = ""}));
  ASSERT_TRUE(store.finish(key_, ReleaseStatus::succeeded));
  auto again = store.claim(key_, "staging", "1" + host());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, ReleaseStatus::succeeded);
  EXPECT_EQ(again->environment, "prod") << "nothing is changed";
  EXPECT_EQ(again->owner, this_owner());
  EXPECT_EQ(again->step(Step::tag)->output["tag"], "v1.5.0");
}

}  // namespace
}  // namespace mlctl::release
