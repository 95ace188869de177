// PromQL functions: the function table the parser checks calls against, and their
// evaluation with Prometheus 3 semantics (extrapolatedRate for rate/increase/delta, least
// squares for deriv/predict_linear, Kahan sums for *_over_time, Go's math for the rest).
// Range-vector functions live in functions_range.cc.
#include <algorithm>
#include <cmath>
#include <ctime>
#include <unordered_map>

#include <re2/re2.h>

#include "promql-lite/functions_internal.h"

namespace sb::promql {
namespace {

constexpr ValueType S = ValueType::kScalar, V = ValueType::kVector, M = ValueType::kMatrix,
                    STR = ValueType::kString;

const std::vector<FunctionDef>& Table() {
  static const std::vector<FunctionDef> kTable = {
      {"abs", {V}, 0, V}, {"ceil", {V}, 0, V}, {"floor", {V}, 0, V}, {"sqrt", {V}, 0, V},
      {"exp", {V}, 0, V}, {"ln", {V}, 0, V}, {"log2", {V}, 0, V}, {"log10", {V}, 0, V},
      {"sgn", {V}, 0, V}, {"round", {V, S}, 1, V}, {"clamp", {V, S, S}, 0, V},
      {"clamp_min", {V, S}, 0, V}, {"clamp_max", {V, S}, 0, V},
      {"acos", {V}, 0, V}, {"acosh", {V}, 0, V}, {"asin", {V}, 0, V}, {"asinh", {V}, 0, V},
      {"atan", {V}, 0, V}, {"atanh", {V}, 0, V}, {"cos", {V}, 0, V}, {"cosh", {V}, 0, V},
      {"sin", {V}, 0, V}, {"sinh", {V}, 0, V}, {"tan", {V}, 0, V}, {"tanh", {V}, 0, V},
      {"deg", {V}, 0, V}, {"rad", {V}, 0, V}, {"pi", {}, 0, S},
      {"scalar", {V}, 0, S}, {"vector", {S}, 0, V}, {"time", {}, 0, S},
      {"timestamp", {V}, 0, V}, {"sort", {V}, 0, V}, {"sort_desc", {V}, 0, V},
      {"label_replace", {V, STR, STR, STR, STR}, 0, V},
      {"label_join", {V, STR, STR, STR}, -1, V},
      {"absent", {V}, 0, V}, {"absent_over_time", {M}, 0, V},
      {"avg_over_time", {M}, 0, V}, {"min_over_time", {M}, 0, V},
      {"max_over_time", {M}, 0, V}, {"sum_over_time", {M}, 0, V},
      {"count_over_time", {M}, 0, V}, {"last_over_time", {M}, 0, V},
      {"present_over_time", {M}, 0, V}, {"stddev_over_time", {M}, 0, V},
      {"stdvar_over_time", {M}, 0, V}, {"quantile_over_time", {S, M}, 0, V},
      {"changes", {M}, 0, V}, {"resets", {M}, 0, V}, {"delta", {M}, 0, V},
      {"idelta", {M}, 0, V}, {"deriv", {M}, 0, V}, {"increase", {M}, 0, V},
      {"rate", {M}, 0, V}, {"irate", {M}, 0, V}, {"predict_linear", {M, S}, 0, V},
      {"day_of_month", {V}, 1, V}, {"day_of_week", {V}, 1, V}, {"day_of_year", {V}, 1, V},
      {"days_in_month", {V}, 1, V}, {"hour", {V}, 1, V}, {"minute", {V}, 1, V},
      {"month", {V}, 1, V}, {"year", {V}, 1, V},
  };
  return kTable;
}

double GoMax(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return NAN;
  return std::max(a, b);
}
double GoMin(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return NAN;
  return std::min(a, b);
}

// Applies f to every sample's value, dropping the metric name.
template <typename F>
Result<EvalValue> MapValues(EvalValue& arg, F f) {
  EvalValue out;
  out.type = ValueType::kVector;
  out.vec = std::move(arg.vec);
  for (Sample& s : out.vec) {
    s.v = f(s.v);
    s.labels = DropName(s.labels);
  }
  SB_RETURN_IF_ERROR(CheckNoDuplicates(out.vec));
  return out;
}

using MathFn = double (*)(double);
const std::unordered_map<std::string, MathFn>& MathFunctions() {
  static const std::unordered_map<std::string, MathFn> kFns = {
      {"abs", [](double v) { return std::fabs(v); }},
      {"ceil", [](double v) { return std::ceil(v); }},
      {"floor", [](double v) { return std::floor(v); }},
      {"sqrt", [](double v) { return std::sqrt(v); }},
      {"exp", [](double v) { return std::exp(v); }},
      {"ln", [](double v) { return std::log(v); }},
      {"log2", [](double v) { return std::log2(v); }},
      {"log10", [](double v) { return std::log10(v); }},
      {"sgn", [](double v) { return v < 0 ? -1.0 : v > 0 ? 1.0 : v; }},
      {"acos", [](double v) { return std::acos(v); }},
      {"acosh", [](double v) { return std::acosh(v); }},
      {"asin", [](double v) { return std::asin(v); }},
      {"asinh", [](double v) { return std::asinh(v); }},
      {"atan", [](double v) { return std::atan(v); }},
      {"atanh", [](double v) { return std::atanh(v); }},
      {"cos", [](double v) { return std::cos(v); }},
      {"cosh", [](double v) { return std::cosh(v); }},
      {"sin", [](double v) { return std::sin(v); }},
      {"sinh", [](double v) { return std::sinh(v); }},
      {"tan", [](double v) { return std::tan(v); }},
      {"tanh", [](double v) { return std::tanh(v); }},
      {"deg", [](double v) { return v * 180 / M_PI; }},
      {"rad", [](double v) { return v * M_PI / 180; }},
  };
  return kFns;
}

// Date parts of a Unix time in seconds, as Go's time.Unix(int64(f), 0).UTC().
double DatePart(const std::string& fn, double f) {
  int64_t secs = (std::isfinite(f) && std::fabs(f) < 9.2e18) ? static_cast<int64_t>(f) : INT64_MIN;
  time_t tt = static_cast<time_t>(secs);
  struct tm tm;
  if (gmtime_r(&tt, &tm) == nullptr) return NAN;
  int year = tm.tm_year + 1900;
  if (fn == "day_of_month") return tm.tm_mday;
  if (fn == "day_of_week") return tm.tm_wday;
  if (fn == "day_of_year") return tm.tm_yday + 1;
  if (fn == "hour") return tm.tm_hour;
  if (fn == "minute") return tm.tm_min;
  if (fn == "month") return tm.tm_mon + 1;
  if (fn == "year") return year;
  // days_in_month
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return tm.tm_mon == 1 && leap ? 29 : kDays[tm.tm_mon];
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Go's regexp.Expand of `tmpl` with the submatches of `re`.
std::string Expand(const re2::RE2& re, const std::string& tmpl, const std::vector<re2::StringPiece>& groups) {
  std::string out;
  const auto& named = re.NamedCapturingGroups();
  for (size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] != '$' || i + 1 >= tmpl.size()) { out.push_back(tmpl[i]); continue; }
    if (tmpl[i + 1] == '$') { out.push_back('$'); ++i; continue; }
    std::string name;
    size_t j;
    if (tmpl[i + 1] == '{') {
      size_t close = tmpl.find('}', i + 2);
      if (close == std::string::npos) { out.push_back('$'); continue; }
      name = tmpl.substr(i + 2, close - i - 2);
      bool ok = !name.empty();
      for (char c : name) ok = ok && IsNameChar(c);
      if (!ok) { out.push_back('$'); continue; }
      j = close + 1;
    } else {
      j = i + 1;
      while (j < tmpl.size() && IsNameChar(tmpl[j])) ++j;
      name = tmpl.substr(i + 1, j - i - 1);
      if (name.empty()) { out.push_back('$'); continue; }
    }
    int idx = -1;
    bool numeric = std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (numeric) {
      idx = name.size() < 9 ? std::stoi(name) : -1;
    } else {
      auto it = named.find(name);
      if (it != named.end()) idx = it->second;
    }
    if (idx >= 0 && static_cast<size_t>(idx) < groups.size() && groups[idx].data() != nullptr) {
      out.append(groups[idx].data(), groups[idx].size());
    }
    i = j - 1;
  }
  return out;
}

void SetLabel(storage::Labels* l, const std::string& name, const std::string& value) {
  auto it = std::find_if(l->begin(), l->end(), [&](const storage::Label& x) { return x.name == name; });
  if (it != l->end()) l->erase(it);
  if (value.empty()) return;
  auto pos = std::lower_bound(l->begin(), l->end(), name,
                              [](const storage::Label& x, const std::string& y) { return x.name < y; });
  l->insert(pos, storage::Label{name, value});
}

bool ValidLabelName(const std::string& s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  return std::all_of(s.begin(), s.end(), IsNameChar);
}

Result<EvalValue> LabelReplace(EvalValue& v, const std::string& dst, const std::string& repl,
                               const std::string& src, const std::string& regex) {
  re2::RE2 re("^(?:" + regex + ")$", re2::RE2::Quiet);
  if (!re.ok()) return Status::InvalidArgument("invalid regular expression in label_replace(): " + regex);
  if (!ValidLabelName(dst)) return Status::InvalidArgument("invalid destination label name in label_replace(): " + dst);
  EvalValue out;
  out.type = ValueType::kVector;
  std::vector<re2::StringPiece> groups(re.NumberOfCapturingGroups() + 1);
  for (Sample& s : v.vec) {
    const std::string* sv = GetLabel(*s.labels, src);
    std::string srcval = sv ? *sv : "";
    if (re.Match(srcval, 0, srcval.size(), re2::RE2::ANCHOR_BOTH, groups.data(), static_cast<int>(groups.size()))) {
      storage::Labels l = *s.labels;
      SetLabel(&l, dst, Expand(re, repl, groups));
      s.labels = MakeLabels(std::move(l));
    }
    out.vec.push_back(std::move(s));
  }
  SB_RETURN_IF_ERROR(CheckNoDuplicates(out.vec));
  return out;
}

Result<EvalValue> LabelJoin(std::vector<EvalValue>& args) {
  const std::string& dst = args[1].str;
  const std::string& sep = args[2].str;
  if (!ValidLabelName(dst)) return Status::InvalidArgument("invalid destination label name in label_join(): " + dst);
  for (size_t i = 3; i < args.size(); ++i) {
    if (!ValidLabelName(args[i].str) && args[i].str != storage::kMetricNameLabel) {
      return Status::InvalidArgument("invalid source label name in label_join(): " + args[i].str);
    }
  }
  EvalValue out;
  out.type = ValueType::kVector;
  for (Sample& s : args[0].vec) {
    std::string joined;
    for (size_t i = 3; i < args.size(); ++i) {
      if (i > 3) joined += sep;
      const std::string* lv = GetLabel(*s.labels, args[i].str);
      if (lv) joined += *lv;
    }
    storage::Labels l = *s.labels;
    SetLabel(&l, dst, joined);
    s.labels = MakeLabels(std::move(l));
    out.vec.push_back(std::move(s));
  }
  SB_RETURN_IF_ERROR(CheckNoDuplicates(out.vec));
  return out;
}

}  // namespace

const FunctionDef* LookupFunction(const std::string& name) {
  for (const auto& f : Table()) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

bool IsUnsupportedFunction(const std::string& name) {
  static const char* const kNames[] = {
      "histogram_quantile", "histogram_count", "histogram_sum", "histogram_avg",
      "histogram_fraction", "histogram_stddev", "histogram_stdvar", "info",
      "holt_winters", "double_exponential_smoothing", "sort_by_label", "sort_by_label_desc",
      "mad_over_time", "first_over_time", "ts_of_max_over_time", "ts_of_min_over_time",
      "ts_of_last_over_time", "ts_of_first_over_time", "limitk", "limit_ratio", "step",
      "range", "start", "end", "min_of", "max_of"};
  for (const char* n : kNames) {
    if (name == n) return true;
  }
  return name.rfind("histogram_", 0) == 0;
}

LabelsPtr AbsentLabels(const Node* arg) {
  if (arg->kind == NodeKind::kMatrixSelector) arg = arg->args[0].get();
  storage::Labels l;
  if (arg->kind != NodeKind::kVectorSelector) return MakeLabels(std::move(l));
  std::vector<std::string> dropped;
  for (const auto& m : arg->specs) {
    if (m.name == storage::kMetricNameLabel) continue;
    if (m.type == storage::Matcher::Type::kEqual && !GetLabel(l, m.name)) SetLabel(&l, m.name, m.value);
    else dropped.push_back(m.name);
  }
  for (const auto& d : dropped) SetLabel(&l, d, "");
  return MakeLabels(std::move(l));
}

Result<EvalValue> CallFunction(const Node& n, std::vector<EvalValue>& args, int64_t t_ms) {
  const std::string name = n.func->name;
  EvalValue out;
  out.type = ValueType::kVector;
  auto& math = MathFunctions();
  if (auto it = math.find(name); it != math.end()) return MapValues(args[0], it->second);
  if (std::find(n.func->arg_types.begin(), n.func->arg_types.end(), ValueType::kMatrix) !=
      n.func->arg_types.end()) {
    return CallRangeFunction(n, args, t_ms);
  }
  if (name == "round") {
    double to = args.size() > 1 ? args[1].scalar : 1;
    double inv = 1.0 / to;
    return MapValues(args[0], [inv](double v) { return std::floor(v * inv + 0.5) / inv; });
  }
  if (name == "clamp") {
    double lo = args[1].scalar, hi = args[2].scalar;
    if (hi < lo) return out;
    return MapValues(args[0], [lo, hi](double v) { return GoMax(lo, GoMin(hi, v)); });
  }
  if (name == "clamp_min") {
    double lo = args[1].scalar;
    return MapValues(args[0], [lo](double v) { return GoMax(lo, v); });
  }
  if (name == "clamp_max") {
    double hi = args[1].scalar;
    return MapValues(args[0], [hi](double v) { return GoMin(hi, v); });
  }
  if (name == "pi" || name == "time" || name == "scalar") {
    out.type = ValueType::kScalar;
    if (name == "pi") out.scalar = M_PI;
    else if (name == "time") out.scalar = static_cast<double>(t_ms) / 1000;
    else out.scalar = args[0].vec.size() == 1 ? args[0].vec[0].v : NAN;
    return out;
  }
  if (name == "vector") {
    out.vec.push_back(Sample{MakeLabels({}), args[0].scalar, t_ms});
    return out;
  }
  if (name == "timestamp") {
    const Node* a = n.args[0].get();
    while (a->kind == NodeKind::kParen) a = a->args[0].get();
    bool selector = a->kind == NodeKind::kVectorSelector;
    return MapValuesWithTime(args[0], selector, t_ms);
  }
  if (name == "sort" || name == "sort_desc") {
    bool desc = name == "sort_desc";
    out.vec = std::move(args[0].vec);
    std::stable_sort(out.vec.begin(), out.vec.end(), [desc](const Sample& a, const Sample& b) {
      if (std::isnan(a.v)) return false;
      if (std::isnan(b.v)) return true;
      return desc ? a.v > b.v : a.v < b.v;
    });
    return out;
  }
  if (name == "label_replace") {
    return LabelReplace(args[0], args[1].str, args[2].str, args[3].str, args[4].str);
  }
  if (name == "label_join") return LabelJoin(args);
  if (name == "absent") {
    if (!args[0].vec.empty()) return out;
    out.vec.push_back(Sample{AbsentLabels(n.args[0].get()), 1, t_ms});
    return out;
  }
  // Date functions.
  if (args.empty()) {
    out.vec.push_back(Sample{MakeLabels({}), DatePart(name, static_cast<double>(t_ms / 1000)), t_ms});
    return out;
  }
  return MapValues(args[0], [&name](double v) { return DatePart(name, v); });
}

Result<EvalValue> MapValuesWithTime(EvalValue& arg, bool use_sample_time, int64_t t_ms) {
  EvalValue out;
  out.type = ValueType::kVector;
  out.vec = std::move(arg.vec);
  for (Sample& s : out.vec) {
    s.v = static_cast<double>(use_sample_time ? s.t : t_ms) / 1000;
    s.labels = DropName(s.labels);
  }
  SB_RETURN_IF_ERROR(CheckNoDuplicates(out.vec));
  return out;
}

}  // namespace sb::promql
