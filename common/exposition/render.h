// Renders an Exposition as Prometheus text 0.0.4 or OpenMetrics 1.0 text. Used once per
// upstream fetch to pre-render snapshot bodies, so it is written for speed: one reserved
// output string, std::to_chars for numbers, no per-sample temporaries.
//
// Output follows Prometheus's Go client (expfmt):
//   - Floats as Go's strconv.FormatFloat(v, 'g', -1, 64): shortest round-trip digits,
//     exponent form when the decimal exponent is < -4 or >= 6 (that is Go's rule for
//     shortest 'g'), e.g. 0.5, 123456, 1e+06, 1.5e-07, 1.234567e+09, NaN, +Inf, -Inf.
//     -0 renders "-0" (as strconv does; expfmt's writer prints "0", a zero either way).
//   - Label values escape \ " and newline; HELP escapes \ and newline (OpenMetrics also ").
//   - Names that are not legacy-valid ([a-zA-Z_:][a-zA-Z0-9_:]* for metrics,
//     [a-zA-Z_][a-zA-Z0-9_]* for labels) use Prometheus 3's quoted form:
//     {"my.metric","label.x"="v"} 1 and # TYPE "my.metric" gauge.
//   - A family with an empty help has no HELP line.
//
// Type mapping:
//   - Text 0.0.4 knows counter, gauge, histogram, summary, untyped. kUnknown, kInfo and
//     kStateSet render as "untyped"; kGaugeHistogram also renders as "untyped" (as a text
//     "histogram" its _gsum/_gcount samples and non-cumulative semantics would be wrong).
//     Such families keep their family name in HELP/TYPE and their sample names as is.
//   - OpenMetrics: TYPE lines use the family name. A counter family renders as counter
//     only if every sample is <base>_total or <base>_created (base = family name without a
//     trailing _total); otherwise it renders as "unknown", so sample names stay unchanged.
//     kUnknown is "unknown". The body ends with "# EOF\n".
//
// Thread-safety: pure functions of their arguments.
#pragma once

#include <string>

#include "common/exposition/model.h"

namespace sb::expo {

struct RenderOptions {
  // Append each sample's upstream timestamp (text: integer ms; OpenMetrics: seconds with
  // millisecond precision). Default false: the fast endpoint serves values without
  // timestamps so that the scraping Prometheus stamps them itself.
  bool with_timestamps = false;
};

std::string RenderText004(const Exposition& exp, const RenderOptions& opts = {});
std::string RenderOpenMetrics(const Exposition& exp, const RenderOptions& opts = {});

// Appends `v` formatted as Go's strconv.FormatFloat(v, format, -1, 64), with Prometheus's
// spellings NaN, +Inf and -Inf. `format` is 'g' (the exposition formats' choice; see
// above), 'e' (always exponent form, e.g. 1.5e-07) or 'f' (always positional, zero-padded,
// e.g. 0.00000015, 10000000000000000000000). All use the shortest round-trip digits.
// Exposed for tests and for other renderers (the Prometheus HTTP API's JSON).
// REQUIRES: format is 'g', 'e' or 'f'.
void AppendGoFloat(std::string* out, double v, char format = 'g');

}  // namespace sb::expo
