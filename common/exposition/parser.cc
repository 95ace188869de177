#include "common/exposition/parser.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <string>
#include <unordered_set>

#include "common/exposition/name_chars.h"

namespace sb::expo {
namespace {

using internal::kLabelChar;
using internal::kLabelStart;
using internal::kMetricChar;
using internal::kMetricStart;
inline bool Is(char c, uint8_t cls) { return internal::IsNameChar(c, cls); }
inline bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// Whether sample `s` belongs to family `f` (see the grouping rules in parser.h).
bool Belongs(const Family& f, std::string_view s) {
  const std::string_view n = f.name;
  if (s.size() < n.size() || s.substr(0, n.size()) != n) return false;
  const std::string_view suffix = s.substr(n.size());
  if (suffix.empty()) return true;
  switch (f.type) {
    case MetricType::kCounter:
      return suffix == "_total" || suffix == "_created";
    case MetricType::kHistogram:
      return suffix == "_bucket" || suffix == "_sum" || suffix == "_count" || suffix == "_created";
    case MetricType::kGaugeHistogram:
      return suffix == "_bucket" || suffix == "_gsum" || suffix == "_gcount" ||
             suffix == "_sum" || suffix == "_count" || suffix == "_created";
    case MetricType::kSummary:
      return suffix == "_sum" || suffix == "_count" || suffix == "_created";
    case MetricType::kInfo:
      return suffix == "_info";
    default:
      return false;
  }
}

bool ParseType(std::string_view word, bool om, MetricType* type) {
  if (word == "counter") *type = MetricType::kCounter;
  else if (word == "gauge") *type = MetricType::kGauge;
  else if (word == "histogram") *type = MetricType::kHistogram;
  else if (word == "summary") *type = MetricType::kSummary;
  else if (!om && word == "untyped") *type = MetricType::kUnknown;
  else if (om && word == "unknown") *type = MetricType::kUnknown;
  else if (om && word == "gaugehistogram") *type = MetricType::kGaugeHistogram;
  else if (om && word == "info") *type = MetricType::kInfo;
  else if (om && word == "stateset") *type = MetricType::kStateSet;
  else return false;
  return true;
}

// Parses a float the way Go's strconv.ParseFloat does for the inputs exporters produce:
// optional sign (including '+'), decimal or hex ("0x1p-3") mantissa, Inf/Infinity/NaN in
// any case. Overflow is an error; underflow gives a signed zero. Locale-independent.
bool ParseFloat(std::string_view tok, double* out) {
  if (tok.empty()) return false;
  bool neg = false;
  size_t i = 0;
  if (tok[0] == '+' || tok[0] == '-') {
    neg = tok[0] == '-';
    i = 1;
  }
  std::string_view rest = tok.substr(i);
  if (rest.empty() || rest[0] == '+' || rest[0] == '-') return false;
  // Fast path for plain decimal integers, the values Scout exposes. Up to 18 digits fit an
  // int64 exactly, and converting that to double rounds to nearest-even as from_chars does,
  // so the result is the same double.
  if (rest.size() <= 18) {
    uint64_t n = 0;
    size_t k = 0;
    for (; k < rest.size(); ++k) {
      const unsigned d = static_cast<unsigned char>(rest[k]) - unsigned{'0'};
      if (d > 9) break;
      n = n * 10 + d;
    }
    if (k == rest.size()) {
      const double v = static_cast<double>(static_cast<int64_t>(n));
      *out = neg ? -v : v;
      return true;
    }
  }
  std::chars_format fmt = std::chars_format::general;
  if (rest.size() > 2 && rest[0] == '0' && (rest[1] == 'x' || rest[1] == 'X')) {
    fmt = std::chars_format::hex;
    rest.remove_prefix(2);
  }
  double v = 0;
  auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), v, fmt);
  if (ptr != rest.data() + rest.size()) return false;
  if (ec == std::errc::result_out_of_range) {
    // Tiny magnitudes round to zero as in Go; huge ones are an error as in Go.
    const size_t e = rest.find_first_of(fmt == std::chars_format::hex ? "pP" : "eE");
    if (e == std::string_view::npos || e + 1 >= rest.size() || rest[e + 1] != '-') return false;
    v = 0;
  } else if (ec != std::errc()) {
    return false;
  }
  *out = neg ? -v : v;
  return true;
}

class Parser {
 public:
  Parser(Format format, const ParseOptions& opts) : om_(format == Format::kOpenMetrics), opts_(opts) {
    // A rough guess that avoids most regrowth of the family list.
    exp_.families.reserve(16);
  }

  Result<Exposition> Run(std::string_view body) {
    SB_RETURN_IF_ERROR(Lines(body));
    return End();
  }

  // Parses whole lines: `text` ends with a line end, or is the end of the body. Nothing of
  // `text` is kept after the call.
  Status Lines(std::string_view text) {
    size_t pos = 0;
    while (pos < text.size()) {
      const char* nl = static_cast<const char*>(std::memchr(text.data() + pos, '\n', text.size() - pos));
      const size_t end = nl ? static_cast<size_t>(nl - text.data()) : text.size();
      ++line_no_;
      line_ = text.substr(pos, end - pos);
      if (!line_.empty() && line_.back() == '\r') line_.remove_suffix(1);
      pos = end + 1;
      if (line_.size() > opts_.max_line_bytes) {
        return Err(opts_.max_line_bytes, "line longer than max_line_bytes=" +
                                            std::to_string(opts_.max_line_bytes));
      }
      if (seen_eof_) {
        if (FirstNonBlank(0) == line_.size()) continue;
        return Err(0, "unexpected data after # EOF");
      }
      Status st = ParseLine();
      if (!st.ok()) return st;
    }
    return Status::OK();
  }

  // After the last line.
  Result<Exposition> End() {
    if (om_ && !seen_eof_) {
      ++line_no_;
      line_ = {};
      return Err(0, "data does not end with # EOF");
    }
    return std::move(exp_);
  }

 private:
  Status Err(size_t col0, std::string what) const {
    return Status::InvalidArgument(std::to_string(line_no_) + ":" + std::to_string(col0 + 1) +
                                   ": " + what);
  }
  size_t FirstNonBlank(size_t i) const {
    while (i < line_.size() && IsBlank(line_[i])) ++i;
    return i;
  }
  size_t TokenEnd(size_t i) const {
    while (i < line_.size() && !IsBlank(line_[i])) ++i;
    return i;
  }

  Status ParseLine() {
    size_t i = FirstNonBlank(0);
    if (i == line_.size()) return Status::OK();
    const char c = line_[i];
    if (c == '#') return ParseComment(i + 1);
    if (Is(c, kMetricStart) || c == '"' || c == '{') return ParseSample(i);
    return Err(i, std::string("unexpected character '") + c +
                      "' (expected a metric name, a comment or a blank line)");
  }

  // Finds the quoted string that opens at line_[*i] == '"' and checks its escapes (\\ \" \n),
  // without copying. On success *raw is the text between the quotes, still escaped,
  // *escaped says whether it holds a backslash, and *i is just past the closing quote.
  // Errors come in the order a left-to-right scan meets them. Linear in the line length:
  // the closing quote is searched again only when an escape consumed the one found.
  Status ScanQuoted(size_t* i, std::string_view* raw, bool* escaped) {
    const size_t open = *i;
    const size_t n = line_.size();
    size_t j = open + 1;
    size_t quote = FindByte(j, n, '"');
    *escaped = false;
    for (;;) {
      const size_t bs = FindByte(j, quote, '\\');
      if (bs == quote) break;  // no escape before the quote (or before the line end)
      if (bs + 1 >= n) return Err(open, "unterminated quoted string");
      const char e = line_[bs + 1];
      if (e != '\\' && e != '"' && e != 'n') {
        return Err(bs, std::string("invalid escape sequence '\\") + e + "'");
      }
      *escaped = true;
      j = bs + 2;
      if (quote < j) quote = FindByte(j, n, '"');
    }
    if (quote >= n) return Err(open, "unterminated quoted string");
    *raw = line_.substr(open + 1, quote - open - 1);
    *i = quote + 1;
    return Status::OK();
  }

  // The first `c` in line_[from, to), or `to`.
  size_t FindByte(size_t from, size_t to, char c) const {
    if (from >= to) return to;
    const void* p = std::memchr(line_.data() + from, c, to - from);
    return p ? static_cast<size_t>(static_cast<const char*>(p) - line_.data()) : to;
  }

  // Replaces *out with `raw` unescaped. REQUIRES: raw's escapes passed ScanQuoted.
  static void Unescape(std::string_view raw, std::string* out) {
    out->clear();
    out->reserve(raw.size());
    size_t run = 0;
    while (run < raw.size()) {
      const void* p = std::memchr(raw.data() + run, '\\', raw.size() - run);
      if (p == nullptr) break;
      const size_t bs = static_cast<size_t>(static_cast<const char*>(p) - raw.data());
      out->append(raw.data() + run, bs - run);
      const char e = raw[bs + 1];
      out->push_back(e == 'n' ? '\n' : e);
      run = bs + 2;
    }
    out->append(raw.data() + run, raw.size() - run);
  }

  // Reads a quoted string at line_[*i] == '"' into *out, unescaped. On success *i is just
  // past the closing quote.
  Status ReadQuoted(size_t* i, std::string* out) {
    std::string_view raw;
    bool escaped;
    SB_RETURN_IF_ERROR(ScanQuoted(i, &raw, &escaped));
    if (escaped) Unescape(raw, out);
    else out->assign(raw);
    return Status::OK();
  }

  // Reads a metric name (legacy or quoted) at line_[*i] into *out.
  Status ReadMetricName(size_t* i, std::string* out, const char* context) {
    if (*i < line_.size() && line_[*i] == '"') {
      SB_RETURN_IF_ERROR(ReadQuoted(i, out));
      if (out->empty()) return Err(*i - 2, "empty metric name");
      return Status::OK();
    }
    size_t j = *i;
    if (j >= line_.size() || !Is(line_[j], kMetricStart)) {
      return Err(j, std::string("expected a metric name ") + context);
    }
    while (j < line_.size() && Is(line_[j], kMetricChar)) ++j;
    out->assign(line_.data() + *i, j - *i);
    *i = j;
    return Status::OK();
  }

  Status ParseComment(size_t i) {
    i = FirstNonBlank(i);
    const size_t kw = i;
    const size_t kw_end = TokenEnd(i);
    const std::string_view word = line_.substr(kw, kw_end - kw);
    enum { kHelp, kType, kUnit } kind;
    if (word == "HELP") kind = kHelp;
    else if (word == "TYPE") kind = kType;
    else if (om_ && word == "UNIT") kind = kUnit;
    else if (om_ && word == "EOF" && FirstNonBlank(kw_end) == line_.size()) {
      seen_eof_ = true;
      return Status::OK();
    } else {
      return Status::OK();  // an ordinary comment
    }
    i = FirstNonBlank(kw_end);
    const char* ctx = kind == kHelp ? "after HELP" : kind == kType ? "after TYPE" : "after UNIT";
    SB_RETURN_IF_ERROR(ReadMetricName(&i, &meta_name_, ctx));
    if (i < line_.size() && !IsBlank(line_[i])) {
      return Err(i, "expected a space after the metric name");
    }
    i = FirstNonBlank(i);
    const std::string_view rest = line_.substr(i);
    Family* f = MetaFamily(kind == kHelp ? &have_help_ : kind == kType ? &have_type_ : &have_unit_);
    if (kind == kHelp) {
      f->help.reserve(rest.size());
      for (size_t k = 0; k < rest.size(); ++k) {
        if (rest[k] == '\\' && k + 1 < rest.size()) {
          const char e = rest[k + 1];
          if (e == 'n') { f->help.push_back('\n'); ++k; continue; }
          if (e == '\\' || e == '"') { f->help.push_back(e); ++k; continue; }
        }
        f->help.push_back(rest[k]);  // unknown escapes stay literal, as in Prometheus
      }
    } else if (kind == kUnit) {
      f->unit.assign(TrimRight(rest));
    } else {
      const std::string_view word2 = TrimRight(rest);
      if (word2.empty()) return Err(i, "expected a metric type after the name");
      if (!ParseType(word2, om_, &f->type)) {
        return Err(i, "invalid metric type \"" + std::string(word2) + "\"");
      }
      if (!om_ && !typed_or_sampled_.insert(f->name).second) {
        return Err(kw, "second TYPE line for metric name \"" + f->name +
                           "\", or TYPE reported after samples");
      }
    }
    return Status::OK();
  }

  static std::string_view TrimRight(std::string_view s) {
    while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
    return s;
  }

  // The family a HELP/TYPE/UNIT line for meta_name_ describes: the current one if it was
  // opened for that name, has no samples and lacks this kind of metadata; else a new one.
  Family* MetaFamily(bool* have_flag) {
    if (current_ != nullptr && !current_has_samples_ && current_->name == meta_name_ &&
        !*have_flag) {
      *have_flag = true;
      return current_;
    }
    current_ = &exp_.families.emplace_back();
    current_->name = meta_name_;
    current_has_samples_ = false;
    last_sample_in_current_ = false;
    have_help_ = have_type_ = have_unit_ = false;
    *have_flag = true;
    return current_;
  }

  Status ParseSample(size_t i) {
    if (++sample_count_ > opts_.max_samples) {
      return Err(i, "too many samples (max_samples=" + std::to_string(opts_.max_samples) + ")");
    }
    labels_.clear();
    const size_t name_pos = i;
    bool same_name = false;  // same legacy name as the previous sample, left in name_
    if (line_[i] == '{') {
      name_.clear();
      name_is_legacy_ = false;
    } else {
      if (name_is_legacy_ && HasLegacyNameAt(i, name_)) {
        i += name_.size();
        same_name = true;
      } else {
        SB_RETURN_IF_ERROR(ReadMetricName(&i, &name_, ""));
        name_is_legacy_ = line_[name_pos] != '"';
      }
      i = FirstNonBlank(i);
    }
    if (i < line_.size() && line_[i] == '{') SB_RETURN_IF_ERROR(ParseLabels(&i));
    if (name_.empty()) return Err(name_pos, "metric name missing");

    // Value.
    i = FirstNonBlank(i);
    if (i >= line_.size()) return Err(i, "expected a value after the metric");
    const size_t vend = TokenEnd(i);
    double value;
    if (!ParseFloat(line_.substr(i, vend - i), &value)) {
      return Err(i, "invalid value \"" + std::string(line_.substr(i, vend - i)) + "\"");
    }
    // Optional timestamp, then (OpenMetrics) an optional exemplar, which we skip.
    std::optional<int64_t> ts;
    i = FirstNonBlank(vend);
    if (i < line_.size() && !(om_ && line_[i] == '#')) {
      const size_t tend = TokenEnd(i);
      SB_RETURN_IF_ERROR(ParseTimestamp(i, tend, &ts));
      i = FirstNonBlank(tend);
    }
    if (i < line_.size() && !(om_ && line_[i] == '#')) {
      return Err(i, "unexpected text after the sample");
    }
    return AddSample(value, ts, same_name);
  }

  // Whether the legacy metric name at line_[i] is exactly `name`: the bytes match and no
  // name character follows. REQUIRES: `name` is a non-empty legacy name, so that this
  // equals reading the name with ReadMetricName and comparing.
  bool HasLegacyNameAt(size_t i, const std::string& name) const {
    const size_t n = name.size();
    if (line_.size() - i < n || std::memcmp(line_.data() + i, name.data(), n) != 0) return false;
    return i + n == line_.size() || !Is(line_[i + n], kMetricChar);
  }

  Status ParseTimestamp(size_t i, size_t end, std::optional<int64_t>* ts) {
    const std::string_view tok = line_.substr(i, end - i);
    if (!om_) {
      int64_t ms = 0;
      // Go's ParseInt also takes a leading '+'; from_chars does not.
      const char* b = tok.data() + (tok.size() > 1 && tok[0] == '+' && tok[1] != '-' ? 1 : 0);
      auto [p, ec] = std::from_chars(b, tok.data() + tok.size(), ms);
      if (ec != std::errc() || p != tok.data() + tok.size()) {
        return Err(i, "invalid timestamp \"" + std::string(tok) + "\" (want integer milliseconds)");
      }
      *ts = ms;
      return Status::OK();
    }
    double sec = 0;
    if (!ParseFloat(tok, &sec) || !std::isfinite(sec) || std::fabs(sec) > 9.2e15) {
      return Err(i, "invalid timestamp \"" + std::string(tok) + "\" (want seconds)");
    }
    *ts = std::llround(sec * 1000.0);
    return Status::OK();
  }

  // Parses `{...}` at line_[*i] into labels_ (and name_, for a quoted name in braces).
  Status ParseLabels(size_t* pos) {
    size_t i = *pos + 1;
    for (;;) {
      i = FirstNonBlank(i);
      if (i >= line_.size()) return Err(i, "unterminated label set, expected '}'");
      if (line_[i] == '}') {
        ++i;
        break;
      }
      const size_t lpos = i;
      std::string_view lname;
      if (line_[i] == '"') {
        SB_RETURN_IF_ERROR(ReadQuoted(&i, &scratch_));
        i = FirstNonBlank(i);
        if (i >= line_.size() || line_[i] != '=') {
          // A quoted string standing alone is the metric name (Prometheus 3).
          if (!name_.empty()) return Err(lpos, "metric name given twice");
          if (scratch_.empty()) return Err(lpos, "empty metric name");
          name_ = scratch_;
          if (!SkipLabelSeparator(&i)) return SeparatorError(i, "metric name");
          if (line_[i - 1] == '}') break;
          continue;
        }
        lname = scratch_;
      } else if (Is(line_[i], kLabelStart)) {
        const size_t s = i;
        while (i < line_.size() && Is(line_[i], kLabelChar)) ++i;
        lname = line_.substr(s, i - s);
        i = FirstNonBlank(i);
      } else {
        return Err(i, std::string("expected a label name, got '") + line_[i] + "'");
      }
      if (i >= line_.size() || line_[i] != '=') return Err(i, "expected '=' after the label name");
      i = FirstNonBlank(i + 1);
      if (i >= line_.size() || line_[i] != '"') return Err(i, "expected '\"' to open the label value");
      if (lname == "__name__") {
        if (!name_.empty()) return Err(lpos, "duplicate label name \"__name__\"");
        SB_RETURN_IF_ERROR(ReadQuoted(&i, &name_));
        name_is_legacy_ = false;
      } else {
        for (const Label& l : labels_) {
          if (l.name == lname) return Err(lpos, "duplicate label name \"" + std::string(lname) + "\"");
        }
        if (labels_.size() >= opts_.max_label_count) {
          return Err(lpos, "too many labels (max_label_count=" +
                               std::to_string(opts_.max_label_count) + ")");
        }
        std::string_view raw;
        bool escaped;
        SB_RETURN_IF_ERROR(ScanQuoted(&i, &raw, &escaped));
        // Constructed rather than assigned: a new string gets an exact-size buffer, where
        // assigning to an empty one rounds the capacity up to 30.
        Label& l = labels_.emplace_back(Label{std::string(lname), std::string()});
        if (escaped) Unescape(raw, &l.value);
        else l.value = std::string(raw);
      }
      if (!SkipLabelSeparator(&i)) return SeparatorError(i, "label value");
      if (line_[i - 1] == '}') break;
    }
    *pos = i;  // just past '}'
    return Status::OK();
  }

  Status SeparatorError(size_t i, const char* after) const {
    if (i >= line_.size()) return Err(i, "unterminated label set, expected '}'");
    return Err(i, std::string("expected ',' or '}' after the ") + after);
  }

  // After a label pair: blanks, then ',' or '}'. Leaves *i just past it (past '}' means done).
  bool SkipLabelSeparator(size_t* i) {
    size_t j = FirstNonBlank(*i);
    if (j >= line_.size() || (line_[j] != ',' && line_[j] != '}')) {
      *i = j;
      return false;
    }
    *i = j + 1;
    return true;
  }

  // `same_name`: name_ is the previous sample's name. If that sample joined current_, this
  // one belongs there too, without comparing suffixes again.
  Status AddSample(double value, std::optional<int64_t> ts, bool same_name) {
    if (!(same_name && last_sample_in_current_) &&
        (current_ == nullptr || !Belongs(*current_, name_))) {
      current_ = &exp_.families.emplace_back();
      current_->name = name_;
      current_has_samples_ = false;
      have_help_ = have_type_ = have_unit_ = false;
    }
    if (!current_has_samples_ && !om_) typed_or_sampled_.insert(current_->name);
    current_has_samples_ = true;
    last_sample_in_current_ = true;
    if (opts_.on_sample) {  // streamed: handed over, then the buffers are reused
      streamed_.name.swap(name_);
      streamed_.labels.swap(labels_);
      streamed_.value = value;
      streamed_.timestamp_ms = ts;
      Status st = opts_.on_sample(streamed_);
      streamed_.name.swap(name_);
      streamed_.labels.swap(labels_);
      labels_.clear();
      return st;
    }
    Sample& s = current_->samples.emplace_back();
    // A copy constructed, not assigned, for an exact-size buffer (see ParseLabels).
    s.name = std::string(name_);
    const size_t n = labels_.size();
    s.labels = std::move(labels_);
    labels_.clear();
    labels_.reserve(n);
    s.value = value;
    s.timestamp_ms = ts;
    return Status::OK();
  }

  const bool om_;
  const ParseOptions& opts_;
  Exposition exp_;
  Family* current_ = nullptr;  // points into exp_.families; only the last one is current
  bool current_has_samples_ = false;  // a sample went into current_ (kept or streamed)
  Sample streamed_;  // what ParseOptions::on_sample is given
  bool have_help_ = false, have_type_ = false, have_unit_ = false;
  bool seen_eof_ = false;
  // The last sample went into current_ (no family opened since).
  bool last_sample_in_current_ = false;
  // name_ was read as a legacy (unquoted) name, so the next sample can match it bytewise.
  bool name_is_legacy_ = false;
  size_t line_no_ = 0;
  size_t sample_count_ = 0;
  std::string_view line_;
  // Scratch buffers reused across lines, so steady state allocates only what is kept.
  std::string name_, meta_name_, scratch_;
  Labels labels_;
  std::unordered_set<std::string> typed_or_sampled_;  // text 0.0.4 TYPE checks
};

}  // namespace

Result<Exposition> ParseExposition(std::string_view body, Format format, const ParseOptions& opts) {
  return Parser(format, opts).Run(body);
}

struct StreamParser::Impl {
  Impl(Format format, const ParseOptions& o) : opts(o), parser(format, opts), max_line_bytes(o.max_line_bytes) {}
  const ParseOptions opts;  // the Parser keeps a reference
  Parser parser;
  size_t max_line_bytes;
  std::string partial;  // the start of a line whose end has not come yet
  Status failed;        // the first error: every later call returns it
};

StreamParser::StreamParser(Format format, const ParseOptions& opts) : impl_(std::make_unique<Impl>(format, opts)) {}
StreamParser::~StreamParser() = default;

Status StreamParser::Feed(std::string_view piece) {
  Impl& m = *impl_;
  if (!m.failed.ok()) return m.failed;
  const size_t last_nl = piece.rfind('\n');
  if (last_nl == std::string_view::npos) {
    m.partial.append(piece);
    // A line that long fails anyway (max_line_bytes): stop holding more of it.
    if (m.partial.size() > m.max_line_bytes + 1) m.failed = m.parser.Lines(m.partial);
    return m.failed;
  }
  if (!m.partial.empty()) {  // finish the line begun in an earlier piece
    const size_t first_nl = piece.find('\n');
    m.partial.append(piece.substr(0, first_nl + 1));
    m.failed = m.parser.Lines(m.partial);
    m.partial.clear();
    piece.remove_prefix(first_nl + 1);
    if (!m.failed.ok()) return m.failed;
  }
  const size_t end = piece.rfind('\n') + 1;  // 0 if the only line end was the one above
  m.failed = m.parser.Lines(piece.substr(0, end));
  if (m.failed.ok()) m.partial.assign(piece.substr(end));
  return m.failed;
}

Result<Exposition> StreamParser::Finish() {
  Impl& m = *impl_;
  if (!m.failed.ok()) return m.failed;
  if (!m.partial.empty()) {  // a last line without a line end
    m.failed = m.parser.Lines(m.partial);
    m.partial.clear();
    if (!m.failed.ok()) return m.failed;
  }
  Result<Exposition> r = m.parser.End();
  m.failed = r.ok() ? Status::Internal("StreamParser: Finish was called already") : r.status();
  return r;
}

Format FormatFromContentType(std::string_view content_type) {
  size_t b = 0;
  while (b < content_type.size() && IsBlank(content_type[b])) ++b;
  constexpr std::string_view kOm = "application/openmetrics-text";
  std::string_view media = content_type.substr(b);
  media = media.substr(0, media.find(';'));
  while (!media.empty() && IsBlank(media.back())) media.remove_suffix(1);
  if (media.size() != kOm.size()) return Format::kText004;
  for (size_t k = 0; k < kOm.size(); ++k) {
    char c = media[k];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kOm[k]) return Format::kText004;
  }
  return Format::kOpenMetrics;
}

}  // namespace sb::expo
