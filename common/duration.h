// Prometheus duration syntax: a sequence of <number><unit> with units y, w, d, h, m, s, ms in
// decreasing order, e.g. "90s", "1h30m", "500ms". "0" alone is accepted as zero.
#pragma once

#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"

namespace sb {

// Parses a Prometheus duration. Errors name the offending text.
Result<Duration> ParseDuration(std::string_view text);

// Formats as Prometheus does: "1h30m", "90s" -> "1m30s", "0s" for zero.
std::string FormatDuration(Duration d);

}  // namespace sb
