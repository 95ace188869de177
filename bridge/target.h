// Target: one upstream endpoint (a job's target, e.g. api.scout.docker.com:443 for one org)
// with its own schedule, its own timer and its current snapshot.
//
// Life of a fetch:
//   timer fires (strand) -> Schedule::BeginAttempt -> work pool: read credentials file, build
//   the request -> AsyncFetch (I/O threads) -> work pool: parse + BuildSnapshot -> strand:
//   swap the snapshot in, Schedule::OnSuccess/OnFailure, arm the timer again.
// A failed fetch or a bad body never replaces the snapshot: the last good data stays served.
//
// Nothing here reacts to downstream requests: the only thing that starts a fetch is the
// timer, and the timer is armed only from the schedule's NextFetchMs().
//
// Ownership and threads: created and owned (shared_ptr) by the App. Timer and completion
// handlers hold a shared_ptr, so a Target outlives its last pending operation; Stop()
// cancels the timer and makes later completions no-ops. snapshot() and status() may be
// called from any thread.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "bridge/asio.h"
#include "bridge/http_client.h"
#include "bridge/schedule.h"
#include "bridge/snapshot.h"
#include "common/clock.h"
#include "config/config.h"
#include "storage/store.h"

namespace sb::bridge {

// A point-in-time copy of a target's state, for /metrics and /api/v1/targets.
struct TargetStatus {
  std::string job;
  std::string instance;                  // host:port
  std::string scrape_url;                // scheme://host:port/path?params (no credentials)
  std::string metrics_path;
  TargetHealth health = TargetHealth::kUnknown;
  std::string last_error;                // "" after a success; never holds a secret
  std::optional<int64_t> last_success_ms;
  std::optional<int64_t> last_attempt_ms;
  int64_t next_fetch_ms = 0;
  std::string next_fetch_reason;
  double last_duration_seconds = 0;
  int64_t data_time_ms = 0;              // fetch time of the served snapshot (0: none)
  size_t samples = 0;                    // samples in the served snapshot
  size_t body_bytes = 0;                 // uncompressed upstream body of the served snapshot
  std::map<std::string, uint64_t> requests_by_code;  // "200", "304", "503", "error", ...
  int requests_last_hour = 0;
  int max_requests_per_hour = 0;
};

// What a reload hands from an old Target to its replacement for the same job and address,
// so that a changed job block neither loses served data nor resets the hourly budget.
struct TargetCarryOver {
  std::shared_ptr<const Snapshot> snapshot;
  std::optional<int64_t> last_success_ms;
  std::map<std::string, uint64_t> requests_by_code;
  std::vector<int64_t> attempts_ms;  // the hourly budget's recent attempts
};

class Target : public std::enable_shared_from_this<Target> {
 public:
  // `address` is one of job.static_configs[].targets (host:port). `io` runs the timer and the
  // fetch; `work` runs credential reads, parsing and rendering. Both must outlive Stop().
  // `tuning` supplies the schedule's internal knobs (backoff, auth wait, start offset); the
  // config-driven ones (refresh, cache headers, budget) are taken from `job`.
  Target(asio::io_context& io, asio::thread_pool& work, Clock* clock, config::ScrapeConfig job,
         std::string address, const ScheduleOptions& tuning = {}, storage::Store* store = nullptr);

  // Starts the schedule. `carry` (from a reload) or `last_success_ms` (from the store) makes
  // it a warm start. Idempotent per object: REQUIRES called once.
  void Start(std::optional<TargetCarryOver> carry, std::optional<int64_t> last_success_ms);

  // Cancels the timer; completions still in flight are ignored. Thread-safe.
  void Stop();

  // The served snapshot, or null before the first success.
  std::shared_ptr<const Snapshot> snapshot() const { return slot_.Load(); }
  TargetStatus status() const;
  TargetCarryOver CarryOver() const;

  const config::ScrapeConfig& job() const { return job_; }
  const std::string& address() const { return address_; }
  // A stable key, "job/address".
  const std::string& key() const { return key_; }

 private:
  void ArmTimer();
  void OnTimer(error_code ec);
  void BeginFetch();                                   // on the work pool
  void OnFetched(Status st, FetchResponse resp, int64_t started_ms);  // on I/O thread
  size_t max_body_bytes() const { return static_cast<size_t>(job_.body_size_limit_bytes); }
  void Finish(int64_t now_ms, int http_status, const HeaderList& headers, bool success,
              bool not_modified, std::string error, std::shared_ptr<const Snapshot> snap,
              int64_t started_ms);

  asio::io_context& io_;
  asio::thread_pool& work_;
  storage::Store* store_;  // null: no persistence. Written only from the work pool.
  Clock* clock_;
  const config::ScrapeConfig job_;
  const std::string address_;
  const std::string key_;
  std::string host_;
  uint16_t port_ = 0;
  std::string request_target_;  // path + query

  asio::strand<asio::io_context::executor_type> strand_;
  asio::steady_timer timer_;
  SnapshotSlot slot_;
  // What the served snapshots were asked for; the next snapshot pre-renders it. Replaced
  // only in Start (by a carried snapshot's), before any fetch.
  std::shared_ptr<RepresentationDemand> demand_ = std::make_shared<RepresentationDemand>();

  mutable std::mutex mu_;  // guards everything below
  Schedule schedule_;
  bool stopped_ = false;
  std::string last_error_;
  double last_duration_seconds_ = 0;
  std::map<std::string, uint64_t> requests_by_code_;
};

// Splits "host:port", "[v6]:port" or "host" (default port by scheme). False if malformed.
bool SplitHostPort(const std::string& address, const std::string& scheme, std::string* host,
                   uint16_t* port);

// The proxy for a request to `host`, as Prometheus chooses it: proxy_url unless the host is in
// no_proxy; or, with proxy_from_environment, HTTPS_PROXY/HTTP_PROXY (by scheme) unless the
// host is in NO_PROXY. "" for a direct connection.
std::string ProxyFor(const config::ScrapeConfig& job, const std::string& host);

// The samples of one fetch as the store keeps them: the exposed labels plus __name__, and the
// target labels job and instance as a Prometheus scraping the upstream would attach them (an
// exposed job/instance label becomes exported_job/exported_instance unless honor_labels).
// Each sample carries its canonical key (SeriesSample::key), not a label vector.
std::vector<storage::SeriesSample> ToSeriesSamples(const expo::Exposition& data, const std::string& job,
                                                   const std::string& instance, bool honor_labels);
// The same for one sample, appended to *out (a streamed parse); *scratch and *key_buf are
// reused. When `known` (the store's keys of the target's last fetch, Store::LastFetchKeys)
// has this sample's key at the same position, the sample carries that view
// (SeriesSample::stored_key) instead of a copy.
void AppendSeriesSample(const expo::Sample& s, const std::string& job, const std::string& instance,
                        bool honor_labels, std::vector<storage::LabelView>* scratch,
                        std::vector<storage::SeriesSample>* out,
                        const std::vector<std::string_view>* known = nullptr, std::string* key_buf = nullptr);

// metrics_path plus the URL-encoded params, as Prometheus builds the scrape URL.
std::string BuildRequestTarget(const config::ScrapeConfig& job);

}  // namespace sb::bridge
