// The bridge's own metrics, served at /metrics in Prometheus naming (scout_bridge_*), plus
// the standard process_* metrics. Counters of the HTTP front end are lock-free atomics
// bumped on the hot path; everything else is read from target status copies at render time.
//
// Thread-safety: CountHttp() and Render() may be called from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "bridge/target.h"
#include "common/strings.h"

namespace sb::bridge {

// The `handler` label of scout_bridge_http_requests_total.
enum class HandlerId { kScrape, kMetrics, kHealthy, kReady, kReload, kTargets, kIndex, kNotFound, kCount };
const char* HandlerName(HandlerId h);

class SelfMetrics {
 public:
  SelfMetrics();
  // Counts one answered request.
  void CountHttp(HandlerId handler, unsigned status_code);

  struct ServerStats {
    uint64_t open_connections = 0;
    uint64_t accepted_connections = 0;
    uint64_t rejected_connections = 0;
  };
  // Renders text format 0.0.4. `now_ms` is used for data age.
  std::string Render(const std::vector<TargetStatus>& targets, const ServerStats& server,
                     int64_t now_ms, uint64_t config_reloads_ok, uint64_t config_reloads_failed,
                     bool last_reload_ok, int64_t last_reload_ms) const;

 private:
  // Status codes tracked individually; anything else is counted under its class ("5xx").
  static constexpr std::array<unsigned, 9> kCodes = {200, 304, 400, 404, 405, 406, 413, 500, 503};
  static int CodeIndex(unsigned code);
  std::array<std::array<std::atomic<uint64_t>, kCodes.size() + 1>, static_cast<int>(HandlerId::kCount)> http_;
  std::array<std::atomic<uint64_t>, static_cast<int>(HandlerId::kCount)> http_other_codes_[5];
  const int64_t start_time_ms_;
};

// Escapes a label value for the text format (shared with remote_write's /metrics).
using sb::EscapeLabelValue;
// Formats a float sample value as Prometheus does.
std::string FormatValue(double v);

}  // namespace sb::bridge
