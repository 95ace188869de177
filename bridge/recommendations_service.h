// RecommendationsService: the App's part of issue 6. It rescans the configured report
// sources (`recommendations.sources`, directories or s3:// URLs, with `recommendations.s3`
// over the AWS_ENDPOINT_URL / AWS_REGION environment defaults) every
// `recommendations.scan_interval` on the App's work pool, keeps the graph in the store's
// SQLite file, appends the derived metrics to the store as target "recommendations"
// (job="scout-recommendations"; so stale markers and remote write apply), and serves:
//
//   GET /recommendations/metrics     the metrics, text 0.0.4 (no timestamps)
//   GET /api/v1/recommendations      targets, bases and recommendations as JSON
//                                    (?image= and ?base= filters; recommendations/api.h)
//
// One line is logged per scan (info, or warn when a source failed). A scan never overlaps
// the previous one; a failing source keeps its last good reports (recommendations/scanner.h).
// Without sources nothing is scanned and both paths answer with empty data.
//
// Thread-safety: Start/Stop from the App's controlling thread; Reconfigure from any
// thread; the handlers from I/O threads (they read an immutable snapshot).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bridge/asio.h"
#include "bridge/http_server.h"
#include "common/clock.h"
#include "config/config.h"
#include "recommendations/scanner.h"
#include "storage/store.h"

namespace sb::bridge {

inline constexpr const char* kRecommendationsMetricsPath = "/recommendations/metrics";
inline constexpr const char* kRecommendationsApiPath = "/api/v1/recommendations";

class RecommendationsService : public std::enable_shared_from_this<RecommendationsService> {
 public:
  // `db_path`: the store's file (<storage.path>/bridge.db), or "" to keep the graph in
  // memory only. `store` may be null (then metrics are served but not stored).
  RecommendationsService(asio::io_context& io, asio::thread_pool& work, Clock* clock,
                         storage::Store* store, std::string db_path);

  // Opens the tables (serving the last stored state at once) and schedules the first scan
  // right away. Errors: opening the tables.
  Status Start(const config::RecommendationsConfig& config);
  // Applies new sources/interval (config reload). Changed sources are scanned at once (after
  // a scan in progress); otherwise the next scan uses them. Bad source specs are logged at
  // each scan and left out.
  void Reconfigure(const config::RecommendationsConfig& config);
  void Stop();

  Response HandleMetrics(const Request& req) const;
  Response HandleApi(const Request& req) const;

 private:
  void Arm(std::chrono::milliseconds wait);
  void RunScan();

  asio::io_context& io_;
  asio::thread_pool& work_;
  Clock* clock_;
  storage::Store* store_;
  std::string db_path_;
  asio::steady_timer timer_;
  std::unique_ptr<recommendations::Scanner> scanner_;

  std::mutex mu_;  // guards the fields below
  std::vector<std::string> specs_;
  config::RecommendationsS3Config s3_;
  std::chrono::milliseconds interval_{600000};
  bool started_ = false;
  bool stopped_ = false;
  bool scanning_ = false;
  bool rescan_requested_ = false;  // sources changed during a scan
};

}  // namespace sb::bridge
