#include "bridge/schedule.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace sb::bridge {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr int64_t kT0 = 1'700'000'000'000;  // Tue, 14 Nov 2023 22:13:20 GMT
constexpr int64_t kSec = 1000;
constexpr int64_t kMin = 60 * kSec;
constexpr int64_t kHour = 60 * kMin;

// Starts a cold schedule and runs its first attempt to the point where an outcome is due.
// Returns the time of that attempt.
int64_t StartAndBegin(Schedule& s, int64_t now_ms = kT0) {
  s.Start(now_ms, std::nullopt);
  const int64_t t = s.NextFetchMs();
  EXPECT_TRUE(s.BeginAttempt(t));
  return t;
}

// Runs one more attempt at the earliest allowed time and returns its time.
int64_t BeginAtNext(Schedule& s) {
  const int64_t t = s.NextFetchMs();
  EXPECT_TRUE(s.BeginAttempt(t));
  return t;
}

TEST(ScheduleTest, Fnv1a64MatchesReferenceVectors) {
  EXPECT_EQ(Fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(Fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

TEST(ScheduleTest, NeverDueBeforeStart) {
  Schedule s("scout/acme", {}, 1);
  EXPECT_EQ(s.NextFetchMs(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(s.next_fetch_reason(), WaitReason::kNotStarted);
  EXPECT_FALSE(s.BeginAttempt(kT0));
  EXPECT_EQ(s.RequestsInLastHour(kT0), 0);
}

TEST(ScheduleTest, FirstFetchUsesDeterministicOffset) {
  Schedule a("scout/acme", {}, 1);
  Schedule b("scout/acme", {}, 999);
  a.Start(kT0, std::nullopt);
  b.Start(kT0, std::nullopt);
  const int64_t offset = StartOffsetMs("scout/acme", {});
  EXPECT_EQ(offset, static_cast<int64_t>(Fnv1a64("scout/acme") % 10'000));
  EXPECT_EQ(a.NextFetchMs(), kT0 + offset);
  EXPECT_EQ(b.NextFetchMs(), kT0 + offset);
  EXPECT_EQ(a.next_fetch_reason(), WaitReason::kStartOffset);

  // Different keys spread over the whole [0, 10s) span.
  std::set<int64_t> offsets;
  for (int i = 0; i < 200; ++i) {
    const int64_t o = StartOffsetMs("scout/org-" + std::to_string(i), {});
    ASSERT_GE(o, 0);
    ASSERT_LT(o, 10'000);
    offsets.insert(o);
  }
  EXPECT_GT(offsets.size(), 180u);
  EXPECT_LT(*offsets.begin(), 1'000);
  EXPECT_GT(*offsets.rbegin(), 9'000);
}

TEST(ScheduleTest, StartOffsetNeverExceedsRefreshInterval) {
  ScheduleOptions o;
  o.refresh_interval = seconds(2);
  for (int i = 0; i < 100; ++i) {
    EXPECT_LT(StartOffsetMs("k" + std::to_string(i), o), 2'000);
  }
  o.max_start_offset = milliseconds(0);
  EXPECT_EQ(StartOffsetMs("anything", o), 0);
}

TEST(ScheduleTest, WarmStartWaitsForRefreshAfterStoredSuccess) {
  Schedule s("scout/acme", {}, 1);
  s.Start(kT0, kT0 - 10 * kMin);
  EXPECT_EQ(s.NextFetchMs(), kT0 + 50 * kMin);
  EXPECT_EQ(s.next_fetch_reason(), WaitReason::kRefresh);
  EXPECT_EQ(s.last_success_ms(), kT0 - 10 * kMin);
  EXPECT_FALSE(s.BeginAttempt(kT0 + 50 * kMin - 1));
  EXPECT_TRUE(s.BeginAttempt(kT0 + 50 * kMin));
}

TEST(ScheduleTest, WarmStartAfterLongOutageStillUsesOffset) {
  Schedule s("scout/acme", {}, 1);
  s.Start(kT0, kT0 - 5 * kHour);
  EXPECT_EQ(s.NextFetchMs(), kT0 + StartOffsetMs("scout/acme", {}));
  EXPECT_EQ(s.next_fetch_reason(), WaitReason::kStartOffset);
}

TEST(ScheduleTest, StoredSuccessInTheFutureCountsAsNow) {
  Schedule s("scout/acme", {}, 1);
  s.Start(kT0, kT0 + 3 * kHour);
  EXPECT_EQ(s.NextFetchMs(), kT0 + 60 * kMin);
}

TEST(ScheduleTest, RespectsCacheControlMaxAge) {
  Schedule s("scout/acme", {}, 1);
  const int64_t t = StartAndBegin(s);
  s.OnSuccess(t, {{"Cache-Control", "max-age=7200"}}, false);
  EXPECT_EQ(s.NextFetchMs(), t + 2 * kHour);
  EXPECT_EQ(s.next_fetch_reason(), WaitReason::kCacheLifetime);
  EXPECT_EQ(s.health(), TargetHealth::kUp);
  EXPECT_EQ(s.last_success_ms(), t);
}

TEST(ScheduleTest, MaxAgeMinusAge) {
  Schedule s("scout/acme", {}, 1);
  const int64_t t = StartAndBegin(s);
  s.OnSuccess(t, {{"Cache-Control", "max-age=7200"}, {"Age", "600"}}, false);
  EXPECT_EQ(s.NextFetchMs(), t + 7200 * kSec - 600 * kSec);
}

TEST(ScheduleTest, SMaxAgeWinsOverMaxAge) {
  Schedule s("scout/acme", {}, 1);
  const int64_t t = StartAndBegin(s);
  s.OnSuccess(t, {{"Cache-Control", "max-age=9000, s-maxage=5400"}}, false);
  EXPECT_EQ(s.NextFetchMs(), t + 5400 * kSec);
}

TEST(ScheduleTest, ExpiresHeaderWithDate) {
  Schedule s("scout/acme", {}, 1);
  const int64_t t = StartAndBegin(s);
  // Date and Expires come from a server clock hours behind ours; only their difference counts.
  s.OnSuccess(t, {{"Date", "Tue, 14 Nov 2023 18:51:00 GMT"},
                  {"Expires", "Tue, 14 Nov 2023 20:51:00 GMT"}},
              false);
  EXPECT_EQ(s.NextFetchMs(), t + 2 * kHour);
}

TEST(ScheduleTest, ShorterCacheLifetimeStillWaitsRefresh) {
  Schedule s("scout/acme", {}, 1);
  const int64_t t = StartAndBegin(s);
  s.OnSuccess(t, {{"Cache-Control", "max-age=60"}}, false);
  EXPECT_EQ(s.NextFetchMs(), t + 60 * kMin);
  EXPECT_EQ(s.next_fetch_reason(), WaitReason::kRefresh);
}

TEST(ScheduleTest, NoStoreStillWaitsRefresh) {
  Schedule s("scout/acme", {}, 1);
  const int64_t t = StartAndBegin(s);
  s.OnSuccess(t, {{"Cache-Control", "no-store, max-age=7200"}}, false);
  EXPECT_EQ(s.NextFetchMs(), t + 60 * kMin);
}

TEST(ScheduleTest, IgnoresCacheHeadersWhenDisabled) {
  ScheduleOptions o;
  o.respect_cache_headers = false;
  Schedule s("scout/acme", o, 1);
  const int64_t t = StartAndBegin(s);
  s.OnSuccess(t, {{"Cache-Control", "max-age=7200"}}, false);
  EXPECT_EQ(s.NextFetchMs(), t + 60 * kMin);
}

TEST(ScheduleTest, HugeMaxAgeIsCapped) {
  Schedule s("scout/acme", {}, 1);
  const int64_t t = StartAndBegin(s);
  s.OnSuccess(t, {{"Cache-Control", "max-age=999999999999"}}, false);
  EXPECT_EQ(s.NextFetchMs(), t + 24 * kHour);
}

TEST(ScheduleTest, RefreshIntervalCanBeSeconds) {
  ScheduleOptions o;
  o.refresh_interval = seconds(5);
  Schedule s("test", o, 1);
  const int64_t t = StartAndBegin(s);
  EXPECT_LT(t, kT0 + 5 * kSec);  // the offset is capped by the refresh interval
  s.OnSuccess(t, {}, false);
  EXPECT_EQ(s.NextFetchMs(), t + 5 * kSec);
}

TEST(ScheduleTest, NotModifiedCountsAsSuccess) {
  Schedule s("scout/acme", {}, 1);
  int64_t t = StartAndBegin(s);
  s.OnSuccess(t, {{"ETag", "\"v1\""}}, false);
  t = BeginAtNext(s);
  s.OnFailure(t, 503, {});
  ASSERT_EQ(s.consecutive_failures(), 1);
  t = BeginAtNext(s);
  s.OnSuccess(t, {}, /*not_modified=*/true);
  EXPECT_EQ(s.consecutive_failures(), 0);
  EXPECT_EQ(s.health(), TargetHealth::kUp);
  EXPECT_EQ(s.last_success_ms(), t);
  EXPECT_EQ(s.NextFetchMs(), t + 60 * kMin);
  // A 304 without validators keeps the ones from the last 200.
  EXPECT_EQ(s.ConditionalHeaders(), (HeaderList{{"If-None-Match", "\"v1\""}}));
}

TEST(ScheduleTest, ConditionalHeadersFromEtagAndLastModified) {
  Schedule s("scout/acme", {}, 1);
  EXPECT_TRUE(s.ConditionalHeaders().empty());
  int64_t t = StartAndBegin(s);
  s.OnSuccess(t, {{"etag", "W/\"abc\""}, {"Last-Modified", "Tue, 14 Nov 2023 22:00:00 GMT"}},
              false);
  EXPECT_EQ(s.ConditionalHeaders(),
            (HeaderList{{"If-None-Match", "W/\"abc\""},
                        {"If-Modified-Since", "Tue, 14 Nov 2023 22:00:00 GMT"}}));

  // A 304 carrying a new ETag updates it.
  t = BeginAtNext(s);
  s.OnSuccess(t, {{"ETag", "\"def\""}}, true);
  EXPECT_EQ(s.ConditionalHeaders()[0], (std::pair<std::string, std::string>{"If-None-Match",
                                                                          "\"def\""}));
  ASSERT_EQ(s.ConditionalHeaders().size(), 2u);

  // A 200 without validators forgets the old ones.
  t = BeginAtNext(s);
  s.OnSuccess(t, {{"Last-Modified", "Tue, 14 Nov 2023 23:00:00 GMT"}}, false);
  EXPECT_EQ(s.ConditionalHeaders(),
            (HeaderList{{"If-Modified-Since", "Tue, 14 Nov 2023 23:00:00 GMT"}}));
}

TEST(ScheduleTest, ValidatorsWithControlCharactersAreNotEchoed) {
  Schedule s("scout/acme", {}, 1);
  const int64_t t = StartAndBegin(s);
  s.OnSuccess(t, {{"ETag", "\"a\"\r\nX-Evil: 1"}, {"Last-Modified", std::string(2000, 'x')}},
              false);
  EXPECT_TRUE(s.ConditionalHeaders().empty());
}

TEST(ScheduleTest, BackoffIsExponentialWithFullJitter) {
  ScheduleOptions o;
  o.max_requests_per_hour = 1000;  // keep the budget out of this test
  const int64_t base = 10 * kSec, max = 15 * kMin;
  constexpr int kFailures = 10;
  std::vector<int64_t> lo(kFailures + 1, std::numeric_limits<int64_t>::max());
  std::vector<int64_t> hi(kFailures + 1, 0);
  for (uint64_t seed = 0; seed < 400; ++seed) {
    Schedule s("scout/acme", o, seed);
    int64_t t = StartAndBegin(s);
    for (int n = 1; n <= kFailures; ++n) {
      s.OnFailure(t, 0, {});
      ASSERT_EQ(s.consecutive_failures(), n);
      ASSERT_EQ(s.health(), TargetHealth::kDown);
      const int64_t delay = s.NextFetchMs() - t;
      const int64_t cap = std::min(max, base << (n - 1));
      ASSERT_GE(delay, 0);
      ASSERT_LE(delay, cap) << "failure " << n << " seed " << seed;
      lo[n] = std::min(lo[n], delay);
      hi[n] = std::max(hi[n], delay);
      t = BeginAtNext(s);
    }
  }
  for (int n = 1; n <= kFailures; ++n) {
    const int64_t cap = std::min(max, base << (n - 1));
    // Full jitter: draws reach both ends of [0, cap], so the cap really doubles.
    EXPECT_LT(lo[n], cap / 20) << n;
    EXPECT_GT(hi[n], cap - cap / 20) << n;
  }
}

TEST(ScheduleTest, SameSeedGivesSameJitter) {
  ScheduleOptions o;
  Schedule a("k", o, 42), b("k", o, 42), c("k", o, 43);
  const int64_t ta = StartAndBegin(a), tb = StartAndBegin(b), tc = StartAndBegin(c);
  a.OnFailure(ta, 500, {});
  b.OnFailure(tb, 500, {});
  c.OnFailure(tc, 500, {});
  EXPECT_EQ(a.NextFetchMs(), b.NextFetchMs());
  EXPECT_NE(a.NextFetchMs(), c.NextFetchMs());
}

TEST(ScheduleTest, SuccessResetsFailureCount) {
  ScheduleOptions o;
  o.max_requests_per_hour = 100;
  Schedule s("scout/acme", o, 7);
  int64_t t = StartAndBegin(s);
  for (int i = 0; i < 6; ++i) {
    s.OnFailure(t, 502, {});
    t = BeginAtNext(s);
  }
  s.OnSuccess(t, {}, false);
  EXPECT_EQ(s.consecutive_failures(), 0);
  EXPECT_EQ(s.last_failure_status(), std::nullopt);
  t = BeginAtNext(s);
  s.OnFailure(t, 502, {});
  EXPECT_EQ(s.consecutive_failures(), 1);
  EXPECT_LE(s.NextFetchMs() - t, 10 * kSec);
}

TEST(ScheduleTest, RetryAfterSecondsIsHonoured) {
  Schedule s("scout/acme", {}, 1);
  const int64_t t = StartAndBegin(s);
  s.OnFailure(t, 429, {{"Retry-After", "600"}});
  EXPECT_EQ(s.NextFetchMs(), t + 600 * kSec);
  EXPECT_EQ(s.next_fetch_reason(), WaitReason::kRetryAfter);
  EXPECT_EQ(s.last_failure_status(), 429);
}

TEST(ScheduleTest, RetryAfterHttpDateIsHonoured) {
  ScheduleOptions o;
  o.max_start_offset = milliseconds(0);
  Schedule s("scout/acme", o, 1);
  const int64_t t = StartAndBegin(s);
  ASSERT_EQ(t, kT0);
  s.OnFailure(t, 503, {{"Retry-After", "Tue, 14 Nov 2023 22:33:20 GMT"}});
  EXPECT_EQ(s.NextFetchMs(), kT0 + 20 * kMin);
}

TEST(ScheduleTest, RetryAfterIsCapped) {
  Schedule s("scout/acme", {}, 1);
  const int64_t t = StartAndBegin(s);
  s.OnFailure(t, 503, {{"Retry-After", "99999999"}});
  EXPECT_EQ(s.NextFetchMs(), t + 24 * kHour);
}

TEST(ScheduleTest, AuthErrorWaitsFifteenMinutes) {
  for (int status : {401, 403}) {
    Schedule s("scout/acme", {}, 1);
    int64_t t = StartAndBegin(s);
    EXPECT_FALSE(s.CredentialsReloadDue());
    s.OnFailure(t, status, {{"Retry-After", "60"}});  // a shorter Retry-After does not shorten it
    EXPECT_EQ(s.health(), TargetHealth::kAuthError);
    EXPECT_EQ(s.NextFetchMs(), t + 15 * kMin);
    EXPECT_EQ(s.next_fetch_reason(), WaitReason::kAuthError);
    EXPECT_TRUE(s.CredentialsReloadDue());
    t = BeginAtNext(s);
    EXPECT_TRUE(s.CredentialsReloadDue());  // still due until a success
    s.OnSuccess(t, {}, false);
    EXPECT_FALSE(s.CredentialsReloadDue());
    EXPECT_EQ(s.health(), TargetHealth::kUp);
  }
}

TEST(ScheduleTest, BeginAttemptIsRefusedWhenNotDueOrInFlight) {
  Schedule s("scout/acme", {}, 1);
  s.Start(kT0, std::nullopt);
  const int64_t due = s.NextFetchMs();
  EXPECT_FALSE(s.BeginAttempt(due - 1));
  EXPECT_TRUE(s.BeginAttempt(due));
  EXPECT_EQ(s.next_fetch_reason(), WaitReason::kInFlight);
  EXPECT_FALSE(s.BeginAttempt(due + kHour));
  EXPECT_EQ(s.RequestsInLastHour(due), 1);
}

TEST(ScheduleTest, BudgetCountsRetries) {
  ScheduleOptions o;
  o.backoff_base = seconds(1);
  o.backoff_max = seconds(1);
  Schedule s("scout/acme", o, 3);
  const int64_t first = StartAndBegin(s);
  int64_t t = first;
  for (int i = 1; i < 6; ++i) {
    s.OnFailure(t, 500, {});
    t = BeginAtNext(s);
  }
  ASSERT_LT(t - first, kMin);  // six attempts, all within a minute
  EXPECT_EQ(s.RequestsInLastHour(t), 6);
  s.OnFailure(t, 500, {});
  EXPECT_EQ(s.next_fetch_reason(), WaitReason::kBudget);
  EXPECT_EQ(s.NextFetchMs(), first + kHour);
  EXPECT_FALSE(s.BeginAttempt(first + kHour - 1));
  EXPECT_TRUE(s.BeginAttempt(first + kHour));
  EXPECT_EQ(s.RequestsInLastHour(first + kHour), 6);
}

TEST(ScheduleTest, NonPositiveBudgetMeansOnePerHour) {
  ScheduleOptions o;
  o.max_requests_per_hour = 0;
  o.refresh_interval = seconds(1);
  Schedule s("k", o, 1);
  const int64_t t = StartAndBegin(s);
  s.OnSuccess(t, {}, false);
  EXPECT_EQ(s.NextFetchMs(), t + kHour);
}

// Property: whatever the upstream answers and whenever the caller tries, no sliding hour
// ever holds more than max_requests_per_hour attempts, and a success is never followed by
// an attempt sooner than the refresh interval.
TEST(ScheduleTest, BudgetIsNeverExceeded) {
  std::mt19937_64 rng(20231114);
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  const std::vector<std::string> cache_controls = {
      "", "", "", "", "", "", "max-age=0", "max-age=30", "max-age=7200", "s-maxage=5, max-age=999999",
      "no-store", "max-age=abc", "max-age=-3", "max-age=99999999999999999999"};
  const std::vector<std::string> retry_afters = {
      "", "", "", "", "", "", "", "", "", "", "", "", "0", "1", "30", "4000", "garbage", "-1", "Tue, 14 Nov 2023 22:33:20 GMT",
      "Sun, 06 Nov 1994 08:49:37 GMT", "99999999999"};
  const std::vector<int> statuses = {0, 0, 401, 403, 404, 429, 500, 502, 503};
  int budget_waits = 0;
  int total_attempts = 0;
  for (int run = 0; run < 200; ++run) {
    ScheduleOptions o;
    o.max_requests_per_hour = static_cast<int>(pick(1, 8));
    o.refresh_interval = milliseconds(pick(1, 2) == 1 ? pick(1, 10'000) : pick(1, 90 * kMin));
    o.backoff_base = milliseconds(pick(0, 30 * kSec));
    o.backoff_max = milliseconds(pick(0, 20 * kMin));
    o.auth_error_backoff = milliseconds(pick(0, 20 * kMin));
    o.respect_cache_headers = pick(0, 1) == 1;
    Schedule s("org-" + std::to_string(run), o, static_cast<uint64_t>(run));
    int64_t now = kT0 + pick(0, kHour);
    s.Start(now, pick(0, 1) == 1 ? std::optional<int64_t>(now - pick(0, 3 * kHour)) : std::nullopt);
    std::vector<int64_t> attempts;
    std::optional<int64_t> last_success;
    const int64_t end = now + 3 * 24 * kHour;
    while (now < end) {
      const int64_t due = s.NextFetchMs();
      ASSERT_LT(due, std::numeric_limits<int64_t>::max());
      if (s.next_fetch_reason() == WaitReason::kBudget) ++budget_waits;
      // A misbehaving caller pokes at random times before the due time: always refused.
      const int64_t early = due - pick(1, 2 * kHour);
      if (early >= now) {
        ASSERT_FALSE(s.BeginAttempt(early));
      }
      now = std::max(now, due) + (pick(0, 3) == 0 ? pick(0, 10 * kMin) : 0);
      ASSERT_TRUE(s.BeginAttempt(now));
      if (last_success) {
        ASSERT_GE(now - *last_success, o.refresh_interval.count());
      }
      attempts.push_back(now);
      ++total_attempts;
      const int64_t in_window = std::count_if(attempts.begin(), attempts.end(),
                                              [&](int64_t a) { return now - a < kHour; });
      ASSERT_LE(in_window, o.max_requests_per_hour) << "run " << run;
      ASSERT_EQ(s.RequestsInLastHour(now), in_window);
      now += pick(0, 30 * kSec);  // the request takes a while
      HeaderList h;
      if (const auto& cc = cache_controls[pick(0, cache_controls.size() - 1)]; !cc.empty()) {
        h.emplace_back("Cache-Control", cc);
      }
      if (const auto& ra = retry_afters[pick(0, retry_afters.size() - 1)]; !ra.empty()) {
        h.emplace_back("Retry-After", ra);
      }
      if (pick(0, 2) == 0) {
        s.OnSuccess(now, h, pick(0, 1) == 1);
        last_success = now;
      } else {
        s.OnFailure(now, statuses[pick(0, statuses.size() - 1)], h);
      }
    }
  }
  // The simulation ran long, and the budget really was the binding limit, often.
  EXPECT_GT(total_attempts, 10'000);
  EXPECT_GT(budget_waits, 2'000);
}

// Replays the worked example in docs/schedule.md. Jittered steps use whatever the seed
// draws, within the documented bounds.
TEST(ScheduleTest, DocsWorkedExample) {
  constexpr int64_t k0900 = 1'699'952'400'000;  // Tue, 14 Nov 2023 09:00:00 GMT
  Schedule s("scout/acme", {}, 2023);
  s.Start(k0900, std::nullopt);
  ASSERT_EQ(s.NextFetchMs(), k0900 + 8'144);
  int64_t t = BeginAtNext(s);
  s.OnSuccess(t, {{"ETag", "\"v1\""}, {"Cache-Control", "max-age=3600"}, {"Age", "1200"}},
              false);
  ASSERT_EQ(s.NextFetchMs(), k0900 + kHour + 8'144);
  t = BeginAtNext(s);
  ASSERT_EQ(s.ConditionalHeaders(), (HeaderList{{"If-None-Match", "\"v1\""}}));
  s.OnSuccess(t, {{"Cache-Control", "max-age=5400"}}, true);
  const int64_t t1130 = k0900 + 150 * kMin + 8'144;
  ASSERT_EQ(s.NextFetchMs(), t1130);
  const int64_t first_failure = BeginAtNext(s);
  s.OnFailure(first_failure, 503, {});
  ASSERT_LE(s.NextFetchMs() - t1130, 10 * kSec);
  t = BeginAtNext(s);
  s.OnFailure(t, 0, {});
  ASSERT_LE(s.NextFetchMs() - t, 20 * kSec);
  t = BeginAtNext(s);
  s.OnFailure(t, 429, {{"Retry-After", "120"}});
  ASSERT_EQ(s.NextFetchMs(), t + 120 * kSec);
  t = BeginAtNext(s);
  s.OnFailure(t, 401, {});
  ASSERT_EQ(s.NextFetchMs(), t + 15 * kMin);
  ASSERT_TRUE(s.CredentialsReloadDue());
  t = BeginAtNext(s);
  EXPECT_EQ(s.RequestsInLastHour(t), 5);
  s.OnSuccess(t, {}, false);
  EXPECT_EQ(s.NextFetchMs(), t + kHour);
  EXPECT_EQ(s.health(), TargetHealth::kUp);
  EXPECT_EQ(s.consecutive_failures(), 0);
}

TEST(ScheduleTest, ScrapeIntervalNeverLowersRefresh) {
  EXPECT_EQ(EffectiveRefreshInterval(minutes(60), seconds(15)), minutes(60));
  EXPECT_EQ(EffectiveRefreshInterval(minutes(60), hours(2)), hours(2));
  EXPECT_EQ(EffectiveRefreshInterval(minutes(60), std::nullopt), minutes(60));
}

TEST(ScheduleTest, MalformedHeadersAreIgnored) {
  Schedule s("scout/acme", {}, 1);
  int64_t t = StartAndBegin(s);
  s.OnSuccess(t, {{"Cache-Control", "max-age=abc"}, {"Expires", "never"}, {"Age", "x"}}, false);
  EXPECT_EQ(s.NextFetchMs(), t + 60 * kMin);
  t = BeginAtNext(s);
  s.OnFailure(t, 503, {{"Retry-After", "soon"}});
  EXPECT_EQ(s.next_fetch_reason(), WaitReason::kBackoff);
  EXPECT_LE(s.NextFetchMs(), t + 10 * kSec);
}

TEST(ScheduleCarryOverTest, RestoredAttemptsKeepTheBudgetAcrossAReload) {
  ScheduleOptions o;
  o.refresh_interval = std::chrono::seconds(1);
  o.max_requests_per_hour = 2;
  o.max_start_offset = std::chrono::milliseconds(1);
  const int64_t t0 = 1'700'000'000'000;
  Schedule old_schedule("job/a", o, 1);
  old_schedule.Start(t0, std::nullopt);
  for (int i = 0; i < 2; ++i) {
    int64_t now = std::max(old_schedule.NextFetchMs(), t0 + i * 2000);
    ASSERT_TRUE(old_schedule.BeginAttempt(now));
    old_schedule.OnSuccess(now, {}, false);
  }
  // A reload replaces the schedule: without the carried attempts it could fetch at once.
  Schedule fresh("job/a", o, 1);
  fresh.RestoreAttempts(old_schedule.RecentAttemptsMs());
  fresh.Start(t0 + 5000, std::nullopt);
  EXPECT_FALSE(fresh.BeginAttempt(t0 + 5000));
  EXPECT_EQ(fresh.next_fetch_reason(), WaitReason::kBudget);
  EXPECT_GE(fresh.NextFetchMs(), t0 + 3'600'000);
  EXPECT_EQ(fresh.RequestsInLastHour(t0 + 5000), 2);
}

}  // namespace
}  // namespace sb::bridge
