#include "bridge/schedule.h"

#include <algorithm>
#include <limits>
#include <utility>

namespace sb::bridge {
namespace {

constexpr int64_t kHourMs = 3'600'000;
constexpr int64_t kMaxInt64 = std::numeric_limits<int64_t>::max();
constexpr int64_t kMinInt64 = std::numeric_limits<int64_t>::min();
constexpr size_t kMaxValidatorBytes = 1024;

int64_t NonNegativeMs(Duration d) { return d.count() > 0 ? d.count() : 0; }

int64_t RefreshMs(const ScheduleOptions& o) {
  return o.refresh_interval.count() > 0 ? o.refresh_interval.count() : 1000;
}

size_t Budget(const ScheduleOptions& o) {
  return static_cast<size_t>(std::max(1, o.max_requests_per_hour));
}

int64_t SaturatingAdd(int64_t a, int64_t b) {  // REQUIRES: b >= 0
  return a > kMaxInt64 - b ? kMaxInt64 : a + b;
}

// A validator is echoed back in a request header, so it must be a plain, bounded value:
// no control characters (no header injection), at most 1 KiB. Otherwise it is dropped.
std::string CleanValidator(std::optional<std::string_view> v) {
  if (!v || v->empty() || v->size() > kMaxValidatorBytes) return "";
  for (char c : *v) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return "";
  }
  return std::string(*v);
}

}  // namespace

std::string_view TargetHealthName(TargetHealth h) {
  switch (h) {
    case TargetHealth::kUnknown: return "unknown";
    case TargetHealth::kUp: return "up";
    case TargetHealth::kDown: return "down";
    case TargetHealth::kAuthError: return "auth_error";
  }
  return "unknown";
}

std::string_view WaitReasonName(WaitReason r) {
  switch (r) {
    case WaitReason::kNotStarted: return "not_started";
    case WaitReason::kStartOffset: return "start_offset";
    case WaitReason::kRefresh: return "refresh";
    case WaitReason::kCacheLifetime: return "cache_lifetime";
    case WaitReason::kBackoff: return "backoff";
    case WaitReason::kRetryAfter: return "retry_after";
    case WaitReason::kAuthError: return "auth_error";
    case WaitReason::kBudget: return "budget";
    case WaitReason::kInFlight: return "in_flight";
  }
  return "unknown";
}

uint64_t Fnv1a64(std::string_view data) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV offset basis
  for (char c : data) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;  // FNV prime
  }
  return h;
}

int64_t StartOffsetMs(std::string_view key, const ScheduleOptions& options) {
  const int64_t span = std::min(RefreshMs(options), NonNegativeMs(options.max_start_offset));
  if (span <= 0) return 0;
  return static_cast<int64_t>(Fnv1a64(key) % static_cast<uint64_t>(span));
}

Duration EffectiveRefreshInterval(Duration refresh_interval,
                                  std::optional<Duration> scrape_interval) {
  if (!scrape_interval) return refresh_interval;
  return std::max(refresh_interval, *scrape_interval);
}

Schedule::Schedule(std::string key, ScheduleOptions options, uint64_t rng_seed)
    : key_(std::move(key)), options_(std::move(options)), rng_(rng_seed) {}

void Schedule::Start(int64_t now_ms, std::optional<int64_t> last_success_ms) {
  started_ = true;
  in_flight_ = false;
  if (last_success_ms) {
    const int64_t stored = std::min(*last_success_ms, now_ms);
    last_success_ms_ = std::max(stored, last_success_ms_.value_or(stored));
  }
  const int64_t offset_due = SaturatingAdd(now_ms, StartOffsetMs(key_, options_));
  if (last_success_ms_) {
    const int64_t refresh_due = SaturatingAdd(*last_success_ms_, RefreshMs(options_));
    if (refresh_due >= offset_due) {
      due_ms_ = refresh_due;
      due_reason_ = WaitReason::kRefresh;
      return;
    }
  }
  due_ms_ = offset_due;
  due_reason_ = WaitReason::kStartOffset;
}

int64_t Schedule::BudgetFreeMs() const {
  const size_t budget = Budget(options_);
  if (attempts_ms_.size() < budget) return kMinInt64;
  // Attempts are ascending and at most `budget` are kept, so this is the oldest one that
  // would still be in the window; a new attempt fits once it has aged out.
  return SaturatingAdd(attempts_ms_[attempts_ms_.size() - budget], kHourMs);
}

int64_t Schedule::NextFetchMs() const {
  if (!started_ || in_flight_) return kMaxInt64;
  return std::max(due_ms_, BudgetFreeMs());
}

WaitReason Schedule::next_fetch_reason() const {
  if (!started_) return WaitReason::kNotStarted;
  if (in_flight_) return WaitReason::kInFlight;
  if (BudgetFreeMs() > due_ms_) return WaitReason::kBudget;
  return due_reason_;
}

bool Schedule::BeginAttempt(int64_t now_ms) {
  if (now_ms < NextFetchMs()) return false;
  attempts_ms_.insert(std::upper_bound(attempts_ms_.begin(), attempts_ms_.end(), now_ms),
                      now_ms);
  const size_t budget = Budget(options_);
  if (attempts_ms_.size() > budget) {
    attempts_ms_.erase(attempts_ms_.begin(),
                       attempts_ms_.begin() + static_cast<ptrdiff_t>(attempts_ms_.size() - budget));
  }
  in_flight_ = true;
  last_attempt_ms_ = now_ms;
  return true;
}

void Schedule::SetDue(int64_t now_ms, int64_t wait_ms, WaitReason reason) {
  due_ms_ = SaturatingAdd(now_ms, std::max<int64_t>(wait_ms, 0));
  due_reason_ = reason;
}

void Schedule::OnSuccess(int64_t now_ms, const HeaderList& headers, bool not_modified) {
  in_flight_ = false;
  last_success_ms_ = now_ms;
  consecutive_failures_ = 0;
  health_ = TargetHealth::kUp;
  credentials_reload_due_ = false;
  last_failure_status_.reset();

  std::string etag = CleanValidator(FindHeader(headers, "etag"));
  std::string last_modified = CleanValidator(FindHeader(headers, "last-modified"));
  if (!not_modified || !etag.empty()) etag_ = std::move(etag);
  if (!not_modified || !last_modified.empty()) last_modified_ = std::move(last_modified);

  const int64_t refresh_ms = RefreshMs(options_);
  int64_t wait_ms = refresh_ms;
  WaitReason reason = WaitReason::kRefresh;
  if (options_.respect_cache_headers) {
    if (std::optional<int64_t> fresh_ms = RemainingFreshnessMs(headers, now_ms)) {
      const int64_t capped = std::min(*fresh_ms, NonNegativeMs(options_.max_header_wait));
      if (capped > refresh_ms) {
        wait_ms = capped;
        reason = WaitReason::kCacheLifetime;
      }
    }
  }
  SetDue(now_ms, wait_ms, reason);
}

void Schedule::OnFailure(int64_t now_ms, int http_status, const HeaderList& headers) {
  in_flight_ = false;
  if (consecutive_failures_ < std::numeric_limits<int>::max()) ++consecutive_failures_;
  last_failure_status_ = http_status;

  int64_t wait_ms = 0;
  WaitReason reason;
  if (http_status == 401 || http_status == 403) {
    health_ = TargetHealth::kAuthError;
    credentials_reload_due_ = true;
    wait_ms = NonNegativeMs(options_.auth_error_backoff);
    reason = WaitReason::kAuthError;
  } else {
    health_ = TargetHealth::kDown;
    // Full jitter: uniform in [0, min(max, base * 2^(n-1))], doubling without overflow.
    const int64_t max_ms = NonNegativeMs(options_.backoff_max);
    int64_t cap_ms = std::min(NonNegativeMs(options_.backoff_base), max_ms);
    for (int i = 1; i < consecutive_failures_ && cap_ms < max_ms; ++i) {
      cap_ms = cap_ms > max_ms / 2 ? max_ms : cap_ms * 2;
    }
    wait_ms = std::uniform_int_distribution<int64_t>(0, cap_ms)(rng_);
    reason = WaitReason::kBackoff;
  }
  if (auto value = FindHeader(headers, "retry-after")) {
    if (std::optional<int64_t> ra_ms = ParseRetryAfterMs(*value, now_ms)) {
      const int64_t capped = std::min(*ra_ms, NonNegativeMs(options_.max_header_wait));
      if (capped > wait_ms) {
        wait_ms = capped;
        reason = WaitReason::kRetryAfter;
      }
    }
  }
  SetDue(now_ms, wait_ms, reason);
}

HeaderList Schedule::ConditionalHeaders() const {
  HeaderList out;
  if (!etag_.empty()) out.emplace_back("If-None-Match", etag_);
  if (!last_modified_.empty()) out.emplace_back("If-Modified-Since", last_modified_);
  return out;
}

void Schedule::RestoreAttempts(const std::vector<int64_t>& attempts_ms) {
  attempts_ms_.insert(attempts_ms_.end(), attempts_ms.begin(), attempts_ms.end());
  std::sort(attempts_ms_.begin(), attempts_ms_.end());
  const size_t budget = Budget(options_);
  if (attempts_ms_.size() > budget) {
    attempts_ms_.erase(attempts_ms_.begin(),
                       attempts_ms_.begin() + static_cast<ptrdiff_t>(attempts_ms_.size() - budget));
  }
}

int Schedule::RequestsInLastHour(int64_t now_ms) const {
  int n = 0;
  for (int64_t t : attempts_ms_) {
    if (t <= now_ms && now_ms - t < kHourMs) ++n;
  }
  return n;
}

}  // namespace sb::bridge
