// Tools for people over a store file: `scout-bridge tsdb analyze` (what is in the store and
// what it costs on disk) and `scout-bridge tsdb dump` (samples as text, promtool-style),
// plus the parsers their flags need (series selectors, RFC 3339 / unix-second times).
//
// Analyze opens the database file read-only (its own connection; it never creates,
// migrates or writes, so it is safe next to a running bridge in WAL mode). Dump reads
// through an open Store.
//
// Thread-safety: free functions; safe from any thread (the Store's readers are).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "storage/postings.h"
#include "storage/store.h"

namespace sb::storage {

// Cardinality of one label name.
struct LabelNameStats {
  std::string name;
  int64_t distinct_values = 0;  // number of different values of this name
  int64_t series = 0;           // number of series that carry the label
};

// What `tsdb analyze` prints.
struct AnalyzeReport {
  std::string path;
  int64_t series = 0;
  // Samples in chunk rows (sum of chunks.num_samples) plus pending_samples; stale markers
  // count as samples.
  int64_t samples = 0;
  // Fetches committed to the head log (head_log rows) not yet flushed into chunk rows, and
  // their samples that no chunk row holds yet (storage/head_log.h).
  int64_t pending_fetches = 0;
  int64_t pending_samples = 0;
  int64_t chunks = 0;
  int64_t chunk_bytes = 0;    // sum of the chunk blobs' lengths (the XOR payload)
  int64_t min_time_ms = 0;    // first and last sample over all chunks; 0 if no samples
  int64_t max_time_ms = 0;
  int64_t targets = 0;
  int64_t fetches = 0;        // sum of fetches.num_fetches
  // page_count * page_size as the reading connection sees it (WAL frames included): the
  // size the database takes once checkpointed, SQLite's overhead included.
  int64_t db_bytes = 0;
  int64_t wal_file_bytes = 0;  // size of the "-wal" file next to it; 0 if absent
  double bytes_per_sample = 0;  // db_bytes / samples; 0 if no samples
  // Every label name, by distinct_values descending, then name ascending.
  std::vector<LabelNameStats> label_names;
};

// Analyzes the store database at `db_path` (e.g. "data/bridge.db").
// Errors: NotFound "no store at <path>" if the file does not exist; Unimplemented /
// InvalidArgument for a schema version this binary cannot read (see PrepareReader);
// Corruption for a series row whose labels do not decode; IOError from SQLite.
Result<AnalyzeReport> Analyze(const std::string& db_path);

// Renders the report for people; the top `top_label_names` label names by cardinality.
std::string FormatAnalyze(const AnalyzeReport& report, size_t top_label_names = 10);

// Parses a Prometheus series selector: `metric`, `metric{...}` or `{...}`, where `...` is a
// comma-separated list (a trailing comma is allowed) of `name OP "value"` with OP one of
// =, !=, =~, !~. Values are double- or single-quoted with Go-style escapes (\" \' \\ \n
// \t \r). A metric name becomes a __name__ equality matcher.
// Errors: InvalidArgument "col N: what went wrong" (N 1-based, in bytes) for bad syntax,
// for an invalid regex, and for a selector with no matcher at all (`{}`); as Prometheus,
// a selector whose matchers all match the empty string is refused too.
Result<std::vector<Matcher>> ParseSelector(std::string_view text);

// Parses a time flag: RFC 3339 ("2023-11-14T22:13:20Z", fractional seconds and a
// "+hh:mm" offset allowed) or unix seconds (fractional allowed), into milliseconds.
// Errors: InvalidArgument naming the text.
Result<int64_t> ParseTimeFlag(std::string_view text);

// Formats a sample value as Go's %g does (promtool's dump): the shortest digits that
// round-trip, in exponent form ("1.5e+06") when the decimal exponent is < -4 or >= 6,
// else plain ("0.001", "12"); "NaN", "+Inf", "-Inf".
std::string FormatDumpValue(double v);

// Writes every sample with start_ms <= t <= end_ms of the series matching any of the
// `selectors` (each a conjunction of matchers; an empty list of selectors selects every
// series), one line each as promtool's `tsdb dump`:
//   {__name__="x", a="b"} 12 1700000000000
// Series are ordered by their label sets, samples by time.
// Errors: from Store::Select and Store::Samples (Corruption naming the series and chunk).
Status Dump(Store& store, const std::vector<std::vector<Matcher>>& selectors,
            int64_t start_ms, int64_t end_ms, std::ostream& out);
// One selector.
Status Dump(Store& store, const std::vector<Matcher>& matchers, int64_t start_ms,
            int64_t end_ms, std::ostream& out);

}  // namespace sb::storage
