// Peers of the PromQL integration tests: a real Prometheus 2.42 and the real scout-bridge
// binary, both loaded with the same OpenMetrics history (tests/promql/scout_dataset.h) and
// both on loopback ports, plus a small client for their /api/v1 endpoints.
//
// Prometheus gets the data with `promtool tsdb create-blocks-from openmetrics`, the bridge
// with `scout-bridge tsdb import --format=openmetrics`. Both run with the same
// --query.lookback-delta (kLookback). Destruction stops both processes.
#pragma once

#include <boost/json.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tests/testing/testing.h"

namespace sb::itest {

// The bridge's default lookback (promql-lite/api/api.h kDefaultLookbackDelta), passed to both.
inline constexpr const char* kLookbackProm = "65m";
inline constexpr const char* kLookbackBridge = "1h5m";

std::string UrlEncodeComponent(const std::string& s);

class PromqlPeers {
 public:
  // Writes `openmetrics` to a temp dir, backfills both stores and starts both servers.
  // Check ok() / error() afterwards; all steps are bounded (about 60 s in all at worst).
  explicit PromqlPeers(const std::string& openmetrics);
  ~PromqlPeers();

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  int prometheus_port() const { return prom_port_; }
  int bridge_port() const { return bridge_port_; }
  const std::string& dir() const { return dir_.path(); }
  std::string bridge_binary() const;

  // GET (post = false) or form POST of `path` with `params` to one server. Returns the HTTP
  // status (-1 on a connection error) and fills *body.
  static int Call(int port, const std::string& path,
                  const std::vector<std::pair<std::string, std::string>>& params, bool post,
                  std::string* body);

 private:
  testing::TempDir dir_;
  std::unique_ptr<testing::Subprocess> prometheus_, bridge_;
  int prom_port_ = 0, bridge_port_ = 0;
  std::string error_;
};

// Compares two /api/v1 answers: status, errorType, and data, with query results compared as
// sets of series (by label set), equal timestamps and values within `rel_tol` relative
// (NaN equals NaN; the same infinity). Returns "" when equal, else the first difference.
std::string CompareApiAnswers(const std::string& prometheus, const std::string& bridge, double rel_tol = 1e-9);

}  // namespace sb::itest
