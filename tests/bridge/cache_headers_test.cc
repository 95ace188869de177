#include "bridge/cache_headers.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace sb::bridge {
namespace {

constexpr int64_t kNowMs = 1'700'000'000'000;  // Tue, 14 Nov 2023 22:13:20 GMT
constexpr int64_t kRfcExampleMs = 784'111'777'000;  // Sun, 06 Nov 1994 08:49:37 GMT

TEST(HttpDateTest, ParsesAllThreeFormats) {
  EXPECT_EQ(ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), kRfcExampleMs);
  EXPECT_EQ(ParseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT"), kRfcExampleMs);
  EXPECT_EQ(ParseHttpDate("Sun Nov  6 08:49:37 1994"), kRfcExampleMs);
  EXPECT_EQ(ParseHttpDate("Tue, 14 Nov 2023 22:13:20 GMT"), kNowMs);
  EXPECT_EQ(ParseHttpDate("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
}

TEST(HttpDateTest, HandlesLeapYearsAndTwoDigitYears) {
  EXPECT_EQ(ParseHttpDate("Thu, 29 Feb 2024 00:00:00 GMT"), 1'709'164'800'000);
  EXPECT_EQ(ParseHttpDate("Wed, 01 Mar 2023 00:00:00 GMT"), 1'677'628'800'000);
  EXPECT_EQ(ParseHttpDate("Saturday, 01-Jan-00 00:00:00 GMT"), 946'684'800'000);
  EXPECT_EQ(ParseHttpDate("Tue Nov 14 22:13:20 2023"), kNowMs);  // two-digit asctime day
}

TEST(HttpDateTest, AcceptsSurroundingWhitespace) {
  EXPECT_EQ(ParseHttpDate("  Sun, 06 Nov 1994 08:49:37 GMT\t"), kRfcExampleMs);
}

TEST(HttpDateTest, RejectsMalformedDates) {
  for (const char* bad : {
           "",
           "0",
           "-1",
           "yesterday",
           "Sun, 06 Nov 1994 08:49:37 UTC",
           "Sun, 06 Nov 1994 08:49:37 gmt",
           "Sun, 06 Nov 1994 08:49:37 GMT extra",
           "Sun, 6 Nov 1994 08:49:37 GMT",
           "Sun, 06 nov 1994 08:49:37 GMT",
           "Xyz, 06 Nov 1994 08:49:37 GMT",
           "Sun, 31 Feb 1994 08:49:37 GMT",
           "Wed, 29 Feb 2023 00:00:00 GMT",
           "Sun, 06 Nov 1994 24:00:00 GMT",
           "Sun, 06 Nov 1994 08:60:00 GMT",
           "Sun, 06 Nov 1994 08:49:61 GMT",
           "Sun, 00 Nov 1994 08:49:37 GMT",
           "Sun, 06 Nov 94 08:49:37 GMT",
           "Sun Nov 6 08:49:37 1994",
           "1994-11-06T08:49:37Z",
       }) {
    EXPECT_EQ(ParseHttpDate(bad), std::nullopt) << bad;
  }
}

TEST(CacheControlTest, ParsesDirectives) {
  CacheDirectives d = ParseCacheControl("public, max-age=60, s-maxage=120");
  EXPECT_EQ(d.max_age_s, 60);
  EXPECT_EQ(d.s_maxage_s, 120);
  EXPECT_FALSE(d.no_store);
  EXPECT_FALSE(d.no_cache);

  d = ParseCacheControl("No-Store, NO-CACHE, MAX-AGE = 5");
  EXPECT_TRUE(d.no_store);
  EXPECT_TRUE(d.no_cache);
  EXPECT_EQ(d.max_age_s, 5);
}

TEST(CacheControlTest, AcceptsQuotedValues) {
  EXPECT_EQ(ParseCacheControl("max-age=\"30\"").max_age_s, 30);
  EXPECT_TRUE(ParseCacheControl("no-cache=\"Set-Cookie, Foo\"").no_cache);
}

TEST(CacheControlTest, CommasInsideQuotesDoNotSplitDirectives) {
  const CacheDirectives d = ParseCacheControl("ext=\"a, max-age=5\", s-maxage=7");
  EXPECT_EQ(d.max_age_s, std::nullopt);
  EXPECT_EQ(d.s_maxage_s, 7);
}

TEST(CacheControlTest, FirstValidOccurrenceWins) {
  EXPECT_EQ(ParseCacheControl("max-age=10, max-age=20").max_age_s, 10);
  EXPECT_EQ(ParseCacheControl("max-age=x, max-age=20").max_age_s, 20);
}

TEST(CacheControlTest, MalformedDeltaSecondsAreIgnored) {
  for (const char* bad : {"max-age=-1", "max-age=abc", "max-age=", "max-age", "max-age=1.5",
                          "max-age=+5", "max-age=5s", "max-age=\"\""}) {
    EXPECT_EQ(ParseCacheControl(bad).max_age_s, std::nullopt) << bad;
  }
}

TEST(CacheControlTest, HugeDeltaSecondsAreClamped) {
  EXPECT_EQ(ParseCacheControl("max-age=99999999999999999999999999").max_age_s, 2147483648LL);
}

TEST(FindHeaderTest, MatchesNamesCaseInsensitivelyAndTrims) {
  const HeaderList h = {{"ETag", " \"abc\" "}, {"etag", "second"}};
  EXPECT_EQ(FindHeader(h, "etag"), "\"abc\"");
  EXPECT_EQ(FindHeader(h, "ETAG"), "\"abc\"");
  EXPECT_EQ(FindHeader(h, "age"), std::nullopt);
}

TEST(FreshnessTest, NoCachingHeadersMeansNoLifetime) {
  EXPECT_EQ(RemainingFreshnessMs({}, kNowMs), std::nullopt);
  EXPECT_EQ(RemainingFreshnessMs({{"Content-Type", "text/plain"}}, kNowMs), std::nullopt);
}

TEST(FreshnessTest, MaxAgeMinusAge) {
  EXPECT_EQ(RemainingFreshnessMs({{"Cache-Control", "max-age=3600"}}, kNowMs), 3'600'000);
  EXPECT_EQ(RemainingFreshnessMs({{"Cache-Control", "max-age=3600"}, {"Age", "600"}}, kNowMs),
            3'000'000);
}

TEST(FreshnessTest, AgeBeyondLifetimeGivesZero) {
  EXPECT_EQ(RemainingFreshnessMs({{"Cache-Control", "max-age=60"}, {"Age", "600"}}, kNowMs), 0);
}

TEST(FreshnessTest, MalformedAgeCountsAsZero) {
  EXPECT_EQ(RemainingFreshnessMs({{"Cache-Control", "max-age=60"}, {"Age", "-5"}}, kNowMs),
            60'000);
}

TEST(FreshnessTest, SMaxAgeWinsOverMaxAge) {
  EXPECT_EQ(RemainingFreshnessMs({{"Cache-Control", "max-age=9000, s-maxage=5400"}}, kNowMs),
            5'400'000);
  EXPECT_EQ(RemainingFreshnessMs({{"Cache-Control", "s-maxage=10, max-age=9000"}}, kNowMs),
            10'000);
}

TEST(FreshnessTest, CacheControlWinsOverExpires) {
  const HeaderList h = {{"Expires", "Wed, 15 Nov 2023 01:13:20 GMT"},
                        {"Cache-Control", "max-age=60"}};
  EXPECT_EQ(RemainingFreshnessMs(h, kNowMs), 60'000);
}

TEST(FreshnessTest, ExpiresHeaderWithDate) {
  // The server's clock is 5 minutes behind ours: Expires - Date is what counts.
  const HeaderList h = {{"Date", "Tue, 14 Nov 2023 22:08:20 GMT"},
                        {"Expires", "Wed, 15 Nov 2023 01:08:20 GMT"}};
  EXPECT_EQ(RemainingFreshnessMs(h, kNowMs), 3 * 3'600'000);
}

TEST(FreshnessTest, ExpiresWithoutDateIsRelativeToNow) {
  const HeaderList h = {{"Expires", "Wed, 15 Nov 2023 01:13:20 GMT"}};
  EXPECT_EQ(RemainingFreshnessMs(h, kNowMs), 3 * 3'600'000);
  const HeaderList bad_date = {{"Date", "garbage"}, {"Expires", "Wed, 15 Nov 2023 01:13:20 GMT"}};
  EXPECT_EQ(RemainingFreshnessMs(bad_date, kNowMs), 3 * 3'600'000);
}

TEST(FreshnessTest, ExpiresInThePastGivesZero) {
  EXPECT_EQ(RemainingFreshnessMs({{"Expires", "Sun, 06 Nov 1994 08:49:37 GMT"}}, kNowMs), 0);
}

TEST(FreshnessTest, MalformedExpiresIsIgnored) {
  EXPECT_EQ(RemainingFreshnessMs({{"Expires", "0"}}, kNowMs), std::nullopt);
  EXPECT_EQ(RemainingFreshnessMs({{"Expires", "never"}}, kNowMs), std::nullopt);
}

TEST(FreshnessTest, NoStoreOrNoCacheMeansNoLifetime) {
  EXPECT_EQ(RemainingFreshnessMs({{"Cache-Control", "max-age=7200, no-store"}}, kNowMs),
            std::nullopt);
  EXPECT_EQ(RemainingFreshnessMs({{"Cache-Control", "no-cache"}, {"Cache-Control", "max-age=7200"}},
                                 kNowMs),
            std::nullopt);
}

TEST(FreshnessTest, CacheControlLinesAreCombined) {
  const HeaderList h = {{"cache-control", "public"}, {"CACHE-CONTROL", "s-maxage=90"}};
  EXPECT_EQ(RemainingFreshnessMs(h, kNowMs), 90'000);
}

TEST(RetryAfterTest, ParsesDeltaSeconds) {
  EXPECT_EQ(ParseRetryAfterMs("120", kNowMs), 120'000);
  EXPECT_EQ(ParseRetryAfterMs(" 0 ", kNowMs), 0);
}

TEST(RetryAfterTest, ParsesHttpDate) {
  EXPECT_EQ(ParseRetryAfterMs("Tue, 14 Nov 2023 22:33:20 GMT", kNowMs), 20 * 60'000);
  EXPECT_EQ(ParseRetryAfterMs("Sun, 06 Nov 1994 08:49:37 GMT", kNowMs), 0);  // past
}

TEST(RetryAfterTest, MalformedIsIgnored) {
  for (const char* bad : {"", "soon", "-5", "1.5", "10s", "+3"}) {
    EXPECT_EQ(ParseRetryAfterMs(bad, kNowMs), std::nullopt) << bad;
  }
}

TEST(RetryAfterTest, HugeDeltaIsClamped) {
  EXPECT_EQ(ParseRetryAfterMs("999999999999999999999", kNowMs), 2147483648LL * 1000);
}

// Random and mutated inputs: never a crash (run under ASan/UBSan), and the results always
// within their contracts.
TEST(CacheHeadersFuzzTest, RandomInputsStayWithinContracts) {
  std::mt19937_64 rng(7);
  const std::string alphabet = "0123456789 ,=\"-:maxgestorncihTGMSunNovFb\t\\";
  const std::vector<std::string> seeds = {"Sun, 06 Nov 1994 08:49:37 GMT",
                                          "Sunday, 06-Nov-94 08:49:37 GMT",
                                          "Sun Nov  6 08:49:37 1994", "max-age=60, s-maxage=5",
                                          "no-cache=\"a,b\", max-age=\"7\"", "120"};
  for (int i = 0; i < 20'000; ++i) {
    std::string v = seeds[rng() % seeds.size()];
    const int edits = static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !v.empty(); ++e) {
      const size_t pos = rng() % v.size();
      switch (rng() % 3) {
        case 0: v[pos] = alphabet[rng() % alphabet.size()]; break;
        case 1: v.erase(pos, 1 + rng() % 3); break;
        default: v.insert(pos, 1, alphabet[rng() % alphabet.size()]); break;
      }
    }
    if (rng() % 5 == 0) {  // sometimes pure noise
      v.assign(rng() % 40, ' ');
      for (char& c : v) c = static_cast<char>(rng() % 256);
    }
    (void)ParseHttpDate(v);
    const CacheDirectives d = ParseCacheControl(v);
    ASSERT_GE(d.max_age_s.value_or(0), 0) << v;
    ASSERT_GE(d.s_maxage_s.value_or(0), 0) << v;
    ASSERT_GE(ParseRetryAfterMs(v, kNowMs).value_or(0), 0) << v;
    const HeaderList h = {{"Cache-Control", v}, {"Expires", v}, {"Date", v}, {"Age", v}};
    ASSERT_GE(RemainingFreshnessMs(h, kNowMs).value_or(0), 0) << v;
  }
}

}  // namespace
}  // namespace sb::bridge
