#include "tests/promql/promqltest_runner.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <algorithm>
#include <unordered_map>

#include <re2/re2.h>

#include "promql-lite/ast.h"
#include "promql-lite/engine.h"
#include "promql-lite/lexer.h"
#include "storage/store.h"

namespace sb::promqltest {
namespace {

constexpr double kEpsilon = 1e-6;

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

double StaleNaN() {
  double d;
  uint64_t bits = storage::kStaleMarkerBits;
  std::memcpy(&d, &bits, sizeof(d));
  return d;
}
bool IsStale(double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof(bits));
  return bits == storage::kStaleMarkerBits;
}

bool AlmostEqual(double a, double b) {
  if (std::isnan(a) && std::isnan(b)) return true;
  if (a == b) return true;
  constexpr double kMinNormal = 2.2250738585072014e-308;
  double abs_sum = std::fabs(a) + std::fabs(b);
  double diff = std::fabs(a - b);
  if (a == 0 || b == 0 || abs_sum < kMinNormal) return diff < kEpsilon * kMinNormal;
  return diff / std::min(abs_sum, 1.7976931348623157e308) < kEpsilon;
}

bool ParseNumber(const std::string& s, double* v) {
  if (s.empty()) return false;
  char* end = nullptr;
  *v = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

// A duration ("5m", "1h30m") or a number of seconds, in ms.
bool ParseTime(const std::string& s, int64_t* ms) {
  if (promql::ParseDurationLiteral(s, ms)) return true;
  double v;
  if (!ParseNumber(s, &v) || !std::isfinite(v)) return false;
  *ms = static_cast<int64_t>(std::llround(v * 1000));
  return true;
}

// One value of series notation; nullopt = omitted.
using Seq = std::vector<std::optional<double>>;

Status ParseValues(const std::string& text, Seq* out) {
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i >= text.size()) break;
    size_t j = i;
    while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j]))) ++j;
    std::string item = text.substr(i, j - i);
    i = j;
    size_t x = item.rfind('x');
    std::string head = item;
    int64_t times = -1;
    if (x != std::string::npos && x + 1 < item.size() && x > 0 &&
        std::isdigit(static_cast<unsigned char>(item[x + 1]))) {
      head = item.substr(0, x);
      char* end;
      times = std::strtoll(item.c_str() + x + 1, &end, 10);
      if (*end != '\0') return Status::InvalidArgument("bad series item \"" + item + "\"");
    }
    if (head == "_") {
      for (int64_t k = 0; k < std::max<int64_t>(times, 1); ++k) out->push_back(std::nullopt);
      continue;
    }
    // head is `a`, or `a+b` / `a-b` with a repeat count.
    double a, b = 0;
    size_t split = std::string::npos;
    if (times >= 0) {
      for (size_t k = 1; k < head.size(); ++k) {
        if ((head[k] == '+' || head[k] == '-') && head[k - 1] != 'e' && head[k - 1] != 'E') {
          split = k;
          break;
        }
      }
    }
    std::string as = split == std::string::npos ? head : head.substr(0, split);
    if (as == "stale") {
      a = StaleNaN();
    } else if (!ParseNumber(as, &a)) {
      return Status::InvalidArgument("bad series value \"" + item + "\"");
    }
    if (split != std::string::npos && !ParseNumber(head.substr(split), &b)) {
      return Status::InvalidArgument("bad series increment \"" + item + "\"");
    }
    out->push_back(a);
    for (int64_t k = 1; k <= times; ++k) {
      if (split != std::string::npos) a += b;
      out->push_back(a);
    }
  }
  return Status::OK();
}

// Splits `line` into a label set and the values text. Returns false if no labels part.
Status ParseSeriesDesc(const std::string& line, storage::Labels* labels, std::string* rest) {
  size_t i = 0;
  std::string name;
  while (i < line.size() && (std::isalnum(static_cast<unsigned char>(line[i])) || line[i] == '_' || line[i] == ':')) ++i;
  name = line.substr(0, i);
  if (!name.empty()) labels->push_back({std::string(storage::kMetricNameLabel), name});
  if (i < line.size() && line[i] == '{') {
    size_t j = i + 1;
    bool in_quote = false;
    char q = 0;
    for (; j < line.size(); ++j) {
      char c = line[j];
      if (in_quote) {
        if (c == '\\') { ++j; continue; }
        if (c == q) in_quote = false;
      } else if (c == '"' || c == '\'' || c == '`') {
        in_quote = true;
        q = c;
      } else if (c == '}') {
        break;
      }
    }
    if (j >= line.size()) return Status::InvalidArgument("unterminated labels in \"" + line + "\"");
    auto toks = promql::Lex(std::string_view(line).substr(i + 1, j - i - 1));
    if (!toks.ok()) return toks.status();
    const auto& t = *toks;
    size_t k = 0;
    while (t[k].type != promql::Tok::kEOF) {
      if (t[k].type == promql::Tok::kString && (t[k + 1].type == promql::Tok::kComma || t[k + 1].type == promql::Tok::kEOF)) {
        labels->push_back({std::string(storage::kMetricNameLabel), t[k].text});
        k += t[k + 1].type == promql::Tok::kComma ? 2 : 1;
        continue;
      }
      if ((t[k].type != promql::Tok::kIdent && t[k].type != promql::Tok::kString) ||
          t[k + 1].type != promql::Tok::kAssign || t[k + 2].type != promql::Tok::kString) {
        return Status::InvalidArgument("bad labels in \"" + line + "\"");
      }
      labels->push_back({t[k].text, t[k + 2].text});
      k += 3;
      if (t[k].type == promql::Tok::kComma) ++k;
    }
    i = j + 1;
  } else if (name.empty()) {
    return Status::InvalidArgument("no series in \"" + line + "\"");
  }
  // Canonical: empty values dropped, sorted by name.
  labels->erase(std::remove_if(labels->begin(), labels->end(), [](const storage::Label& l) { return l.value.empty(); }), labels->end());
  std::sort(labels->begin(), labels->end(), [](const storage::Label& a, const storage::Label& b) { return a.name < b.name; });
  *rest = line.substr(i);
  return Status::OK();
}

std::string Key(const storage::Labels& l) { return storage::LabelsToString(l); }

struct Expected {
  storage::Labels labels;
  Seq values;
  bool scalar = false;
  size_t pos = 0;
};

struct EvalCmd {
  int line = 0;
  bool range = false;
  std::string expr;
  int64_t t = 0, start = 0, end = 0, step = 0;
  bool expect_fail = false;
  std::string fail_msg;    // expect fail msg: the exact error text
  std::string fail_regex;  // expect fail regex: a pattern the error must contain
  bool ordered = false;
  std::optional<std::string> expect_string;
  bool expect_matrix = false;
  int64_t m_start = 0, m_step = 0;
  std::vector<Expected> expected;
  bool has_histogram_expectation = false;
  bool expect_warn = false;
  bool expect_no_warn = false;
  std::string warn_msg;  // expected warning text, if given
};

class Runner {
 public:
  Runner(std::string_view name, const RunnerOptions& o) : name_(name), opts_(o) {
    report_.name = std::string(name);
  }

  Result<FileReport> Run(std::string_view content) {
    std::vector<std::string> lines;
    size_t p = 0;
    while (p <= content.size()) {
      size_t nl = content.find('\n', p);
      if (nl == std::string_view::npos) nl = content.size();
      std::string l = Trim(content.substr(p, nl - p));
      if (StartsWith(l, "#")) l.clear();
      lines.push_back(std::move(l));
      p = nl + 1;
    }
    SB_RETURN_IF_ERROR(Clear());
    for (size_t i = 0; i < lines.size(); ++i) {
      const std::string& l = lines[i];
      if (l.empty()) continue;
      std::vector<std::string> block;
      size_t j = i + 1;
      while (j < lines.size() && !lines[j].empty()) block.push_back(lines[j++]);
      int line_no = static_cast<int>(i + 1);
      if (l == "clear") {
        SB_RETURN_IF_ERROR(Clear());
      } else if (StartsWith(l, "load")) {
        Load(l, block, line_no);
        i = j - 1;
      } else if (StartsWith(l, "eval")) {
        Eval(l, block, line_no);
        i = j - 1;
      } else {
        Fail(line_no, l, "unknown command");
      }
    }
    return report_;
  }

 private:
  void Fail(int line, const std::string& what, const std::string& why) {
    report_.failed++;
    report_.failures.push_back("line " + std::to_string(line) + ": " + what + ": " + why);
  }
  void Skip(int line, const std::string& why) {
    report_.skipped++;
    report_.skip_reasons.push_back("line " + std::to_string(line) + ": " + why);
  }

  Status Clear() {
    engine_.reset();
    queryable_.reset();
    store_.reset();
    storage::StoreOptions so;
    so.path = opts_.work_dir + "/" + name_ + "-" + std::to_string(++store_seq_) + ".db";
    so.synchronous = "OFF";
    SB_ASSIGN_OR_RETURN(store_, storage::Store::Open(so));
    queryable_ = std::make_unique<promql::StoreQueryable>(store_.get());
    promql::EngineOptions eo;
    eo.lookback_delta = std::chrono::minutes(5);
    eo.timeout = std::chrono::seconds(100);
    engine_ = std::make_unique<promql::Engine>(queryable_.get(), eo);
    histogram_names_.clear();
    load_error_.clear();
    return Status::OK();
  }

  void Load(const std::string& cmd, const std::vector<std::string>& block, int line) {
    std::string arg = Trim(cmd.substr(cmd.find(' ') == std::string::npos ? cmd.size() : cmd.find(' ')));
    int64_t interval = 0;
    if (!ParseTime(arg, &interval) || interval <= 0) {
      load_error_ = "line " + std::to_string(line) + ": bad load interval \"" + arg + "\"";
      return;
    }
    std::vector<storage::SeriesSamples> batch;
    for (const std::string& def : block) {
      storage::Labels labels;
      std::string rest;
      Status st = ParseSeriesDesc(def, &labels, &rest);
      if (st.ok() && rest.find("{{") != std::string::npos) {
        const std::string* n = nullptr;
        for (const auto& l : labels) if (l.name == storage::kMetricNameLabel) n = &l.value;
        if (n) histogram_names_.insert(*n);
        continue;
      }
      Seq values;
      if (st.ok()) st = ParseValues(rest, &values);
      if (!st.ok()) {
        load_error_ = "line " + std::to_string(line) + ": " + st.message();
        return;
      }
      storage::SeriesSamples ss;
      ss.labels = labels;
      for (size_t k = 0; k < values.size(); ++k) {
        if (values[k]) ss.samples.push_back({static_cast<int64_t>(k) * interval, *values[k]});
      }
      // The same series twice in one block: merge in time order (later values win).
      bool merged = false;
      for (auto& b : batch) {
        if (b.labels == ss.labels) {
          std::map<int64_t, double> m;
          for (auto& s : b.samples) m[s.timestamp_ms] = s.value;
          for (auto& s : ss.samples) m[s.timestamp_ms] = s.value;
          b.samples.clear();
          for (auto& [t, v] : m) b.samples.push_back({t, v});
          merged = true;
        }
      }
      if (!merged && !ss.samples.empty()) batch.push_back(std::move(ss));
    }
    auto r = store_->AppendSamples(batch);
    if (!r.ok()) load_error_ = "line " + std::to_string(line) + ": load: " + r.status().message();
  }

  Status ParseEvalCmd(const std::string& l, const std::vector<std::string>& block, EvalCmd* c) {
    std::string rest;
    std::string head = l.substr(0, l.find(' '));
    if (head == "eval_fail") c->expect_fail = true;
    else if (head == "eval_warn") c->expect_warn = true;
    else if (head == "eval_ordered") c->ordered = true;
    else if (head != "eval" && head != "eval_warn" && head != "eval_info") return Status::InvalidArgument("unknown command " + head);
    rest = Trim(l.substr(head.size()));
    auto word = [&rest]() {
      size_t sp = rest.find_first_of(" \t");
      std::string w = rest.substr(0, sp);
      rest = sp == std::string::npos ? "" : Trim(rest.substr(sp));
      return w;
    };
    std::string kind = word();
    if (kind == "instant") {
      if (word() != "at") return Status::InvalidArgument("expected \"at\"");
      std::string ts = word();
      if (!ParseTime(ts, &c->t)) return Status::InvalidArgument("bad time " + ts);
    } else if (kind == "range") {
      c->range = true;
      std::string s, e, st;
      if (word() != "from") return Status::InvalidArgument("expected \"from\"");
      s = word();
      if (word() != "to") return Status::InvalidArgument("expected \"to\"");
      e = word();
      if (word() != "step") return Status::InvalidArgument("expected \"step\"");
      st = word();
      if (!ParseTime(s, &c->start) || !ParseTime(e, &c->end) || !ParseTime(st, &c->step)) {
        return Status::InvalidArgument("bad range times");
      }
    } else {
      return Status::InvalidArgument("expected instant or range");
    }
    c->expr = rest;
    for (const std::string& b : block) {
      if (StartsWith(b, "expect ")) {
        std::string d = Trim(b.substr(7));
        if (StartsWith(d, "fail")) {
          c->expect_fail = true;
          if (size_t m = d.find("msg:"); m != std::string::npos) c->fail_msg = Trim(d.substr(m + 4));
          if (size_t m = d.find("regex:"); m != std::string::npos) c->fail_regex = Trim(d.substr(m + 6));
        }
        else if (d == "ordered") c->ordered = true;
        else if (StartsWith(d, "string")) {
          auto toks = promql::Lex(Trim(d.substr(6)));
          if (!toks.ok() || (*toks)[0].type != promql::Tok::kString) return Status::InvalidArgument("bad expect string");
          c->expect_string = (*toks)[0].text;
        } else if (StartsWith(d, "range vector")) {
          std::istringstream is(d.substr(12));
          std::string from, s, to, e, step, st;
          is >> from >> s >> to >> e >> step >> st;
          if (!ParseTime(s, &c->m_start) || !ParseTime(st, &c->m_step)) return Status::InvalidArgument("bad expect range vector");
          c->expect_matrix = true;
        }
        else if (d == "no_warn") c->expect_no_warn = true;
        else if (StartsWith(d, "warn")) {
          c->expect_warn = true;
          size_t m = d.find("msg:");
          if (m != std::string::npos) c->warn_msg = Trim(d.substr(m + 4));
        }
        // info / no_info: not checked (the engine produces no info annotations).
        continue;
      }
      if (b.find("{{") != std::string::npos) c->has_histogram_expectation = true;
      Expected ex;
      ex.pos = c->expected.size() + 1;
      double v;
      if (ParseNumber(b, &v)) {
        ex.scalar = true;
        ex.values.push_back(v);
      } else {
        std::string vals;
        SB_RETURN_IF_ERROR(ParseSeriesDesc(b, &ex.labels, &vals));
        if (!c->has_histogram_expectation) SB_RETURN_IF_ERROR(ParseValues(vals, &ex.values));
      }
      c->expected.push_back(std::move(ex));
    }
    return Status::OK();
  }

  std::string SkipReason(const EvalCmd& c) {
    if (c.has_histogram_expectation) return "native histogram result";
    auto toks = promql::Lex(c.expr);
    if (!toks.ok()) return "";
    const auto& t = *toks;
    for (size_t k = 0; k < t.size(); ++k) {
      if (t[k].type != promql::Tok::kIdent) continue;
      if (k + 1 < t.size() && t[k + 1].type == promql::Tok::kLParen && promql::IsUnsupportedFunction(t[k].text)) {
        return "out-of-scope function " + t[k].text + "()";
      }
      if (histogram_names_.count(t[k].text)) return "native histogram series " + t[k].text;
      if (t[k].text == "fill" || t[k].text == "fill_left" || t[k].text == "fill_right" ||
          t[k].text == "anchored" || t[k].text == "smoothed") {
        return "experimental modifier " + t[k].text;
      }
    }
    for (size_t k = 0; k < t.size(); ++k) {
      // Regex matchers on __name__ may pull in histogram series.
      if (t[k].type == promql::Tok::kIdent && t[k].text == "__name__" && !histogram_names_.empty()) {
        return "__name__ matcher over a load with native histograms";
      }
    }
    return "";
  }

  void Eval(const std::string& l, const std::vector<std::string>& block, int line) {
    EvalCmd c;
    c.line = line;
    Status st = ParseEvalCmd(l, block, &c);
    if (!st.ok()) { Fail(line, l, "runner could not parse: " + st.message()); return; }
    std::string skip = SkipReason(c);
    if (!skip.empty()) { Skip(line, skip); return; }
    if (!load_error_.empty()) { Fail(line, c.expr, "data did not load: " + load_error_); return; }
    Result<promql::QueryResult> r = c.range ? engine_->Range(c.expr, c.start, c.end, c.step)
                                            : engine_->Instant(c.expr, c.t);
    if (c.expect_fail) {
      if (r.ok()) { Fail(line, c.expr, "expected an error, got a result"); return; }
      const std::string& msg = r.status().message();
      if (!c.fail_msg.empty() && msg != c.fail_msg) {
        Fail(line, c.expr, "error \"" + msg + "\", expected \"" + c.fail_msg + "\"");
        return;
      }
      if (!c.fail_regex.empty() && !re2::RE2::PartialMatch(msg, c.fail_regex)) {
        Fail(line, c.expr, "error \"" + msg + "\" does not match /" + c.fail_regex + "/");
        return;
      }
      report_.passed++;
      return;
    }
    if (!r.ok()) {
      if (r.status().code() == Status::Code::kUnimplemented) { Skip(line, r.status().message()); return; }
      Fail(line, c.expr, "error: " + r.status().ToString());
      return;
    }
    std::string why = Compare(c, r->value);
    if (why.empty()) why = CompareWarnings(c, r->warnings);
    if (why.empty()) report_.passed++;
    else Fail(line, c.expr, why);
  }

  static std::string Str(double v) { return promql::FormatNumber(v); }

  static std::string CompareWarnings(const EvalCmd& c, const std::vector<std::string>& w) {
    if (c.expect_no_warn && !w.empty()) return "unexpected warning: " + w[0];
    if (c.expect_warn && w.empty()) return "expected a warning, got none";
    if (!c.warn_msg.empty() && std::find(w.begin(), w.end(), c.warn_msg) == w.end()) {
      return "expected warning \"" + c.warn_msg + "\", got " + (w.empty() ? "none" : "\"" + w[0] + "\"");
    }
    return "";
  }

  std::string Compare(const EvalCmd& c, const promql::Value& v) {
    using promql::ValueType;
    if (c.expect_string) {
      if (v.type != ValueType::kString) return "expected a string result";
      return v.str == *c.expect_string ? "" : "string \"" + v.str + "\" != \"" + *c.expect_string + "\"";
    }
    if (v.type == ValueType::kString) return "unexpected string result";
    if (v.type == ValueType::kScalar) {
      if (c.expected.size() != 1 || c.expected[0].values.size() != 1 || !c.expected[0].values[0]) {
        return "got scalar " + Str(v.scalar) + ", expected " + std::to_string(c.expected.size()) + " series";
      }
      double e = *c.expected[0].values[0];
      return AlmostEqual(e, v.scalar) ? "" : "scalar " + Str(v.scalar) + " != expected " + Str(e);
    }
    std::map<std::string, const Expected*> exp;
    for (const auto& e : c.expected) {
      if (e.scalar) return "expected a scalar, got a " + std::string(promql::ValueTypeName(v.type));
      exp[Key(e.labels)] = &e;
    }
    std::set<std::string> seen;
    bool points = c.range || v.type == ValueType::kMatrix;
    int64_t start = c.range ? c.start : c.m_start, step = c.range ? c.step : c.m_step;
    if (v.type == ValueType::kMatrix && !c.range && !c.expect_matrix) {
      return "got a range vector without an \"expect range vector\" directive";
    }
    for (size_t pos = 0; pos < v.series.size(); ++pos) {
      const auto& s = v.series[pos];
      std::string k = Key(s.labels);
      auto it = exp.find(k);
      if (it == exp.end()) {
        return "unexpected series " + k + " in result" + (s.points.empty() ? "" : " with value " + Str(s.points[0].v));
      }
      if (!seen.insert(k).second) return "series " + k + " twice in result";
      const Expected& e = *it->second;
      if (c.ordered && e.pos != pos + 1) return "series " + k + " at position " + std::to_string(pos + 1) + ", expected " + std::to_string(e.pos);
      if (!points) {
        if (s.points.size() != 1 || e.values.size() != 1 || !e.values[0]) return "bad expectation for " + k;
        if (!AlmostEqual(*e.values[0], s.points[0].v)) return k + ": got " + Str(s.points[0].v) + ", expected " + Str(*e.values[0]);
        continue;
      }
      std::vector<promql::Point> want;
      for (size_t i = 0; i < e.values.size(); ++i) {
        if (e.values[i] && !IsStale(*e.values[i])) want.push_back({start + static_cast<int64_t>(i) * step, *e.values[i]});
      }
      if (want.size() != s.points.size()) {
        std::string got;
        for (const auto& p : s.points) got += " " + Str(p.v) + "@" + std::to_string(p.t);
        return k + ": " + std::to_string(s.points.size()) + " points, expected " + std::to_string(want.size()) + ":" + got;
      }
      for (size_t i = 0; i < want.size(); ++i) {
        if (want[i].t != s.points[i].t || !AlmostEqual(want[i].v, s.points[i].v)) {
          return k + ": point " + std::to_string(i) + " is " + Str(s.points[i].v) + "@" + std::to_string(s.points[i].t) +
                 ", expected " + Str(want[i].v) + "@" + std::to_string(want[i].t);
        }
      }
    }
    for (const auto& [k, e] : exp) {
      if (!seen.count(k)) {
        // A range expectation of only blanks is an absent series.
        bool all_blank = true;
        for (const auto& x : e->values) all_blank = all_blank && !x;
        if (!all_blank) return "expected series " + k + " not in result";
      }
    }
    return "";
  }

  std::string name_;
  RunnerOptions opts_;
  FileReport report_;
  int store_seq_ = 0;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<promql::StoreQueryable> queryable_;
  std::unique_ptr<promql::Engine> engine_;
  std::set<std::string> histogram_names_;
  std::string load_error_;
};

}  // namespace

std::string SkippedFileReason(std::string_view f) {
  if (f == "native_histograms.test") return "native histograms are out of scope";
  if (f == "histograms.test") return "histograms (histogram_quantile, native histograms) are out of scope";
  if (f == "info.test") return "info() is out of scope";
  if (f == "fill-modifier.test") return "the fill modifiers are experimental";
  if (f == "extended_vectors.test") return "anchored/smoothed selectors are experimental";
  if (f == "duration_expression.test") return "duration expressions are experimental (promql-duration-expr)";
  if (f == "type_and_unit.test") return "type-and-unit labels are behind a feature flag";
  if (f == "name_label_dropping.test") return "delayed name removal is behind a feature flag (promql-delayed-name-removal)";
  if (f == "start_timestamps.test") return "start timestamps (@st series) are behind a feature flag";
  return "";
}

Result<FileReport> RunScript(std::string_view name, std::string_view content,
                             const RunnerOptions& options) {
  Runner r(name, options);
  return r.Run(content);
}

}  // namespace sb::promqltest
