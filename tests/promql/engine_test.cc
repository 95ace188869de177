// Unit tests of promql-lite's public API: parse errors with positions, canonical
// formatting, series selectors, lookback and staleness, limits, and the StoreQueryable.
#include "promql-lite/engine.h"

#include <cmath>
#include <cstring>

#include <gtest/gtest.h>

#include "storage/store.h"
#include "tests/testing/testing.h"

namespace sb::promql {
namespace {

constexpr int64_t kMin = 60'000;

Series Make(storage::Labels labels, std::vector<Point> points) {
  return Series{std::move(labels), std::move(points)};
}

double StaleNaN() {
  double d;
  uint64_t bits = storage::kStaleMarkerBits;
  std::memcpy(&d, &bits, sizeof(d));
  return d;
}

// Counts Select calls, to check that range queries read each selector once.
class CountingQueryable : public Queryable {
 public:
  explicit CountingQueryable(Queryable* inner) : inner_(inner) {}
  Result<std::vector<Series>> Select(const std::vector<storage::Matcher>& m, int64_t mint,
                                     int64_t maxt) override {
    ++calls;
    return inner_->Select(m, mint, maxt);
  }
  int calls = 0;

 private:
  Queryable* inner_;
};

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<Point> up, req;
    for (int i = 0; i <= 10; ++i) {
      up.push_back({i * kMin, 1});
      req.push_back({i * kMin, 10.0 * i});
    }
    mem_.Add(Make({{"__name__", "up"}, {"job", "a"}}, up));
    mem_.Add(Make({{"__name__", "up"}, {"job", "b"}}, up));
    mem_.Add(Make({{"__name__", "req"}, {"job", "a"}}, req));
  }
  MemoryQueryable mem_;
};

TEST(ParserTest, ParseErrorsCarryLineAndColumn) {
  auto r = FormatQuery("sum(foo");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "1:8: parse error: unclosed left parenthesis");

  r = FormatQuery("foo +\n  )");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind("2:3: parse error:", 0), 0u) << r.status().message();

  r = FormatQuery("foo{a=\"b\"");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "1:10: parse error: unexpected end of input inside braces");

  r = FormatQuery("foo{a=\"b}");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unterminated quoted string"), std::string::npos);
}

TEST(ParserTest, TypeErrorsAreReportedLikePrometheus) {
  EXPECT_NE(FormatQuery("1 > 2").status().message().find("comparisons between scalars must use BOOL modifier"), std::string::npos);
  EXPECT_NE(FormatQuery("rate(foo)").status().message().find("expected type range vector in call to function \"rate\", got instant vector"), std::string::npos);
  EXPECT_NE(FormatQuery("foo and 1").status().message().find("set operator \"and\" not allowed in binary scalar expression"), std::string::npos);
  EXPECT_NE(FormatQuery("nope(foo)").status().message().find("unknown function with name \"nope\""), std::string::npos);
  EXPECT_NE(FormatQuery("{a=~\".*\"}").status().message().find("at least one non-empty matcher"), std::string::npos);
}

TEST(ParserTest, OutOfScopeFunctionsAreUnimplemented) {
  auto r = FormatQuery("histogram_quantile(0.9, rate(x_bucket[5m]))");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kUnimplemented);
  EXPECT_NE(r.status().message().find("histogram_quantile"), std::string::npos);
}

TEST(FormatQueryTest, PrintsPrometheusCanonicalForm) {
  auto f = [](const char* q) {
    auto r = FormatQuery(q);
    return r.ok() ? *r : "ERROR " + r.status().message();
  };
  EXPECT_EQ(f("sum(rate(foo{a=\"b\"}[5m])) BY (job)"), "sum by (job) (rate(foo{a=\"b\"}[5m]))");
  EXPECT_EQ(f("a+on(x)group_left(y)b"), "a + on (x) group_left (y) b");
  EXPECT_EQ(f("foo offset -1h30m @ 100"), "foo @ 100.000 offset -1h30m");
  EXPECT_EQ(f("rate(x[1h:5m])"), "rate(x[1h:5m])");
  EXPECT_EQ(f("topk(3, x) > bool 1e6"), "topk(3, x) > bool 1e+06");
  EXPECT_EQ(f("-2^2"), "-2 ^ 2");
  EXPECT_EQ(f("  up  # comment"), "up");
  EXPECT_EQ(f("{__name__=\"x\", a=~\"b|c\"}"), "{__name__=\"x\",a=~\"b|c\"}");
  EXPECT_EQ(f("avg_over_time(x[1y2w])"), "avg_over_time(x[379d])");  // y and w only when exact
  EXPECT_EQ(f("x[2w] offset 1y"), "x[2w] offset 1y");
}

TEST(ParseSeriesSelectorTest, ReturnsTheMatchersOfAPlainSelector) {
  auto m = ParseSeriesSelector("up{job=~\"a.*\", instance!=\"x\"}");
  ASSERT_OK(m.status());
  ASSERT_EQ(m->size(), 3u);
  EXPECT_EQ((*m)[0].name(), "__name__");
  EXPECT_EQ((*m)[1].type(), storage::Matcher::Type::kRegexMatch);
  EXPECT_TRUE((*m)[1].Matches("abc"));
  EXPECT_FALSE((*m)[1].Matches("xabc"));  // anchored
  EXPECT_FALSE(ParseSeriesSelector("rate(up[5m])").ok());
  EXPECT_FALSE(ParseSeriesSelector("up offset 5m").ok());
}

TEST_F(EngineTest, InstantLookbackWindowIsLeftOpen) {
  MemoryQueryable q;
  q.Add(Make({{"__name__", "x"}}, {{0, 7}}));
  Engine e(&q, EngineOptions{});
  auto in = e.Instant("x", 5 * kMin - 1);
  ASSERT_OK(in.status());
  ASSERT_EQ(in->value.series.size(), 1u);
  EXPECT_EQ(in->value.series[0].points[0].v, 7);
  EXPECT_EQ(in->value.series[0].points[0].t, 5 * kMin - 1);
  auto out = e.Instant("x", 5 * kMin);
  ASSERT_OK(out.status());
  EXPECT_TRUE(out->value.series.empty());
}

TEST_F(EngineTest, ZeroLookbackMeansTheDefaultFiveMinutes) {
  MemoryQueryable q;
  q.Add(Make({{"__name__", "x"}}, {{0, 7}}));
  EngineOptions o;
  o.lookback_delta = std::chrono::milliseconds(0);
  Engine e(&q, o);
  auto r = e.Instant("x", 4 * kMin);
  ASSERT_OK(r.status());
  EXPECT_EQ(r->value.series.size(), 1u);
  EXPECT_EQ(e.options().lookback_delta, std::chrono::minutes(5));
}

TEST_F(EngineTest, StaleMarkerEndsASeries) {
  MemoryQueryable q;
  q.Add(Make({{"__name__", "x"}}, {{0, 1}, {kMin, StaleNaN()}, {3 * kMin, 2}}));
  Engine e(&q, EngineOptions{});
  auto r = e.Range("x", 0, 3 * kMin, kMin);
  ASSERT_OK(r.status());
  ASSERT_EQ(r->value.series.size(), 1u);
  const auto& p = r->value.series[0].points;
  ASSERT_EQ(p.size(), 2u);  // 0 and 3m; 1m and 2m see the stale marker
  EXPECT_EQ(p[0].t, 0);
  EXPECT_EQ(p[1].t, 3 * kMin);
  auto c = e.Instant("count_over_time(x[10m])", 3 * kMin);
  ASSERT_OK(c.status());
  EXPECT_EQ(c->value.series[0].points[0].v, 2);  // stale markers are not samples
}

TEST_F(EngineTest, RangeQueryReadsEachSelectorOnce) {
  CountingQueryable q(&mem_);
  Engine e(&q, EngineOptions{});
  auto r = e.Range("sum(up) + sum(rate(req[5m])) + sum(max_over_time(up[2m:30s]))", 0, 10 * kMin, 15'000);
  ASSERT_OK(r.status());
  EXPECT_EQ(q.calls, 3);
  ASSERT_EQ(r->value.series.size(), 1u);
  EXPECT_TRUE(r->value.series[0].labels.empty());
}

TEST_F(EngineTest, ArithmeticDropsTheMetricNameAndMatchesOnLabels) {
  Engine e(&mem_, EngineOptions{});
  auto r = e.Instant("req / on(job) up", 10 * kMin);
  ASSERT_OK(r.status());
  ASSERT_EQ(r->value.series.size(), 1u);
  EXPECT_EQ(storage::LabelsToString(r->value.series[0].labels), "{job=\"a\"}");
  EXPECT_EQ(r->value.series[0].points[0].v, 100);
  auto f = e.Instant("up > 0", 10 * kMin);  // filters keep the name
  ASSERT_OK(f.status());
  EXPECT_EQ(f->value.series.size(), 2u);
  EXPECT_EQ(f->value.series[0].labels[0].name, "__name__");
}

TEST_F(EngineTest, ManyToManyMatchingIsAnError) {
  Engine e(&mem_, EngineOptions{});
  auto r = e.Instant("req + on() up", 10 * kMin);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("many-to-many matching not allowed"), std::string::npos);
}

TEST_F(EngineTest, RateExtrapolatesToTheWindow) {
  Engine e(&mem_, EngineOptions{});
  // 10/min counter sampled every minute; the 5m window (5m, 10m] holds 5 samples.
  auto r = e.Instant("rate(req[5m])", 10 * kMin);
  ASSERT_OK(r.status());
  ASSERT_EQ(r->value.series.size(), 1u);
  EXPECT_NEAR(r->value.series[0].points[0].v, 10.0 / 60, 1e-12);
}

TEST_F(EngineTest, ScalarRangeQueryIsOneSeriesWithoutLabels) {
  Engine e(&mem_, EngineOptions{});
  auto r = e.Range("time() * 2", 0, 2 * kMin, kMin);
  ASSERT_OK(r.status());
  EXPECT_EQ(r->value.type, ValueType::kMatrix);
  ASSERT_EQ(r->value.series.size(), 1u);
  ASSERT_EQ(r->value.series[0].points.size(), 3u);
  EXPECT_EQ(r->value.series[0].points[2].v, 240);
}

TEST_F(EngineTest, LimitsAreErrorsNotCrashes) {
  EngineOptions o;
  o.max_points_per_series = 10;
  Engine small(&mem_, o);
  auto r = small.Range("up", 0, 100 * kMin, kMin);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);

  EngineOptions s;
  s.max_samples = 5;
  Engine few(&mem_, s);
  auto x = few.Instant("up", 10 * kMin);
  ASSERT_FALSE(x.ok());
  EXPECT_EQ(x.status().code(), Status::Code::kResourceExhausted);

  EngineOptions t;
  t.timeout = std::chrono::milliseconds(-1);  // already expired: deterministic
  Engine late(&mem_, t);
  auto y = late.Range("up", 0, 10 * kMin, kMin);
  ASSERT_FALSE(y.ok());
  EXPECT_EQ(y.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(y.status().message().find("query timed out"), std::string::npos);

  Engine e(&mem_, EngineOptions{});
  EXPECT_FALSE(e.Range("up", 0, kMin, 0).ok());
  EXPECT_FALSE(e.Range("up[5m]", 0, kMin, 1000).ok());
}

TEST_F(EngineTest, BadArgumentsAreInvalidArgument) {
  Engine e(&mem_, EngineOptions{});
  auto r = e.Instant("label_replace(up, \"dst\", \"$1\", \"job\", \"(\")", 10 * kMin);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("invalid regular expression in label_replace()"), std::string::npos);
  auto c = e.Instant("count_values(\"1bad\", up)", 10 * kMin);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("invalid label name"), std::string::npos);
}

TEST(StoreQueryableTest, EvaluatesOverTheStore) {
  testing::TempDir dir;
  storage::StoreOptions so;
  so.path = dir.File("s.db");
  so.synchronous = "OFF";
  auto store = storage::Store::Open(so);
  ASSERT_OK(store.status());
  std::vector<storage::SeriesSamples> batch;
  batch.push_back({{{"__name__", "v"}, {"org", "x"}}, {{0, 1}, {kMin, 2}, {2 * kMin, StaleNaN()}}});
  batch.push_back({{{"__name__", "v"}, {"org", "y"}}, {{0, 5}, {kMin, 6}, {2 * kMin, 7}}});
  ASSERT_OK((*store)->AppendSamples(batch).status());
  StoreQueryable q(store->get());
  Engine e(&q, EngineOptions{});
  auto r = e.Instant("sum by (org) (v)", 2 * kMin);
  ASSERT_OK(r.status());
  ASSERT_EQ(r->value.series.size(), 1u);  // org="x" went stale at 2m
  EXPECT_EQ(storage::LabelsToString(r->value.series[0].labels), "{org=\"y\"}");
  EXPECT_EQ(r->value.series[0].points[0].v, 7);
  auto m = e.Instant("v{org=\"x\"}[5m]", 2 * kMin);
  ASSERT_OK(m.status());
  ASSERT_EQ(m->value.type, ValueType::kMatrix);
  ASSERT_EQ(m->value.series.size(), 1u);
  EXPECT_EQ(m->value.series[0].points.size(), 2u);
}

}  // namespace
}  // namespace sb::promql

namespace sb::promql {
namespace {

// Seeded random token soup: parse, format and evaluate must return, never crash.
TEST(RobustnessTest, RandomQueriesNeverCrash) {
  static const char* const kPieces[] = {
      "up", "x", "{", "}", "(", ")", "[", "]", "5m", ":", "1m", ",", "job", "=", "=~", "!=",
      "\"a\"", "'b'", "\".*\"", "+", "-", "*", "/", "%", "^", "==", ">", "bool", "and", "or",
      "unless", "on", "ignoring", "group_left", "by", "without", "sum", "topk", "rate",
      "label_replace", "count_values", "quantile", "offset", "@", "start()", "1", "0x1f",
      "Inf", "NaN", "1e9", ".5", "#", "\n", "absent", "time()", "scalar", "vector",
      "histogram_quantile", "[1h:]", "-1", "@ end()", "atan2", "clamp", "sort_desc"};
  MemoryQueryable q;
  std::vector<Point> pts;
  for (int i = 0; i < 20; ++i) pts.push_back({i * 30'000, static_cast<double>(i % 7)});
  q.Add(Series{{{"__name__", "up"}, {"job", "a"}}, pts});
  q.Add(Series{{{"__name__", "x"}, {"job", "b"}}, pts});
  Engine e(&q, EngineOptions{});
  uint64_t seed = 12345;
  auto next = [&seed]() { seed = seed * 6364136223846793005ULL + 1442695040888963407ULL; return seed >> 33; };
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string query;
    int n = 1 + static_cast<int>(next() % 12);
    for (int k = 0; k < n; ++k) {
      query += kPieces[next() % (sizeof(kPieces) / sizeof(kPieces[0]))];
      if (next() % 2) query += " ";
    }
    auto f = FormatQuery(query);
    if (!f.ok()) {
      EXPECT_FALSE(f.status().message().empty()) << query;
      continue;
    }
    ++parsed;
    // The canonical form parses again to the same canonical form.
    auto again = FormatQuery(*f);
    ASSERT_TRUE(again.ok()) << query << " -> " << *f << ": " << again.status().ToString();
    EXPECT_EQ(*again, *f) << query;
    (void)e.Instant(query, 300'000);
    (void)e.Range(query, 0, 600'000, 60'000);
  }
  EXPECT_GT(parsed, 100);  // the soup does produce valid queries
}

TEST(RobustnessTest, DeepNestingAndLongChainsAreErrors) {
  EXPECT_FALSE(FormatQuery(std::string(100'000, '(') + "1" + std::string(100'000, ')')).ok());
  std::string chain = "1";
  for (int i = 0; i < 100'000; ++i) chain += "+1";
  auto r = FormatQuery(chain);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("too many binary operators"), std::string::npos);
  EXPECT_FALSE(FormatQuery(std::string(100'000, '-') + "1").ok());
}

}  // namespace
}  // namespace sb::promql
