// `scout-bridge query`: evaluates one PromQL expression against the local store, with no
// server running, and prints the answer as promtool does (or as the API's JSON).
//
//   scout-bridge query [--storage.path=DIR] [--time=T] 'expr'                 instant
//   scout-bridge query [--storage.path=DIR] --start=S --end=E --step=D 'expr'  range
//       [--format=text|json] [--query.lookback-delta=D] [--query.timeout=D]
//       [--query.max-samples=N]
//
// T, S, E: RFC 3339 or unix seconds (as the API's time parameters); D: seconds or a
// Prometheus duration. --time defaults to now; a range query needs all three of --start,
// --end and --step. The store is DIR/bridge.db (DIR defaults to "data/"); it must exist.
// Text output, as `promtool query`:
//   vector   one line per series: `name{a="b", c="d"} => 1.5 @[1700000017.5]`
//   matrix   `name{...} =>` then one `value @[t]` line per point
//   scalar   `scalar: 1.5 @[1700000017]`;  string: the string itself
// JSON output is the "data" object of /api/v1/query(_range): {"resultType":...,"result":...}.
#pragma once

#include <iosfwd>
#include <string>

#include "common/status.h"
#include "promql-lite/value.h"

namespace sb::promql::api {

// Runs the command; argv[1] is "query". Returns the exit code: 0 on success, 1 when the
// query fails (the error goes to `err`, like promtool's "query error: bad_data: ..."),
// 2 on a usage error.
int QueryCommand(int argc, char** argv, std::ostream& out, std::ostream& err);

// The promtool-style text rendering of a query value (exposed for tests).
std::string FormatValueText(const Value& value);

}  // namespace sb::promql::api
