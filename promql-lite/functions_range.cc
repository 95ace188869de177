// Range-vector functions: *_over_time, rate/increase/delta (Prometheus 3's
// extrapolatedRate), irate/idelta, deriv/predict_linear (least squares with Kahan sums),
// changes, resets and absent_over_time. Each gets the points of one series' window
// (range_end - range, range_end] and yields at most one sample per series.
#include <cmath>

#include "promql-lite/functions_internal.h"

namespace sb::promql {
namespace {

double ExtrapolatedRate(const RangeSeries& s, int64_t range_end, int64_t range_ms,
                        bool is_counter, bool is_rate, bool* ok) {
  *ok = s.size >= 2;
  if (!*ok) return 0;
  const Point* p = s.data;
  const size_t n = s.size;
  const int64_t range_start = range_end - range_ms;
  double result = p[n - 1].v - p[0].v;
  if (is_counter) {
    double last = 0;
    for (size_t i = 0; i < n; ++i) {
      if (p[i].v < last) result += last;
      last = p[i].v;
    }
  }
  double to_start = static_cast<double>(p[0].t - range_start) / 1000;
  double to_end = static_cast<double>(range_end - p[n - 1].t) / 1000;
  double sampled = static_cast<double>(p[n - 1].t - p[0].t) / 1000;
  double avg_step = sampled / static_cast<double>(n - 1);
  double threshold = avg_step * 1.1;
  if (to_start >= threshold) to_start = avg_step / 2;
  if (is_counter && result > 0 && p[0].v >= 0) {
    double to_zero = sampled * (p[0].v / result);
    if (to_zero < to_start) to_start = to_zero;
  }
  if (to_end >= threshold) to_end = avg_step / 2;
  double factor = (sampled + to_start + to_end) / sampled;
  if (is_rate) factor /= static_cast<double>(range_ms) / 1000;
  return result * factor;
}

void LinearRegression(const RangeSeries& s, int64_t intercept_t, double* slope, double* intercept) {
  double n = 0, sx = 0, cx = 0, sy = 0, cy = 0, sxy = 0, cxy = 0, sx2 = 0, cx2 = 0;
  const double init_y = s.data[0].v;
  bool const_y = true;
  for (size_t i = 0; i < s.size; ++i) {
    const Point& p = s.data[i];
    if (const_y && i > 0 && p.v != init_y) const_y = false;
    n += 1;
    double x = static_cast<double>(p.t - intercept_t) / 1000;
    KahanInc(x, &sx, &cx);
    KahanInc(p.v, &sy, &cy);
    KahanInc(x * p.v, &sxy, &cxy);
    KahanInc(x * x, &sx2, &cx2);
  }
  if (const_y) {
    if (std::isinf(init_y)) { *slope = NAN; *intercept = NAN; return; }
    *slope = 0;
    *intercept = init_y;
    return;
  }
  sx += cx; sy += cy; sxy += cxy; sx2 += cx2;
  double cov = sxy - sx * sy / n;
  double var = sx2 - sx * sx / n;
  *slope = cov / var;
  *intercept = sy / n - *slope * sx / n;
}

double AvgOverTime(const RangeSeries& s) {
  double sum = 0, mean = 0, count = 0, c = 0;
  bool incremental = false;
  for (const Point& p : s) {
    count += 1;
    if (!incremental) {
      double ns = sum, nc = c;
      KahanInc(p.v, &ns, &nc);
      if (count == 1 || !std::isinf(ns)) { sum = ns; c = nc; continue; }
      incremental = true;
      mean = sum / (count - 1);
      c /= count - 1;
    }
    if (std::isinf(mean)) {
      if (std::isinf(p.v) && (mean > 0) == (p.v > 0)) continue;
      if (!std::isinf(p.v) && !std::isnan(p.v)) continue;
    }
    double corrected = mean + c;
    KahanInc(p.v / count - corrected / count, &mean, &c);
  }
  return incremental ? mean + c : (sum + c) / count;
}

double VarianceOverTime(const RangeSeries& s) {
  double count = 0, mean = 0, cmean = 0, aux = 0, caux = 0;
  for (const Point& p : s) {
    count += 1;
    double delta = p.v - (mean + cmean);
    KahanInc(delta / count, &mean, &cmean);
    KahanInc(delta * (p.v - (mean + cmean)), &aux, &caux);
  }
  return (aux + caux) / count;
}

}  // namespace

Result<EvalValue> CallRangeFunction(const Node& n, std::vector<EvalValue>& args, int64_t t_ms) {
  const std::string name = n.func->name;
  EvalValue& m = args[name == "quantile_over_time" ? 1 : 0];
  EvalValue out;
  out.type = ValueType::kVector;
  if (name == "absent_over_time") {
    if (m.mat.empty()) out.vec.push_back(Sample{AbsentLabels(n.args[0].get()), 1, t_ms});
    return out;
  }
  const bool keep_name = name == "last_over_time";
  if (name == "quantile_over_time") {
    double q = args[0].scalar;
    if (std::isnan(q) || q < 0 || q > 1) {
      AddWarning("PromQL warning: quantile value should be between 0 and 1, got " + FormatNumber(q));
    }
  }
  for (const RangeSeries& s : m.mat) {
    if (s.size == 0) continue;
    const Point* p = s.data;
    const size_t cnt = s.size;
    double v = 0;
    bool ok = true;
    if (name == "rate" || name == "increase" || name == "delta") {
      v = ExtrapolatedRate(s, m.range_end, m.range_ms, name != "delta", name == "rate", &ok);
    } else if (name == "irate" || name == "idelta") {
      ok = cnt >= 2;
      if (ok) {
        const Point& last = p[cnt - 1];
        const Point& prev = p[cnt - 2];
        if (name == "idelta") {
          v = last.v - prev.v;
        } else {
          double interval = static_cast<double>(last.t - prev.t) / 1000;
          ok = interval != 0;
          v = (last.v < prev.v ? last.v : last.v - prev.v) / interval;
        }
      }
    } else if (name == "deriv" || name == "predict_linear") {
      ok = cnt >= 2;
      if (ok) {
        double slope, intercept;
        if (name == "deriv") {
          LinearRegression(s, p[0].t, &slope, &intercept);
          v = slope;
        } else {
          LinearRegression(s, t_ms, &slope, &intercept);
          v = slope * args[1].scalar + intercept;
        }
      }
    } else if (name == "changes" || name == "resets") {
      double c = 0;
      for (size_t i = 1; i < cnt; ++i) {
        double a = p[i - 1].v, b = p[i].v;
        if (name == "changes") {
          if (!(a == b || (std::isnan(a) && std::isnan(b)))) c += 1;
        } else if (b < a) {
          c += 1;
        }
      }
      v = c;
    } else if (name == "avg_over_time") {
      v = AvgOverTime(s);
    } else if (name == "sum_over_time") {
      double sum = 0, c = 0;
      for (const Point& q : s) KahanInc(q.v, &sum, &c);
      v = sum + c;
    } else if (name == "min_over_time" || name == "max_over_time") {
      bool is_min = name == "min_over_time";
      v = p[0].v;
      for (const Point& q : s) {
        if ((is_min ? q.v < v : q.v > v) || std::isnan(v)) v = q.v;
      }
    } else if (name == "count_over_time") {
      v = static_cast<double>(cnt);
    } else if (name == "last_over_time") {
      v = p[cnt - 1].v;
    } else if (name == "present_over_time") {
      v = 1;
    } else if (name == "stddev_over_time") {
      v = std::sqrt(VarianceOverTime(s));
    } else if (name == "stdvar_over_time") {
      v = VarianceOverTime(s);
    } else if (name == "quantile_over_time") {
      std::vector<double> values;
      values.reserve(cnt);
      for (const Point& q : s) values.push_back(q.v);
      v = Quantile(args[0].scalar, &values);
    } else {
      return Status::Internal("function " + name + " not implemented");
    }
    if (!ok) continue;
    out.vec.push_back(Sample{keep_name ? s.labels : DropName(s.labels), v, t_ms});
  }
  if (!keep_name) SB_RETURN_IF_ERROR(CheckNoDuplicates(out.vec));
  return out;
}

}  // namespace sb::promql
