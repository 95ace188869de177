// Metrics derived from the parsed reports, one set per scanned target image:
//
//   scout_image_base_info{image, digest, base_image, base_tag}                    1
//   scout_image_base_vulnerabilities{image, digest, severity}                     count
//   scout_image_recommended_update_info{image, digest, recommended_tag, kind}     1
//   scout_image_recommended_update_fixes{image, digest, recommended_tag, severity}
//        vulnerabilities of that severity the update removes (base minus recommended,
//        0 when it removes none; critical, high, medium, low)
//   scout_image_base_up_to_date{image, digest}   1 when the refresh section says "This
//                                                image version is up to date.", else 0
//
// image/digest are the report's Target name and short digest (either may be empty, and
// is then left out, as Prometheus drops empty labels). severity is critical, high, medium,
// low or unknown. Vulnerability counts are left out when the report printed none. When two
// reports describe the same (image, digest), the first (by source, then file name) wins;
// a recommended tag listed twice in one report counts once.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "common/exposition/model.h"
#include "recommendations/report.h"
#include "storage/store.h"

namespace sb::recommendations {

// The job label of the stored series, and the store target key.
inline constexpr const char* kMetricsJob = "scout-recommendations";
inline constexpr const char* kMetricsTargetKey = "recommendations";

expo::Exposition BuildMetrics(const std::vector<const Report*>& reports);

// Health of the scans, appended after the report metrics on the same path:
//   scout_bridge_recommendations_source_up{source}       1 when the last listing worked
//   scout_bridge_recommendations_files{source, outcome}  files held per outcome:
//        report (parsed), skipped (not a report), error (malformed report)
//   scout_bridge_recommendations_last_scan_timestamp_seconds
// `source` is the source as configured (a path or s3://bucket/prefix; never credentials).
struct SourceHealth {
  std::string source;
  bool scanned = false;  // false before the first scan of this process: no source_up
  bool up = false;
  size_t reports = 0, skipped = 0, errors = 0;
};
expo::Exposition BuildScanHealth(const std::vector<SourceHealth>& sources, int64_t last_scan_ms);

// The same samples as storage series: __name__ plus labels plus job="scout-recommendations".
std::vector<storage::SeriesSample> ToSeriesSamples(const expo::Exposition& exposition);

}  // namespace sb::recommendations
