// Values a PromQL query produces: scalars, strings, instant vectors (one point per series,
// at the evaluation time) and range vectors / range-query results (many points per series).
// Plain structs, safe to copy and move between threads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "storage/series.h"

namespace sb::promql {

// One sample: t in milliseconds since the epoch, v the float value.
struct Point {
  int64_t t = 0;
  double v = 0;
};

// One series: labels sorted by name, __name__ included when present (functions and
// arithmetic drop it, as Prometheus does); points in increasing t.
struct Series {
  storage::Labels labels;
  std::vector<Point> points;
};

// Strict weak order of label sets (sorted by name): pair by pair, name then value, a
// prefix before the longer set. The order of range results and of /api/v1/series.
bool LabelsLess(const storage::Labels& a, const storage::Labels& b);

enum class ValueType { kScalar, kVector, kMatrix, kString };

// Returns "scalar", "vector", "matrix" or "string" (the API's resultType).
const char* ValueTypeName(ValueType type);

struct Value {
  ValueType type = ValueType::kVector;
  double scalar = 0;  // kScalar: the value, at time t
  int64_t t = 0;      // kScalar / kString: the evaluation time (ms)
  std::string str;    // kString
  // kVector: one point per series (its t = the evaluation time), in the engine's output
  // order (sort()/sort_desc()/topk order is kept; otherwise unspecified).
  // kMatrix: many points per series, series sorted by labels.
  std::vector<Series> series;
};

struct QueryResult {
  Value value;
  std::vector<std::string> warnings;  // e.g. "PromQL info: ..." annotations
};

}  // namespace sb::promql
