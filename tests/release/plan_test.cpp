#include <mlctl/release/plan.hpp>

#include <gtest/gtest.h>

namespace mlctl::release {
namespace {

constexpr std::string_view k_project = R"(name: fraud
version: 1.5.0
environments:
  dev: {namespace: ml-dev, branch: develop}
  prod: {namespace: ml-prod, branch: main}
)";

const std::string k_head = "1111111111111111111111111111111111111111";
const std::string k_base = "2222222222222222222222222222222222222222";
const std::string k_other = "3333333333333333333333333333333333333333";

core::Project project(std::string_view text = k_project) {
  auto checked = core::parse_project(text, "mlctl.yaml", [](const std::string&) { return std::nullopt; });
  EXPECT_TRUE(checked.project) << (checked.problems.empty() ? "" : checked.problems.front().to_string());
  return checked.project.value_or(core::Project{});
}

RepositoryFacts facts(std::string before, std::string branch = "main") {
  RepositoryFacts f;
  f.state.workdir = "/src/fraud";
  f.state.commit = k_head;
  f.state.branch = std::move(branch);
  f.change = {.before = before, .after = "1.5.0", .bumped = before < "1.5.0", .lowered = before > "1.5.0",
              .head_commit = k_head, .base_commit = k_base};
  return f;
}

std::vector<std::string> names(const std::vector<Step>& steps) {
  std::vector<std::string> out;
  for (Step step : steps) out.emplace_back(step_name(step));
  return out;
}

TEST(DecideReleaseTest, ABumpOnMainReleasesEveryStepToProd) {
  auto decision = decide_release(project(), facts("1.4.0"), {});
  ASSERT_TRUE(decision) << decision.error().message();
  EXPECT_TRUE(decision->due);
  EXPECT_EQ(decision->reason, "version 1.4.0 -> 1.5.0");
  EXPECT_EQ(decision->environment.name, "prod");
  EXPECT_EQ(decision->environment.namespace_name, "ml-prod");
  EXPECT_EQ(decision->tag, "v1.5.0");
  EXPECT_EQ(decision->plan.key.version, "1.5.0");
  EXPECT_EQ(decision->plan.key.commit, k_head);
  EXPECT_EQ(decision->plan.environment, "prod");
  EXPECT_EQ(names(decision->plan.steps),
            (std::vector<std::string>{"build", "train", "register", "gate", "render", "tag", "commit"}));
}

TEST(DecideReleaseTest, NoBumpIsNotDueEvenOnADirtyTreeOrAnotherBranch) {
  auto f = facts("1.5.0", "feature/x");
  f.state.dirty = true;
  auto decision = decide_release(project(), f, {});
  ASSERT_TRUE(decision) << decision.error().message();
  EXPECT_FALSE(decision->due);
  EXPECT_EQ(decision->reason, "version 1.5.0 was not bumped since 2222222");

  auto lowered = decide_release(project(), facts("1.6.0"), {});
  ASSERT_TRUE(lowered);
  EXPECT_FALSE(lowered->due);
  EXPECT_EQ(lowered->reason, "version 1.5.0 was lowered from 1.6.0 (since 2222222)");
}

TEST(DecideReleaseTest, ForceReleasesAVersionThatWasNotBumped) {
  auto decision = decide_release(project(), facts("1.5.0"), {.force = true});
  ASSERT_TRUE(decision) << decision.error().message();
  EXPECT_TRUE(decision->due);
  EXPECT_EQ(decision->reason, "version 1.5.0 was not bumped since 2222222; released anyway (--force)");
}

TEST(DecideReleaseTest, ADirtyTreeIsRefusedUnlessAllowed) {
  auto f = facts("1.4.0");
  f.state.dirty = true;
  auto refused = decide_release(project(), f, {});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Errc::precondition);
  EXPECT_EQ(refused.error().message(),
            "the work tree /src/fraud has uncommitted changes: a release is made from a commit");
  EXPECT_EQ(refused.error().hint(), "commit or stash them (git status lists them), or pass --allow-dirty");
  auto allowed = decide_release(project(), f, {.allow_dirty = true});
  ASSERT_TRUE(allowed) << allowed.error().message();
  EXPECT_TRUE(allowed->due);
}

TEST(DecideReleaseTest, TheEnvironmentComesFromTheBranchOrEnv) {
  auto develop = decide_release(project(), facts("1.4.0", "develop"), {});
  ASSERT_TRUE(develop) << develop.error().message();
  EXPECT_EQ(develop->environment.name, "dev");

  auto unmapped = decide_release(project(), facts("1.4.0", "release-2"), {});
  ASSERT_FALSE(unmapped);
  EXPECT_EQ(unmapped.error().code(), Errc::precondition);
  EXPECT_EQ(unmapped.error().message(), "branch release-2 has no environment in mlctl.yaml");
  EXPECT_EQ(unmapped.error().hint(),
            "set environments.<env>.branch: release-2 (environments now: dev (branch develop), prod (branch main)), "
            "or pass --env ENV");

  auto named = decide_release(project(), facts("1.4.0", "release-2"), {.environment = "dev"});
  ASSERT_TRUE(named) << named.error().message();
  EXPECT_EQ(named->environment.name, "dev");

  auto unknown = decide_release(project(), facts("1.4.0"), {.environment = "staging"});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), Errc::not_found);
  EXPECT_EQ(unknown.error().message(), "no environment 'staging' in mlctl.yaml");

  auto f = facts("1.4.0");
  f.state.branch.reset();
  f.state.detached = true;
  auto detached = decide_release(project(), f, {});
  ASSERT_FALSE(detached);
  EXPECT_EQ(detached.error().code(), Errc::precondition);
  EXPECT_EQ(detached.error().message(), "HEAD is detached: no branch says which environment to release to");
}

TEST(DecideReleaseTest, ATagAtAnotherCommitIsRefusedUnlessKept) {
  auto f = facts("1.4.0");
  f.tag_commit = k_other;
  auto refused = decide_release(project(), f, {});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Errc::precondition);
  EXPECT_EQ(refused.error().message(),
            "tag v1.5.0 already points at commit 3333333, not at 1111111: version 1.5.0 was released from another "
            "commit");
  auto kept = decide_release(project(), f, {.keep_tag = true});
  ASSERT_TRUE(kept) << kept.error().message();
  EXPECT_EQ(names(kept->plan.steps),
            (std::vector<std::string>{"build", "train", "register", "gate", "render", "commit"}));

  f.tag_commit = k_head;  // tagged by an earlier run of this release: the tag step finds it there
  auto same = decide_release(project(), f, {});
  ASSERT_TRUE(same) << same.error().message();
  EXPECT_EQ(names(same->plan.steps).size(), 7u);
}

TEST(DecideReleaseTest, OnlyAndTheTagPatternComeThrough) {
  std::string text = std::string(k_project) + "release: {tag: \"fraud-{version}\"}\n";
  auto decision = decide_release(project(text), facts("1.4.0"), {.steps = {Step::build, Step::tag}});
  ASSERT_TRUE(decision) << decision.error().message();
  EXPECT_EQ(decision->tag, "fraud-1.5.0");
  EXPECT_EQ(names(decision->plan.steps), (std::vector<std::string>{"build", "tag"}));
}

}  // namespace
}  // namespace mlctl::release
