// Deterministic sample generators shared by tests/storage/xor_chunk_test.cc and
// bench/storage/xor_chunk_bench.cc. They use their own SplitMix64 arithmetic rather than
// <random> distributions so that the sequences (and so the measured sizes) are the same
// on every standard library.
#pragma once

#include <cstdint>
#include <vector>

#include "storage/chunk/xor_chunk.h"

namespace sb::storage::testdata {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1).
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // Uniform in [0, n). REQUIRES: n > 0.
  uint64_t Below(uint64_t n) { return Next() % n; }

 private:
  uint64_t state_;
};

inline constexpr int64_t kStartMs = 1'700'000'000'000;
inline constexpr int64_t kHourMs = 3'600'000;

// Scout-like series: one sample per hourly fetch, small integer gauge (e.g. a vulnerability
// count) that changes by a small step with probability `change_prob` per fetch.
// `jitter_ms` > 0 adds a uniform [0, jitter_ms) offset to each timestamp (fetch latency).
inline std::vector<Sample> ScoutLike(uint64_t seed, int n, double change_prob = 0.03,
                                     int64_t jitter_ms = 0) {
  SplitMix64 rng(seed);
  std::vector<Sample> out;
  out.reserve(n);
  double v = static_cast<double>(rng.Below(200));
  for (int i = 0; i < n; ++i) {
    if (i > 0 && rng.Uniform() < change_prob) {
      const double step = static_cast<double>(1 + rng.Below(5));
      v = (rng.Below(2) == 0 || v < step) ? v + step : v - step;
    }
    const int64_t jitter = jitter_ms > 0 ? static_cast<int64_t>(rng.Below(jitter_ms)) : 0;
    out.push_back(Sample{kStartMs + i * kHourMs + jitter, v});
  }
  return out;
}

// Busy series: every sample changes (random-walk doubles), regular hourly timestamps.
inline std::vector<Sample> Busy(uint64_t seed, int n) {
  SplitMix64 rng(seed);
  std::vector<Sample> out;
  out.reserve(n);
  double v = 1000.0;
  for (int i = 0; i < n; ++i) {
    v += rng.Uniform() - 0.5;
    out.push_back(Sample{kStartMs + i * kHourMs, v});
  }
  return out;
}

}  // namespace sb::storage::testdata
