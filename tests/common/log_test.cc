#include "common/log.h"

#include "tests/testing/testing.h"

namespace sb {
namespace {

TEST(LogTest, LogfmtQuotesValuesThatNeedIt) {
  std::string line = FormatLogLine(LogFormat::kLogfmt, 1'700'000'000'123, LogLevel::kWarn,
                                   "upstream fetch failed", {{"job", "acme"}, {"err", "a \"b\"\nc"}});
  EXPECT_EQ(line,
            "ts=2023-11-14T22:13:20.123Z level=warn msg=\"upstream fetch failed\" job=acme "
            "err=\"a \\\"b\\\"\\nc\"\n");
}

TEST(LogTest, JsonIsOneObjectPerLine) {
  std::string line = FormatLogLine(LogFormat::kJson, 0, LogLevel::kInfo, "started", {{"k", "v\t"}});
  EXPECT_EQ(line, "{\"ts\":\"1970-01-01T00:00:00.000Z\",\"level\":\"info\",\"msg\":\"started\",\"k\":\"v\\t\"}\n");
}

TEST(LogTest, ParsesLevelsAndFormats) {
  LogLevel level;
  EXPECT_TRUE(ParseLogLevel("debug", &level));
  EXPECT_EQ(level, LogLevel::kDebug);
  EXPECT_FALSE(ParseLogLevel("verbose", &level));
  LogFormat format;
  EXPECT_TRUE(ParseLogFormat("json", &format));
  EXPECT_EQ(format, LogFormat::kJson);
  EXPECT_FALSE(ParseLogFormat("xml", &format));
}

}  // namespace
}  // namespace sb
