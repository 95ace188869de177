#include "bridge/cache_headers.h"

#include <array>
#include <cstddef>

namespace sb::bridge {
namespace {

// RFC 9111 1.2.2: a delta-seconds too large to represent is replaced by 2^31.
constexpr int64_t kMaxDeltaSeconds = 2147483648LL;

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

bool IsOws(char c) { return c == ' ' || c == '\t'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsOws(s.back())) s.remove_suffix(1);
  return s;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// delta-seconds = 1*DIGIT, clamped to kMaxDeltaSeconds. nullopt unless all digits.
std::optional<int64_t> ParseDeltaSeconds(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int64_t v = 0;
  for (char c : s) {
    if (!IsDigit(c)) return std::nullopt;
    if (v < kMaxDeltaSeconds) v = v * 10 + (c - '0');
  }
  return v < kMaxDeltaSeconds ? v : kMaxDeltaSeconds;
}

// Parses exactly `n` digits at `*s`, advancing it.
bool TakeDigits(std::string_view* s, size_t n, int* out) {
  if (s->size() < n) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!IsDigit((*s)[i])) return false;
    v = v * 10 + ((*s)[i] - '0');
  }
  s->remove_prefix(n);
  *out = v;
  return true;
}

bool TakeLiteral(std::string_view* s, std::string_view lit) {
  if (s->substr(0, lit.size()) != lit) return false;
  s->remove_prefix(lit.size());
  return true;
}

constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 7> kShortDays = {"Mon", "Tue", "Wed", "Thu",
                                                        "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> kLongDays = {
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};

// Month names are case-sensitive in the grammar (RFC 9110 5.6.7).
bool TakeMonth(std::string_view* s, int* month) {
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (TakeLiteral(s, kMonths[i])) {
      *month = static_cast<int>(i) + 1;
      return true;
    }
  }
  return false;
}

template <size_t N>
bool TakeDayName(std::string_view* s, const std::array<std::string_view, N>& names) {
  for (std::string_view name : names) {
    if (TakeLiteral(s, name)) return true;
  }
  return false;
}

// "HH:MM:SS"
bool TakeTime(std::string_view* s, int* h, int* m, int* sec) {
  return TakeDigits(s, 2, h) && TakeLiteral(s, ":") && TakeDigits(s, 2, m) &&
         TakeLiteral(s, ":") && TakeDigits(s, 2, sec);
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return (m == 2 && IsLeap(y)) ? 29 : kDays[m - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::optional<int64_t> ToEpochMs(int year, int month, int day, int h, int m, int s) {
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month)) return std::nullopt;
  if (h > 23 || m > 59 || s > 60) return std::nullopt;
  const int64_t days = DaysFromCivil(year, month, day);
  return ((days * 24 + h) * 60 + m) * 60 * 1000 + static_cast<int64_t>(s) * 1000;
}

// "Sun, 06 Nov 1994 08:49:37 GMT"
std::optional<int64_t> ParseImfFixdate(std::string_view s) {
  int day, month, year, h, m, sec;
  if (!TakeDayName(&s, kShortDays) || !TakeLiteral(&s, ", ") || !TakeDigits(&s, 2, &day) ||
      !TakeLiteral(&s, " ") || !TakeMonth(&s, &month) || !TakeLiteral(&s, " ") ||
      !TakeDigits(&s, 4, &year) || !TakeLiteral(&s, " ") || !TakeTime(&s, &h, &m, &sec) ||
      !TakeLiteral(&s, " GMT") || !s.empty()) {
    return std::nullopt;
  }
  return ToEpochMs(year, month, day, h, m, sec);
}

// "Sunday, 06-Nov-94 08:49:37 GMT"
std::optional<int64_t> ParseRfc850(std::string_view s) {
  int day, month, yy, h, m, sec;
  if (!TakeDayName(&s, kLongDays) || !TakeLiteral(&s, ", ") || !TakeDigits(&s, 2, &day) ||
      !TakeLiteral(&s, "-") || !TakeMonth(&s, &month) || !TakeLiteral(&s, "-") ||
      !TakeDigits(&s, 2, &yy) || !TakeLiteral(&s, " ") || !TakeTime(&s, &h, &m, &sec) ||
      !TakeLiteral(&s, " GMT") || !s.empty()) {
    return std::nullopt;
  }
  // RFC 9110 asks for "more than 50 years in the future is the past"; without a clock we use
  // the fixed pivot 1970, which agrees with that rule until 2020+50.
  const int year = yy >= 70 ? 1900 + yy : 2000 + yy;
  return ToEpochMs(year, month, day, h, m, sec);
}

// "Sun Nov  6 08:49:37 1994" (day is space-padded; a two-digit day is accepted too)
std::optional<int64_t> ParseAsctime(std::string_view s) {
  int day, month, year, h, m, sec;
  if (!TakeDayName(&s, kShortDays) || !TakeLiteral(&s, " ") || !TakeMonth(&s, &month) ||
      !TakeLiteral(&s, " ")) {
    return std::nullopt;
  }
  if (!s.empty() && s.front() == ' ') {
    s.remove_prefix(1);
    if (!TakeDigits(&s, 1, &day)) return std::nullopt;
  } else if (!TakeDigits(&s, 2, &day)) {
    return std::nullopt;
  }
  if (!TakeLiteral(&s, " ") || !TakeTime(&s, &h, &m, &sec) || !TakeLiteral(&s, " ") ||
      !TakeDigits(&s, 4, &year) || !s.empty()) {
    return std::nullopt;
  }
  return ToEpochMs(year, month, day, h, m, sec);
}

// Appends the directives of one Cache-Control value to `out` (first occurrence wins).
void ParseCacheControlInto(std::string_view value, CacheDirectives* out) {
  size_t i = 0;
  while (i < value.size()) {
    // One directive: name [ "=" ( token / quoted-string ) ], up to the next top-level comma.
    size_t j = i;
    bool in_quotes = false;
    std::string unquoted;  // value text with quotes and escapes removed
    size_t eq = std::string_view::npos;
    for (; j < value.size(); ++j) {
      const char c = value[j];
      if (in_quotes) {
        if (c == '\\' && j + 1 < value.size()) {
          unquoted.push_back(value[++j]);
        } else if (c == '"') {
          in_quotes = false;
        } else {
          unquoted.push_back(c);
        }
        continue;
      }
      if (c == ',') break;
      if (c == '"' && eq != std::string_view::npos) {
        in_quotes = true;
        continue;
      }
      if (c == '=' && eq == std::string_view::npos) {
        eq = j;
        continue;
      }
      if (eq != std::string_view::npos) unquoted.push_back(c);
    }
    const std::string_view name =
        Trim(value.substr(i, (eq == std::string_view::npos ? j : eq) - i));
    i = j + 1;
    const std::string_view arg = Trim(unquoted);
    const bool has_arg = eq != std::string_view::npos;
    if (EqualsIgnoreCase(name, "max-age")) {
      if (!out->max_age_s && has_arg) out->max_age_s = ParseDeltaSeconds(arg);
    } else if (EqualsIgnoreCase(name, "s-maxage")) {
      if (!out->s_maxage_s && has_arg) out->s_maxage_s = ParseDeltaSeconds(arg);
    } else if (EqualsIgnoreCase(name, "no-store")) {
      out->no_store = true;
    } else if (EqualsIgnoreCase(name, "no-cache")) {
      out->no_cache = true;
    }
  }
}

}  // namespace

std::optional<std::string_view> FindHeader(const HeaderList& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (EqualsIgnoreCase(n, name)) return Trim(v);
  }
  return std::nullopt;
}

std::optional<int64_t> ParseHttpDate(std::string_view text) {
  const std::string_view s = Trim(text);
  if (auto ms = ParseImfFixdate(s)) return ms;
  if (auto ms = ParseRfc850(s)) return ms;
  return ParseAsctime(s);
}

CacheDirectives ParseCacheControl(std::string_view value) {
  CacheDirectives d;
  ParseCacheControlInto(value, &d);
  return d;
}

std::optional<int64_t> RemainingFreshnessMs(const HeaderList& headers, int64_t now_ms) {
  CacheDirectives cc;
  for (const auto& [n, v] : headers) {
    if (EqualsIgnoreCase(n, "cache-control")) ParseCacheControlInto(v, &cc);
  }
  if (cc.no_store || cc.no_cache) return std::nullopt;

  std::optional<int64_t> lifetime_ms;
  if (cc.s_maxage_s) {
    lifetime_ms = *cc.s_maxage_s * 1000;
  } else if (cc.max_age_s) {
    lifetime_ms = *cc.max_age_s * 1000;
  } else if (auto expires = FindHeader(headers, "expires")) {
    if (std::optional<int64_t> expires_ms = ParseHttpDate(*expires)) {
      std::optional<int64_t> date_ms;
      if (auto date = FindHeader(headers, "date")) date_ms = ParseHttpDate(*date);
      lifetime_ms = *expires_ms - date_ms.value_or(now_ms);
    }
  }
  if (!lifetime_ms) return std::nullopt;

  int64_t age_s = 0;
  if (auto age = FindHeader(headers, "age")) age_s = ParseDeltaSeconds(*age).value_or(0);
  const int64_t remaining = *lifetime_ms - age_s * 1000;
  return remaining > 0 ? remaining : 0;
}

std::optional<int64_t> ParseRetryAfterMs(std::string_view value, int64_t now_ms) {
  const std::string_view s = Trim(value);
  if (auto seconds = ParseDeltaSeconds(s)) return *seconds * 1000;
  if (auto date_ms = ParseHttpDate(s)) return *date_ms > now_ms ? *date_ms - now_ms : 0;
  return std::nullopt;
}

}  // namespace sb::bridge
