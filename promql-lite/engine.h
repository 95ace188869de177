// Engine: evaluates PromQL expressions (Prometheus 3 semantics) over a Queryable.
//
//   promql::StoreQueryable q(store);
//   promql::Engine engine(&q, promql::EngineOptions{});
//   SB_ASSIGN_OR_RETURN(auto r, engine.Instant("sum by (org) (scout_vulns)", now_ms));
//   SB_ASSIGN_OR_RETURN(auto m, engine.Range("rate(x[5m])", start_ms, end_ms, 60'000));
//
// Semantics (promql-lite/README.md has the full list): left-open range windows
// (t - range, t]; instant selectors look back `lookback_delta` (also left-open); stale
// markers end a series; arithmetic and most functions drop __name__; vector matching with
// on/ignoring/group_left/group_right; aggregations; the functions listed in the README.
// Native histograms, info() and experimental functions are out of scope: Unimplemented.
//
// Range queries load each selector's data once for the whole range and then step
// through it; they never query the Queryable per step.
//
// Thread-safety: an Engine holds no mutable state between calls; Instant and Range may be
// called concurrently if the Queryable allows concurrent Select calls (StoreQueryable does).
// The Queryable must outlive the Engine.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "promql-lite/value.h"
#include "storage/postings.h"
#include "storage/series.h"

namespace sb::storage {
class Store;
}

namespace sb::promql {

struct EngineOptions {
  // How far back an instant selector looks for the latest sample: (t - lookback, t].
  // Prometheus's default is 5m; the bridge sets it to cover the longest refresh interval.
  std::chrono::milliseconds lookback_delta = std::chrono::minutes(5);
  // The most samples a query may hold loaded at once (selector data plus results).
  // Beyond: ResourceExhausted "query processing would load too many samples into memory".
  int64_t max_samples = 50'000'000;
  // Wall-clock budget of one query. Beyond: Unavailable "query timed out in <stage>".
  std::chrono::milliseconds timeout = std::chrono::minutes(2);
  // A range query's (end - start) / step + 1 may not exceed this. Beyond: InvalidArgument.
  int64_t max_points_per_series = 11'000;
  // The step of a subquery written without one (`x[1h:]`); Prometheus uses the global
  // evaluation interval, 1m by default.
  std::chrono::milliseconds default_subquery_step = std::chrono::minutes(1);
};

// What the engine reads. Implemented over storage::Store (StoreQueryable) and in memory
// (tests).
class Queryable {
 public:
  virtual ~Queryable() = default;
  // Series matching all matchers with their samples in [mint, maxt] (ms, inclusive),
  // sorted by labels. Stale markers (storage::kStaleMarkerBits) may be included: the
  // engine treats them as the end of a series and never returns them as values. Series
  // with no sample in the interval may be left out.
  virtual Result<std::vector<Series>> Select(const std::vector<storage::Matcher>& matchers,
                                             int64_t mint, int64_t maxt) = 0;
};

// A Queryable over a storage::Store. The store must outlive it. Thread-safe.
class StoreQueryable : public Queryable {
 public:
  explicit StoreQueryable(storage::Store* store) : store_(store) {}
  Result<std::vector<Series>> Select(const std::vector<storage::Matcher>& matchers,
                                     int64_t mint, int64_t maxt) override;

 private:
  storage::Store* store_;
};

// A Queryable over series held in memory (tests, benchmarks). Not thread-safe for Add.
class MemoryQueryable : public Queryable {
 public:
  // Adds a series. Labels are sorted by name; points must be in increasing t.
  void Add(Series series);
  void Clear() { series_.clear(); }
  Result<std::vector<Series>> Select(const std::vector<storage::Matcher>& matchers,
                                     int64_t mint, int64_t maxt) override;

 private:
  std::vector<Series> series_;  // sorted by labels
};

class Engine {
 public:
  // REQUIRES: q outlives the Engine. A lookback_delta or default_subquery_step of zero or
  // less means the default (5m, 1m), as in Prometheus.
  Engine(Queryable* q, EngineOptions o) : q_(q), opts_(o) {
    if (opts_.lookback_delta.count() <= 0) opts_.lookback_delta = std::chrono::minutes(5);
    if (opts_.default_subquery_step.count() <= 0) opts_.default_subquery_step = std::chrono::minutes(1);
  }

  // Evaluates `expr` at t_ms. The result type is the expression's type (scalar, vector,
  // string; a range-vector expression like `x[5m]` gives kMatrix).
  // Errors: InvalidArgument "1:5: parse error: unexpected ..." for bad queries and bad
  // arguments (bad_data); Unavailable for a timeout; ResourceExhausted for limits;
  // Unimplemented for out-of-scope features (native histograms, info(), ...).
  Result<QueryResult> Instant(std::string_view expr, int64_t t_ms);

  // Evaluates `expr` at start_ms, start_ms + step_ms, ... <= end_ms. The result is kMatrix
  // (a scalar expression gives one series with no labels), series sorted by labels.
  // Errors: as Instant; InvalidArgument also for step_ms <= 0, end before start, a
  // range-vector or string expression, or more than max_points_per_series steps.
  Result<QueryResult> Range(std::string_view expr, int64_t start_ms, int64_t end_ms,
                            int64_t step_ms);

  const EngineOptions& options() const { return opts_; }

 private:
  Queryable* q_;
  EngineOptions opts_;
};

// Parses `expr` and checks that it may be evaluated as an instant query, or with
// range_query as a range query (a scalar or instant vector). Returns the InvalidArgument that
// Instant/Range would give for it, else OK. The HTTP API calls it first, so that, as in
// Prometheus, a bad query is 400 bad_data and an error while evaluating a good one (e.g.
// many-to-many matching) is 422 execution.
Status CheckQuery(std::string_view expr, bool range_query);

// For /api/v1/format_query: the expression re-printed in Prometheus's canonical form, or
// the parse error (InvalidArgument, as Instant).
Result<std::string> FormatQuery(std::string_view expr);

// The matchers of a series selector string like `up{job="x"}` (for /api/v1/series
// match[]). Errors: InvalidArgument for a parse error or an expression that is not a
// plain vector selector, or a selector whose matchers all match the empty string.
Result<std::vector<storage::Matcher>> ParseSeriesSelector(std::string_view selector);

}  // namespace sb::promql
