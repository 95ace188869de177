// Differential test of the engine against a real Prometheus 2.42 (Debian package), on
// ~100 expressions covering every operator, aggregation and function in scope, evaluated
// as range queries and as instant queries at three times. The same deterministic data goes to Prometheus (promtool tsdb
// create-blocks-from openmetrics) and to a MemoryQueryable.
//
// Prometheus 2.42 has closed windows and Prometheus 3 left-open ones: the data keeps every
// sample off every window edge (samples at 7.123-7.523 s past the minute, steps at
// 7.623 s, subquery steps on whole minutes), and query ranges start 30 minutes into the
// data so that rate()'s extrapolation, whose order of steps changed in 3.0, agrees too.
// Values are distinct random doubles, so topk/bottomk have no ties.
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "promql-lite/engine.h"
#include "tests/testing/testing.h"

namespace sb::promql {
namespace {

constexpr int64_t kBase = 1'699'999'200'000 + 7'123;  // an hour boundary + 7.123 s
constexpr int kSamples = 200;                        // one a minute

const char* const kQueries[] = {
    "temp", "req_total", "vulns{job=~\"j[12]\"}", "rate(req_total[10m])",
    "increase(req_total[15m])", "irate(req_total[10m])", "delta(temp[20m])",
    "idelta(temp[10m])", "deriv(temp[30m])", "predict_linear(temp[30m], 3600)",
    "changes(temp[30m])", "resets(req_total[60m])", "avg_over_time(temp[20m])",
    "min_over_time(temp[20m])", "max_over_time(temp[20m])", "sum_over_time(temp[20m])",
    "count_over_time(temp[20m])", "last_over_time(temp[20m])", "present_over_time(temp[20m])",
    "stddev_over_time(temp[20m])", "stdvar_over_time(temp[20m])",
    "quantile_over_time(0.3, temp[20m])", "absent_over_time(temp{job=\"j3\"}[10m])",
    "absent(temp{job=\"nope\"})", "sum by (job) (temp)", "avg without (instance) (temp)",
    "min(temp)", "max by (instance) (temp)", "count(temp)", "group by (job) (temp)",
    "stddev(temp)", "stdvar by (job) (temp)", "topk(2, temp)", "bottomk(1, temp) by (job)",
    "topk(3, temp)", "bottomk(3, temp)", "topk(1, vulns) by (job)",
    "bottomk(2, vulns) without (instance)", "quantile(0.75, temp)",
    "quantile(0.1, temp) by (job)", "count_values(\"v\", round(vulns / 20))",
    "count_values without (instance) (\"val\", round(temp / 10))", "temp + vulns",
    "temp * on(job, instance) vulns", "temp / ignoring(instance) group_left sum by (job) (vulns)",
    "sum by (job) (vulns) - on(job) group_right temp", "temp > 30", "temp > bool 30",
    "30 < temp", "temp == on(job, instance) vulns", "temp and vulns > 40", "temp or vulns",
    "temp unless vulns > 40", "-temp", "temp % 7", "temp ^ 2", "2 ^ (temp / 10)",
    "atan2(temp, vulns)", "abs(temp)", "ceil(temp / 3)", "floor(temp / 3)",
    "round(temp / 3)", "round(temp, 5)", "sqrt(abs(temp))", "exp(temp / 100)",
    "ln(abs(temp) + 1)", "log2(abs(temp) + 1)", "log10(abs(temp) + 1)", "sgn(temp)",
    "clamp(temp, 0, 50)", "clamp_min(temp, 10)", "clamp_max(temp, 10)", "scalar(sum(temp))",
    "vector(1)", "time()", "timestamp(temp)",
    "label_replace(temp, \"x\", \"a-$1\", \"job\", \"j(.*)\")",
    "label_join(temp, \"x\", \"/\", \"job\", \"instance\")", "day_of_month()",
    "day_of_week(vector(time()))", "hour()", "minute(timestamp(temp))", "month()", "year()",
    "days_in_month()", "day_of_year()", "temp offset 10m", "rate(req_total[10m] offset 5m)",
    "temp @ 1700005000", "max_over_time(temp[30m:3m])", "rate(req_total[20m:2m])",
    "avg_over_time(rate(req_total[5m])[20m:])",
    "sum(rate(req_total[10m])) by (job) / on(job) group_left count by (job) (temp)",
    "1 + 2 * 3", "sum(temp) > bool 100", "temp + on() group_left scalar(max(temp))",
    "sum by (job) (temp) + on (job) sum by (job) (vulns)", "temp - temp offset 1m",
    "sum(temp)", "count by (instance) (temp > 0 and vulns > 20)",
};

void WriteData(const std::string& path, MemoryQueryable* q) {
  std::string om;
  uint64_t x = 7;
  auto rnd = [&x]() { x = x * 6364136223846793005ULL + 1442695040888963407ULL; return x >> 33; };
  auto frac = [&rnd]() { return static_cast<double>(rnd() % 1000000) / 1000000.0; };
  const char* names[] = {"req_total", "temp", "vulns"};
  char buf[128];
  for (int ni = 0; ni < 3; ++ni) {
    om += std::string("# TYPE ") + names[ni] + " gauge\n";
    for (int job = 0; job < 4; ++job) {
      for (int inst = 0; inst < 2; ++inst) {
        Series s;
        std::string j = "j" + std::to_string(job), i = "i" + std::to_string(inst);
        s.labels = {{"__name__", names[ni]}, {"instance", i}, {"job", j}};
        double v = 50 * frac();
        for (int h = 0; h < kSamples; ++h) {
          if (ni == 0) {
            v += 10 * frac();
            if (rnd() % 40 == 0) v = frac();
          } else if (rnd() % 3 == 0) {
            v = 100 * frac() - 20;
          }
          if (job == 3 && h > 150) break;  // a series that ends (no stale marker)
          int64_t t = kBase + h * 60'000 + static_cast<int64_t>(rnd() % 400);
          s.points.push_back({t, v});
          std::snprintf(buf, sizeof(buf), "%s{instance=\"%s\",job=\"%s\"} %.17g %lld.%03lld\n",
                        names[ni], i.c_str(), j.c_str(), v, static_cast<long long>(t / 1000),
                        static_cast<long long>(t % 1000));
          om += buf;
        }
        q->Add(std::move(s));
      }
    }
  }
  om += "# EOF\n";
  testing::WriteFile(path, om);
}

std::string UrlEncode(const std::string& s) {
  std::string out;
  char b[4];
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      std::snprintf(b, sizeof(b), "%%%02X", c);
      out += b;
    }
  }
  return out;
}

using SeriesMap = std::map<std::string, std::map<int64_t, double>>;

TEST(EngineVsPrometheusTest, RangeQueriesAgreeWithPrometheus242) {
  const std::string prometheus = testing::FindExecutable("prometheus");
  const std::string promtool = testing::FindExecutable("promtool");
  if (prometheus.empty() || promtool.empty()) GTEST_SKIP() << "prometheus/promtool not installed";
  testing::TempDir dir;
  MemoryQueryable mem;
  WriteData(dir.File("data.om"), &mem);
  std::string out;
  ASSERT_EQ(testing::RunCommand({promtool, "tsdb", "create-blocks-from", "openmetrics",
                                 dir.File("data.om"), dir.File("tsdb")}, &out), 0) << out;
  testing::WriteFile(dir.File("prometheus.yml"), "global:\n  scrape_interval: 1h\n");
  const int port = testing::PickFreePort();
  testing::Subprocess prom({prometheus, "--config.file=" + dir.File("prometheus.yml"),
                            "--storage.tsdb.path=" + dir.File("tsdb"),
                            "--storage.tsdb.retention.time=100y",
                            "--web.listen-address=127.0.0.1:" + std::to_string(port)},
                           dir.File("prometheus.log"));
  ASSERT_TRUE(testing::WaitForPort(port, std::chrono::seconds(30)));
  bool ready = false;
  for (int i = 0; i < 300 && !ready; ++i) {  // up to 30 s
    std::string body;
    ready = testing::HttpRequest(port, "GET", "/-/ready", {}, "", &body) == 200;
    if (!ready) usleep(100'000);
  }
  ASSERT_TRUE(ready) << testing::ReadFile(dir.File("prometheus.log"));

  EngineOptions o;  // lookback 5m, as Prometheus's default
  Engine engine(&mem, o);
  const int64_t start = kBase + 30 * 60'000 + 500, end = kBase + 190 * 60'000 + 500;
  const int64_t step = 7 * 60'000;
  int compared = 0;
  for (const char* q : kQueries) {
    SCOPED_TRACE(q);
    auto mine = engine.Range(q, start, end, step);
    char range[128];
    std::snprintf(range, sizeof(range), "&start=%.3f&end=%.3f&step=%.3f", start / 1000.0,
                  end / 1000.0, step / 1000.0);
    std::string body;
    int code = testing::HttpRequest(port, "GET", "/api/v1/query_range?query=" + UrlEncode(q) + range,
                                    {}, "", &body);
    if (code != 200) {
      EXPECT_FALSE(mine.ok()) << "Prometheus failed (" << code << "): " << body;
      continue;
    }
    ASSERT_TRUE(mine.ok()) << mine.status().ToString();
    SeriesMap theirs, ours;
    auto json = boost::json::parse(body);
    for (const auto& r : json.at("data").at("result").as_array()) {
      storage::Labels l;
      for (const auto& kv : r.at("metric").as_object()) {
        l.push_back({std::string(kv.key()), std::string(kv.value().as_string())});
      }
      std::sort(l.begin(), l.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
      auto& pts = theirs[storage::LabelsToString(l)];
      for (const auto& p : r.at("values").as_array()) {
        int64_t t = std::llround(p.as_array()[0].to_number<double>() * 1000);
        pts[t] = std::strtod(std::string(p.as_array()[1].as_string()).c_str(), nullptr);
      }
    }
    for (const auto& s : mine->value.series) {
      auto& pts = ours[storage::LabelsToString(s.labels)];
      for (const auto& p : s.points) pts[p.t] = p.v;
    }
    std::set<std::string> a, b;
    for (const auto& [k, v] : theirs) a.insert(k);
    for (const auto& [k, v] : ours) b.insert(k);
    ASSERT_EQ(a, b);
    for (const auto& [k, pts] : theirs) {
      const auto& mp = ours[k];
      ASSERT_EQ(pts.size(), mp.size()) << k;
      for (const auto& [t, v] : pts) {
        auto it = mp.find(t);
        ASSERT_NE(it, mp.end()) << k << " @" << t;
        double w = it->second;
        bool eq = (std::isnan(v) && std::isnan(w)) || v == w ||
                  std::fabs(v - w) <= 1e-9 * std::max(std::fabs(v), std::fabs(w));
        EXPECT_TRUE(eq) << k << " @" << t << ": Prometheus " << v << ", promql-lite " << w;
      }
    }
    ++compared;
  }
  EXPECT_GE(compared, 90);

  // The same expressions as instant queries (scalars, vectors, and range vectors for the
  // selectors), at times off every window edge.
  int instants = 0;
  for (const char* q : kQueries) {
    for (int64_t t : {start, start + 31 * 60'000, end}) {
      SCOPED_TRACE(std::string(q) + " @" + std::to_string(t));
      auto mine = engine.Instant(q, t);
      char at[64];
      std::snprintf(at, sizeof(at), "&time=%.3f", t / 1000.0);
      std::string body;
      int code = testing::HttpRequest(port, "GET", "/api/v1/query?query=" + UrlEncode(q) + at, {}, "", &body);
      if (code != 200) {
        EXPECT_FALSE(mine.ok()) << "Prometheus failed (" << code << "): " << body;
        continue;
      }
      ASSERT_TRUE(mine.ok()) << mine.status().ToString();
      auto json = boost::json::parse(body);
      const auto& data = json.at("data");
      ASSERT_EQ(std::string(data.at("resultType").as_string()), ValueTypeName(mine->value.type));
      std::map<std::string, double> theirs, ours;
      if (mine->value.type == ValueType::kScalar) {
        theirs[""] = std::strtod(std::string(data.at("result").as_array()[1].as_string()).c_str(), nullptr);
        ours[""] = mine->value.scalar;
      } else {
        for (const auto& r : data.at("result").as_array()) {
          storage::Labels l;
          for (const auto& kv : r.at("metric").as_object()) {
            l.push_back({std::string(kv.key()), std::string(kv.value().as_string())});
          }
          std::sort(l.begin(), l.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
          theirs[storage::LabelsToString(l)] =
              std::strtod(std::string(r.at("value").as_array()[1].as_string()).c_str(), nullptr);
        }
        for (const auto& s : mine->value.series) ours[storage::LabelsToString(s.labels)] = s.points[0].v;
      }
      ASSERT_EQ(theirs.size(), ours.size());
      for (const auto& [k, v] : theirs) {
        ASSERT_TRUE(ours.count(k)) << k;
        double w = ours[k];
        bool eq = (std::isnan(v) && std::isnan(w)) || v == w ||
                  std::fabs(v - w) <= 1e-9 * std::max(std::fabs(v), std::fabs(w));
        EXPECT_TRUE(eq) << k << ": Prometheus " << v << ", promql-lite " << w;
      }
      ++instants;
    }
  }
  EXPECT_GE(instants, 270);
}

}  // namespace
}  // namespace sb::promql
