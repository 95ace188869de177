// HTTP caching headers, read the way a polite shared cache reads them (RFC 9110, RFC 9111):
// HTTP-dates, Cache-Control directives, the remaining freshness lifetime of a response, and
// Retry-After. The scheduler (bridge/schedule.h) turns these into "when may we ask again".
//
// Everything here is pure: no I/O, no clock reads; "now" is always a parameter. Malformed
// values are ignored (treated as absent), never an error: a broken header must not stop a
// target, and it must not make the bridge fetch more often than its refresh interval, which
// the scheduler enforces independently of anything parsed here.
//
// Thread-safety: free functions over values; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sb::bridge {

// Response headers as (name, value) pairs in arrival order. Names are matched
// case-insensitively; a name may repeat.
using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Returns the value of the first header called `name` (case-insensitive), with surrounding
// spaces and tabs trimmed, or nullopt if there is none. The view points into `headers`.
std::optional<std::string_view> FindHeader(const HeaderList& headers, std::string_view name);

// Parses an HTTP-date in any of the three formats RFC 9110 section 5.6.7 requires recipients
// to accept, and returns milliseconds since the Unix epoch (UTC):
//   IMF-fixdate  "Sun, 06 Nov 1994 08:49:37 GMT"
//   RFC 850      "Sunday, 06-Nov-94 08:49:37 GMT"  (two-digit year: 70..99 -> 19xx, else 20xx)
//   asctime      "Sun Nov  6 08:49:37 1994"
// Surrounding whitespace is ignored. Returns nullopt for anything else, including an invalid
// calendar date (e.g. 31 Feb), a bad weekday name, or a zone other than GMT. The weekday is
// checked for spelling only, not against the date. Second 60 (leap second) is accepted.
std::optional<int64_t> ParseHttpDate(std::string_view text);

// The Cache-Control directives that matter to a shared cache deciding how long a response
// stays fresh. Each field is absent/false when the directive is absent or malformed.
struct CacheDirectives {
  std::optional<int64_t> max_age_s;   // max-age=N
  std::optional<int64_t> s_maxage_s;  // s-maxage=N (shared caches; wins over max-age)
  bool no_store = false;              // no-store
  bool no_cache = false;              // no-cache, with or without a field-name list
};

// Parses a Cache-Control field value ("max-age=60, public"). Directive names are
// case-insensitive; values may be tokens or quoted strings. Delta-seconds must be all digits
// (no sign); a value too large to represent is clamped to 2147483648 (RFC 9111 1.2.2).
// If a directive repeats, its first valid occurrence wins. Unknown directives are ignored.
CacheDirectives ParseCacheControl(std::string_view value);

// Remaining freshness lifetime of a response received at `now_ms`, in milliseconds (>= 0),
// or nullopt when the response announces no lifetime. Rules, in order:
//   - no-store or no-cache anywhere in Cache-Control: nullopt (no lifetime beyond ours).
//   - lifetime = s-maxage if present, else max-age, else Expires - Date; when Date is absent
//     or malformed, Expires - now. A malformed Expires counts as absent.
//   - remaining = lifetime - Age (the Age header, seconds; malformed counts as 0),
//     clamped at 0.
// All Cache-Control header lines are combined, as RFC 9110 5.3 allows. For Expires, Date
// and Age the first occurrence is used. The apparent age (now - Date) is deliberately not
// used, so a skewed server clock cannot shorten or stretch the lifetime.
std::optional<int64_t> RemainingFreshnessMs(const HeaderList& headers, int64_t now_ms);

// Parses a Retry-After value: delta-seconds ("120") or an HTTP-date. Returns the delay from
// `now_ms` in milliseconds, >= 0 (a date in the past gives 0), or nullopt if malformed.
// Huge delta-seconds are clamped to 2147483648 s; callers cap the wait further.
std::optional<int64_t> ParseRetryAfterMs(std::string_view value, int64_t now_ms);

}  // namespace sb::bridge
