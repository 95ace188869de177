// A Scout-like history for the differential test and the dashboard benchmark: several orgs,
// hourly fetches over many days, rendered as the OpenMetrics text that both
// `promtool tsdb create-blocks-from openmetrics` and `scout-bridge tsdb import` take.
//
// Each org's values come from the Scout simulator's generator (tools/scout_sim/scout_data.h:
// scout_stream_vulnerabilities, scout_policy_compliant_images, scout_policy_evaluated_images),
// with the labels Prometheus attaches when scraping the sample project's job block:
// job="<org>", instance="api.scout.docker.com". Fetch i of an org is at
// start_s + i*3600 + offset_s(org) (offsets 11 s, 23 s, 37 s, ...), so that no fetch sits on an
// hour boundary. To exercise lookback and staleness, the "staging" stream of the second org
// is missing from fetches [gap_begin, gap_end).
//
// Deterministic: the same options give the same bytes. Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sb::testdata {

struct ScoutDatasetOptions {
  std::vector<std::string> orgs = {"acme", "globex", "initech"};
  int hours = 30 * 24;                 // fetches per org
  // First hour (unix seconds, midnight UTC). Tests use RecentStartS(): the bridge's store
  // drops data older than its retention (365 days by default), measured from now.
  int64_t start_s = 1698796800;        // 2023-11-01T00:00:00Z
  int approx_series_per_org = 250;     // see sim::SpecForSeriesCount (250 -> 245 series)
  int gap_begin = 400, gap_end = 430;  // fetch indexes without globex's "staging" stream
};

// A start at midnight UTC, `hours` plus one day before now: the data ends a day ago.
int64_t RecentStartS(int hours);

// The fetch time (unix seconds) of fetch `i` of org number `org_index`.
int64_t FetchTimeS(const ScoutDatasetOptions& o, size_t org_index, int i);

// The whole data set as OpenMetrics text (families with HELP and TYPE, each series' samples
// in time order, timestamps in seconds, "# EOF" at the end).
std::string RenderScoutDataset(const ScoutDatasetOptions& o);

}  // namespace sb::testdata
