#include "storage/tools.h"

#include <cmath>
#include <filesystem>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "storage/store.h"
#include "tests/testing/testing.h"

namespace sb::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Type = Matcher::Type;

constexpr int64_t kT0 = 1700000000000;  // 2023-11-14T22:13:20Z
constexpr int64_t kHour = 3600 * 1000;

std::string Describe(const Matcher& m) {
  static const char* kOps[] = {"=", "!=", "=~", "!~"};
  return m.name() + kOps[static_cast<int>(m.type())] + m.value();
}

std::vector<std::string> Parsed(std::string_view sel) {
  Result<std::vector<Matcher>> r = ParseSelector(sel);
  EXPECT_TRUE(r.ok()) << sel << ": " << r.status().ToString();
  std::vector<std::string> out;
  if (r.ok()) for (const Matcher& m : *r) out.push_back(Describe(m));
  return out;
}

std::string ParseError(std::string_view sel) {
  Result<std::vector<Matcher>> r = ParseSelector(sel);
  EXPECT_FALSE(r.ok()) << sel;
  return r.ok() ? "" : r.status().message();
}

TEST(ParseSelectorTest, AcceptsAllFourMatcherTypes) {
  EXPECT_THAT(Parsed(R"(up{a="1", b=~"x.*",c!="2" , d!~'y'})"),
              ElementsAre("__name__=up", "a=1", "b=~x.*", "c!=2", "d!~y"));
}

TEST(ParseSelectorTest, AcceptsBareMetricNameWithColons) {
  EXPECT_THAT(Parsed("  job:scout_vulns:sum  "), ElementsAre("__name__=job:scout_vulns:sum"));
}

TEST(ParseSelectorTest, AcceptsBracesOnlyAndTrailingComma) {
  EXPECT_THAT(Parsed(R"({__name__=~"scout_.*", org="acme",})"),
              ElementsAre("__name__=~scout_.*", "org=acme"));
}

TEST(ParseSelectorTest, UnescapesQuotedValues) {
  EXPECT_THAT(Parsed(R"(m{a="q\"b\\c\nd"})"), ElementsAre("__name__=m", "a=q\"b\\c\nd"));
}

TEST(ParseSelectorTest, ErrorsNameTheColumn) {
  EXPECT_EQ(ParseError(""), "col 1: empty selector");
  EXPECT_EQ(ParseError("up{a=\"1\""), "col 9: unterminated '{': expected '}'");
  EXPECT_EQ(ParseError("up{a~\"1\"}"), "col 5: expected one of =, !=, =~, !~");
  EXPECT_EQ(ParseError("up{a=1}"), "col 6: expected a quoted label value");
  EXPECT_EQ(ParseError("up{a=\"1}"), "col 6: unterminated quoted string");
  EXPECT_EQ(ParseError("up{a=\"1\" b=\"2\"}"), "col 10: expected ',' or '}'");
  EXPECT_EQ(ParseError("up{1a=\"x\"}"), "col 4: expected a label name");
  EXPECT_EQ(ParseError("up x"), "col 4: unexpected 'x'");
  EXPECT_EQ(ParseError("{}"), "col 1: selector must contain at least one matcher that does "
                              "not match the empty string");
  EXPECT_EQ(ParseError("up{__name__=\"x\"}"), "col 4: metric name given twice");
  EXPECT_THAT(ParseError("up{a=~\"(\"}"), HasSubstr("col 7: bad regex \"(\""));
}

TEST(ParseSelectorTest, RefusesSelectorMatchingEverything) {
  EXPECT_THAT(ParseError(R"({a=~".*", b!="x"})"), HasSubstr("at least one matcher"));
}

TEST(ParseTimeFlagTest, AcceptsRfc3339AndUnixSeconds) {
  EXPECT_EQ(ParseTimeFlag("2023-11-14T22:13:20Z").value(), kT0);
  EXPECT_EQ(ParseTimeFlag("2023-11-14T23:13:20.25+01:00").value(), kT0 + 250);
  EXPECT_EQ(ParseTimeFlag("1700000000").value(), kT0);
  EXPECT_EQ(ParseTimeFlag("1700000000.5").value(), kT0 + 500);
  EXPECT_EQ(ParseTimeFlag("0").value(), 0);
}

TEST(ParseTimeFlagTest, RefusesGarbage) {
  for (const char* bad : {"", "yesterday", "2023-11-14", "2023-13-01T00:00:00Z",
                          "2023-11-14T22:13:20", "17e", "1700000000 "}) {
    Result<int64_t> r = ParseTimeFlag(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_THAT(r.status().message(), HasSubstr("invalid time"));
    }
  }
}

TEST(FormatDumpValueTest, MatchesGoPercentG) {
  EXPECT_EQ(FormatDumpValue(12), "12");
  EXPECT_EQ(FormatDumpValue(-0.5), "-0.5");
  EXPECT_EQ(FormatDumpValue(100000), "100000");
  EXPECT_EQ(FormatDumpValue(1e6), "1e+06");
  EXPECT_EQ(FormatDumpValue(123456789), "1.23456789e+08");
  EXPECT_EQ(FormatDumpValue(0.0001), "0.0001");
  EXPECT_EQ(FormatDumpValue(0.00001), "1e-05");
  EXPECT_EQ(FormatDumpValue(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(FormatDumpValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatDumpValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatDumpValue(std::nan("")), "NaN");
}

// A small store: 3 series over 3 hourly fetches of one target; `gone` vanishes at the
// third fetch (so it gets a stale marker), `vulns{severity="low"}` appears at the second.
class ToolsStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    opts_.path = dir_.File("bridge.db");
    opts_.synchronous = "OFF";
    opts_.chunk_max_samples = 2;  // so the 3-sample series take two chunks
    Result<std::unique_ptr<Store>> s = Store::Open(opts_);
    ASSERT_OK(s);
    store_ = std::move(s).value();
    auto vulns = [](const char* sev, double v) {
      return SeriesSample{{{"__name__", "vulns"}, {"org", "acme"}, {"severity", sev}}, v};
    };
    const SeriesSample gone{{{"__name__", "gone"}, {"org", "acme"}}, 1};
    ASSERT_OK(store_->AppendFetch("scout/acme", kT0, {vulns("high", 12), gone}, "b1"));
    ASSERT_OK(store_->AppendFetch("scout/acme", kT0 + kHour,
                                  {vulns("high", 13), vulns("low", 1.5e6), gone}, "b2"));
    ASSERT_OK(store_->AppendFetch("scout/acme", kT0 + 2 * kHour,
                                  {vulns("high", 13), vulns("low", 0.25)}, "b3"));
  }

  std::string DumpText(std::string_view selector, int64_t start, int64_t end) {
    std::vector<std::vector<Matcher>> sels;
    if (!selector.empty()) sels.push_back(ParseSelector(selector).value());
    std::ostringstream out;
    EXPECT_OK(Dump(*store_, sels, start, end, out));
    return out.str();
  }

  testing::TempDir dir_;
  StoreOptions opts_;
  std::unique_ptr<Store> store_;
};

TEST_F(ToolsStoreTest, AnalyzeCountsSamplesStillOnlyInTheHeadLog) {
  // The store is open and has not flushed: the open chunks are in memory and the fetches
  // in head_log rows. Closed chunks (2 samples each) were written when they were cut:
  // high's [t0, t1] and gone's [t0, t1].
  Result<AnalyzeReport> r = Analyze(opts_.path);
  ASSERT_OK(r);
  EXPECT_EQ(r->pending_fetches, 3);
  EXPECT_EQ(r->chunks, 2);
  // high: 3, low: 2, gone: 2 + its stale marker = 3; 4 of them only in the head log.
  EXPECT_EQ(r->samples, 8);
  EXPECT_EQ(r->pending_samples, 4);
  EXPECT_EQ(r->min_time_ms, kT0);
  EXPECT_EQ(r->max_time_ms, kT0 + 2 * kHour);
  EXPECT_THAT(FormatAnalyze(*r), HasSubstr("Head log: 3 fetches not yet flushed into chunks, "
                                           "with 4 samples no chunk row holds yet"));
}

TEST_F(ToolsStoreTest, AnalyzeCountsSeriesSamplesAndChunks) {
  ASSERT_OK(store_->Flush());
  Result<AnalyzeReport> r = Analyze(opts_.path);
  ASSERT_OK(r);
  EXPECT_EQ(r->series, 3);
  EXPECT_EQ(r->pending_fetches, 0);
  EXPECT_EQ(r->pending_samples, 0);
  // high: 3, low: 2, gone: 2 + its stale marker = 3.
  EXPECT_EQ(r->samples, 8);
  // With 2 samples per chunk: high 2 chunks, low 1, gone 2.
  EXPECT_EQ(r->chunks, 5);
  EXPECT_GT(r->chunk_bytes, 5 * 20);
  EXPECT_EQ(r->min_time_ms, kT0);
  EXPECT_EQ(r->max_time_ms, kT0 + 2 * kHour);
  EXPECT_EQ(r->targets, 1);
  EXPECT_EQ(r->fetches, 3);
  EXPECT_GE(r->db_bytes, 4096 * 4);  // at least the four tables' root pages
  EXPECT_EQ(r->db_bytes % 4096, 0);
  EXPECT_DOUBLE_EQ(r->bytes_per_sample, r->db_bytes / 8.0);
  ASSERT_EQ(r->label_names.size(), 3u);
  EXPECT_EQ(r->label_names[0].name, "__name__");  // 2 values (ties sorted by name)
  EXPECT_EQ(r->label_names[0].distinct_values, 2);
  EXPECT_EQ(r->label_names[0].series, 3);
  EXPECT_EQ(r->label_names[1].name, "severity");
  EXPECT_EQ(r->label_names[1].distinct_values, 2);
  EXPECT_EQ(r->label_names[1].series, 2);
  EXPECT_EQ(r->label_names[2].name, "org");
  EXPECT_EQ(r->label_names[2].distinct_values, 1);
}

TEST_F(ToolsStoreTest, AnalyzeWorksAfterTheStoreIsClosed) {
  store_.reset();
  Result<AnalyzeReport> r = Analyze(opts_.path);
  ASSERT_OK(r);
  EXPECT_EQ(r->series, 3);
  EXPECT_EQ(r->samples, 8);
  const std::string text = FormatAnalyze(*r, 2);
  EXPECT_THAT(text, HasSubstr("Series: 3\n"));
  EXPECT_THAT(text, HasSubstr("Samples: 8 "));
  EXPECT_THAT(text, HasSubstr("Chunks: 5 "));
  EXPECT_THAT(text, HasSubstr("Time range: 2023-11-14T22:13:20Z"));
  EXPECT_THAT(text, HasSubstr("(top 2 of 3)"));
  EXPECT_THAT(text, HasSubstr("severity"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr(" org\n")));
}

TEST(AnalyzeTest, MissingFileIsNotFoundAndNotCreated) {
  testing::TempDir dir;
  Result<AnalyzeReport> r = Analyze(dir.File("nope.db"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
  EXPECT_EQ(r.status().message(), "no store at " + dir.File("nope.db"));
  EXPECT_FALSE(std::filesystem::exists(dir.File("nope.db")));
}

TEST_F(ToolsStoreTest, DumpWritesPromtoolLinesInLabelOrder) {
  EXPECT_EQ(DumpText("", INT64_MIN, INT64_MAX),
            "{__name__=\"gone\", org=\"acme\"} 1 1700000000000\n"
            "{__name__=\"gone\", org=\"acme\"} 1 1700003600000\n"
            "{__name__=\"gone\", org=\"acme\"} NaN 1700007200000\n"
            "{__name__=\"vulns\", org=\"acme\", severity=\"high\"} 12 1700000000000\n"
            "{__name__=\"vulns\", org=\"acme\", severity=\"high\"} 13 1700003600000\n"
            "{__name__=\"vulns\", org=\"acme\", severity=\"high\"} 13 1700007200000\n"
            "{__name__=\"vulns\", org=\"acme\", severity=\"low\"} 1.5e+06 1700003600000\n"
            "{__name__=\"vulns\", org=\"acme\", severity=\"low\"} 0.25 1700007200000\n");
}

TEST_F(ToolsStoreTest, DumpFiltersByMatcherAndInclusiveTimeRange) {
  EXPECT_EQ(DumpText(R"(vulns{severity=~"h.*"})", kT0 + kHour, kT0 + 2 * kHour),
            "{__name__=\"vulns\", org=\"acme\", severity=\"high\"} 13 1700003600000\n"
            "{__name__=\"vulns\", org=\"acme\", severity=\"high\"} 13 1700007200000\n");
  EXPECT_EQ(DumpText(R"({severity!="high", org="acme"})", kT0, kT0 + kHour),
            "{__name__=\"gone\", org=\"acme\"} 1 1700000000000\n"
            "{__name__=\"gone\", org=\"acme\"} 1 1700003600000\n"
            "{__name__=\"vulns\", org=\"acme\", severity=\"low\"} 1.5e+06 1700003600000\n");
  EXPECT_EQ(DumpText("vulns", kT0 + 3 * kHour, INT64_MAX), "");
}

TEST_F(ToolsStoreTest, DumpOfSeveralSelectorsIsTheirUnionWithoutDuplicates) {
  std::vector<std::vector<Matcher>> sels = {ParseSelector("gone").value(),
                                            ParseSelector(R"({org="acme"})").value()};
  std::ostringstream out;
  ASSERT_OK(Dump(*store_, sels, kT0, kT0, out));
  EXPECT_EQ(out.str(),
            "{__name__=\"gone\", org=\"acme\"} 1 1700000000000\n"
            "{__name__=\"vulns\", org=\"acme\", severity=\"high\"} 12 1700000000000\n");
}

}  // namespace
}  // namespace sb::storage
