// Deterministic Scout-like metric data: the bodies the Scout simulator serves, and the data
// sets the tests and benchmarks use. One generator, shared, so that a benchmark measures the
// same shape of data that the tests check.
//
// The shape follows Docker Scout's exporter: three gauge families,
//   scout_stream_vulnerabilities{streamName, severity}
//   scout_policy_compliant_images{id, displayName, streamName}
//   scout_policy_evaluated_images{id, displayName, streamName}
// with compliant <= evaluated. Values are a pure function of (org, series, window index):
// they change only at cache-window boundaries, and in each window about 1/32 of the series
// change (Scout values rarely move between fetches).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

namespace sb::sim {

struct OrgSpec {
  std::string org;
  int streams = 5;    // "latest-indexed", "production", "staging", ... then "env-<n>"
  int policies = 22;  // realistic Scout policy ids first, then "custom-policy-<n>"
  // Number of series this spec renders: streams*5 + policies*streams*2.
  int SeriesCount() const { return streams * 5 + policies * streams * 2; }
};

// The spec whose series count is closest to `approx_series` from below (at least 1 stream).
// SpecForSeriesCount(org, 250) has 245 series; (org, 100000) has 99,900.
OrgSpec SpecForSeriesCount(const std::string& org, int approx_series);

// The exporter body (Prometheus text format 0.0.4, with HELP and TYPE) for one window.
std::string RenderOrgMetrics(const OrgSpec& spec, int64_t window_index);

// The value of one series in one window. `series` is the index in render order.
double SeriesValue(const OrgSpec& spec, int series, int64_t window_index);

}  // namespace sb::sim
