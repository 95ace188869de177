#include "common/exposition/render.h"

#include <cmath>
#include <string>

#include "common/exposition/parser.h"
#include "tests/common/exposition_random.h"
#include "tests/testing/testing.h"

namespace sb::expo {
namespace {

std::string GoFloat(double v) {
  std::string s;
  AppendGoFloat(&s, v);
  return s;
}

// Expected strings are what Go's strconv.FormatFloat(v, 'g', -1, 64) returns.
TEST(ExpositionRenderTest, FormatsFloatsLikeGoStrconv) {
  struct Case {
    double v;
    const char* want;
  } cases[] = {
      {0, "0"},
      {-0.0, "-0"},
      {1, "1"},
      {-1, "-1"},
      {0.1, "0.1"},
      {0.5, "0.5"},
      {-1.5, "-1.5"},
      {12.47, "12.47"},
      {100, "100"},
      {123456, "123456"},
      {999999, "999999"},
      {1e6, "1e+06"},
      {1234567, "1.234567e+06"},
      {123456789, "1.23456789e+08"},
      {1700000000, "1.7e+09"},
      {2.5e15, "2.5e+15"},
      {1e20, "1e+20"},
      {1e21, "1e+21"},
      {1e100, "1e+100"},
      {0.0001, "0.0001"},
      {0.00012345, "0.00012345"},
      {1e-5, "1e-05"},
      {1.5e-7, "1.5e-07"},
      {5e-324, "5e-324"},
      {1.7976931348623157e308, "1.7976931348623157e+308"},
      {0.30000000000000004, "0.30000000000000004"},
      {NAN, "NaN"},
      {INFINITY, "+Inf"},
      {-INFINITY, "-Inf"},
  };
  for (const Case& c : cases) EXPECT_EQ(GoFloat(c.v), c.want) << c.want;
}

Exposition SmallExposition() {
  Exposition e;
  Family c;
  c.name = "http_requests";
  c.type = MetricType::kCounter;
  c.help = "Requests \\ by \"code\"\nsecond line";
  c.samples.push_back({"http_requests_total", {{"code", "200"}, {"path", "/a\"b\\c\nd"}}, 1027,
                       1395066363000});
  c.samples.push_back({"http_requests_created", {{"code", "200"}, {"path", "/"}}, 1.5e9, {}});
  e.families.push_back(c);
  Family g;
  g.name = "temp.celsius";
  g.type = MetricType::kGauge;
  g.unit = "celsius";
  g.samples.push_back({"temp.celsius", {{"room.name", "lab"}}, -0.5, 1500});
  g.samples.push_back({"temp.celsius", {}, NAN, {}});
  e.families.push_back(g);
  Family u;
  u.name = "up";
  u.samples.push_back({"up", {}, 1, {}});
  e.families.push_back(u);
  return e;
}

TEST(ExpositionRenderTest, RendersText004Golden) {
  EXPECT_EQ(RenderText004(SmallExposition()),
            "# HELP http_requests Requests \\\\ by \"code\"\\nsecond line\n"
            "# TYPE http_requests counter\n"
            "http_requests_total{code=\"200\",path=\"/a\\\"b\\\\c\\nd\"} 1027\n"
            "http_requests_created{code=\"200\",path=\"/\"} 1.5e+09\n"
            "# TYPE \"temp.celsius\" gauge\n"
            "{\"temp.celsius\",\"room.name\"=\"lab\"} -0.5\n"
            "{\"temp.celsius\"} NaN\n"
            "# TYPE up untyped\n"
            "up 1\n");
}

TEST(ExpositionRenderTest, RendersText004TimestampsOnRequest) {
  RenderOptions opts;
  opts.with_timestamps = true;
  const std::string body = RenderText004(SmallExposition(), opts);
  EXPECT_THAT(body, ::testing::HasSubstr("nd\"} 1027 1395066363000\n"));
  EXPECT_THAT(body, ::testing::HasSubstr("\"room.name\"=\"lab\"} -0.5 1500\n"));
  EXPECT_THAT(body, ::testing::HasSubstr("{\"temp.celsius\"} NaN\n"));
}

TEST(ExpositionRenderTest, RendersOpenMetricsGolden) {
  RenderOptions opts;
  opts.with_timestamps = true;
  EXPECT_EQ(RenderOpenMetrics(SmallExposition(), opts),
            "# HELP http_requests Requests \\\\ by \\\"code\\\"\\nsecond line\n"
            "# TYPE http_requests counter\n"
            "http_requests_total{code=\"200\",path=\"/a\\\"b\\\\c\\nd\"} 1027 1395066363\n"
            "http_requests_created{code=\"200\",path=\"/\"} 1.5e+09\n"
            "# TYPE \"temp.celsius\" gauge\n"
            "# UNIT \"temp.celsius\" celsius\n"
            "{\"temp.celsius\",\"room.name\"=\"lab\"} -0.5 1.5\n"
            "{\"temp.celsius\"} NaN\n"
            "# TYPE up unknown\n"
            "up 1\n"
            "# EOF\n");
}

TEST(ExpositionRenderTest, OpenMetricsSecondsKeepMillisecondPrecision) {
  Exposition e;
  Family f;
  f.name = "m";
  for (int64_t ms : {int64_t{0}, int64_t{1}, int64_t{10}, int64_t{-1}, int64_t{-1500},
                     int64_t{1234567}, int64_t{1700000000120}}) {
    f.samples.push_back({"m", {}, 1, ms});
  }
  e.families.push_back(f);
  RenderOptions opts;
  opts.with_timestamps = true;
  EXPECT_EQ(RenderOpenMetrics(e, opts),
            "# TYPE m unknown\nm 1 0\nm 1 0.001\nm 1 0.01\nm 1 -0.001\nm 1 -1.5\n"
            "m 1 1234.567\nm 1 1700000000.12\n# EOF\n");
}

TEST(ExpositionRenderTest, OpenMetricsCounterWithoutTotalSamplesBecomesUnknown) {
  Exposition e;
  Family plain;  // text-format style counter whose sample has no _total suffix
  plain.name = "jobs_done";
  plain.type = MetricType::kCounter;
  plain.samples.push_back({"jobs_done", {}, 3, {}});
  e.families.push_back(plain);
  Family named_total;  // family named after its _total sample, as text 0.0.4 parses it
  named_total.name = "bytes_total";
  named_total.type = MetricType::kCounter;
  named_total.samples.push_back({"bytes_total", {}, 7, {}});
  e.families.push_back(named_total);
  EXPECT_EQ(RenderOpenMetrics(e),
            "# TYPE jobs_done unknown\njobs_done 3\n"
            "# TYPE bytes counter\nbytes_total 7\n"
            "# EOF\n");
}

TEST(ExpositionRenderTest, Text004MapsOpenMetricsOnlyTypesToUntyped) {
  Exposition e;
  for (MetricType t : {MetricType::kGaugeHistogram, MetricType::kInfo, MetricType::kStateSet}) {
    Family f;
    f.name = "f";
    f.type = t;
    e.families.push_back(f);
  }
  EXPECT_EQ(RenderText004(e), "# TYPE f untyped\n# TYPE f untyped\n# TYPE f untyped\n");
  EXPECT_STREQ(MetricTypeName(MetricType::kUnknown, false), "untyped");
  EXPECT_STREQ(MetricTypeName(MetricType::kUnknown, true), "unknown");
  EXPECT_STREQ(MetricTypeName(MetricType::kGaugeHistogram, true), "gaugehistogram");
}

TEST(ExpositionRenderTest, EscapesLongAndShortValuesAlike) {
  // Values shorter and longer than a word, and lines longer than the renderer's stack
  // buffer, escape the same way.
  for (size_t len : {0u, 1u, 7u, 8u, 9u, 17u, 100u, 3000u}) {
    std::string value, want;
    for (size_t i = 0; i < len; ++i) {
      const char c = "ab\\c\"d\nefghij"[i % 12];
      value += c;
      want += c == '\\' ? "\\\\" : c == '"' ? "\\\"" : c == '\n' ? "\\n" : std::string(1, c);
    }
    Exposition exp;
    Family& f = exp.families.emplace_back();
    f.name = "m";
    f.type = MetricType::kGauge;
    f.samples.push_back({"m", {{"v", value}, {"w.x", value}}, 7, 1500});
    RenderOptions opts;
    opts.with_timestamps = true;
    EXPECT_EQ(RenderText004(exp, opts), "# TYPE m gauge\nm{v=\"" + want + "\",\"w.x\"=\"" + want +
                                            "\"} 7 1500\n")
        << len;
    EXPECT_EQ(RenderOpenMetrics(exp, opts), "# TYPE m gauge\nm{v=\"" + want + "\",\"w.x\"=\"" +
                                                want + "\"} 7 1.5\n# EOF\n")
        << len;
  }
}

TEST(ExpositionRenderTest, EmptyExposition) {
  EXPECT_EQ(RenderText004(Exposition{}), "");
  EXPECT_EQ(RenderOpenMetrics(Exposition{}), "# EOF\n");
}

// Every finite double survives AppendGoFloat -> parser exactly (shortest round-trip digits).
TEST(ExpositionRenderTest, RandomFloatsRoundTripThroughTheParser) {
  testing::RandomExposition gen(42);
  Exposition e;
  Family f;
  f.name = "v";
  for (int i = 0; i < 5000; ++i) f.samples.push_back({"v", {}, gen.Value(), {}});
  e.families.push_back(f);
  auto back = ParseExposition(RenderText004(e), Format::kText004);
  ASSERT_OK(back);
  testing::ExpectSameExposition(*back, e);
}

// render(parse(render(x))) == render(x) for random data in both formats: rendering is a
// fixed point, so a re-served body is byte-identical to the first rendering.
TEST(ExpositionRenderTest, RenderingIsStableAcrossParse) {
  for (uint32_t seed = 1000; seed < 1200; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    testing::RandomExposition gen(seed);
    for (bool om : {false, true}) {
      testing::RandomOptions ro;
      ro.openmetrics = om;
      const Exposition x = gen.Make(ro);
      const std::string first = om ? RenderOpenMetrics(x) : RenderText004(x);
      auto parsed = ParseExposition(first, om ? Format::kOpenMetrics : Format::kText004);
      ASSERT_OK(parsed);
      const std::string second = om ? RenderOpenMetrics(*parsed) : RenderText004(*parsed);
      ASSERT_EQ(second, first);
    }
  }
}

}  // namespace
}  // namespace sb::expo
