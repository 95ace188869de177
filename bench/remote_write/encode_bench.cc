// Pure encode + compress throughput of remote-write payloads on one core: Scout-like series
// (name + 6 labels), max_samples_per_send = 2000 samples per request, one sample per series
// (one fetch). Counters: samples/s (items), compressed bytes per sample.
// BM_EncodeCompress: from label vectors through libprotobuf (tests, tools);
// BM_EncodeCompressStoreKeys: what the endpoint does per batch without write_relabel_configs
// (the store's keys plus an external label, serialized while writing);
// BM_EncodeCompressPrepared: what it does with rules (labels relabelled and serialized once).
#include <benchmark/benchmark.h>

#include "remote_write/encode.h"

namespace sb::remote_write {
namespace {

std::vector<OutSeries> MakeSeries(int n) {
  std::vector<OutSeries> out;
  const char* sev[] = {"critical", "high", "medium", "low", "unspecified"};
  for (int i = 0; i < n; ++i) {
    OutSeries s;
    s.labels = {{"__name__", "scout_stream_vulnerabilities"},
                {"instance", "api.scout.docker.com:443"},
                {"job", "scout-acme"},
                {"name", "stream-" + std::to_string(i / 5)},
                {"project", "docker/acme-app-" + std::to_string(i % 97)},
                {"severity", sev[i % 5]}};
    s.samples = {{1'700'000'000'000 + i, static_cast<double>(i % 1000)}};
    out.push_back(std::move(s));
  }
  return out;
}

void BM_EncodeCompress(benchmark::State& state, Protocol protocol) {
  auto series = MakeSeries(2000);
  std::vector<const OutSeries*> ptrs;
  for (const auto& s : series) ptrs.push_back(&s);
  Encoder enc;
  std::map<std::string, OutMetadata, std::less<>> md = {
      {"scout_stream_vulnerabilities", {"scout_stream_vulnerabilities", expo::MetricType::kGauge, "Vulnerabilities.", ""}}};
  size_t bytes = 0;
  for (auto _ : state) {
    std::string raw = protocol == Protocol::kV1 ? enc.EncodeV1(ptrs, {}) : enc.EncodeV2(ptrs, md);
    std::string z = Compress(raw);
    bytes = z.size();
    benchmark::DoNotOptimize(z);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(series.size()));
  state.counters["compressed_bytes_per_sample"] = static_cast<double>(bytes) / series.size();
}

// The bridge's hot path: series prepared once (labels already serialized), the request
// written by hand into a reused buffer, compressed into another.
void BM_EncodeCompressPrepared(benchmark::State& state, Protocol protocol) {
  auto series = MakeSeries(2000);
  std::vector<std::shared_ptr<const PreparedSeries>> prepared;
  std::vector<BatchSeries> batch;
  for (const auto& s : series) prepared.push_back(PrepareSeries(s.labels));
  for (size_t i = 0; i < series.size(); ++i) {
    batch.push_back({{{}, prepared[i].get()}, series[i].samples.data(), series[i].samples.size()});
  }
  Encoder enc;
  std::map<std::string, OutMetadata, std::less<>> md = {
      {"scout_stream_vulnerabilities", {"scout_stream_vulnerabilities", expo::MetricType::kGauge, "Vulnerabilities.", ""}}};
  std::string raw, z;
  for (auto _ : state) {
    if (protocol == Protocol::kV1) Encoder::EncodeBatchV1(batch, {}, &raw);
    else enc.EncodeBatchV2(batch, {}, md, &raw);
    Compress(raw, &z);
    benchmark::DoNotOptimize(z);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(series.size()));
  state.counters["compressed_bytes_per_sample"] = static_cast<double>(z.size()) / series.size();
}

// The endpoint's path without write_relabel_configs: the store's keys, with one external
// label merged in while the request is written; nothing prepared per series.
void BM_EncodeCompressStoreKeys(benchmark::State& state, Protocol protocol) {
  auto series = MakeSeries(2000);
  std::vector<std::string> keys;
  std::vector<BatchSeries> batch;
  for (const auto& s : series) keys.push_back(storage::EncodeLabels(s.labels));
  for (size_t i = 0; i < series.size(); ++i) {
    batch.push_back({{keys[i], nullptr}, series[i].samples.data(), series[i].samples.size()});
  }
  const storage::Labels external = {{"cluster", "eu-1"}};
  Encoder enc;
  std::map<std::string, OutMetadata, std::less<>> md = {
      {"scout_stream_vulnerabilities", {"scout_stream_vulnerabilities", expo::MetricType::kGauge, "Vulnerabilities.", ""}}};
  std::string raw, z;
  for (auto _ : state) {
    if (protocol == Protocol::kV1) Encoder::EncodeBatchV1(batch, external, &raw);
    else enc.EncodeBatchV2(batch, external, md, &raw);
    Compress(raw, &z);
    benchmark::DoNotOptimize(z);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(series.size()));
  state.counters["compressed_bytes_per_sample"] = static_cast<double>(z.size()) / series.size();
}

BENCHMARK_CAPTURE(BM_EncodeCompress, V1, Protocol::kV1);
BENCHMARK_CAPTURE(BM_EncodeCompressStoreKeys, V1, Protocol::kV1);
BENCHMARK_CAPTURE(BM_EncodeCompressStoreKeys, V2, Protocol::kV2);
BENCHMARK_CAPTURE(BM_EncodeCompressPrepared, V1, Protocol::kV1);
BENCHMARK_CAPTURE(BM_EncodeCompressPrepared, V2, Protocol::kV2);
BENCHMARK_CAPTURE(BM_EncodeCompress, V2, Protocol::kV2);

}  // namespace
}  // namespace sb::remote_write
