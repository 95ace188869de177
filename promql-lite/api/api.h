// The Prometheus HTTP API (/api/v1/...) over the bridge's store: what Grafana's Prometheus
// data source and promtool call. Handlers are plain functions from a Beast request to a
// response, so tests call them without sockets.
//
//   /api/v1/query              query, time, timeout        instant query
//   /api/v1/query_range        query, start, end, step, timeout
//   /api/v1/series             match[] (required), start, end, limit
//   /api/v1/labels             match[], start, end, limit
//   /api/v1/label/<name>/values  match[], start, end, limit
//   /api/v1/metadata           metric, limit               HELP/TYPE of the served snapshots
//   /api/v1/status/buildinfo
//   /api/v1/format_query       query
//   /api/v1/query_exemplars    query, start, end           always [] (no exemplars kept)
//   /api/v1/rules                                          always {"groups":[]}
//
// GET, HEAD and POST (a form-encoded body is merged with the query string, body first, as
// Go's r.FormValue does); anything else gets 405. Parameters, answers and errors follow
// Prometheus 2.42 (docs/api.md lists them and the few deliberate differences). Engine errors
// map as: InvalidArgument -> 400 bad_data, Unavailable (timeout) -> 503 timeout,
// ResourceExhausted / Unimplemented -> 422 execution, anything else -> 500 internal.
//
// Threads: handlers run on the calling (I/O) thread, concurrently; the Api is immutable
// after construction and the store's readers are thread-safe. A query therefore holds its
// I/O thread for as long as it evaluates (milliseconds for the Scout dashboards; bounded by
// EngineOptions::timeout). See promql-lite/api/README.md.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bridge/http_server.h"
#include "common/clock.h"
#include "common/exposition/model.h"
#include "promql-lite/api/params.h"
#include "promql-lite/engine.h"

namespace sb::storage {
class Store;
}

namespace sb::promql::api {

// The lookback delta the bridge uses unless --query.lookback-delta is given: the longest
// refresh interval of the configured jobs plus 5 minutes, and at least 1h5m, so that hourly
// Scout data reads as a step function with no gaps between fetches.
std::chrono::milliseconds DefaultLookbackDelta(std::chrono::milliseconds longest_refresh);
inline constexpr std::chrono::milliseconds kDefaultLookbackDelta = std::chrono::minutes(65);

struct ApiOptions {
  // Engine limits: lookback delta, max samples, timeout, max points per series. A request's
  // `timeout` parameter can only lower `engine.timeout`.
  EngineOptions engine;
  // The clock for the default `time` of an instant query. Not owned.
  Clock* clock = SystemClock::Default();
  // The parsed data of the snapshots being served, for /api/v1/metadata (HELP, TYPE, UNIT of
  // each family). Null: metadata answers {}. Called on the request's thread.
  std::function<std::vector<std::shared_ptr<const expo::Exposition>>()> metadata_source;
  // Reported by /api/v1/status/buildinfo as "revision" ("version" is the Prometheus API
  // level implemented, 2.42.0, which is what Grafana keys its feature detection on).
  std::string bridge_version = "0.1.0";
  // Most entries a series/labels/label-values answer may hold when the request has no
  // `limit`; beyond it the answer is truncated with a warning. 0: no bound.
  size_t max_series_results = 0;
};

using Handler = std::function<bridge::Response(const bridge::Request&)>;

struct ApiRoute {
  std::string path;  // exact path, or a prefix ending in '/' when prefix is true
  Handler handler;
  bool prefix = false;
};

class Api {
 public:
  // REQUIRES: store is non-null and outlives the Api.
  Api(storage::Store* store, ApiOptions options);

  // Answers any /api/v1/ request above by its path (404 for other paths).
  bridge::Response Handle(const bridge::Request& req);

  // The paths above with handlers that keep `api` alive, for App::RegisterApi.
  static std::vector<ApiRoute> Routes(std::shared_ptr<Api> api);

  const ApiOptions& options() const { return options_; }

  // An answer before it becomes an HTTP response: status code and JSON body.
  struct Reply {
    int status = 200;
    std::string body;
  };

 private:
  Reply Query(const Form& f);
  Reply QueryRange(const Form& f);
  Reply Series(const Form& f);
  Reply Labels(const Form& f);
  Reply LabelValues(const Form& f, std::string_view name);
  Reply Metadata(const Form& f);
  Reply BuildInfo();
  Reply Format(const Form& f);
  Reply Exemplars(const Form& f);
  Reply Rules(const Form& f);
  Reply EngineError(const Status& st);
  // Series matching any of `selectors` (match[] values) with a sample in [start, end],
  // sorted by labels, at most `limit` (0: no bound); *truncated is set when cut.
  Result<std::vector<storage::Labels>> MatchSeries(const std::vector<std::string>& selectors, int64_t start,
                                                   int64_t end, size_t limit, bool wrap_errors,
                                                   bool* truncated);
  // The engine options of one request: options_.engine with the `timeout` parameter.
  Result<EngineOptions> RequestOptions(const Form& f) const;

  storage::Store* store_;
  ApiOptions options_;
  StoreQueryable queryable_;
};

}  // namespace sb::promql::api
