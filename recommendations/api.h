// The /api/v1/recommendations answer, built from a ScanView (no HTTP here: the bridge
// registers a thin handler around it).
//
//   GET /api/v1/recommendations[?image=X][&base=Y]
//   {"status": "success", "data": {"scan_time_ms": N, "targets": [
//      {"source", "file", "layout", "image", "digest", "base": {...},
//       "base_up_to_date", "no_tag_recommendations", "recommendations": [...]}]}}
// base and recommendations have the fields of the report JSON (recommendations/report_json.h).
// image=X keeps targets whose image is X, or whose image without its ":tag" is X.
// base=Y keeps targets whose base is Y as "name:tag", or as "name". Both may be given.
// A bad query string or an unknown parameter is an error (status 400):
//   {"status": "error", "errorType": "bad_data", "error": "..."}
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "recommendations/scanner.h"

namespace sb::recommendations {

struct ApiAnswer {
  int http_status = 200;
  std::string body;  // JSON
};

// `view` may be null (no scan yet): an empty target list.
ApiAnswer RecommendationsApi(const ScanView* view, std::string_view query);

}  // namespace sb::recommendations
