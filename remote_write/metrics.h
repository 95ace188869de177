// Self-metrics of the remote-write feeder, named like Prometheus's own
// (prometheus_remote_storage_*), each labelled with remote_name and url. Rendered in the
// text format 0.0.4 and appended to the bridge's /metrics.
//
// Thread-safety: counters are atomics; Render may run concurrently with updates.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace sb::remote_write {

// Upper bounds (seconds) of the sent_batch_duration_seconds histogram, as Prometheus's.
inline constexpr std::array<double, 10> kBatchDurationBuckets = {0.005, 0.01, 0.025, 0.05, 0.1,
                                                                 0.25, 0.5, 1, 2.5, 5};

struct EndpointMetrics {
  std::atomic<uint64_t> samples{0};           // delivered (2xx)
  std::atomic<uint64_t> failed_samples{0};    // refused with a non-retried 4xx
  std::atomic<uint64_t> retried_samples{0};   // re-sent after a retried attempt
  std::atomic<uint64_t> dropped_samples{0};   // dropped by write_relabel_configs or as out of order
  std::atomic<uint64_t> skipped_resends{0};   // re-sends older than max_backfill, not sent
  std::atomic<uint64_t> metadata{0};          // metadata entries delivered
  std::atomic<uint64_t> attempts{0};          // HTTP requests made
  std::atomic<uint64_t> fallbacks{0};         // 415 answers to 2.0 (fell back to 1.0)
  std::atomic<int64_t> pending_samples{0};
  std::atomic<int64_t> highest_sent_ms{0};
  std::array<std::atomic<uint64_t>, kBatchDurationBuckets.size()> duration_buckets{};
  std::atomic<uint64_t> duration_count{0};
  std::atomic<uint64_t> duration_sum_us{0};

  void ObserveBatchDuration(double seconds);
  void NoteSent(int64_t max_timestamp_ms);
};

struct EndpointView {
  std::string remote_name;
  std::string url;  // userinfo removed
  const EndpointMetrics* metrics;
};

// Renders all endpoints' metrics (HELP/TYPE once per family).
std::string RenderMetrics(const std::vector<EndpointView>& endpoints);

// `url` without its userinfo ("https://u:p@h/x" -> "https://h/x").
std::string RedactUrl(const std::string& url);

}  // namespace sb::remote_write
