// A hand-written parser for the Prometheus text exposition format 0.0.4 and for OpenMetrics
// 1.0 text, producing an sb::expo::Exposition.
//
// It is lenient the way Prometheus's scraper is, not a strict validator: blank lines, extra
// spaces and tabs, trailing whitespace, CRLF line ends and unknown comments are accepted.
// Prometheus 3's quoted UTF-8 names are accepted (`{"my.metric", "label.x"="v"} 1` and
// `"my.metric"{a="b"} 1`, also in HELP/TYPE lines). OpenMetrics exemplars are skipped.
//
// What is rejected, as Prometheus rejects it: a sample without a value, an invalid float
// or timestamp, unterminated quotes, unknown escapes in label values and quoted names,
// duplicate label names, an unknown TYPE, in text 0.0.4 a second TYPE line for one name or a
// TYPE line after samples of that name, and in OpenMetrics a body without `# EOF` or with
// data after it.
//
// Family grouping. A HELP/TYPE/UNIT line opens a family unless it completes the one just
// opened for the same name. A sample joins the current family when its name fits the
// family's type (family `foo`: counter foo_total/foo_created, histogram
// foo_bucket/_sum/_count/_created, gaugehistogram also _gsum/_gcount, summary foo,
// foo_sum/_count/_created, info foo_info, and always `foo` itself); otherwise it opens a
// family of type kUnknown named after the sample, which consecutive samples of that same
// name then share.
//
// Values: any float syntax Go's strconv.ParseFloat accepts for Prometheus (NaN, +Inf, -Inf,
// Inf, 1e3, +1.5, hex floats), converted locale-independently. Timestamps: text 0.0.4 takes
// integer milliseconds; OpenMetrics takes float seconds, rounded to the nearest millisecond
// (Prometheus truncates, which turns 1234.567 into 1234566 ms; we keep 1234567).
//
// Errors are Status::InvalidArgument with a message "line:col: what went wrong" (1-based,
// the column counts bytes).
//
// Thread-safety: free functions with no shared state.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>

#include "common/exposition/model.h"
#include "common/status.h"

namespace sb::expo {

struct ParseOptions {
  // Most samples accepted in one body; more is an error. The default allows ~40x the
  // largest Scout org body we have seen (100k series) while bounding memory to a few GB.
  size_t max_samples = 5'000'000;
  // Most labels on one sample (not counting the metric name). Prometheus defaults to no
  // limit; 256 is far above any real exporter and stops pathological lines early.
  size_t max_label_count = 256;
  // Longest line in bytes, excluding the line end. Bounds the cost of one malformed line.
  size_t max_line_bytes = 1 << 20;
  // When set, each sample goes to this callback as soon as it is parsed and is not kept: the
  // result then has every family with its HELP/TYPE/UNIT and no samples, so memory does not
  // grow with the number of samples. The Sample is valid only during the call. A non-OK
  // status stops the parse and is returned as is. Errors found later in the body still fail
  // the parse, after earlier samples were handed over.
  std::function<Status(const Sample&)> on_sample;
};

// Parses a whole body. On success every sample is in exactly one family, in body order.
// Errors: InvalidArgument "line:col: ..." for malformed input or an exceeded limit.
Result<Exposition> ParseExposition(std::string_view body, Format format,
                                   const ParseOptions& opts = {});

// Parses a body that arrives in pieces (e.g. as it is decompressed, common/gzip.h's
// GzipDecompressStream), never holding it whole: the result and the errors (line and column
// included) are those ParseExposition gives for the concatenated pieces. A line may be split
// across pieces; only such a split line is copied.
//
//   StreamParser p(Format::kText004, opts);
//   SB_RETURN_IF_ERROR(p.Feed(piece));  // for each piece, in order
//   SB_ASSIGN_OR_RETURN(Exposition e, p.Finish());
//
// After an error every later call returns that error.
class StreamParser {
 public:
  StreamParser(Format format, const ParseOptions& opts = {});
  ~StreamParser();
  StreamParser(const StreamParser&) = delete;
  StreamParser& operator=(const StreamParser&) = delete;
  Status Feed(std::string_view piece);
  Result<Exposition> Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Picks the format the way Prometheus does: a media type of "application/openmetrics-text"
// (any parameters, any case) means OpenMetrics; anything else, including an empty or
// missing header, means text 0.0.4.
Format FormatFromContentType(std::string_view content_type);

}  // namespace sb::expo
