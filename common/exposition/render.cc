#include "common/exposition/render.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "common/exposition/name_chars.h"

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

using internal::kLabelChar;
using internal::kLabelStart;
using internal::kMetricChar;
using internal::kMetricStart;
using internal::kNameChars;

bool IsLegacyName(std::string_view s, bool metric) {
  if (s.empty()) return false;
  const uint8_t start = metric ? kMetricStart : kLabelStart;
  const uint8_t rest = metric ? kMetricChar : kLabelChar;
  if (!(kNameChars.t[static_cast<uint8_t>(s[0])] & start)) return false;
  for (size_t i = 1; i < s.size(); ++i) {
    if (!(kNameChars.t[static_cast<uint8_t>(s[i])] & rest)) return false;
  }
  return true;
}

// The index of the first byte at or after `from` that AppendEscaped must escape (\, newline,
// and " if `quote`), or s.size(). Tests eight bytes at a time: a word has a byte equal to
// b exactly when HasZeroByte(word ^ (b repeated)) is non-zero.
size_t FindEscape(std::string_view s, size_t from, bool quote) {
  constexpr uint64_t kOnes = 0x0101010101010101u, kHighs = 0x8080808080808080u;
  auto has_zero_byte = [](uint64_t x) { return (x - kOnes) & ~x & kHighs; };
  size_t i = from;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    uint64_t hit = has_zero_byte(w ^ (kOnes * '\\')) | has_zero_byte(w ^ (kOnes * '\n'));
    if (quote) hit |= has_zero_byte(w ^ (kOnes * '"'));
    if (hit != 0) break;  // the byte is in this word; the loop below finds it
  }
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\\' || c == '\n' || (quote && c == '"')) return i;
  }
  return s.size();
}

// Appends `s` with \ -> \\, newline -> \n, and (if `quote`) " -> \". Runs without escapes
// are copied in one append.
template <typename Out>
void AppendEscaped(Out* out, std::string_view s, bool quote) {
  size_t run = 0;
  for (size_t i = FindEscape(s, 0, quote); i < s.size(); i = FindEscape(s, i + 1, quote)) {
    out->append(s.data() + run, i - run);
    const char esc[2] = {'\\', s[i] == '\n' ? 'n' : s[i]};
    out->append(esc, 2);
    run = i + 1;
  }
  out->append(s.data() + run, s.size() - run);
}

template <typename Out>
void AppendQuoted(Out* out, std::string_view s) {
  out->push_back('"');
  AppendEscaped(out, s, true);
  out->push_back('"');
}

void AppendMetricName(std::string* out, std::string_view name) {
  if (IsLegacyName(name, true)) out->append(name);
  else AppendQuoted(out, name);
}

template <typename Out>
void AppendInt(Out* out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, r.ptr - buf);
}

// Milliseconds as OpenMetrics seconds: 1234567 -> "1234.567", 1500 -> "1.5", 2000 -> "2".
template <typename Out>
void AppendSeconds(Out* out, int64_t ms) {
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

// Writes into a char buffer the caller has sized: the part of std::string's appending
// interface that the Append* templates use, without capacity checks (see AppendSample).
class BufferWriter {
 public:
  explicit BufferWriter(char* p) : p_(p) {}
  void push_back(char c) { *p_++ = c; }
  void append(const char* s, size_t n) {
    std::memcpy(p_, s, n);
    p_ += n;
  }
  void append(std::string_view s) { append(s.data(), s.size()); }
  void append(size_t n, char c) {
    std::memset(p_, c, n);
    p_ += n;
  }
  char* pos() const { return p_; }

 private:
  char* p_;
};

// AppendGoFloat for any Out (std::string or BufferWriter). At most 24 bytes in 'g' and 'e'.
template <typename Out>
void AppendGoFloatTo(Out* out, double v, char format) {
  if (std::isnan(v)) {
    out->append("NaN");
    return;
  }
  if (std::isinf(v)) {
    out->append(v > 0 ? "+Inf" : "-Inf");
    return;
  }
  // Integers below 1e6 in magnitude (Scout's values) print as themselves in 'g' and 'f';
  // -0 takes the general path, which keeps its sign.
  if (format != 'e' && v > -1e6 && v < 1e6 && (v != 0 || !std::signbit(v))) {
    const auto i = static_cast<int64_t>(v);
    if (static_cast<double>(i) == v) {
      char buf[8];
      const auto r = std::to_chars(buf, buf + sizeof buf, i);
      out->append(buf, r.ptr - buf);
      return;
    }
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

// The last sample name AppendSample checked. Consecutive samples usually share their
// name, and comparing bytes is cheaper than classifying them again.
struct LastName {
  std::string_view name;
  bool legacy = false;
};

template <typename Out>
void AppendSampleTo(Out* out, const Sample& s, bool legacy, bool with_ts, bool om) {
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
  AppendGoFloatTo(out, s.value, 'g');
  if (with_ts && s.timestamp_ms.has_value()) {
    out->push_back(' ');
    if (om) AppendSeconds(out, *s.timestamp_ms);
    else AppendInt(out, *s.timestamp_ms);
  }
  out->push_back('\n');
}

// The most bytes AppendSampleTo can write for `s`: every name quoted and every byte of
// names and values escaped, plus 64 for punctuation, the value (at most 24 bytes) and a
// timestamp (at most 22 with its space).
size_t SampleMaxBytes(const Sample& s) {
  size_t n = 2 * s.name.size() + 64;
  for (const Label& l : s.labels) n += 2 * (l.name.size() + l.value.size()) + 6;
  return n;
}

// Appends one sample line. A line that surely fits a stack buffer is written there without
// per-byte capacity checks and appended once; a longer one goes to `out` directly. Both
// run the same AppendSampleTo, so the bytes are the same.
void AppendSample(std::string* out, const Sample& s, bool with_ts, bool om, LastName* last) {
  if (s.name != last->name) {
    last->name = s.name;
    last->legacy = IsLegacyName(s.name, true);
  }
  constexpr size_t kBufferBytes = 2048;
  if (SampleMaxBytes(s) > kBufferBytes) {
    AppendSampleTo(out, s, last->legacy, with_ts, om);
    return;
  }
  char buf[kBufferBytes];
  BufferWriter w(buf);
  AppendSampleTo(&w, s, last->legacy, with_ts, om);
  out->append(buf, static_cast<size_t>(w.pos() - buf));
}

// Room for one sample: its names and values plus 48 bytes for punctuation, the value and a
// timestamp. An upper bound unless names need quoting or values escaping.
size_t SampleSizeBound(const Sample& s) {
  size_t n = s.name.size() + 48;
  for (const Label& l : s.labels) n += l.name.size() + l.value.size() + 4;
  return n;
}

// An estimate of the rendered size, to reserve once. Walking every label of every sample
// costs a pass over the whole exposition, so a large family is measured on kProbes samples
// spread across it and scaled up; the samples of one family have similar shapes, and the
// 48-byte slack per sample absorbs the spread. A low estimate only costs a regrowth.
size_t EstimateSize(const Exposition& exp) {
  constexpr size_t kProbes = 16;
  size_t n = 16;
  for (const Family& f : exp.families) {
    n += 2 * f.name.size() + f.help.size() + f.unit.size() + 48;
    const size_t count = f.samples.size();
    if (count <= kProbes) {
      for (const Sample& s : f.samples) n += SampleSizeBound(s);
      continue;
    }
    size_t probed = 0;
    for (size_t k = 0; k < kProbes; ++k) probed += SampleSizeBound(f.samples[k * count / kProbes]);
    n += probed / kProbes * count + (probed % kProbes) * count / kProbes;
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
  AppendGoFloatTo(out, v, format);
}

std::string RenderText004(const Exposition& exp, const RenderOptions& opts) {
  std::string out;
  out.reserve(EstimateSize(exp));
  LastName last;
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
    for (const Sample& s : f.samples) AppendSample(&out, s, opts.with_timestamps, false, &last);
  }
  return out;
}

std::string RenderOpenMetrics(const Exposition& exp, const RenderOptions& opts) {
  std::string out;
  out.reserve(EstimateSize(exp));
  LastName last;
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
    for (const Sample& s : f.samples) AppendSample(&out, s, opts.with_timestamps, true, &last);
  }
  out.append("# EOF\n");
  return out;
}

}  // namespace sb::expo
