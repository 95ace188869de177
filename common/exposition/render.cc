#include "common/exposition/render.h"

#include <charconv>
#include <cmath>
#include <string_view>

namespace sb::expo {

const char* MetricTypeName(MetricType type, bool openmetrics) {
  switch (type) {
    case MetricType::kUnknown: return openmetrics ? "unknown" : "untyped";
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
    case MetricType::kGaugeHistogram: return "gaugehistogram";
    case MetricType::kSummary: return "summary";
    case MetricType::kInfo: return "info";
    case MetricType::kStateSet: return "stateset";
  }
  return "unknown";
}

namespace {

bool IsLegacyName(std::string_view s, bool metric) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                    (metric && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// Appends `s` with \ -> \\, newline -> \n, and (if `quote`) " -> \".
void AppendEscaped(std::string* out, std::string_view s, bool quote) {
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c != '\\' && c != '\n' && !(quote && c == '"')) continue;
    out->append(s.data() + run, i - run);
    out->push_back('\\');
    out->push_back(c == '\n' ? 'n' : c);
    run = i + 1;
  }
  out->append(s.data() + run, s.size() - run);
}

void AppendQuoted(std::string* out, std::string_view s) {
  out->push_back('"');
  AppendEscaped(out, s, true);
  out->push_back('"');
}

void AppendMetricName(std::string* out, std::string_view name) {
  if (IsLegacyName(name, true)) out->append(name);
  else AppendQuoted(out, name);
}

void AppendInt(std::string* out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, r.ptr - buf);
}

// Milliseconds as OpenMetrics seconds: 1234567 -> "1234.567", 1500 -> "1.5", 2000 -> "2".
void AppendSeconds(std::string* out, int64_t ms) {
  const bool neg = ms < 0;
  const uint64_t a = neg ? 0 - static_cast<uint64_t>(ms) : static_cast<uint64_t>(ms);
  if (neg) out->push_back('-');
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, a / 1000);
  out->append(buf, r.ptr - buf);
  unsigned frac = static_cast<unsigned>(a % 1000);
  if (frac == 0) return;
  char f[4] = {static_cast<char>('0' + frac / 100), static_cast<char>('0' + frac / 10 % 10),
               static_cast<char>('0' + frac % 10), 0};
  size_t n = 3;
  while (f[n - 1] == '0') --n;
  out->push_back('.');
  out->append(f, n);
}

void AppendSample(std::string* out, const Sample& s, bool with_ts, bool om) {
  const bool legacy = IsLegacyName(s.name, true);
  if (legacy) out->append(s.name);
  if (!legacy || !s.labels.empty()) {
    out->push_back('{');
    if (!legacy) {
      AppendQuoted(out, s.name);
      if (!s.labels.empty()) out->push_back(',');
    }
    for (size_t i = 0; i < s.labels.size(); ++i) {
      const Label& l = s.labels[i];
      if (i > 0) out->push_back(',');
      if (IsLegacyName(l.name, false)) out->append(l.name);
      else AppendQuoted(out, l.name);
      out->append("=\"", 2);
      AppendEscaped(out, l.value, true);
      out->push_back('"');
    }
    out->push_back('}');
  }
  out->push_back(' ');
  AppendGoFloat(out, s.value);
  if (with_ts && s.timestamp_ms.has_value()) {
    out->push_back(' ');
    if (om) AppendSeconds(out, *s.timestamp_ms);
    else AppendInt(out, *s.timestamp_ms);
  }
  out->push_back('\n');
}

// A cheap upper-bound-ish estimate of the rendered size, to reserve once.
size_t EstimateSize(const Exposition& exp) {
  size_t n = 16;
  for (const Family& f : exp.families) {
    n += 2 * f.name.size() + f.help.size() + f.unit.size() + 48;
    for (const Sample& s : f.samples) {
      n += s.name.size() + 48;
      for (const Label& l : s.labels) n += l.name.size() + l.value.size() + 4;
    }
  }
  return n;
}

void AppendMeta(std::string* out, const char* kind, std::string_view name) {
  out->append("# ");
  out->append(kind);
  out->push_back(' ');
  AppendMetricName(out, name);
  out->push_back(' ');
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

void AppendGoFloat(std::string* out, double v, char format) {
  if (std::isnan(v)) {
    out->append("NaN");
    return;
  }
  if (std::isinf(v)) {
    out->append(v > 0 ? "+Inf" : "-Inf");
    return;
  }
  // Shortest round-trip digits in scientific form, e.g. "-1.2345e+02".
  char buf[40];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  const std::string_view sci(buf, r.ptr - buf);
  const size_t e = sci.find('e');
  int exp = 0;  // to_chars always writes a sign; from_chars takes only '-'
  const char* ep = buf + e + 1;
  std::from_chars(*ep == '+' ? ep + 1 : ep, r.ptr, exp);
  if (format == 'e' || (format == 'g' && (exp < -4 || exp >= 6))) {
    out->append(sci);  // same shape as Go's %e: at least two exponent digits, with sign
    return;
  }
  // Fixed notation from the same digits, zero-padded ('f', or 'g' with a small exponent).
  size_t i = 0;
  if (sci[0] == '-') {
    out->push_back('-');
    i = 1;
  }
  char digits[24];
  size_t nd = 0;
  for (; i < e; ++i) {
    if (sci[i] != '.') digits[nd++] = sci[i];
  }
  if (exp >= 0) {
    const size_t int_digits = static_cast<size_t>(exp) + 1;
    if (nd <= int_digits) {
      out->append(digits, nd);
      out->append(int_digits - nd, '0');
    } else {
      out->append(digits, int_digits);
      out->push_back('.');
      out->append(digits + int_digits, nd - int_digits);
    }
  } else {
    out->append("0.");
    out->append(static_cast<size_t>(-exp - 1), '0');
    out->append(digits, nd);
  }
}

std::string RenderText004(const Exposition& exp, const RenderOptions& opts) {
  std::string out;
  out.reserve(EstimateSize(exp));
  for (const Family& f : exp.families) {
    if (!f.help.empty()) {
      AppendMeta(&out, "HELP", f.name);
      AppendEscaped(&out, f.help, false);
      out.push_back('\n');
    }
    const char* type = "untyped";
    switch (f.type) {
      case MetricType::kCounter: type = "counter"; break;
      case MetricType::kGauge: type = "gauge"; break;
      case MetricType::kHistogram: type = "histogram"; break;
      case MetricType::kSummary: type = "summary"; break;
      default: break;  // unknown, gaugehistogram, info, stateset: see render.h
    }
    AppendMeta(&out, "TYPE", f.name);
    out.append(type);
    out.push_back('\n');
    for (const Sample& s : f.samples) AppendSample(&out, s, opts.with_timestamps, false);
  }
  return out;
}

std::string RenderOpenMetrics(const Exposition& exp, const RenderOptions& opts) {
  std::string out;
  out.reserve(EstimateSize(exp));
  for (const Family& f : exp.families) {
    std::string_view name = f.name;
    MetricType type = f.type;
    if (type == MetricType::kCounter) {
      if (EndsWith(name, "_total")) name.remove_suffix(6);
      for (const Sample& s : f.samples) {
        const std::string_view sn = s.name;
        if (sn.size() <= name.size() || sn.substr(0, name.size()) != name ||
            (sn.substr(name.size()) != "_total" && sn.substr(name.size()) != "_created")) {
          type = MetricType::kUnknown;
          break;
        }
      }
      if (type == MetricType::kUnknown) {
        // Keep sample names; name the family after them when they all agree.
        name = f.name;
        bool same = !f.samples.empty();
        for (const Sample& s : f.samples) same = same && s.name == f.samples[0].name;
        if (same) name = f.samples[0].name;
      }
    }
    if (!f.help.empty()) {
      AppendMeta(&out, "HELP", name);
      AppendEscaped(&out, f.help, true);
      out.push_back('\n');
    }
    AppendMeta(&out, "TYPE", name);
    out.append(MetricTypeName(type, true));
    out.push_back('\n');
    if (!f.unit.empty()) {
      AppendMeta(&out, "UNIT", name);
      out.append(f.unit);
      out.push_back('\n');
    }
    for (const Sample& s : f.samples) AppendSample(&out, s, opts.with_timestamps, true);
  }
  out.append("# EOF\n");
  return out;
}

}  // namespace sb::expo
