#include "common/exposition/parser.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <bit>
#include <random>
#include <string>

#include "common/exposition/render.h"
#include "tests/common/exposition_random.h"
#include "tests/testing/testing.h"

namespace sb::expo {
namespace {

using ::testing::HasSubstr;

Exposition MustParse(std::string_view body, Format format = Format::kText004) {
  auto r = ParseExposition(body, format);
  EXPECT_TRUE(r.ok()) << r.status().ToString() << "\nbody:\n" << body;
  return r.ok() ? std::move(r).value() : Exposition{};
}

std::string ParseError(std::string_view body, Format format = Format::kText004,
                       const ParseOptions& opts = {}) {
  auto r = ParseExposition(body, format, opts);
  if (r.ok()) return "OK";
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  return r.status().message();
}

double ParseValue(const std::string& token) {
  Exposition e = MustParse("m " + token + "\n");
  EXPECT_EQ(e.SampleCount(), 1u) << token;
  return e.SampleCount() == 1 ? e.families[0].samples[0].value : -12345;
}

TEST(ExpositionParserTest, ParsesHelpTypeAndSamplesInText004) {
  Exposition e = MustParse(
      "# HELP http_requests_total The total number of requests.\n"
      "# TYPE http_requests_total counter\n"
      "http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n"
      "http_requests_total{method=\"post\",code=\"400\"}    3 1395066363000\n"
      "\n"
      "# A plain comment\n"
      "metric_without_timestamp_and_labels 12.47\n");
  ASSERT_EQ(e.families.size(), 2u);
  const Family& f = e.families[0];
  EXPECT_EQ(f.name, "http_requests_total");
  EXPECT_EQ(f.type, MetricType::kCounter);
  EXPECT_EQ(f.help, "The total number of requests.");
  ASSERT_EQ(f.samples.size(), 2u);
  EXPECT_EQ(f.samples[0].labels, (Labels{{"method", "post"}, {"code", "200"}}));
  EXPECT_EQ(f.samples[0].value, 1027);
  EXPECT_EQ(f.samples[0].timestamp_ms, 1395066363000);
  EXPECT_EQ(f.samples[1].value, 3);
  const Family& g = e.families[1];
  EXPECT_EQ(g.name, "metric_without_timestamp_and_labels");
  EXPECT_EQ(g.type, MetricType::kUnknown);
  EXPECT_EQ(g.samples[0].value, 12.47);
  EXPECT_FALSE(g.samples[0].timestamp_ms.has_value());
}

TEST(ExpositionParserTest, UnescapesLabelValuesAndHelp) {
  Exposition e = MustParse(
      "# HELP m a \\\\ backslash, a \\n newline, kept \\t and \"quotes\"\n"
      "m{path=\"C:\\\\DIR\\\\\",q=\"say \\\"hi\\\"\",nl=\"a\\nb\",e=\"\"} 1\n");
  ASSERT_EQ(e.families.size(), 1u);
  EXPECT_EQ(e.families[0].help, "a \\ backslash, a \n newline, kept \\t and \"quotes\"");
  EXPECT_EQ(e.families[0].samples[0].labels,
            (Labels{{"path", "C:\\DIR\\"}, {"q", "say \"hi\""}, {"nl", "a\nb"}, {"e", ""}}));
}

TEST(ExpositionParserTest, AcceptsGoFloatSyntaxAndSpecialValues) {
  EXPECT_TRUE(std::isnan(ParseValue("NaN")));
  EXPECT_TRUE(std::isnan(ParseValue("nan")));
  EXPECT_EQ(ParseValue("+Inf"), INFINITY);
  EXPECT_EQ(ParseValue("Inf"), INFINITY);
  EXPECT_EQ(ParseValue("-Inf"), -INFINITY);
  EXPECT_EQ(ParseValue("+inf"), INFINITY);
  EXPECT_EQ(ParseValue("1e3"), 1000);
  EXPECT_EQ(ParseValue("-1.5e-3"), -0.0015);
  EXPECT_EQ(ParseValue("+1"), 1);
  EXPECT_EQ(ParseValue(".5"), 0.5);
  EXPECT_EQ(ParseValue("5."), 5);
  EXPECT_EQ(ParseValue("0x1p-2"), 0.25);
  EXPECT_EQ(ParseValue("1.7976931348623157e308"), 1.7976931348623157e308);
  EXPECT_EQ(ParseValue("1e-400"), 0);  // underflow is zero, as in Go
  EXPECT_TRUE(std::signbit(ParseValue("-0")));
  for (const char* bad : {"1.2.3", "--1", "+-1", "1e", "abc", "1e400", "0x", "1_000", "++1"}) {
    EXPECT_THAT(ParseError(std::string("m ") + bad + "\n"), HasSubstr("1:3: invalid value"))
        << bad;
  }
}

TEST(ExpositionParserTest, TimestampsAreMillisInTextAndSecondsInOpenMetrics) {
  Exposition t = MustParse("a 1 -5\nb 2 1700000000123\nc 3 +7\n");
  EXPECT_EQ(t.families[2].samples[0].timestamp_ms, 7);
  EXPECT_THAT(ParseError("a 1 +-7\n"), HasSubstr("1:5: invalid timestamp"));
  EXPECT_THAT(ParseError("a 1 99999999999999999999\n"), HasSubstr("1:5: invalid timestamp"));
  EXPECT_EQ(t.families[0].samples[0].timestamp_ms, -5);
  EXPECT_EQ(t.families[1].samples[0].timestamp_ms, 1700000000123);
  EXPECT_THAT(ParseError("a 1 1.5\n"), HasSubstr("1:5: invalid timestamp"));

  Exposition o = MustParse("a 1 1.5\nb 2 1234.567\nc 3 1700000000\n# EOF\n",
                           Format::kOpenMetrics);
  EXPECT_EQ(o.families[0].samples[0].timestamp_ms, 1500);
  EXPECT_EQ(o.families[1].samples[0].timestamp_ms, 1234567);
  EXPECT_EQ(o.families[2].samples[0].timestamp_ms, 1700000000000);
  EXPECT_THAT(ParseError("a 1 NaN\n# EOF\n", Format::kOpenMetrics),
              HasSubstr("1:5: invalid timestamp"));
}

TEST(ExpositionParserTest, AcceptsQuotedUtf8Names) {
  Exposition e = MustParse(
      "# HELP \"my.metric\" dotted help\n"
      "# TYPE \"my.metric\" gauge\n"
      "{\"my.metric\", \"label.x\"=\"v\", plain=\"p\"} 1\n"
      "\"my.metric\"{\"ü\"=\"2\"} 2\n"
      "{\"my.metric\"} 3\n"
      "{__name__=\"named_by_label\", a=\"b\"} 4\n"
      "\"q\\\"uoted\" 5\n"
      "{a=\"x\", \"trailing.name\",} 6\n");
  ASSERT_EQ(e.families.size(), 4u);
  const Family& f = e.families[0];
  EXPECT_EQ(f.name, "my.metric");
  EXPECT_EQ(f.type, MetricType::kGauge);
  EXPECT_EQ(f.help, "dotted help");
  ASSERT_EQ(f.samples.size(), 3u);
  EXPECT_EQ(f.samples[0].name, "my.metric");
  EXPECT_EQ(f.samples[0].labels, (Labels{{"label.x", "v"}, {"plain", "p"}}));
  EXPECT_EQ(f.samples[1].labels, (Labels{{"ü", "2"}}));
  EXPECT_TRUE(f.samples[2].labels.empty());
  EXPECT_EQ(e.families[1].samples[0].name, "named_by_label");
  EXPECT_EQ(e.families[1].samples[0].labels, (Labels{{"a", "b"}}));
  EXPECT_EQ(e.families[2].name, "q\"uoted");
  EXPECT_EQ(e.families[3].samples[0].name, "trailing.name");
  EXPECT_EQ(e.families[3].samples[0].labels, (Labels{{"a", "x"}}));

  EXPECT_THAT(ParseError("\"a\"{\"b\"} 1\n"), HasSubstr("1:5: metric name given twice"));
  EXPECT_THAT(ParseError("{a=\"b\"} 1\n"), HasSubstr("1:1: metric name missing"));
}

TEST(ExpositionParserTest, ToleratesCrlfBlankLinesAndExtraWhitespace) {
  Exposition e = MustParse(
      "\r\n"
      "# TYPE m gauge\r\n"
      "   m { a = \"1\" , b=\"2\", }   7   \t\r\n"
      "\t\n"
      "m 8 123\r\n"
      "m\t9");  // no final newline
  ASSERT_EQ(e.families.size(), 1u);
  ASSERT_EQ(e.families[0].samples.size(), 3u);
  EXPECT_EQ(e.families[0].samples[0].labels, (Labels{{"a", "1"}, {"b", "2"}}));
  EXPECT_EQ(e.families[0].samples[0].value, 7);
  EXPECT_EQ(e.families[0].samples[1].timestamp_ms, 123);
  EXPECT_EQ(e.families[0].samples[2].value, 9);
}

// Streaming (ParseOptions::on_sample) hands over exactly the samples a normal parse keeps, in
// body order, and returns the same families without samples: over random bodies of both
// formats, with timestamps, including families that share sample names.
TEST(ExpositionParserTest, StreamedSamplesAreTheSamplesOfANormalParse) {
  testing::RandomExposition gen(4242);
  for (int round = 0; round < 300; ++round) {
    const bool om = round % 2 == 1;
    testing::RandomOptions ro;
    ro.openmetrics = om;
    ro.with_timestamps = true;
    const Exposition made = gen.Make(ro);
    const std::string body = om ? RenderOpenMetrics(made, {.with_timestamps = true})
                                : RenderText004(made, {.with_timestamps = true});
    const Format format = om ? Format::kOpenMetrics : Format::kText004;
    auto whole = ParseExposition(body, format);
    ASSERT_OK(whole);
    Exposition streamed_as_model;  // the streamed samples, regrouped by the whole parse's families
    std::vector<Sample> streamed;
    ParseOptions po;
    po.on_sample = [&](const Sample& s) {
      streamed.push_back(s);
      return Status::OK();
    };
    auto meta = ParseExposition(body, format, po);
    ASSERT_OK(meta);
    ASSERT_EQ(meta->families.size(), whole->families.size());
    size_t k = 0;
    for (size_t f = 0; f < whole->families.size(); ++f) {
      EXPECT_TRUE(meta->families[f].samples.empty());
      Family fam = meta->families[f];
      for (size_t j = 0; j < whole->families[f].samples.size() && k < streamed.size(); ++j) fam.samples.push_back(streamed[k++]);
      streamed_as_model.families.push_back(std::move(fam));
    }
    EXPECT_EQ(k, streamed.size());
    testing::ExpectSameExposition(streamed_as_model, *whole);
  }
}

TEST(ExpositionParserTest, StreamingStopsAtTheCallbacksErrorAndStillReportsLaterSyntaxErrors) {
  int calls = 0;
  ParseOptions po;
  po.on_sample = [&](const Sample& s) {
    ++calls;
    if (s.value == 2) return Status::ResourceExhausted("enough");
    return Status::OK();
  };
  auto stopped = ParseExposition("a 1\nb 2\nc 3\n", Format::kText004, po);
  EXPECT_EQ(stopped.status().code(), Status::Code::kResourceExhausted);
  EXPECT_EQ(calls, 2);

  calls = 0;
  auto bad = ParseExposition("a 1\nb{x=\"1\" 2\n", Format::kText004, po);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("2:"));
  EXPECT_EQ(calls, 1);

  // The text 0.0.4 rule "no TYPE after samples of that name" holds for streamed samples too.
  auto late_type = ParseExposition("a 1\n# TYPE a gauge\n", Format::kText004, po);
  ASSERT_FALSE(late_type.ok());
  EXPECT_THAT(late_type.status().message(), HasSubstr("TYPE reported after samples"));
}

// A body parsed in pieces (StreamParser) gives what ParseExposition gives for the whole: the
// same families, samples and streamed samples over random bodies split at random places
// (inside lines, at line ends, one byte at a time), and the same error, position included,
// for broken bodies.
TEST(ExpositionParserTest, StreamParserGivesWhatAWholeParseGives) {
  testing::RandomExposition gen(777);
  std::mt19937 rng(778);
  auto feed = [&](StreamParser* p, std::string_view body, int mode) -> Status {
    size_t pos = 0;
    while (pos < body.size()) {
      size_t n = mode == 0 ? 1 : mode == 1 ? 1 + rng() % 64 : 1 + rng() % 4096;
      if (mode == 3) {  // up to and including a line end, or a line end and more
        const size_t nl = body.find('\n', pos);
        n = nl == std::string_view::npos ? body.size() - pos : nl - pos + 1 + (rng() % 2);
      }
      n = std::min(n, body.size() - pos);
      Status st = p->Feed(body.substr(pos, n));
      if (!st.ok()) return st;
      pos += n;
    }
    return Status::OK();
  };
  for (int round = 0; round < 120; ++round) {
    const bool om = round % 2 == 1;
    testing::RandomOptions ro;
    ro.openmetrics = om;
    ro.with_timestamps = true;
    const Exposition made = gen.Make(ro);
    std::string body = om ? RenderOpenMetrics(made, {.with_timestamps = true}) : RenderText004(made, {.with_timestamps = true});
    if (round % 3 == 0 && !om && !body.empty()) body.pop_back();  // a last line without its line end
    const Format format = om ? Format::kOpenMetrics : Format::kText004;
    auto whole = ParseExposition(body, format);
    ASSERT_OK(whole);
    StreamParser p(format);
    ASSERT_OK(feed(&p, body, round % 4));
    auto pieces = p.Finish();
    ASSERT_OK(pieces);
    testing::ExpectSameExposition(*pieces, *whole);
    // Streamed samples too.
    std::vector<Sample> a, b;
    ParseOptions pa, pb;
    pa.on_sample = [&](const Sample& s) { a.push_back(s); return Status::OK(); };
    pb.on_sample = [&](const Sample& s) { b.push_back(s); return Status::OK(); };
    ASSERT_OK(ParseExposition(body, format, pa));
    StreamParser sp(format, pb);
    ASSERT_OK(feed(&sp, body, (round + 1) % 4));
    ASSERT_OK(sp.Finish());
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].name, b[i].name) << "sample " << i;
      EXPECT_EQ(a[i].labels, b[i].labels) << "sample " << i;
      EXPECT_EQ(std::bit_cast<uint64_t>(a[i].value), std::bit_cast<uint64_t>(b[i].value)) << "sample " << i;
      EXPECT_EQ(a[i].timestamp_ms, b[i].timestamp_ms) << "sample " << i;
    }
  }
  // Broken bodies: the same error at the same line and column, however split.
  ParseOptions small;
  small.max_line_bytes = 40;
  const std::vector<std::pair<std::string, Format>> bad = {
      {"a 1\nb{x=\"1\" 2\nc 3\n", Format::kText004},
      {"a 1\n# TYPE a gauge\n", Format::kText004},
      {"# TYPE a gauge\na 1\n", Format::kOpenMetrics},  // no # EOF
      {"a 1\n# EOF\nb 2\n", Format::kOpenMetrics},
      {"a 1\n" + std::string(100, 'x') + " 2\n", Format::kText004},   // a line over max_line_bytes
      {"a 1\n" + std::string(100, 'x'), Format::kText004},          // ... and without a line end
  };
  for (const auto& [body, format] : bad) {
    auto whole = ParseExposition(body, format, small);
    ASSERT_FALSE(whole.ok()) << body;
    for (int mode = 0; mode < 4; ++mode) {
      StreamParser p(format, small);
      Status st = feed(&p, body, mode);
      Result<Exposition> r = st.ok() ? p.Finish() : Result<Exposition>(st);
      ASSERT_FALSE(r.ok()) << body << " mode " << mode;
      EXPECT_EQ(r.status().message(), whole.status().message()) << body << " mode " << mode;
      EXPECT_EQ(p.Feed("more 1\n").message(), whole.status().message());  // stays failed
    }
  }
}

TEST(ExpositionParserTest, ParsesEmptyBody) {
  EXPECT_TRUE(MustParse("").families.empty());
  EXPECT_TRUE(MustParse("# EOF\n", Format::kOpenMetrics).families.empty());
}

TEST(ExpositionParserTest, GroupsOpenMetricsFamiliesBySuffix) {
  Exposition e = MustParse(
      "# TYPE foo counter\n"
      "# UNIT foo seconds\n"
      "# HELP foo Foo help.\n"
      "foo_total{a=\"1\"} 1.0 # {trace_id=\"abc\"} 0.5 1700000000.1\n"
      "foo_created{a=\"1\"} 1700000000\n"
      "# TYPE h histogram\n"
      "h_bucket{le=\"1\"} 0\n"
      "h_bucket{le=\"+Inf\"} 2 123.0 # {x=\"y\"} 3\n"
      "h_sum 4\n"
      "h_count 2\n"
      "h_created 1\n"
      "# TYPE s summary\n"
      "s{quantile=\"0.5\"} 1\n"
      "s_sum 2\n"
      "s_count 3\n"
      "# TYPE i info\n"
      "i_info{version=\"1\"} 1\n"
      "# TYPE gh gaugehistogram\n"
      "gh_bucket{le=\"+Inf\"} 1\n"
      "gh_gsum 1\n"
      "gh_gcount 1\n"
      "# TYPE st stateset\n"
      "st{st=\"a\"} 1\n"
      "foo_total 9\n"  // no longer the current family: its own unknown family
      "# EOF\n",
      Format::kOpenMetrics);
  ASSERT_EQ(e.families.size(), 7u);
  EXPECT_EQ(e.families[0].name, "foo");
  EXPECT_EQ(e.families[0].unit, "seconds");
  EXPECT_EQ(e.families[0].help, "Foo help.");
  EXPECT_EQ(e.families[0].samples.size(), 2u);
  EXPECT_EQ(e.families[0].samples[1].name, "foo_created");
  EXPECT_EQ(e.families[1].type, MetricType::kHistogram);
  EXPECT_EQ(e.families[1].samples.size(), 5u);
  EXPECT_EQ(e.families[1].samples[1].timestamp_ms, 123000);
  EXPECT_EQ(e.families[2].samples.size(), 3u);
  EXPECT_EQ(e.families[3].type, MetricType::kInfo);
  EXPECT_EQ(e.families[4].type, MetricType::kGaugeHistogram);
  EXPECT_EQ(e.families[4].samples.size(), 3u);
  EXPECT_EQ(e.families[5].type, MetricType::kStateSet);
  EXPECT_EQ(e.families[6].name, "foo_total");
  EXPECT_EQ(e.families[6].type, MetricType::kUnknown);
}

TEST(ExpositionParserTest, UntypedSamplesShareAFamilyOnlyWhenConsecutive) {
  Exposition e = MustParse(
      "a{x=\"1\"} 1\na{x=\"2\"} 2\nb 3\na 4\n# TYPE c gauge\nc 5\nc_total 6\n");
  ASSERT_EQ(e.families.size(), 5u);
  EXPECT_EQ(e.families[0].name, "a");
  EXPECT_EQ(e.families[0].samples.size(), 2u);
  EXPECT_EQ(e.families[1].name, "b");
  EXPECT_EQ(e.families[2].name, "a");
  EXPECT_EQ(e.families[3].name, "c");
  EXPECT_EQ(e.families[4].name, "c_total");  // a gauge has no _total samples
  EXPECT_EQ(e.families[4].type, MetricType::kUnknown);
}

TEST(ExpositionParserTest, TextRejectsTypeAfterSamplesAndSecondType) {
  EXPECT_THAT(ParseError("foo 1\n# TYPE foo gauge\n"),
              HasSubstr("2:3: second TYPE line for metric name \"foo\""));
  EXPECT_THAT(ParseError("# TYPE foo gauge\nfoo 1\n# TYPE bar gauge\n# TYPE foo gauge\n"),
              HasSubstr("4:3: second TYPE line"));
  EXPECT_THAT(ParseError("# TYPE foo gauge\n# TYPE foo counter\n"), HasSubstr("2:3: second TYPE"));
  // HELP and TYPE in either order describe one family.
  Exposition e = MustParse("# TYPE foo gauge\n# HELP foo h\nfoo 1\n");
  ASSERT_EQ(e.families.size(), 1u);
  EXPECT_EQ(e.families[0].help, "h");
}

TEST(ExpositionParserTest, RejectsUnknownTypes) {
  EXPECT_THAT(ParseError("# TYPE foo gaugehistogram\n"), HasSubstr("1:12: invalid metric type"));
  EXPECT_THAT(ParseError("# TYPE foo untyped\n# EOF\n", Format::kOpenMetrics),
              HasSubstr("1:12: invalid metric type \"untyped\""));
  EXPECT_THAT(ParseError("# TYPE foo\n"), HasSubstr("1:11: expected a metric type"));
  EXPECT_THAT(ParseError("# HELP\n"), HasSubstr("1:7: expected a metric name after HELP"));
  EXPECT_EQ(MustParse("# TYPE foo untyped\n").families[0].type, MetricType::kUnknown);
}

TEST(ExpositionParserTest, OpenMetricsRequiresEofAndNothingAfterIt) {
  EXPECT_THAT(ParseError("a 1\n", Format::kOpenMetrics),
              HasSubstr("2:1: data does not end with # EOF"));
  EXPECT_THAT(ParseError("a 1\n# EOF\nb 2\n", Format::kOpenMetrics),
              HasSubstr("3:1: unexpected data after # EOF"));
  EXPECT_EQ(ParseError("a 1\n# EOF\n\n", Format::kOpenMetrics), "OK");
  // In text 0.0.4, "# EOF" is just a comment.
  EXPECT_EQ(MustParse("# EOF\na 1\n").SampleCount(), 1u);
}

TEST(ExpositionParserTest, ReportsExactErrorPositions) {
  struct Case {
    const char* body;
    const char* want;
  } cases[] = {
      {"foo\n", "1:4: expected a value"},
      {"ok 1\nfoo{a=\"b\"}\n", "2:11: expected a value"},
      {"foo 1.2.3\n", "1:5: invalid value \"1.2.3\""},
      {"foo{a=\"b} 1\n", "1:7: unterminated quoted string"},
      {"foo{a=\"b\\", "1:7: unterminated quoted string"},
      {"foo{a=\"\\q\"} 1\n", "1:8: invalid escape sequence '\\q'"},
      {"!!!\n", "1:1: unexpected character '!'"},
      {"a 1\n\n  foo{a=1} 2\n", "3:9: expected '\"' to open the label value"},
      {"foo{a=\"1\",a=\"2\"} 1\n", "1:11: duplicate label name \"a\""},
      {"foo 1 abc\n", "1:7: invalid timestamp \"abc\""},
      {"foo{a=\"1\" b=\"2\"} 1\n", "1:11: expected ',' or '}' after the label value"},
      {"foo{a=\"1\"\n", "1:10: unterminated label set"},
      {"foo{1=\"1\"} 1\n", "1:5: expected a label name, got '1'"},
      {"foo{a \"1\"} 1\n", "1:7: expected '=' after the label name"},
      {"foo 1 2 3\n", "1:9: unexpected text after the sample"},
      {"foo 1 # {a=\"b\"} 1\n", "1:7: invalid timestamp \"#\""},  // exemplars are OM-only
      {"# TYPE foo.bar gauge\n", "1:11: expected a space after the metric name"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(ParseError(c.body), HasSubstr(c.want)) << c.body;
    EXPECT_EQ(ParseError(c.body).rfind(c.want, 0), 0u) << ParseError(c.body);
  }
}

TEST(ExpositionParserTest, IntegerValuesParseToTheSameDoubleAsTheGeneralPath) {
  // Plain integers take a fast path; the double must be the one strtod gives.
  const char* tokens[] = {"0", "7", "007", "+42", "-42", "999999", "1000000",
                          "9007199254740993", "123456789012345678", "999999999999999999",
                          "1234567890123456789", "18446744073709551617"};
  for (const char* t : tokens) {
    EXPECT_EQ(ParseValue(t), std::strtod(t, nullptr)) << t;
  }
  EXPECT_TRUE(std::signbit(ParseValue("-0")));
  EXPECT_FALSE(std::signbit(ParseValue("+0")));
  EXPECT_THAT(ParseError("m 12a\n"), HasSubstr("1:3: invalid value \"12a\""));
  EXPECT_THAT(ParseError("m +-1\n"), HasSubstr("1:3: invalid value"));
  EXPECT_THAT(ParseError("m 1_000\n"), HasSubstr("1:3: invalid value"));
}

TEST(ExpositionParserTest, QuotedStringErrorsFollowScanOrder) {
  // The first problem met left to right is the one reported.
  EXPECT_THAT(ParseError("m{a=\"x\\q"), HasSubstr("1:7: invalid escape sequence '\\q'"));
  EXPECT_THAT(ParseError("m{a=\"\\\"\\q\"} 1\n"), HasSubstr("1:8: invalid escape sequence"));
  EXPECT_THAT(ParseError("m{a=\"\\\"} 1\n"), HasSubstr("1:5: unterminated quoted string"));
  EXPECT_THAT(ParseError("m{a=\"ab\\\\\"} 1\n"), HasSubstr("OK"));
  // A long line of escapes without a closing quote fails (in linear time).
  EXPECT_THAT(ParseError("m{a=\"" + std::string(200000, '\\') + "\n"),
              HasSubstr("1:5: unterminated quoted string"));
  Exposition e = MustParse("m{a=\"" + std::string(20000, '\\') + "\"} 1\n");
  ASSERT_EQ(e.SampleCount(), 1u);
  EXPECT_EQ(e.families[0].samples[0].labels[0].value, std::string(10000, '\\'));
}

TEST(ExpositionParserTest, RepeatedSampleNamesAreStillReadWhole) {
  // A sample name equal to the previous one is matched bytewise; a longer name sharing
  // that prefix, or a quoted previous name, must not match.
  Exposition e = MustParse("ab 1\nab{x=\"1\"} 2\nabc 3\nab:c 4\nab 5\n");
  ASSERT_EQ(e.families.size(), 4u);
  EXPECT_EQ(e.families[0].name, "ab");
  EXPECT_EQ(e.families[0].samples.size(), 2u);
  EXPECT_EQ(e.families[1].samples[0].name, "abc");
  EXPECT_EQ(e.families[2].samples[0].name, "ab:c");
  EXPECT_EQ(e.families[3].samples[0].name, "ab");
  EXPECT_THAT(ParseError("\"a.b\" 1\na.b 2\n"), HasSubstr("2:2: invalid value"));
  EXPECT_THAT(ParseError("{__name__=\"a.b\"} 1\na.b 2\n"), HasSubstr("2:2: invalid value"));
  EXPECT_THAT(ParseError("a 1\na{__name__=\"a\"} 2\n"),
              HasSubstr("2:3: duplicate label name \"__name__\""));
  // A HELP line between two samples of one name opens a family that the second joins.
  e = MustParse("a 1\n# HELP a x\na 2\n");
  ASSERT_EQ(e.families.size(), 2u);
  EXPECT_EQ(e.families[1].help, "x");
  EXPECT_EQ(e.families[1].samples.size(), 1u);
  e = MustParse("# TYPE c counter\nc_total 1\nc_total 2\nc_created 3\nc_total 4\n");
  ASSERT_EQ(e.families.size(), 1u);
  EXPECT_EQ(e.families[0].samples.size(), 4u);
}

TEST(ExpositionParserTest, EnforcesLimits) {
  ParseOptions opts;
  opts.max_samples = 2;
  EXPECT_EQ(ParseError("a 1\nb 2\n", Format::kText004, opts), "OK");
  EXPECT_THAT(ParseError("a 1\nb 2\nc 3\n", Format::kText004, opts),
              HasSubstr("3:1: too many samples (max_samples=2)"));

  opts = {};
  opts.max_label_count = 2;
  EXPECT_EQ(ParseError("a{x=\"1\",y=\"2\"} 1\n", Format::kText004, opts), "OK");
  EXPECT_THAT(ParseError("a{x=\"1\",y=\"2\",z=\"3\"} 1\n", Format::kText004, opts),
              HasSubstr("1:15: too many labels (max_label_count=2)"));

  opts = {};
  opts.max_line_bytes = 10;
  EXPECT_EQ(ParseError("abcdef 1.5\r\n", Format::kText004, opts), "OK");  // CR not counted
  EXPECT_THAT(ParseError("a 1\nabcdef 1.25\n", Format::kText004, opts),
              HasSubstr("2:11: line longer than max_line_bytes=10"));
}

TEST(ExpositionParserTest, FormatFromContentTypeFollowsPrometheus) {
  EXPECT_EQ(FormatFromContentType("application/openmetrics-text; version=1.0.0; charset=utf-8"),
            Format::kOpenMetrics);
  EXPECT_EQ(FormatFromContentType("Application/OpenMetrics-Text"), Format::kOpenMetrics);
  EXPECT_EQ(FormatFromContentType(" application/openmetrics-text ;version=0.0.1"),
            Format::kOpenMetrics);
  EXPECT_EQ(FormatFromContentType("text/plain; version=0.0.4; charset=utf-8"), Format::kText004);
  EXPECT_EQ(FormatFromContentType(""), Format::kText004);
  EXPECT_EQ(FormatFromContentType("application/openmetrics-textual"), Format::kText004);
  EXPECT_EQ(FormatFromContentType("application/json"), Format::kText004);
}

// parse(render(x)) == x on seeded random expositions with tricky names, escapes and values.
TEST(ExpositionParserTest, ParsesRenderedRandomExpositionsBackExactly) {
  for (uint32_t seed = 1; seed <= 300; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    testing::RandomExposition gen(seed);
    for (bool om : {false, true}) {
      testing::RandomOptions ro;
      ro.openmetrics = om;
      ro.with_timestamps = seed % 2 == 0;
      const Exposition want = gen.Make(ro);
      RenderOptions opts;
      opts.with_timestamps = ro.with_timestamps;
      const std::string body = om ? RenderOpenMetrics(want, opts) : RenderText004(want, opts);
      auto got = ParseExposition(body, om ? Format::kOpenMetrics : Format::kText004);
      ASSERT_TRUE(got.ok()) << got.status().ToString() << "\n" << body;
      testing::ExpectSameExposition(*got, want);
      if (::testing::Test::HasFailure()) {
        FAIL() << (om ? "OpenMetrics" : "text") << " body:\n" << body;
      }
    }
  }
}

// Random byte-level damage to valid bodies: the parser either accepts the result or fails
// with InvalidArgument "line:col: ..." pointing inside the body (never crashes; run under
// ASan this is a small fuzz test).
TEST(ExpositionParserTest, DamagedBodiesFailWithAPositionInsideTheBody) {
  std::mt19937 rng(7);
  const char kNoise[] = "{}\"=,#\\\n\r \t.e+-0xNaInf_";
  int failures = 0;
  for (uint32_t seed = 1; seed <= 400; ++seed) {
    testing::RandomExposition gen(seed);
    testing::RandomOptions ro;
    ro.openmetrics = seed % 2 == 1;
    ro.with_timestamps = seed % 3 == 0;
    RenderOptions opts;
    opts.with_timestamps = ro.with_timestamps;
    const Exposition x = gen.Make(ro);
    std::string body = ro.openmetrics ? RenderOpenMetrics(x, opts) : RenderText004(x, opts);
    if (body.empty()) continue;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < edits; ++k) {
      const size_t at = rng() % body.size();
      switch (rng() % 3) {
        case 0: body.erase(at, 1); break;
        case 1: body.insert(at, 1, kNoise[rng() % (sizeof(kNoise) - 1)]); break;
        default: body[at] = kNoise[rng() % (sizeof(kNoise) - 1)]; break;
      }
      if (body.empty()) body = "x";
    }
    auto r = ParseExposition(body, ro.openmetrics ? Format::kOpenMetrics : Format::kText004);
    if (r.ok()) continue;
    ++failures;
    ASSERT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    const std::string& msg = r.status().message();
    size_t line = 0, col = 0;
    ASSERT_EQ(sscanf(msg.c_str(), "%zu:%zu:", &line, &col), 2) << msg;
    const size_t lines = std::count(body.begin(), body.end(), '\n') + 1;
    EXPECT_GE(line, 1u);
    EXPECT_LE(line, lines + 1) << msg;
    EXPECT_GE(col, 1u);
  }
  EXPECT_GT(failures, 100);  // the damage does break most bodies
}

}  // namespace
}  // namespace sb::expo
