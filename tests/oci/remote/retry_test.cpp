#include <mlctl/oci/remote/retry.hpp>

#include <gtest/gtest.h>

namespace mlctl::oci::remote {
namespace {

using std::chrono::milliseconds;

TEST(RetryTest, BackoffDoublesUpToTheCapWithJitterInTheUpperHalf) {
  RetryPolicy policy{10, milliseconds(100), milliseconds(1000), milliseconds(60000)};
  EXPECT_EQ(backoff_delay(policy, 1, 0.0), milliseconds(50));
  EXPECT_EQ(backoff_delay(policy, 1, 1.0), milliseconds(100));
  EXPECT_EQ(backoff_delay(policy, 2, 1.0), milliseconds(200));
  EXPECT_EQ(backoff_delay(policy, 3, 0.5), milliseconds(300));
  EXPECT_EQ(backoff_delay(policy, 9, 1.0), milliseconds(1000));
}

TEST(RetryTest, ParsesRetryAfterSecondsAndDates) {
  auto now = std::chrono::system_clock::from_time_t(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
  EXPECT_EQ(parse_retry_after("2", now), milliseconds(2000));
  EXPECT_EQ(parse_retry_after(" 0 ", now), milliseconds(0));
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now), milliseconds(30000));
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now), milliseconds(0));
  EXPECT_EQ(parse_retry_after("-5", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("soon", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("", now), std::nullopt);
}

struct Recorded {
  std::vector<milliseconds> sleeps;
  Retrier retrier(RetryPolicy policy) {
    return Retrier(policy, [this](milliseconds d) { sleeps.push_back(d); }, [] { return 1.0; });
  }
};

TEST(RetryTest, StopsAtTheFirstSuccess) {
  Recorded recorded;
  auto retrier = recorded.retrier({5, milliseconds(100), milliseconds(1000), milliseconds(60000)});
  int calls = 0;
  auto result = retrier.run<int>(
      [&]() -> RegistryResult<int> {
        if (++calls < 3) return std::unexpected(RegistryError(Errc::remote, "503", 503, {}, true));
        return 7;
      },
      [](auto&&...) {});
  ASSERT_TRUE(result);
  EXPECT_EQ(*result, 7);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(recorded.sleeps, (std::vector<milliseconds>{milliseconds(100), milliseconds(200)}));
  EXPECT_EQ(retrier.retries(), 2u);
}

TEST(RetryTest, DoesNotRetryOtherClientErrors) {
  Recorded recorded;
  auto retrier = recorded.retrier({});
  int calls = 0;
  auto result = retrier.run<int>(
      [&]() -> RegistryResult<int> {
        ++calls;
        return std::unexpected(RegistryError(Errc::remote, "400", 400, {}, false));
      },
      [](auto&&...) {});
  EXPECT_FALSE(result);
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(recorded.sleeps.empty());
}

TEST(RetryTest, GivesUpAfterMaxAttempts) {
  Recorded recorded;
  auto retrier = recorded.retrier({3, milliseconds(10), milliseconds(1000), milliseconds(60000)});
  int calls = 0;
  auto result = retrier.run<int>(
      [&]() -> RegistryResult<int> {
        ++calls;
        return std::unexpected(RegistryError(Errc::remote, "503", 503, {}, true));
      },
      [](auto&&...) {});
  EXPECT_FALSE(result);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(recorded.sleeps.size(), 2u);
}

TEST(RetryTest, HonoursRetryAfterButNotPastTheBudget) {
  Recorded recorded;
  auto retrier = recorded.retrier({5, milliseconds(10), milliseconds(100), milliseconds(5000)});
  int calls = 0;
  auto result = retrier.run<int>(
      [&]() -> RegistryResult<int> {
        ++calls;
        RegistryError error(Errc::remote, "429", 429, {}, true);
        error.set_retry_after(milliseconds(calls == 1 ? 3000 : 4000));
        return std::unexpected(error);
      },
      [](auto&&...) {});
  EXPECT_FALSE(result);
  EXPECT_EQ(calls, 2);  // 3 s waited; another 4 s would pass the 5 s budget
  EXPECT_EQ(recorded.sleeps, (std::vector<milliseconds>{milliseconds(3000)}));
}

}  // namespace
}  // namespace mlctl::oci::remote
