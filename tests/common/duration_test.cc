#include "common/duration.h"

#include "tests/testing/testing.h"

namespace sb {
namespace {

TEST(DurationTest, ParsesPrometheusSyntax) {
  struct Case { const char* text; int64_t ms; };
  for (const Case& c : {Case{"90s", 90'000}, Case{"1h30m", 5'400'000}, Case{"500ms", 500},
                        Case{"0", 0}, Case{"2d", 172'800'000}, Case{"1w", 604'800'000},
                        Case{"1y", 31'536'000'000}, Case{"1m30s250ms", 90'250}}) {
    auto d = ParseDuration(c.text);
    ASSERT_OK(d);
    EXPECT_EQ(d->count(), c.ms) << c.text;
  }
}

TEST(DurationTest, RejectsMalformedText) {
  for (const char* text : {"", "5x", "s", "1.5h", "30m1h", "1h1h", "-5s", "5 s", "99999999999999999999s"}) {
    auto d = ParseDuration(text);
    EXPECT_FALSE(d.ok()) << text;
  }
  EXPECT_THAT(ParseDuration("5x").status().message(), ::testing::HasSubstr("\"5x\""));
}

TEST(DurationTest, FormatsLikePrometheus) {
  EXPECT_EQ(FormatDuration(Duration(90'000)), "1m30s");
  EXPECT_EQ(FormatDuration(Duration(3'600'000)), "1h");
  EXPECT_EQ(FormatDuration(Duration(0)), "0s");
  EXPECT_EQ(FormatDuration(Duration(1'500)), "1s500ms");
}

TEST(DurationTest, FormatParseRoundTrips) {
  for (int64_t ms : {1LL, 999LL, 61'001LL, 86'400'000LL * 9 + 7, 31'536'000'000LL * 2 + 3'600'000}) {
    auto d = ParseDuration(FormatDuration(Duration(ms)));
    ASSERT_OK(d);
    EXPECT_EQ(d->count(), ms);
  }
}

}  // namespace
}  // namespace sb
