// Append and iterate throughput of XOR chunks on Scout-like data (2160 hourly samples, 3%
// of values change) and on busy data (every value changes, random-walk doubles).
// Counters: items = samples; bytes_per_sample = encoded chunk size / samples (header and
// CRC included).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "storage/chunk/xor_chunk.h"
#include "tests/storage/xor_chunk_data.h"

namespace sb::storage {
namespace {

constexpr int kSamples = 2160;  // 90 days of hourly fetches.

std::vector<Sample> Data(int kind) {
  return kind == 0 ? testdata::ScoutLike(42, kSamples) : testdata::Busy(42, kSamples);
}

std::string EncodeOrDie(const std::vector<Sample>& samples) {
  XorChunkAppender app;
  for (const Sample& s : samples) {
    if (!app.Append(s.timestamp_ms, s.value).ok()) std::abort();
  }
  return app.Bytes();
}

void SetCounters(benchmark::State& state, int kind, size_t blob_bytes) {
  state.SetLabel(kind == 0 ? "scout_like" : "busy");
  state.SetItemsProcessed(state.iterations() * kSamples);
  state.counters["bytes_per_sample"] =
      static_cast<double>(blob_bytes) / static_cast<double>(kSamples);
}

void BM_XorChunk_Append(benchmark::State& state) {
  const int kind = static_cast<int>(state.range(0));
  const std::vector<Sample> samples = Data(kind);
  size_t size = 0;
  for (auto _ : state) {
    XorChunkAppender app;
    for (const Sample& s : samples) {
      Status st = app.Append(s.timestamp_ms, s.value);
      benchmark::DoNotOptimize(st);
    }
    std::string blob = app.Bytes();
    size = blob.size();
    benchmark::DoNotOptimize(blob);
  }
  SetCounters(state, kind, size);
  state.SetBytesProcessed(state.iterations() * kSamples * 16);  // Raw (int64, double) pairs.
}
BENCHMARK(BM_XorChunk_Append)->Arg(0)->Arg(1);

void BM_XorChunk_Iterate(benchmark::State& state) {
  const int kind = static_cast<int>(state.range(0));
  const std::string blob = EncodeOrDie(Data(kind));
  for (auto _ : state) {
    Result<XorChunkIterator> it = XorChunkIterator::Open(blob);
    if (!it.ok()) std::abort();
    double sum = 0;
    while (it->Next()) sum += it->v();
    if (!it->status().ok()) std::abort();
    benchmark::DoNotOptimize(sum);
  }
  SetCounters(state, kind, blob.size());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(blob.size()));
}
BENCHMARK(BM_XorChunk_Iterate)->Arg(0)->Arg(1);

}  // namespace
}  // namespace sb::storage
