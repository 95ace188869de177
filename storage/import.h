// Backfill from OpenMetrics text: `scout-bridge tsdb import --format openmetrics FILE`.
// Takes the input `promtool tsdb create-blocks-from openmetrics` takes: OpenMetrics 1.0
// text ending in `# EOF`, every sample with a timestamp in seconds (fractional allowed,
// rounded to the nearest millisecond), each series' samples in increasing time order.
// HELP/TYPE/UNIT lines are accepted and not stored (the store keeps no metadata).
//
// The whole input is parsed and checked before the store is touched, then written with
// one Store::AppendSamples call (one transaction): bad input writes nothing. Samples at or
// before a series' last stored sample are skipped, so importing a file twice adds nothing.
//
// Thread-safety: free functions; the Store serializes its writers.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "storage/store.h"

namespace sb::storage {

struct ImportLimits {
  // Most samples in one input. The parsed input is held in memory (~100 bytes a sample
  // with its labels) before anything is written, so this bounds memory.
  size_t max_samples = 20'000'000;
};

// Parses an OpenMetrics body into one SeriesSamples per series, in the order series first
// appear. Errors: InvalidArgument "line:col: what went wrong" for malformed text (the
// exposition parser's message), a sample without a timestamp, a series name or label the
// store cannot hold, a sample of a series not after that series' previous sample (naming
// both lines), or more than limits.max_samples samples.
Result<std::vector<SeriesSamples>> ParseOpenMetricsForImport(std::string_view body,
                                                             const ImportLimits& limits = {});

// ParseOpenMetricsForImport, then AppendSamples. Errors: as both.
Result<ImportStats> ImportOpenMetrics(Store& store, std::string_view body,
                                      const ImportLimits& limits = {});

}  // namespace sb::storage
