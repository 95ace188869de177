// App: the running bridge. Owns the HTTP server (and with it the io_context and I/O
// threads), a small work pool for parsing and rendering, and one Target per upstream
// target of the configuration. Implements RouterContext for the router.
//
// Reload (SIGHUP, POST /-/reload, or Reload()): the new file is loaded and validated first;
// on error nothing changes and the error is returned. Otherwise targets are matched by
// job name and address: a target whose job block is unchanged (same fingerprint) keeps its
// object, snapshot and schedule; a changed one is replaced by a new Target that inherits the
// served snapshot and last success time (so it neither serves 503 nor refetches early);
// a removed one is stopped.
//
// Thread-safety: Start/Stop from the controlling thread; Reload and the accessors from any.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "bridge/http_server.h"
#include "bridge/router.h"
#include "bridge/self_metrics.h"
#include "bridge/target.h"
#include "common/clock.h"
#include "config/config.h"
#include "promql-lite/engine.h"
#include "remote_write/feeder.h"

namespace sb::bridge {

class RecommendationsService;  // bridge/recommendations_service.h

struct AppOptions {
  // The configuration file (--config.file). Re-read on reload.
  std::string config_file;
  // Alternatively, a configuration given in-process (tests, demo). Used when config_file is
  // empty; Reload() then re-applies it.
  std::optional<config::Config> config;
  // --web.listen-address. Default ":9688" (all interfaces).
  std::string listen_address = ":9688";
  // --storage.path: the directory of the embedded store (bridge.db). Every fetch is kept
  // there, and a restart serves the stored snapshots at once. Empty: no persistence.
  std::string storage_path = "data/";
  // --storage.retention.time: stored chunks whose newest sample is older than this are
  // dropped (Store::ApplyRetention, run once at start and every 5 minutes). Scout users
  // keep a year of history; zero keeps everything.
  std::chrono::milliseconds storage_retention_time = std::chrono::hours(24 * 365);
  // --storage.retention.size: the store's size limit in bytes (oldest chunks go first);
  // zero = no limit.
  int64_t storage_retention_size_bytes = 0;
  // I/O threads of the HTTP server. Default 2 (this machine class has 2 cores).
  int io_threads = 2;
  // Threads for parsing and rendering upstream bodies. Default 1.
  int work_threads = 1;
  size_t max_connections = 1024;
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(60);
  std::chrono::milliseconds read_timeout = std::chrono::seconds(10);
  // Serve HTTPS with these PEM files when both are set.
  std::string tls_cert_file, tls_key_file;
  Clock* clock = SystemClock::Default();
  // The schedule's internal knobs (backoff, auth-error wait, start offset). Production uses
  // the defaults; tests shorten them to run fault scenarios in seconds.
  ScheduleOptions schedule_tuning;
  // The PromQL engine of /api/v1/query and /api/v1/query_range (--query.timeout,
  // --query.max-samples, --query.lookback-delta). Unless query_lookback_delta_set,
  // query.lookback_delta is replaced at Start by promql::api::DefaultLookbackDelta of the
  // longest refresh interval of the configured jobs (at least 1h5m), so that hourly data
  // reads as a step function. The /api/v1 endpoints exist only with a store.
  promql::EngineOptions query;
  bool query_lookback_delta_set = false;
};

class App final : public RouterContext {
 public:
  explicit App(AppOptions options);
  ~App() override;

  // Loads the configuration, starts the server and the targets.
  // Errors: the config error (file:line:col) or the listen error.
  Status Start();
  // Stops targets and the server. Idempotent.
  void Stop();

  int port() const { return server_ ? server_->port() : 0; }
  asio::io_context& io_context() { return server_->io_context(); }
  std::vector<TargetStatus> TargetStatuses() const;
  std::shared_ptr<Target> FindTarget(const std::string& job, const std::string& instance) const;

  // RouterContext
  std::shared_ptr<const RouteTable> Routes() const override { return routes_.load(); }
  SelfMetrics& Metrics() override { return metrics_; }
  std::string RenderSelfMetrics() const override;
  std::string TargetsJson() const override;
  bool Ready() const override { return ready_.load(); }
  Status Reload() override;
  const ApiHandler* FindApi(std::string_view path) const override;

  // Serves `path` (or, with prefix = true, every path starting with `path`, which must end
  // in '/') with `handler`. Only before Start() returns: App::Start calls it for the
  // modules it owns (see the "API modules" block there); the table is read-only afterwards.
  void RegisterApi(std::string path, ApiHandler handler, bool prefix = false);
  // The store, or null without a storage path. Valid between Start() and destruction.
  storage::Store* store() const { return store_.get(); }
  // The remote-write feeder, or null without a store. Valid between Start() and Stop().
  remote_write::Feeder* feeder() const { return feeder_.get(); }

 private:
  Result<config::Config> LoadConfig() const;
  // The stored latest snapshot of `key`, for a warm start; nullopt if none or unreadable.
  std::optional<TargetCarryOver> StoredState(const std::string& job, const std::string& instance,
                                             const std::string& key);
  // Applies `cfg`: creates, keeps or replaces targets and swaps the route table.
  void Apply(const config::Config& cfg);

  AppOptions options_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<asio::thread_pool> work_;
  std::unique_ptr<storage::Store> store_;  // null without --storage.path
  // Retention: a timer on the work pool, armed at Start and then every 5 minutes.
  void ScheduleRetention(std::chrono::milliseconds delay);
  void RunRetention();
  std::mutex retention_mu_;  // guards the two below
  std::unique_ptr<asio::steady_timer> retention_timer_;
  bool retention_stopped_ = false;
  std::shared_ptr<RecommendationsService> recommendations_;  // base-image recommendations (issue 6)
  std::unique_ptr<remote_write::Feeder> feeder_;  // null without a store
  SelfMetrics metrics_;
  std::atomic<std::shared_ptr<const RouteTable>> routes_;
  std::atomic<bool> ready_{false};
  std::map<std::string, ApiHandler, std::less<>> api_exact_;
  std::vector<std::pair<std::string, ApiHandler>> api_prefix_;  // longest first

  mutable std::mutex mu_;  // guards targets_ and reload bookkeeping; serializes reloads
  std::map<std::string, std::shared_ptr<Target>> targets_;  // by Target::key()
  uint64_t reloads_ok_ = 0, reloads_failed_ = 0;
  bool last_reload_ok_ = true;
  int64_t last_reload_ms_ = 0;
  bool stopped_ = false;
};

}  // namespace sb::bridge
