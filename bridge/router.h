// Routing: a free function from a request to a response, callable by tests without sockets.
//
//   GET|HEAD <metrics_path of a job>   the job's latest upstream data (the fast endpoint)
//   GET|HEAD /metrics                  the bridge's own metrics (unless a job uses /metrics)
//   GET|HEAD /-/healthy, /-/ready      liveness and readiness
//   POST|PUT /-/reload                 reload the configuration (like SIGHUP)
//   GET      /api/v1/targets           Prometheus-shaped target status JSON
//   GET      /                         a short index of the above
//   anything else registered with App::RegisterApi (promql-lite's /api/v1/query..., the
//   recommendations API): see RouterContext::FindApi
//
// A path served by several targets (a job with several targets, or jobs sharing a path) is
// disambiguated by the query parameters `job=` and `target=`; an ambiguous request gets 400
// naming the choices, never a guess.
//
// Thread-safety: Route() is called concurrently from every I/O thread; RouterContext
// implementations must be thread-safe and must not block (Reload excepted: see app.h).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "bridge/http_server.h"
#include "bridge/self_metrics.h"
#include "bridge/snapshot.h"

namespace sb::bridge {

// One servable target behind a path.
struct Endpoint {
  std::string job;
  std::string instance;
  std::function<std::shared_ptr<const Snapshot>()> snapshot;  // null before the first success
  std::function<std::string()> not_ready_reason;              // one line, for the 503
};

// Transparent hashing, so that a request path (string_view) is looked up without a copy.
struct PathHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

// A handler for an API path outside the scrape routes (e.g. "/api/v1/query"). Called on an
// I/O thread, concurrently; it must be thread-safe and should answer within milliseconds.
using ApiHandler = std::function<Response(const Request&)>;

// Immutable; replaced as a whole on reload.
struct RouteTable {
  std::unordered_map<std::string, std::vector<Endpoint>, PathHash, std::equal_to<>> by_path;
};

class RouterContext {
 public:
  virtual ~RouterContext() = default;
  virtual std::shared_ptr<const RouteTable> Routes() const = 0;
  virtual SelfMetrics& Metrics() = 0;
  virtual std::string RenderSelfMetrics() const = 0;
  virtual std::string TargetsJson() const = 0;
  virtual bool Ready() const = 0;
  // Reloads the configuration; returns the error (with file:line) on failure.
  virtual Status Reload() = 0;
  // The handler registered for `path` (exactly, or by the longest registered prefix ending
  // in '/'), or null. Consulted after the scrape routes and the built-in paths above.
  virtual const ApiHandler* FindApi(std::string_view path) const { return nullptr; }
};

Response Route(const Request& req, RouterContext& ctx);

// The hot path of the fast-scrape endpoint, for HttpServer::SetFastPath: answers a plain GET
// of a job path served by one target, with data, and no If-None-Match, from the snapshot's
// pre-serialized head and body. Returns false for everything else, which Route() answers;
// both produce the same status, headers and body.
bool RouteFast(const Request& req, RouterContext& ctx, PreparedResponse* out);

}  // namespace sb::bridge
