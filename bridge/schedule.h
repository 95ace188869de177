// Schedule: when one upstream target may be fetched next. This is the bridge's politeness
// promise in code; docs/schedule.md explains the rules with a worked timeline.
//
// A Schedule is pure logic. It never reads a clock and never does I/O: every call takes
// `now_ms` (milliseconds since the epoch, from the caller's Clock). The caller's loop is:
//
//   schedule.Start(clock.NowMs(), store.LastSuccessMs(key));
//   loop:
//     wait until schedule.NextFetchMs()
//     if (!schedule.BeginAttempt(clock.NowMs())) continue;   // not due: never fetch
//     if (schedule.CredentialsReloadDue()) re-read the token file
//     send the request with schedule.ConditionalHeaders() added
//     schedule.OnSuccess(...) or schedule.OnFailure(...)
//
// Guarantees, whatever the inputs (headers, statuses, call times):
//   - BeginAttempt() is the only way to record an attempt, and it refuses when the target is
//     not due, so at most `max_requests_per_hour` attempts (retries included) fall in any
//     sliding hour of `now_ms` values passed to it.
//   - After a success, the next attempt is no sooner than `refresh_interval`.
//   - Nothing here reacts to downstream traffic: there is no "fetch now" method.
//
// Thread-safety: none. One Schedule belongs to one target and is used from that target's
// strand only.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "bridge/cache_headers.h"
#include "common/clock.h"

namespace sb::bridge {

struct ScheduleOptions {
  // Minimum time between a success and the next fetch. Default 60m, Scout's cache window.
  // Tests may set seconds. A non-positive value is treated as 1s.
  Duration refresh_interval = std::chrono::minutes(60);

  // When true, a response's own freshness lifetime (Cache-Control s-maxage / max-age minus
  // Age, or Expires) can lengthen the wait beyond refresh_interval; never shorten it.
  bool respect_cache_headers = true;

  // Hard cap on attempts (first tries and retries alike) in any sliding hour. Default 6.
  // Values below 1 are treated as 1.
  int max_requests_per_hour = 6;

  // Failure backoff with full jitter: after the n-th consecutive failure the wait is
  // uniform in [0, min(backoff_max, backoff_base * 2^(n-1))]. The defaults (10s, 15m) retry a
  // blip quickly and settle at a few tries an hour during an outage; the hourly budget
  // bounds the total either way.
  Duration backoff_base = std::chrono::seconds(10);
  Duration backoff_max = std::chrono::minutes(15);

  // Wait after a 401 or 403, before anything else is tried. The caller re-reads its
  // credentials before the next attempt (CredentialsReloadDue()).
  Duration auth_error_backoff = std::chrono::minutes(15);

  // Cap on waits taken from headers (cache lifetime and Retry-After), so that a broken or
  // hostile header cannot stall a target for days. Default 24h.
  Duration max_header_wait = std::chrono::hours(24);

  // The first fetch of a target after start is delayed by a deterministic offset in
  // [0, min(refresh_interval, max_start_offset)), derived from an FNV-1a hash of the target
  // key, so that many targets do not hit the upstream in the same second. Default 10s:
  // long enough to spread a start-up, short enough that a cold start has data quickly.
  Duration max_start_offset = std::chrono::seconds(10);
};

enum class TargetHealth { kUnknown, kUp, kDown, kAuthError };
std::string_view TargetHealthName(TargetHealth h);  // "unknown", "up", "down", "auth_error"

// Why NextFetchMs() is what it is (for logs and the status page).
enum class WaitReason {
  kNotStarted,     // Start() not called: never due
  kStartOffset,    // first fetch after start, deterministic offset
  kRefresh,        // refresh_interval after a success (or a stored success)
  kCacheLifetime,  // the response's freshness lifetime, longer than refresh_interval
  kBackoff,        // jittered exponential backoff after a failure
  kRetryAfter,     // the upstream's Retry-After, longer than the backoff
  kAuthError,      // auth_error_backoff after 401/403
  kBudget,         // max_requests_per_hour reached; waiting for the oldest attempt to age out
  kInFlight,       // an attempt has begun and not yet ended
};
std::string_view WaitReasonName(WaitReason r);  // "start_offset", "refresh", ...

// 64-bit FNV-1a of `data`. Stable across builds and platforms (unlike std::hash).
uint64_t Fnv1a64(std::string_view data);

// The deterministic start offset of `key`, in ms: Fnv1a64(key) mod
// min(refresh_interval, max_start_offset); 0 when that span is not positive.
int64_t StartOffsetMs(std::string_view key, const ScheduleOptions& options);

// The refresh interval to use when a Prometheus job's scrape_interval came with the
// config: a scrape_interval is a wish to fetch less often, never permission to fetch more
// often. Returns max(refresh_interval, scrape_interval).
Duration EffectiveRefreshInterval(Duration refresh_interval,
                                  std::optional<Duration> scrape_interval);

class Schedule {
 public:
  // `key` identifies the target (e.g. "scout/<org>"); it seeds the start offset.
  // `rng_seed` seeds the backoff jitter, so a test can replay it exactly.
  Schedule(std::string key, ScheduleOptions options, uint64_t rng_seed);

  // Begins scheduling at `now_ms`. `last_success_ms` is the time of the last successful fetch
  // kept in the store, if any (a warm restart). The first fetch is due at
  //   cold start: now + StartOffsetMs(key)
  //   warm start: max(last_success + refresh_interval, now + StartOffsetMs(key))
  // so stored data still fresh is not refetched, and a restart after a long outage does not
  // fire every target at once. A last_success_ms in the future is treated as now_ms.
  // Calling Start again recomputes the next fetch as above and ends any attempt in flight;
  // the attempt budget, health, failure count and validators are kept.
  void Start(int64_t now_ms, std::optional<int64_t> last_success_ms);

  // The earliest time the next attempt may begin, budget applied. INT64_MAX before Start()
  // and while an attempt is in flight.
  int64_t NextFetchMs() const;
  WaitReason next_fetch_reason() const;

  // Records an attempt beginning at `now_ms` and returns true if the target is due
  // (now_ms >= NextFetchMs()); otherwise records nothing and returns false. The caller must
  // not send a request unless this returned true. Every true must be followed by exactly one
  // OnSuccess or OnFailure.
  [[nodiscard]] bool BeginAttempt(int64_t now_ms);

  // Ends the attempt with a 2xx (not_modified = false) or a 304 (not_modified = true).
  // Both count as success: last_success_ms advances, the failure count resets, health is up.
  // A 200 replaces the remembered validators (ETag, Last-Modified) with its own; a 304 updates
  // those it carries. The next fetch is now + max(refresh_interval, cache lifetime capped at
  // max_header_wait), the cache lifetime counting only if respect_cache_headers.
  void OnSuccess(int64_t now_ms, const HeaderList& headers, bool not_modified);

  // Ends the attempt with a failure: `http_status` is the response status, or 0 for a
  // network error, timeout or unusable body. 401/403 mark the target kAuthError and wait
  // auth_error_backoff; anything else marks it kDown and waits the jittered backoff. Either
  // way a Retry-After header (capped at max_header_wait) makes the wait at least that long.
  void OnFailure(int64_t now_ms, int http_status, const HeaderList& headers);

  // If-None-Match and/or If-Modified-Since for the next request, from the last 200.
  // Values containing control characters, or longer than 1 KiB, are never remembered.
  HeaderList ConditionalHeaders() const;

  // True after a 401/403 until the next success: re-read credentials before the next attempt.
  bool CredentialsReloadDue() const { return credentials_reload_due_; }

  // Attempts that began in (now_ms - 1h, now_ms].
  int RequestsInLastHour(int64_t now_ms) const;

  // The begin times of the most recent attempts (ascending), and their restoration into a
  // new Schedule for the same target. A config reload that replaces a target carries its
  // attempts over, so a reload can never buy extra upstream requests. Call RestoreAttempts
  // before Start(); times are merged, sorted and trimmed to the budget.
  const std::vector<int64_t>& RecentAttemptsMs() const { return attempts_ms_; }
  void RestoreAttempts(const std::vector<int64_t>& attempts_ms);

  const std::string& key() const { return key_; }
  const ScheduleOptions& options() const { return options_; }
  TargetHealth health() const { return health_; }
  int consecutive_failures() const { return consecutive_failures_; }
  std::optional<int64_t> last_success_ms() const { return last_success_ms_; }
  std::optional<int64_t> last_attempt_ms() const { return last_attempt_ms_; }
  // Status of the last failure (0 = network error); nullopt when the last outcome succeeded.
  std::optional<int> last_failure_status() const { return last_failure_status_; }

 private:
  // Earliest time the budget allows a new attempt (INT64_MIN if it allows one now).
  int64_t BudgetFreeMs() const;
  // Sets due_ms_ = now_ms + wait_ms (saturating) with the given reason.
  void SetDue(int64_t now_ms, int64_t wait_ms, WaitReason reason);

  const std::string key_;
  ScheduleOptions options_;
  std::mt19937_64 rng_;

  bool started_ = false;
  bool in_flight_ = false;
  int64_t due_ms_ = 0;
  WaitReason due_reason_ = WaitReason::kNotStarted;

  // Begin times of the most recent attempts, ascending; at most max_requests_per_hour kept
  // (only those can decide whether another attempt fits in the hour).
  std::vector<int64_t> attempts_ms_;

  TargetHealth health_ = TargetHealth::kUnknown;
  int consecutive_failures_ = 0;
  bool credentials_reload_due_ = false;
  std::optional<int64_t> last_success_ms_;
  std::optional<int64_t> last_attempt_ms_;
  std::optional<int> last_failure_status_;
  std::string etag_;
  std::string last_modified_;
};

}  // namespace sb::bridge
