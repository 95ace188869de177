#include "promql-lite/api/params.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "common/duration.h"

namespace sb::promql::api {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Go's strconv.ParseFloat, for the inputs that matter here: decimal and hex floats with an
// optional sign, "inf"/"infinity"/"nan" in any case. No surrounding spaces. Overflow (a
// finite literal beyond the double range) is an error, as in Go; underflow is not.
bool ParseGoFloat(std::string_view s, double* out) {
  if (s.empty() || s.size() > 512) return false;
  char c0 = s[0];
  if (!(c0 == '+' || c0 == '-' || c0 == '.' || (c0 >= '0' && c0 <= '9') || c0 == 'i' || c0 == 'I' ||
        c0 == 'n' || c0 == 'N')) {
    return false;
  }
  for (char c : s) {
    if (c == '(' || c == ' ' || c == '\t' || c == '\n' || c == '\r') return false;
  }
  std::string buf(s);
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(buf.c_str(), &end);
  if (end != buf.c_str() + buf.size()) return false;
  if (errno == ERANGE && std::isinf(v)) return false;
  *out = v;
  return true;
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

int DaysInMonth(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
  return kDays[m - 1];
}

// Go's time.Parse(time.RFC3339Nano, s): "2006-01-02T15:04:05[.fraction](Z|+hh:mm|-hh:mm)".
bool ParseRfc3339(std::string_view s, int64_t* ms) {
  int y, mo, d, h, mi, sec;
  if (!Digits(s, 0, 4, &y) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, &mo) || s[7] != '-' ||
      !Digits(s, 8, 2, &d) || s[10] != 'T' || !Digits(s, 11, 2, &h) || s[13] != ':' ||
      !Digits(s, 14, 2, &mi) || s[16] != ':' || !Digits(s, 17, 2, &sec)) {
    return false;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > DaysInMonth(y, mo) || h > 23 || mi > 59 || sec > 59) return false;
  size_t pos = 19;
  int64_t nanos = 0;
  if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
    size_t start = ++pos;
    int64_t scale = 100000000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      nanos += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return false;
  }
  int64_t offset_s = 0;
  if (pos < s.size() && s[pos] == 'Z') {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!Digits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !Digits(s, pos + 4, 2, &om) ||
        oh > 23 || om > 59) {
      return false;
    }
    offset_s = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return false;
  }
  if (pos != s.size()) return false;
  int64_t secs = DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset_s;
  *ms = secs * 1000 + nanos / 1000000;
  return true;
}

}  // namespace

Result<std::string> UnescapeQueryComponent(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      int hi = i + 2 < s.size() ? HexDigit(s[i + 1]) : -1;
      int lo = i + 2 < s.size() ? HexDigit(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        std::string bad(s.substr(i, std::min<size_t>(3, s.size() - i)));
        return Status::InvalidArgument("invalid URL escape \"" + bad + "\"");
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Result<Form> Form::Parse(std::string_view query, std::string_view body, bool form_body) {
  Form form;
  auto add = [&form](std::string_view text) -> Status {
    size_t pos = 0;
    // Bounded: each round consumes at least one byte (the separator) of `text`.
    while (pos <= text.size()) {
      size_t amp = text.find('&', pos);
      if (amp == std::string_view::npos) amp = text.size();
      std::string_view part = text.substr(pos, amp - pos);
      pos = amp + 1;
      if (part.empty()) continue;
      size_t eq = part.find('=');
      std::string_view k = part.substr(0, eq);
      std::string_view v = eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
      SB_ASSIGN_OR_RETURN(std::string key, UnescapeQueryComponent(k));
      SB_ASSIGN_OR_RETURN(std::string value, UnescapeQueryComponent(v));
      form.pairs_.emplace_back(std::move(key), std::move(value));
    }
    return Status::OK();
  };
  if (form_body) SB_RETURN_IF_ERROR(add(body));
  SB_RETURN_IF_ERROR(add(query));
  return form;
}

std::string Form::Value(std::string_view name) const {
  for (const auto& [k, v] : pairs_) {
    if (k == name) return v;
  }
  return "";
}

std::vector<std::string> Form::Values(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : pairs_) {
    if (k == name) out.push_back(v);
  }
  return out;
}

bool Form::Has(std::string_view name) const {
  for (const auto& [k, v] : pairs_) {
    if (k == name) return true;
  }
  return false;
}

Result<int64_t> ParseTime(std::string_view s) {
  double f;
  if (ParseGoFloat(s, &f)) {
    // Go: s, ns := math.Modf(t); ns = math.Round(ns*1000)/1000; time.Unix(int64(s), int64(ns*1e9)).
    // Non-finite and out-of-range values make Go produce nonsense; they are refused here.
    if (std::isfinite(f) && std::fabs(f) < 9.2e15) {
      double ipart;
      double frac = std::modf(f, &ipart);
      frac = std::round(frac * 1000) / 1000;
      int64_t sec = static_cast<int64_t>(ipart);
      int64_t nanos = static_cast<int64_t>(frac * 1e9);
      return sec * 1000 + FloorDiv(nanos, 1000000);
    }
  } else {
    int64_t ms;
    if (ParseRfc3339(s, &ms)) return ms;
    if (s == kMinTimeFormatted) return kMinTimeMs;
    if (s == kMaxTimeFormatted) return kMaxTimeMs;
  }
  return Status::InvalidArgument("cannot parse \"" + std::string(s) + "\" to a valid timestamp");
}

Result<int64_t> ParseDurationNs(std::string_view s) {
  double f;
  if (ParseGoFloat(s, &f) && !std::isnan(f)) {
    double ns = f * 1e9;
    if (ns >= 9223372036854775807.0 || ns < -9223372036854775808.0) {
      return Status::InvalidArgument("cannot parse \"" + std::string(s) + "\" to a valid duration. It overflows int64");
    }
    return static_cast<int64_t>(ns);
  }
  auto d = ParseDuration(s);
  if (d.ok() && d->count() <= INT64_MAX / 1000000) return static_cast<int64_t>(d->count()) * 1000000;
  return Status::InvalidArgument("cannot parse \"" + std::string(s) + "\" to a valid duration");
}

Result<int64_t> TimeParam(const Form& form, std::string_view name, int64_t default_ms) {
  std::string v = form.Value(name);
  if (v.empty()) return default_ms;
  auto t = ParseTime(v);
  if (!t.ok()) {
    return Status::InvalidArgument(
        InvalidParam(name, "Invalid time value for '" + std::string(name) + "': " + t.status().message()));
  }
  return t;
}

std::string InvalidParam(std::string_view name, std::string_view message) {
  return "invalid parameter \"" + std::string(name) + "\": " + std::string(message);
}

}  // namespace sb::promql::api
