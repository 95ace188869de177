// Parser of `docker scout recommendations` text reports (what `--output FILE` writes, or a
// copy of the terminal). It reads every layout Scout has printed (current, no Target block,
// the 1.0.x "Recommended fixes for image X" layout) and the ways terminals mangle them: box
// characters or the DEC line-drawing letters (x q n ~), CRLF line ends, "v" for "✓", blank
// lines between table rows, garbled redraws with duplicated rows, wrapped notes with or
// without the "│" margin, and a table row wrapped past the terminal edge.
//
// The parser works line by line, so an empty field never swallows the next line. Table rows
// are cut at the separators; the printed deltas are placed into severity columns by their
// position under the counts.
//
// Thread-safety: free functions without shared state.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"
#include "recommendations/report.h"

namespace sb::recommendations {

// Inputs larger than this are refused before anything is parsed.
inline constexpr size_t kMaxReportBytes = 16u << 20;

// Parses one report. `file` names the input in errors ("reports/app.txt").
// Returns:
//  - the Report;
//  - NotFound("<file>: not a recommendations report: <why>") when the input is no report
//    at all (empty, binary, no "Base image is" line): callers skip such files with one
//    debug line;
//  - ResourceExhausted when text.size() > kMaxReportBytes;
//  - InvalidArgument("<file>:<line>[:<col>]: <what>") for invalid UTF-8 and for a malformed
//    or truncated report (a table row with missing columns, a recommendation cut off before
//    its "Image details").
Result<Report> ParseReport(std::string_view text, std::string_view file);

}  // namespace sb::recommendations
