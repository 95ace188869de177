// HTTP dates (RFC 9110 IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT"), formatted without
// the C locale's help so that the output never depends on LC_TIME.
#pragma once

#include <cstdint>
#include <string>

namespace sb {

// Formats milliseconds since the epoch as an IMF-fixdate (seconds precision, truncated).
std::string FormatHttpDate(int64_t ms);

}  // namespace sb
