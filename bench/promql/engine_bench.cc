// Parse and evaluate throughput of promql-lite.
//
// Data: a deterministic Scout-like history, 30 days at 1h (721 samples per series):
// 3 orgs (job) x 4 streams x 5 severities of scout_stream_vulnerabilities, and
// 3 orgs x 4 streams x 10 policies x 2 of scout_policy_{compliant,evaluated}_images:
// 300 series, 216,300 samples. Queries: the overview dashboard's six range queries for one
// org over 30 days at a 1h step, and the policies dashboard's ratio query.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "promql-lite/engine.h"
#include "promql-lite/parser.h"
#include "storage/store.h"

namespace sb::promql {
namespace {

constexpr int64_t kHourMs = 3600'000;
constexpr int64_t kStartMs = 1'700'000'000'000 - (1'700'000'000'000 % kHourMs) + 17'000;  // off the hour
constexpr int kHours = 30 * 24;

std::vector<Series> MakeDataset() {
  std::vector<Series> out;
  const char* severities[] = {"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNSPECIFIED"};
  uint64_t x = 42;
  auto rnd = [&x]() { x = x * 6364136223846793005ULL + 1442695040888963407ULL; return x >> 33; };
  for (int org = 0; org < 3; ++org) {
    for (int stream = 0; stream < 4; ++stream) {
      std::string job = "org" + std::to_string(org), sn = "stream" + std::to_string(stream);
      for (const char* sev : severities) {
        Series s;
        s.labels = {{"__name__", "scout_stream_vulnerabilities"}, {"job", job}, {"severity", sev}, {"streamName", sn}};
        double v = static_cast<double>(rnd() % 100);
        for (int h = 0; h <= kHours; ++h) {
          if (rnd() % 10 == 0) v = static_cast<double>(rnd() % 100);
          s.points.push_back({kStartMs + h * kHourMs, v});
        }
        out.push_back(std::move(s));
      }
      for (int pol = 0; pol < 10; ++pol) {
        Series c, e;
        std::string id = "policy" + std::to_string(pol);
        c.labels = {{"__name__", "scout_policy_compliant_images"}, {"id", id}, {"job", job}, {"streamName", sn}};
        e.labels = {{"__name__", "scout_policy_evaluated_images"}, {"id", id}, {"job", job}, {"streamName", sn}};
        for (int h = 0; h <= kHours; ++h) {
          double total = 20 + static_cast<double>(rnd() % 5);
          c.points.push_back({kStartMs + h * kHourMs, total - static_cast<double>(rnd() % 5)});
          e.points.push_back({kStartMs + h * kHourMs, total});
        }
        out.push_back(std::move(c));
        out.push_back(std::move(e));
      }
    }
  }
  return out;
}

const std::vector<std::string>& OverviewQueries() {
  static const std::vector<std::string> q = {
      R"(sum by(severity) (scout_stream_vulnerabilities{job="org1", streamName="stream2", severity="CRITICAL"}))",
      R"(sum by(severity) (scout_stream_vulnerabilities{job="org1", streamName="stream2", severity="HIGH"}))",
      R"(sum by(severity) (scout_stream_vulnerabilities{job="org1", streamName="stream2", severity="MEDIUM"}))",
      R"(sum by(severity) (scout_stream_vulnerabilities{job="org1", streamName="stream2", severity="LOW"}))",
      R"(sum by(severity) (scout_stream_vulnerabilities{job="org1", streamName="stream2", severity="UNSPECIFIED"}))",
      R"(sum(scout_stream_vulnerabilities{job="org1", streamName="stream2"}))",
  };
  return q;
}

const char* kPolicyQuery =
    R"(scout_policy_compliant_images{job="org1", streamName="stream2"} / scout_policy_evaluated_images{job="org1", streamName="stream2"} * 100)";

void BM_Parse(benchmark::State& state) {
  std::vector<std::string> qs = OverviewQueries();
  qs.push_back(kPolicyQuery);
  qs.push_back(R"(sum by (job) (rate(http_requests_total{job=~"api.*", code!="500"}[5m] offset 1h)) / on (job) group_left sum by (job) (up) > bool 0.5)");
  int64_t bytes = 0;
  for (auto _ : state) {
    for (const auto& q : qs) {
      auto r = Parse(q);
      if (!r.ok()) state.SkipWithError(r.status().ToString().c_str());
      benchmark::DoNotOptimize(r);
      bytes += static_cast<int64_t>(q.size());
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(qs.size()));
  state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_Parse);

MemoryQueryable* Memory() {
  static MemoryQueryable* q = [] {
    auto* m = new MemoryQueryable();
    for (auto& s : MakeDataset()) m->Add(std::move(s));
    return m;
  }();
  return q;
}

storage::Store* DiskStore() {
  static storage::Store* store = [] {
    std::string dir = std::filesystem::temp_directory_path() / ("sb_promql_bench_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    storage::StoreOptions o;
    o.path = dir + "/bench.db";
    o.synchronous = "OFF";
    auto s = storage::Store::Open(o);
    if (!s.ok()) std::abort();
    std::vector<storage::SeriesSamples> batch;
    for (auto& ser : MakeDataset()) {
      storage::SeriesSamples ss;
      ss.labels = ser.labels;
      for (auto& p : ser.points) ss.samples.push_back({p.t, p.v});
      batch.push_back(std::move(ss));
    }
    if (!(*s)->AppendSamples(batch).ok()) std::abort();
    return s->release();
  }();
  return store;
}

void RunRange(benchmark::State& state, Queryable* q, const std::vector<std::string>& qs) {
  EngineOptions o;
  o.lookback_delta = std::chrono::minutes(65);
  Engine engine(q, o);
  const int64_t end = kStartMs + kHours * kHourMs;
  const int64_t start = kStartMs + 1000;  // steps off the sample times
  int64_t points = 0;
  for (auto _ : state) {
    for (const auto& expr : qs) {
      auto r = engine.Range(expr, start, end, kHourMs);
      if (!r.ok()) { state.SkipWithError(r.status().ToString().c_str()); return; }
      for (const auto& s : r->value.series) points += static_cast<int64_t>(s.points.size());
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(qs.size()));
  state.counters["points_per_iter"] = benchmark::Counter(static_cast<double>(points) / static_cast<double>(state.iterations()));
}

void BM_RangeOverview30d1h_Memory(benchmark::State& state) { RunRange(state, Memory(), OverviewQueries()); }
BENCHMARK(BM_RangeOverview30d1h_Memory)->Unit(benchmark::kMillisecond);

void BM_RangeOverview30d1h_Store(benchmark::State& state) {
  StoreQueryable sq(DiskStore());
  RunRange(state, &sq, OverviewQueries());
}
BENCHMARK(BM_RangeOverview30d1h_Store)->Unit(benchmark::kMillisecond);

void BM_RangePolicyRatio30d1h_Store(benchmark::State& state) {
  StoreQueryable sq(DiskStore());
  RunRange(state, &sq, {kPolicyQuery});
}
BENCHMARK(BM_RangePolicyRatio30d1h_Store)->Unit(benchmark::kMillisecond);

void BM_RangeAllSeriesRate30d1h_Store(benchmark::State& state) {
  StoreQueryable sq(DiskStore());
  RunRange(state, &sq, {"sum by (job, severity) (rate(scout_stream_vulnerabilities[3h]))"});
}
BENCHMARK(BM_RangeAllSeriesRate30d1h_Store)->Unit(benchmark::kMillisecond);

void BM_InstantOverview_Store(benchmark::State& state) {
  EngineOptions o;
  o.lookback_delta = std::chrono::minutes(65);
  StoreQueryable sq(DiskStore());
  Engine engine(&sq, o);
  const int64_t t = kStartMs + kHours * kHourMs - 1000;
  for (auto _ : state) {
    for (const auto& expr : OverviewQueries()) {
      auto r = engine.Instant(expr, t);
      if (!r.ok()) { state.SkipWithError(r.status().ToString().c_str()); return; }
      benchmark::DoNotOptimize(r);
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(OverviewQueries().size()));
}
BENCHMARK(BM_InstantOverview_Store)->Unit(benchmark::kMicrosecond);

// Scale: 10,000 series x 721 hourly samples in memory (7.2 million samples), one range
// query over all of them at a 1h step. Shows the per-sample cost of the step-by-step
// evaluator at a size well past the Scout use case.
MemoryQueryable* Large() {
  static MemoryQueryable* q = [] {
    auto* m = new MemoryQueryable();
    for (int s = 0; s < 10000; ++s) {
      Series x;
      x.labels = {{"__name__", "x"}, {"instance", "i" + std::to_string(s)}, {"job", "j" + std::to_string(s % 10)}};
      for (int h = 0; h <= kHours; ++h) x.points.push_back({kStartMs + h * kHourMs, static_cast<double>(h * (s % 7 + 1))});
      m->Add(std::move(x));
    }
    return m;
  }();
  return q;
}

void BM_RangeScale10kSeries(benchmark::State& state, const char* expr) {
  RunRange(state, Large(), {expr});
  state.counters["samples_per_iter"] = 10000.0 * (kHours + 1);
}
BENCHMARK_CAPTURE(BM_RangeScale10kSeries, sum, "sum by (job) (x)")->Unit(benchmark::kMillisecond)->Iterations(2);
BENCHMARK_CAPTURE(BM_RangeScale10kSeries, times2, "x * 2")->Unit(benchmark::kMillisecond)->Iterations(2);

}  // namespace
}  // namespace sb::promql
