#include "storage/tools.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <optional>
#include <system_error>
#include <tuple>
#include <unordered_map>

#include "storage/head_log.h"
#include "storage/schema.h"
#include "storage/series.h"

namespace sb::storage {
namespace {

bool IsNameStart(char c, bool allow_colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         (allow_colon && c == ':');
}
bool IsNameChar(char c, bool allow_colon) {
  return IsNameStart(c, allow_colon) || (c >= '0' && c <= '9');
}

// A cursor over a selector; errors carry the 1-based column of the current position.
class SelectorParser {
 public:
  explicit SelectorParser(std::string_view text) : s_(text) {}

  Result<std::vector<Matcher>> Parse() {
    std::vector<Matcher> out;
    SkipSpace();
    std::string metric;
    size_t metric_col = 0;
    if (pos_ < s_.size() && IsNameStart(s_[pos_], /*allow_colon=*/true)) {
      metric_col = pos_ + 1;
      metric = Name(/*allow_colon=*/true);
      SB_ASSIGN_OR_RETURN(Matcher m, Matcher::Make(Matcher::Type::kEqual,
                                                   std::string(kMetricNameLabel), metric));
      out.push_back(std::move(m));
      SkipSpace();
    }
    if (pos_ < s_.size() && s_[pos_] == '{') {
      ++pos_;
      SB_RETURN_IF_ERROR(Braces(!metric.empty(), &out));
      SkipSpace();
    } else if (metric.empty()) {
      return Error(pos_ >= s_.size() ? "empty selector" : "expected a metric name or '{'");
    }
    if (pos_ < s_.size()) return Error("unexpected '" + std::string(1, s_[pos_]) + "'");
    if (std::all_of(out.begin(), out.end(), [](const Matcher& m) { return m.Matches(""); })) {
      return Status::InvalidArgument(
          "col " + std::to_string(metric_col ? metric_col : 1) +
          ": selector must contain at least one matcher that does not match the empty string");
    }
    return out;
  }

 private:
  // After '{': matchers up to and including '}'.
  Status Braces(bool have_metric, std::vector<Matcher>* out) {
    for (;;) {
      SkipSpace();
      if (pos_ >= s_.size()) return Error("unterminated '{': expected '}'");
      if (s_[pos_] == '}') {
        ++pos_;
        return Status::OK();
      }
      if (!IsNameStart(s_[pos_], /*allow_colon=*/false)) return Error("expected a label name");
      const size_t name_pos = pos_;
      std::string name = Name(/*allow_colon=*/false);
      SkipSpace();
      SB_ASSIGN_OR_RETURN(Matcher::Type type, Op());
      SkipSpace();
      const size_t value_pos = pos_;
      SB_ASSIGN_OR_RETURN(std::string value, Quoted());
      if (name == kMetricNameLabel && have_metric) {
        return ErrorAt(name_pos, "metric name given twice");
      }
      Result<Matcher> m = Matcher::Make(type, name, std::move(value));
      if (!m.ok()) return ErrorAt(value_pos, m.status().message());
      out->push_back(std::move(m).value());
      SkipSpace();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
      } else if (pos_ < s_.size() && s_[pos_] != '}') {
        return Error("expected ',' or '}'");
      }
    }
  }

  Result<Matcher::Type> Op() {
    auto starts = [&](std::string_view op) { return s_.substr(pos_).starts_with(op); };
    if (starts("=~")) { pos_ += 2; return Matcher::Type::kRegexMatch; }
    if (starts("!~")) { pos_ += 2; return Matcher::Type::kRegexNoMatch; }
    if (starts("!=")) { pos_ += 2; return Matcher::Type::kNotEqual; }
    if (starts("=")) { pos_ += 1; return Matcher::Type::kEqual; }
    return Error("expected one of =, !=, =~, !~");
  }

  Result<std::string> Quoted() {
    if (pos_ >= s_.size() || (s_[pos_] != '"' && s_[pos_] != '\'')) {
      return Error("expected a quoted label value");
    }
    const size_t open = pos_;
    const char quote = s_[pos_++];
    std::string out;
    while (pos_ < s_.size() && s_[pos_] != quote) {
      char c = s_[pos_++];
      if (c == '\\') {
        if (pos_ >= s_.size()) break;
        const char e = s_[pos_++];
        switch (e) {
          case 'n': c = '\n'; break;
          case 't': c = '\t'; break;
          case 'r': c = '\r'; break;
          case '\\': case '"': case '\'': c = e; break;
          default: return ErrorAt(pos_ - 2, "unknown escape \\" + std::string(1, e));
        }
      }
      out.push_back(c);
    }
    if (pos_ >= s_.size()) return ErrorAt(open, "unterminated quoted string");
    ++pos_;
    return out;
  }

  std::string Name(bool allow_colon) {
    const size_t start = pos_;
    while (pos_ < s_.size() && IsNameChar(s_[pos_], allow_colon)) ++pos_;
    return std::string(s_.substr(start, pos_ - start));
  }
  void SkipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n')) ++pos_;
  }
  Status Error(const std::string& what) const { return ErrorAt(pos_, what); }
  static Status ErrorAt(size_t pos, const std::string& what) {
    return Status::InvalidArgument("col " + std::to_string(pos + 1) + ": " + what);
  }

  std::string_view s_;
  size_t pos_ = 0;
};

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// Reads exactly `n` digits at *pos.
bool Digits(std::string_view s, size_t* pos, size_t n, int64_t* out) {
  if (*pos + n > s.size()) return false;
  int64_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = s[*pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

std::optional<int64_t> ParseRfc3339(std::string_view s) {
  size_t p = 0;
  int64_t y, mo, d, h, mi, sec;
  auto lit = [&](char c) { return p < s.size() && s[p++] == c; };
  if (!Digits(s, &p, 4, &y) || !lit('-') || !Digits(s, &p, 2, &mo) || !lit('-') ||
      !Digits(s, &p, 2, &d)) {
    return std::nullopt;
  }
  if (p >= s.size() || (s[p] != 'T' && s[p] != 't' && s[p] != ' ')) return std::nullopt;
  ++p;
  if (!Digits(s, &p, 2, &h) || !lit(':') || !Digits(s, &p, 2, &mi) || !lit(':') ||
      !Digits(s, &p, 2, &sec)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  int64_t ms = 0;
  if (p < s.size() && s[p] == '.') {
    ++p;
    int64_t scale = 100;
    const size_t start = p;
    while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
      ms += (s[p] - '0') * scale;
      scale /= 10;
      ++p;
    }
    if (p == start) return std::nullopt;
  }
  int64_t offset_min = 0;
  if (p < s.size() && (s[p] == 'Z' || s[p] == 'z')) {
    ++p;
  } else if (p < s.size() && (s[p] == '+' || s[p] == '-')) {
    const int64_t sign = s[p++] == '-' ? -1 : 1;
    int64_t oh, om;
    if (!Digits(s, &p, 2, &oh) || !lit(':') || !Digits(s, &p, 2, &om)) return std::nullopt;
    offset_min = sign * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  if (p != s.size()) return std::nullopt;
  const int64_t secs = DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
                       offset_min * 60;
  return secs * 1000 + ms;
}

// Go's strconv.Quote for label values, for the ASCII cases that matter.
void AppendQuoted(std::string* out, const std::string& v) {
  out->push_back('"');
  for (const char c : v) {
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\t': *out += "\\t"; break;
      case '\r': *out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned char>(c));
          *out += buf;
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

std::string DumpLabels(const Labels& labels) {
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ", ";
    out += labels[i].name;
    out += '=';
    AppendQuoted(&out, labels[i].value);
  }
  out += '}';
  return out;
}

}  // namespace

Result<std::vector<Matcher>> ParseSelector(std::string_view text) {
  return SelectorParser(text).Parse();
}

Result<int64_t> ParseTimeFlag(std::string_view text) {
  if (std::optional<int64_t> ms = ParseRfc3339(text)) return *ms;
  // Unix seconds, optionally fractional; from_chars refuses a leading '+' and spaces.
  double secs = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, secs, std::chars_format::fixed);
  if (!text.empty() && ec == std::errc() && ptr == end && std::isfinite(secs) &&
      std::fabs(secs) < 9.2e15) {
    return static_cast<int64_t>(std::llround(secs * 1000));
  }
  return Status::InvalidArgument("invalid time \"" + std::string(text) +
                                 "\": want RFC 3339 (2023-11-14T22:13:20Z) or unix seconds");
}

std::string FormatDumpValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  // Shortest round-trip digits in exponent form; its exponent decides the layout.
  auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string sci(buf, r.ptr);
  const size_t e = sci.find('e');
  const int exp = std::stoi(sci.substr(e + 1));
  if (exp < -4 || exp >= 6) return sci;  // "1.5e+06", two exponent digits at least, as Go
  r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  return std::string(buf, r.ptr);
}

Result<AnalyzeReport> Analyze(const std::string& db_path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(db_path, ec)) {
    return Status::NotFound("no store at " + db_path);
  }
  SB_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::Open(db_path, /*read_only=*/true));
  SB_RETURN_IF_ERROR(PrepareReader(db.get(), DbSettings{}));
  // One read transaction: every figure comes from the same snapshot.
  SB_RETURN_IF_ERROR(db->Exec("BEGIN"));
  AnalyzeReport r;
  r.path = db_path;
  SB_ASSIGN_OR_RETURN(r.series, db->QueryInt("SELECT count(*) FROM series"));
  SB_ASSIGN_OR_RETURN(r.chunks, db->QueryInt("SELECT count(*) FROM chunks"));
  SB_ASSIGN_OR_RETURN(r.samples, db->QueryInt("SELECT coalesce(sum(num_samples), 0) FROM chunks"));
  SB_ASSIGN_OR_RETURN(r.chunk_bytes,
                      db->QueryInt("SELECT coalesce(sum(length(data)), 0) FROM chunks"));
  SB_ASSIGN_OR_RETURN(r.min_time_ms, db->QueryInt("SELECT coalesce(min(min_t), 0) FROM chunks"));
  SB_ASSIGN_OR_RETURN(r.max_time_ms, db->QueryInt("SELECT coalesce(max(max_t), 0) FROM chunks"));
  {
    // Samples only in the head log: those after their series' last chunk row.
    std::unordered_map<int64_t, int64_t> chunk_max_t;
    SB_ASSIGN_OR_RETURN(Stmt ranges, db->Prepare(
        "SELECT series_id, MAX(max_t) FROM chunks GROUP BY series_id"));
    for (;;) {
      SB_ASSIGN_OR_RETURN(bool row, ranges.Step());
      if (!row) break;
      chunk_max_t[ranges.ColumnInt(0)] = ranges.ColumnInt(1);
    }
    SB_ASSIGN_OR_RETURN(Stmt log, db->Prepare(
        "SELECT seq, fetch_time_ms, num_series, data FROM head_log ORDER BY seq"));
    std::vector<HeadLogEntry> entries;
    for (;;) {
      SB_ASSIGN_OR_RETURN(bool row, log.Step());
      if (!row) break;
      const int64_t t = log.ColumnInt(1);
      Status s = DecodeHeadLog(log.ColumnBlob(3), log.ColumnInt(2), &entries);
      if (!s.ok()) {
        return Status::Corruption("head_log row seq=" + std::to_string(log.ColumnInt(0)) +
                                  ": " + s.message());
      }
      ++r.pending_fetches;
      for (const HeadLogEntry& e : entries) {
        auto it = chunk_max_t.find(e.series_id);
        if (it != chunk_max_t.end() && t <= it->second) continue;
        ++r.pending_samples;
        if (r.samples + r.pending_samples == 1 || t < r.min_time_ms) r.min_time_ms = t;
        r.max_time_ms = std::max(r.max_time_ms, t);
      }
    }
    r.samples += r.pending_samples;
  }
  SB_ASSIGN_OR_RETURN(r.targets, db->QueryInt("SELECT count(*) FROM targets"));
  SB_ASSIGN_OR_RETURN(r.fetches,
                      db->QueryInt("SELECT coalesce(sum(num_fetches), 0) FROM fetches"));
  SB_ASSIGN_OR_RETURN(int64_t pages, db->QueryInt("PRAGMA page_count"));
  SB_ASSIGN_OR_RETURN(int64_t page_size, db->QueryInt("PRAGMA page_size"));
  r.db_bytes = pages * page_size;

  // name -> value -> number of series with that pair.
  std::map<std::string, std::map<std::string, int64_t>> pairs;
  {
    SB_ASSIGN_OR_RETURN(Stmt st, db->Prepare("SELECT id, labels FROM series"));
    for (;;) {
      SB_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      Result<Labels> labels = DecodeLabels(st.ColumnBlob(1));
      if (!labels.ok()) {
        return Status::Corruption("series " + std::to_string(st.ColumnInt(0)) + ": " +
                                  labels.status().message());
      }
      for (const Label& l : *labels) ++pairs[l.name][l.value];
    }
  }
  SB_RETURN_IF_ERROR(db->Exec("COMMIT"));
  for (const auto& [name, values] : pairs) {
    LabelNameStats s{name, static_cast<int64_t>(values.size()), 0};
    for (const auto& [value, n] : values) s.series += n;
    r.label_names.push_back(std::move(s));
  }
  std::stable_sort(r.label_names.begin(), r.label_names.end(),
                   [](const LabelNameStats& a, const LabelNameStats& b) {
                     return a.distinct_values > b.distinct_values;
                   });
  if (auto size = std::filesystem::file_size(db_path + "-wal", ec); !ec) {
    r.wal_file_bytes = static_cast<int64_t>(size);
  }
  if (r.samples > 0) r.bytes_per_sample = static_cast<double>(r.db_bytes) / r.samples;
  return r;
}

std::string FormatAnalyze(const AnalyzeReport& r, size_t top_label_names) {
  auto time = [](int64_t ms) {
    const std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return std::string(buf) + " (" + std::to_string(ms) + ")";
  };
  std::ostringstream o;
  o << "Store: " << r.path << "\n";
  if (r.samples > 0) {
    o << "Time range: " << time(r.min_time_ms) << " to " << time(r.max_time_ms) << "\n";
  }
  o << "Series: " << r.series << "\n"
    << "Samples: " << r.samples << " (stale markers included)\n"
    << "Head log: " << r.pending_fetches << " fetches not yet flushed into chunks, with "
    << r.pending_samples << " samples no chunk row holds yet\n"
    << "Chunks: " << r.chunks << " (" << r.chunk_bytes << " bytes of chunk data";
  if (r.chunks > 0) o << ", " << r.samples / r.chunks << " samples per chunk on average";
  o << ")\n"
    << "Targets: " << r.targets << ", fetches logged: " << r.fetches << "\n"
    << "Bytes on disk: " << r.db_bytes << " (database pages";
  if (r.wal_file_bytes > 0) o << "; the -wal file holds " << r.wal_file_bytes << " more";
  o << ")\n";
  char bps[32];
  std::snprintf(bps, sizeof(bps), "%.3f", r.bytes_per_sample);
  o << "Bytes per sample: " << (r.samples > 0 ? bps : "n/a") << "\n";
  const size_t n = std::min(top_label_names, r.label_names.size());
  o << "\nLabel names by cardinality (top " << n << " of " << r.label_names.size() << "):\n";
  o << "  values   series  name\n";
  for (size_t i = 0; i < n; ++i) {
    char line[64];
    std::snprintf(line, sizeof(line), "  %6lld %8lld  ",
                  static_cast<long long>(r.label_names[i].distinct_values),
                  static_cast<long long>(r.label_names[i].series));
    o << line << r.label_names[i].name << "\n";
  }
  return o.str();
}

Status Dump(Store& store, const std::vector<std::vector<Matcher>>& selectors, int64_t start_ms,
            int64_t end_ms, std::ostream& out) {
  std::map<int64_t, Labels> by_id;  // the union of the selectors, deduplicated
  const std::vector<std::vector<Matcher>> all = {{}};
  for (const std::vector<Matcher>& ms : selectors.empty() ? all : selectors) {
    SB_ASSIGN_OR_RETURN(std::vector<SeriesRef> refs, store.Select(ms, start_ms, end_ms));
    for (SeriesRef& ref : refs) by_id.emplace(ref.id, std::move(ref.labels));
  }
  std::vector<std::pair<const Labels*, int64_t>> order;
  for (const auto& [id, labels] : by_id) order.emplace_back(&labels, id);
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return std::lexicographical_compare(
        a.first->begin(), a.first->end(), b.first->begin(), b.first->end(),
        [](const Label& x, const Label& y) {
          return std::tie(x.name, x.value) < std::tie(y.name, y.value);
        });
  });
  for (const auto& [labels, id] : order) {
    SB_ASSIGN_OR_RETURN(std::vector<Sample> samples, store.Samples(id, start_ms, end_ms));
    const std::string prefix = DumpLabels(*labels) + " ";
    for (const Sample& s : samples) {
      out << prefix << FormatDumpValue(s.value) << ' ' << s.timestamp_ms << '\n';
    }
  }
  if (!out) return Status::IOError("writing the dump failed");
  return Status::OK();
}

Status Dump(Store& store, const std::vector<Matcher>& matchers, int64_t start_ms, int64_t end_ms,
            std::ostream& out) {
  return Dump(store, std::vector<std::vector<Matcher>>{matchers}, start_ms, end_ms, out);
}

}  // namespace sb::storage
