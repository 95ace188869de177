// JSON encoding of the Prometheus HTTP API, byte for byte as Prometheus 2.42 writes it where
// clients (Grafana, promtool, client_golang) read it:
//
//   {"status":"success","data":{"resultType":"vector","result":[
//     {"metric":{"__name__":"up","job":"x"},"value":[1700000017.5,"1"]}]},"warnings":["..."]}
//   {"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": ..."}
//
// Sample values are strings formatted like Go's strconv.FormatFloat(v, 'f', -1, 64), with
// 'e' for |v| < 1e-6 or >= 1e21 ("1e-07", "1e+22"), and "NaN", "+Inf", "-Inf". Timestamps
// are seconds with the milliseconds kept as three digits when non-zero ("1435781451.780";
// Prometheus's jsonutil.MarshalTimestamp). Strings are escaped as Go's encoding/json does
// (HTML-safe: <, > and & as \u003c..., invalid UTF-8 as \ufffd).
//
// The encoders append to a std::string: a range query result is written once, with no
// intermediate JSON tree.
//
// Thread-safety: free functions; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/exposition/render.h"
#include "promql-lite/value.h"
#include "storage/series.h"

namespace sb::promql::api {

// Go's errorType strings, and the HTTP status Prometheus answers each with.
enum class ErrorType { kBadData, kExecution, kTimeout, kCanceled, kInternal, kNotFound };
const char* ErrorTypeName(ErrorType type);
int ErrorHttpStatus(ErrorType type);

// Appends Go's strconv.FormatFloat(v, format, -1, 64) for format 'f' or 'e', with Go's
// "NaN", "+Inf", "-Inf" (the exposition renderer's implementation, shared).
using expo::AppendGoFloat;
// Appends `v` as Prometheus's MarshalValue writes it, without the quotes.
void AppendSampleValue(std::string* out, double v);
// Appends a timestamp (ms) as float seconds (MarshalTimestamp).
void AppendTimestamp(std::string* out, int64_t t_ms);
// Appends `s` as a quoted JSON string (Go encoding/json escaping).
void AppendJsonString(std::string* out, std::string_view s);
// Appends {"name":"value",...} in the given (canonical, sorted) order.
void AppendLabels(std::string* out, const storage::Labels& labels);

// The "data" object of a query answer: {"resultType":"...","result":...}.
void AppendQueryData(std::string* out, const Value& value);

// Whole bodies.
// {"status":"success","data":<data_json>[,"warnings":[...]]}
std::string SuccessBody(std::string_view data_json, const std::vector<std::string>& warnings = {});
// {"status":"error","errorType":"...","error":"..."}
std::string ErrorBody(ErrorType type, std::string_view message);
// A JSON array of strings (label names, label values).
std::string StringArray(const std::vector<std::string>& values);

}  // namespace sb::promql::api
