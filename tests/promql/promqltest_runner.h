// A runner for Prometheus's promqltest script format (the .test files of
// prometheus/promql/promqltest/testdata), loading data through storage::Store and
// evaluating through promql::Engine.
//
// Supported commands: `load <interval>` (series notation: `a{b="c"} 0+10x100 _ stale 1x3
// _x2 -1-1x3`), `load_with_nhcb` (loaded as plain floats), `clear`, `eval instant at <t>
// <expr>`, `eval range from <s> to <e> step <d> <expr>`, the legacy `eval_fail`,
// `eval_ordered`, `eval_warn`, `eval_info` forms, and the directives `expect fail [msg:
// ...|regex: ...]`, `expect ordered`, `expect string "..."`, `expect range vector from <s>
// to <e> step <d>`, `expect warn [msg: ...]` and `expect no_warn` (checked against
// QueryResult::warnings). `expect info|no_info` are accepted and not checked (the engine
// produces no info annotations).
//
// An expected failure passes when the engine returns any error (the message is not
// compared: promql-lite's messages differ in places).
//
// Evals that need out-of-scope features are skipped with a reason: native histograms
// (histogram samples in a load, `{{` in expectations), info(), histogram_* and
// experimental functions, limitk/limit_ratio. Whole files are skipped for experimental
// syntax (see SkippedFileReason).
//
// Values compare as promqltest does: relative tolerance 1e-6, NaN equals NaN.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sb::promqltest {

struct RunnerOptions {
  // Directory for the per-`clear` SQLite stores. Required.
  std::string work_dir;
};

struct FileReport {
  std::string name;
  int passed = 0;
  int failed = 0;
  int skipped = 0;
  std::vector<std::string> failures;      // "line N: <eval>: <why>"
  std::vector<std::string> skip_reasons;  // one per skipped eval
};

// Why a whole file is skipped (experimental syntax), or "" to run it.
std::string SkippedFileReason(std::string_view file_name);

// Runs one script. Errors (Status) only for runner problems such as an unusable work
// directory; script and engine problems are failures in the report.
Result<FileReport> RunScript(std::string_view name, std::string_view content,
                             const RunnerOptions& options);

}  // namespace sb::promqltest
