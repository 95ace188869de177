// Character classes of legacy (unquoted) metric and label names, as a table: the parser's
// and the renderer's hot loops test one byte with one load. Internal to common/exposition.
#pragma once

#include <cstdint>

namespace sb::expo::internal {

inline constexpr uint8_t kMetricStart = 1, kMetricChar = 2, kLabelStart = 4, kLabelChar = 8;

struct NameCharTable {
  uint8_t t[256] = {};
  constexpr NameCharTable() {
    for (int c = 0; c < 256; ++c) {
      const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
      const bool digit = c >= '0' && c <= '9';
      t[c] = (alpha || c == ':' ? kMetricStart : 0) | (alpha || digit || c == ':' ? kMetricChar : 0) |
             (alpha ? kLabelStart : 0) | (alpha || digit ? kLabelChar : 0);
    }
  }
};
inline constexpr NameCharTable kNameChars;

// True if byte c is in class `cls` (one of the constants above, or several or-ed).
inline bool IsNameChar(char c, uint8_t cls) { return kNameChars.t[static_cast<uint8_t>(c)] & cls; }

}  // namespace sb::expo::internal
