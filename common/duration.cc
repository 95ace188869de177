#include "common/duration.h"

#include <cctype>
#include <cstdint>
#include <limits>

namespace sb {

Result<Duration> ParseDuration(std::string_view text) {
  if (text == "0") return Duration(0);
  if (text.empty()) return Status::InvalidArgument("empty duration string");
  struct Unit { std::string_view name; int64_t ms; };
  static constexpr Unit kUnits[] = {{"y", 365LL * 24 * 3600 * 1000}, {"w", 7LL * 24 * 3600 * 1000},
                                    {"d", 24LL * 3600 * 1000},      {"h", 3600LL * 1000},
                                    {"m", 60LL * 1000},             {"s", 1000},
                                    {"ms", 1}};
  int64_t total = 0;
  size_t i = 0;
  int last_unit = -1;
  while (i < text.size()) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) {
      return Status::InvalidArgument("not a valid duration string: \"" + std::string(text) + "\"");
    }
    int64_t n = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      if (n > std::numeric_limits<int64_t>::max() / 10) {
        return Status::InvalidArgument("duration out of range: \"" + std::string(text) + "\"");
      }
      n = n * 10 + (text[i] - '0');
      ++i;
    }
    size_t j = i;
    while (j < text.size() && std::isalpha(static_cast<unsigned char>(text[j]))) ++j;
    std::string_view unit = text.substr(i, j - i);
    int found = -1;
    for (int u = 0; u < 7; ++u) {
      if (kUnits[u].name == unit) found = u;
    }
    if (found < 0 || found <= last_unit) {
      return Status::InvalidArgument("not a valid duration string: \"" + std::string(text) + "\"");
    }
    last_unit = found;
    if (n > std::numeric_limits<int64_t>::max() / kUnits[found].ms ||
        total > std::numeric_limits<int64_t>::max() - n * kUnits[found].ms) {
      return Status::InvalidArgument("duration out of range: \"" + std::string(text) + "\"");
    }
    total += n * kUnits[found].ms;
    i = j;
  }
  return Duration(total);
}

std::string FormatDuration(Duration d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) { out = "-"; ms = -ms; }
  struct Unit { const char* name; int64_t ms; };
  static constexpr Unit kUnits[] = {{"y", 365LL * 24 * 3600 * 1000}, {"w", 7LL * 24 * 3600 * 1000},
                                    {"d", 24LL * 3600 * 1000},      {"h", 3600LL * 1000},
                                    {"m", 60LL * 1000},             {"s", 1000},
                                    {"ms", 1}};
  for (const auto& u : kUnits) {
    if (ms >= u.ms) {
      out += std::to_string(ms / u.ms) + u.name;
      ms %= u.ms;
    }
  }
  return out;
}

}  // namespace sb
