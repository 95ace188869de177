#include "remote_write/metrics.h"

#include <cmath>
#include <cstdio>
#include <functional>

#include "common/strings.h"

namespace sb::remote_write {
namespace {

std::string Num(double v) {
  if (std::isnan(v)) return "NaN";
  char buf[64];
  snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

void EndpointMetrics::ObserveBatchDuration(double seconds) {
  for (size_t i = 0; i < kBatchDurationBuckets.size(); ++i) {
    if (seconds <= kBatchDurationBuckets[i]) duration_buckets[i]++;
  }
  duration_count++;
  duration_sum_us += static_cast<uint64_t>(seconds * 1e6);
}

void EndpointMetrics::NoteSent(int64_t t) {
  int64_t cur = highest_sent_ms.load();
  while (t > cur && !highest_sent_ms.compare_exchange_weak(cur, t)) {
  }
}

std::string RedactUrl(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  size_t start = scheme + 3;
  size_t end = url.find_first_of("/?#", start);
  size_t at = url.rfind('@', end == std::string::npos ? url.size() : end);
  if (at == std::string::npos || at < start) return url;
  return url.substr(0, start) + url.substr(at + 1);
}

std::string RenderMetrics(const std::vector<EndpointView>& eps) {
  if (eps.empty()) return "";
  std::string out;
  auto family = [&](const char* name, const char* type, const char* help,
                    const std::function<std::string(const EndpointMetrics&)>& value) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
    for (const auto& e : eps) {
      out += std::string(name) + "{remote_name=\"" + EscapeLabelValue(e.remote_name) + "\",url=\"" + EscapeLabelValue(e.url) + "\"} " +
             value(*e.metrics) + "\n";
    }
  };
  auto u = [](uint64_t v) { return std::to_string(v); };
  family("scout_bridge_remote_storage_samples_total", "counter", "Samples delivered to the remote storage (2xx).",
         [&](const EndpointMetrics& m) { return u(m.samples); });
  family("scout_bridge_remote_storage_failed_samples_total", "counter",
         "Samples the remote storage refused with a non-retryable error (4xx other than 429); not re-sent.",
         [&](const EndpointMetrics& m) { return u(m.failed_samples); });
  family("scout_bridge_remote_storage_retried_samples_total", "counter",
         "Samples sent again after a retryable failure (5xx, 429, network).",
         [&](const EndpointMetrics& m) { return u(m.retried_samples); });
  family("scout_bridge_remote_storage_dropped_samples_total", "counter",
         "Samples dropped before sending: by write_relabel_configs, or not after the series' last sent timestamp.",
         [&](const EndpointMetrics& m) { return u(m.dropped_samples); });
  family("scout_bridge_remote_storage_skipped_resend_samples_total", "counter",
         "Re-sends of current values not replayed because they would be older than max_backfill.",
         [&](const EndpointMetrics& m) { return u(m.skipped_resends); });
  family("scout_bridge_remote_storage_metadata_total", "counter", "Metadata entries delivered.",
         [&](const EndpointMetrics& m) { return u(m.metadata); });
  family("scout_bridge_remote_storage_sent_requests_total", "counter", "HTTP requests made, retries included.",
         [&](const EndpointMetrics& m) { return u(m.attempts); });
  family("scout_bridge_remote_storage_protocol_fallbacks_total", "counter",
         "Times the receiver answered 415 to remote write 2.0 and the endpoint fell back to 1.0.",
         [&](const EndpointMetrics& m) { return u(m.fallbacks); });
  family("scout_bridge_remote_storage_pending_samples", "gauge",
         "Samples stored or queued but not yet delivered (cursor behind the store).",
         [&](const EndpointMetrics& m) { return std::to_string(m.pending_samples.load()); });
  family("scout_bridge_remote_storage_highest_sent_timestamp_seconds", "gauge",
         "Highest sample timestamp delivered, in seconds since the epoch.",
         [&](const EndpointMetrics& m) { return Num(m.highest_sent_ms.load() / 1000.0); });
  const char* h = "scout_bridge_remote_storage_sent_batch_duration_seconds";
  out += std::string("# HELP ") + h + " Duration of one HTTP request to the remote storage.\n# TYPE " + h + " histogram\n";
  for (const auto& e : eps) {
    std::string lbl = "remote_name=\"" + EscapeLabelValue(e.remote_name) + "\",url=\"" + EscapeLabelValue(e.url) + "\"";
    for (size_t i = 0; i < kBatchDurationBuckets.size(); ++i) {
      out += std::string(h) + "_bucket{" + lbl + ",le=\"" + Num(kBatchDurationBuckets[i]) + "\"} " +
             u(e.metrics->duration_buckets[i]) + "\n";
    }
    out += std::string(h) + "_bucket{" + lbl + ",le=\"+Inf\"} " + u(e.metrics->duration_count) + "\n";
    out += std::string(h) + "_sum{" + lbl + "} " + Num(e.metrics->duration_sum_us.load() / 1e6) + "\n";
    out += std::string(h) + "_count{" + lbl + "} " + u(e.metrics->duration_count) + "\n";
  }
  return out;
}

}  // namespace sb::remote_write
