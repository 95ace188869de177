// The exposition data model: plain structs for metric families and samples, as an upstream
// exporter exposes them. Parsed once per upstream fetch and then treated as immutable.
//
// Sample names carry their suffix (_total, _bucket, _sum, _count, _created, ...); a Family
// groups the samples that share one HELP/TYPE. Labels keep the upstream's order and do not
// include __name__.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sb::expo {

enum class MetricType {
  kUnknown,        // OpenMetrics "unknown", text format "untyped" or no TYPE line
  kCounter,
  kGauge,
  kHistogram,
  kGaugeHistogram,
  kSummary,
  kInfo,
  kStateSet,
};

// "counter", "gauge", ... as written in TYPE lines (kUnknown -> "untyped" for text 0.0.4,
// "unknown" for OpenMetrics).
const char* MetricTypeName(MetricType type, bool openmetrics);

struct Label {
  std::string name;
  std::string value;
  bool operator==(const Label&) const = default;
};
using Labels = std::vector<Label>;

struct Sample {
  std::string name;                    // full sample name, e.g. "http_requests_total"
  Labels labels;                       // without __name__
  double value = 0;
  std::optional<int64_t> timestamp_ms; // as exposed by the upstream, if any
};

struct Family {
  std::string name;                    // family name (OpenMetrics: without _total for counters)
  MetricType type = MetricType::kUnknown;
  std::string help;                    // unescaped
  std::string unit;                    // OpenMetrics UNIT, empty if none
  std::vector<Sample> samples;
};

// One parsed upstream body.
struct Exposition {
  std::vector<Family> families;
  size_t SampleCount() const {
    size_t n = 0;
    for (const auto& f : families) n += f.samples.size();
    return n;
  }
};

// The two text formats, chosen by Content-Type.
enum class Format { kText004, kOpenMetrics };

}  // namespace sb::expo
