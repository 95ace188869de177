// Exposition parser and renderer throughput on Scout-shaped bodies from the shared
// deterministic generator (tools/scout_sim/scout_data.h). Reports MB/s (bytes processed)
// and ns_per_sample. The OpenMetrics bodies are the same data re-rendered as OpenMetrics.
// The parse benchmarks also report allocs_per_sample and alloc_bytes_per_sample: calls to,
// and bytes asked of, the global operator new, which this binary replaces to count them.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>

#include "common/exposition/parser.h"
#include "common/exposition/render.h"
#include "tools/scout_sim/scout_data.h"

// Counts the allocations of the benchmark thread (thread_local: no atomic on the hot path).
thread_local uint64_t t_allocs = 0, t_alloc_bytes = 0;

// Replacements of the global operator new/delete. noinline keeps GCC from pairing an
// inlined malloc with a free it cannot see through (-Wmismatched-new-delete).
__attribute__((noinline)) void* operator new(size_t n) {
  ++t_allocs;
  t_alloc_bytes += n;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
__attribute__((noinline)) void operator delete(void* p) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace sb::expo {
namespace {

std::string TextBody(int approx_series) {
  return sim::RenderOrgMetrics(sim::SpecForSeriesCount("acme", approx_series), 0);
}

Exposition MustParse(const std::string& body, Format format) {
  auto r = ParseExposition(body, format);
  if (!r.ok()) {
    fprintf(stderr, "parse failed: %s\n", r.status().ToString().c_str());
    std::abort();
  }
  return std::move(r).value();
}

void SetCounters(benchmark::State& state, size_t bytes, size_t samples) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * samples));
  // (samples * 1e-9) per iteration, as an inverted rate = nanoseconds per sample.
  state.counters["ns_per_sample"] = benchmark::Counter(
      static_cast<double>(samples) * 1e-9,
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["body_bytes"] = static_cast<double>(bytes);
}

void ParseBench(benchmark::State& state, int approx_series, Format format) {
  std::string body = TextBody(approx_series);
  if (format == Format::kOpenMetrics) {
    body = RenderOpenMetrics(MustParse(body, Format::kText004));
  }
  size_t samples = 0;
  const uint64_t allocs0 = t_allocs, bytes0 = t_alloc_bytes;
  for (auto _ : state) {
    auto r = ParseExposition(body, format);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      return;
    }
    samples = r->SampleCount();
    benchmark::DoNotOptimize(r);
  }
  SetCounters(state, body.size(), samples);
  const double parsed = static_cast<double>(state.iterations()) * static_cast<double>(samples);
  if (parsed > 0) {
    state.counters["allocs_per_sample"] = static_cast<double>(t_allocs - allocs0) / parsed;
    state.counters["alloc_bytes_per_sample"] =
        static_cast<double>(t_alloc_bytes - bytes0) / parsed;
  }
}

void BM_ParseText_250Series(benchmark::State& state) { ParseBench(state, 250, Format::kText004); }
void BM_ParseText_100kSeries(benchmark::State& state) {
  ParseBench(state, 100000, Format::kText004);
}
void BM_ParseOpenMetrics_250Series(benchmark::State& state) {
  ParseBench(state, 250, Format::kOpenMetrics);
}
void BM_ParseOpenMetrics_100kSeries(benchmark::State& state) {
  ParseBench(state, 100000, Format::kOpenMetrics);
}

void RenderBench(benchmark::State& state, Format format) {
  const Exposition exp = MustParse(TextBody(100000), Format::kText004);
  size_t bytes = 0;
  for (auto _ : state) {
    std::string out = format == Format::kText004 ? RenderText004(exp) : RenderOpenMetrics(exp);
    bytes = out.size();
    benchmark::DoNotOptimize(out);
  }
  SetCounters(state, bytes, exp.SampleCount());
}

void BM_RenderText_100k(benchmark::State& state) { RenderBench(state, Format::kText004); }
void BM_RenderOpenMetrics_100k(benchmark::State& state) {
  RenderBench(state, Format::kOpenMetrics);
}

BENCHMARK(BM_ParseText_250Series);
BENCHMARK(BM_ParseText_100kSeries)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ParseOpenMetrics_250Series);
BENCHMARK(BM_ParseOpenMetrics_100kSeries)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RenderText_100k)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RenderOpenMetrics_100k)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace sb::expo
