// Request parameters of the Prometheus HTTP API, read and parsed exactly as Prometheus 2.42
// reads them (web/api/v1/api.go), so that clients get the same answers and the same errors.
//
// Form: the parameters of one request, merged like Go's http.Request.ParseForm: the
// application/x-www-form-urlencoded body of a POST first, then the URL's query string.
// Value(name) is Go's r.FormValue (the first value, body before URL); Values(name) is
// r.Form[name] (all of them, body first). Grafana POSTs its queries; promtool and curl GET.
//
// Times are int64 milliseconds since the epoch; durations are int64 nanoseconds here (Go's
// time.Duration), because that is where Prometheus does its step checks.
//
// Thread-safety: values and free functions; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace sb::promql::api {

// Prometheus's MinTime/MaxTime (the defaults of start/end for series and label queries),
// in milliseconds, and their RFC 3339 spellings, which ParseTime accepts.
inline constexpr int64_t kMinTimeMs = (INT64_MIN / 1000 + 62135596801LL) * 1000;
inline constexpr int64_t kMaxTimeMs = (INT64_MAX / 1000 - 62135596801LL) * 1000 + 999;
inline constexpr std::string_view kMinTimeFormatted = "-292273086-05-16T16:47:06Z";
inline constexpr std::string_view kMaxTimeFormatted = "292277025-08-18T07:12:54.999999999Z";

class Form {
 public:
  // Decodes `query` (the part after '?', may be empty) and `body` (decoded only when
  // `form_body` is true: a POST with Content-Type application/x-www-form-urlencoded).
  // Errors: InvalidArgument naming the bad escape (e.g. "invalid URL escape \"%zz\"").
  // Go's ParseForm also rejects these; Prometheus answers 400 bad_data.
  static Result<Form> Parse(std::string_view query, std::string_view body, bool form_body);

  // The first value of `name`, "" if absent.
  std::string Value(std::string_view name) const;
  // Every value of `name`, in order.
  std::vector<std::string> Values(std::string_view name) const;
  bool Has(std::string_view name) const;

 private:
  std::vector<std::pair<std::string, std::string>> pairs_;  // body pairs first
};

// Decodes one application/x-www-form-urlencoded component ('+' is a space, %XX a byte).
// Errors: InvalidArgument for a malformed escape.
Result<std::string> UnescapeQueryComponent(std::string_view s);

// Go's parseTime: a float of unix seconds (rounded to the millisecond), or RFC 3339 with
// optional fractional seconds, or the MinTime/MaxTime spellings above.
// Errors: InvalidArgument `cannot parse "<s>" to a valid timestamp`.
Result<int64_t> ParseTime(std::string_view s);

// Go's parseDuration: a float of seconds, or a Prometheus duration ("1h", "5m30s").
// Returns nanoseconds. Errors: InvalidArgument `cannot parse "<s>" to a valid duration`
// (or "... It overflows int64").
Result<int64_t> ParseDurationNs(std::string_view s);

// parseTimeParam: `default_ms` when the parameter is absent or empty, else ParseTime.
// Errors: `invalid parameter "<name>": Invalid time value for '<name>': cannot parse ...`,
// as Prometheus words it.
Result<int64_t> TimeParam(const Form& form, std::string_view name, int64_t default_ms);

// Wraps an error message as Prometheus's invalidParamError does:
// `invalid parameter "<name>": <message>`.
std::string InvalidParam(std::string_view name, std::string_view message);

}  // namespace sb::promql::api
