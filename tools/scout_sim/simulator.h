// ScoutSimulator: an HTTP(S) server that behaves like Docker Scout's metrics exporter
// (api.scout.docker.com/v1/exporter/org/<ORG>/metrics), so that the bridge can be tested and
// demonstrated without internet.
//
// Routes (all others 404):
//   GET /v1/exporter/org/<ORG>/metrics   the exporter (also the legacy /v1/exporter/org/<ORG>)
//   GET /sim/stats                       JSON: request counters, window index, fault mode
//   POST /sim/fault?mode=...             sets the fault (see ParseFaultQuery)
//
// Exporter semantics:
//   - Authorization: Bearer <token> is required. Missing, malformed or unknown token: 401
//     (with WWW-Authenticate: Bearer). A known token whose org is not the path's org: 403.
//     A valid token and an org the simulator does not know: 404.
//   - The body is sim::RenderOrgMetrics(spec, window_index) with window_index =
//     now_ms / window_ms: values change only at window boundaries, like Scout's 60-minute
//     cache. Bodies are rendered once per (org, window) and shared.
//   - Accept-Encoding: gzip gets a gzip body (Content-Encoding: gzip, Vary: Accept-Encoding).
//   - With cache_headers: Cache-Control: max-age=<seconds left in the window>,
//     Last-Modified = start of the window, ETag = "<org>-<window index>"; If-None-Match (or,
//     without it, If-Modified-Since) that matches answers 304.
//   - Every request to an exporter route counts, per path org, whatever its outcome (401,
//     fault, 304, 200): the counters measure how polite a client is.
//
// Faults apply to exporter routes only, before authentication (as a failing load balancer
// would). Slow bodies use HttpServer's Pacing (timers on the I/O threads, never sleeping).
//
// Thread-safety: all public methods are safe from any thread while the server runs.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "bridge/http_server.h"
#include "common/clock.h"
#include "common/status.h"
#include "tools/scout_sim/scout_data.h"

namespace sb::sim {

enum class FaultMode {
  kNone,
  kStatus,           // Answer `status` (e.g. 500, 502, 503) with a short text body.
  kTooManyRequests,  // 429 with Retry-After: `retry_after`.
  kSlowBody,         // Correct response, headers after `slow_delay`, then the body dribbled.
  kTruncatedBody,    // Content-Length of the full body, half of it sent, then close.
  kGarbageBody,      // 200, text content type, binary junk that is not valid exposition.
};

struct Fault {
  FaultMode mode = FaultMode::kNone;
  int status = 500;                 // kStatus: the status code to send.
  std::string retry_after = "120";  // kTooManyRequests: seconds, or an IMF-fixdate.
  Duration slow_delay{200};         // kSlowBody: delay before headers and before each piece.
  size_t slow_chunk_bytes = 512;    // kSlowBody: size of each piece.
  // How many exporter requests the fault hits before it clears itself; < 0: until replaced.
  int64_t count = -1;
};

// Parses the query of POST /sim/fault: mode=none|status|429|slow|truncated|garbage, with
// code=<status>, retry_after=<value>, delay_ms=<n>, chunk_bytes=<n>, count=<n>.
// Values are percent-decoded. Errors: InvalidArgument naming the bad parameter.
Result<Fault> ParseFaultQuery(std::string_view query);


class ScoutSimulator {
 public:
  struct OrgConfig {
    std::string token;          // The Bearer token (a PAT, in Scout) that grants this org.
    int approx_series = 250;    // Body size: SpecForSeriesCount(org, approx_series).
  };

  struct Options {
    // Listen address and TLS files, as in bridge::HttpServer::Options.
    std::string listen_address = "127.0.0.1:0";
    std::string tls_cert_file;
    std::string tls_key_file;
    int threads = 1;
    // Org name -> its token and size.
    std::map<std::string, OrgConfig> orgs;
    // The cache window: values change only when now crosses a multiple of it. Default 60m
    // like Scout; tests use seconds.
    Duration window = std::chrono::minutes(60);
    // Send Cache-Control/Last-Modified/ETag and answer conditional requests with 304.
    bool cache_headers = false;
    // Source of "now". Not owned; must outlive the simulator. Default: the system clock.
    Clock* clock = nullptr;
  };

  explicit ScoutSimulator(Options options);
  ~ScoutSimulator();
  ScoutSimulator(const ScoutSimulator&) = delete;
  ScoutSimulator& operator=(const ScoutSimulator&) = delete;

  // Starts the HTTP(S) server. Errors as HttpServer::Start(). REQUIRES: called once.
  Status Start();
  void Stop();
  int port() const;

  // Sets the fault for the following exporter requests (replaces the previous one).
  void SetFault(Fault fault);
  Fault fault() const;

  uint64_t RequestCount(const std::string& org) const;
  uint64_t TotalRequests() const;

  // now_ms / window_ms for the current clock.
  int64_t WindowIndex() const;
  // The uncompressed body served for `org` in the current window; empty for an unknown org.
  std::string ExpectedBody(const std::string& org) const;

  // The routing, callable without sockets. Returns the response and how to write it.
  struct Reply {
    bridge::Response response;
    bridge::Pacing pacing;
  };
  Reply Handle(const bridge::Request& req);

 private:
  struct Bodies {
    int64_t window = -1;
    std::shared_ptr<const std::string> plain;
    std::shared_ptr<const std::string> gzip;
  };
  // Returns the bodies of `org` for `window`, rendering them if needed.
  Bodies BodiesFor(const std::string& org, int64_t window) const;
  Reply HandleExporter(const bridge::Request& req, const std::string& org);
  Reply HandleFault(const bridge::Request& req, std::string_view query);
  Reply HandleStats(const bridge::Request& req);
  // Consumes one use of the current fault; returns the fault to apply (kNone if none).
  Fault TakeFault();

  Options options_;
  Clock* clock_;
  std::map<std::string, OrgSpec> specs_;
  std::map<std::string, std::string> org_by_token_;
  std::unique_ptr<bridge::HttpServer> server_;

  mutable std::mutex mu_;
  Fault fault_;                                   // Guarded by mu_.
  std::map<std::string, uint64_t> counts_;        // Guarded by mu_. Per path org.
  uint64_t total_ = 0;                            // Guarded by mu_.
  mutable std::map<std::string, Bodies> bodies_;  // Guarded by mu_.
};

}  // namespace sb::sim
