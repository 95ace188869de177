// Aggregation operators (sum, avg, min, max, count, group, stddev, stdvar, topk, bottomk,
// quantile, count_values) with by/without grouping, following Prometheus 3's arithmetic:
// Kahan-Neumaier sums, avg falling back to an incremental mean on overflow, NaN handling
// of min/max/topk/bottomk, and topk/bottomk output sorted within each group.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <unordered_map>

#include "promql-lite/eval.h"

namespace sb::promql {

void KahanInc(double inc, double* sum, double* c) {
  double t = *sum + inc;
  if (std::isinf(t)) {
    *c = 0;
  } else if (std::fabs(*sum) >= std::fabs(inc)) {
    *c += (*sum - t) + inc;
  } else {
    *c += (inc - t) + *sum;
  }
  *sum = t;
}

double Quantile(double q, std::vector<double>* values) {
  if (values->empty() || std::isnan(q)) return NAN;
  if (q < 0) return -INFINITY;
  if (q > 1) return INFINITY;
  std::sort(values->begin(), values->end(), [](double a, double b) {
    if (std::isnan(a)) return !std::isnan(b);
    return a < b;
  });
  double n = static_cast<double>(values->size());
  double rank = q * (n - 1);
  double lower = std::max(0.0, std::floor(rank));
  double upper = std::min(n - 1, lower + 1);
  double weight = rank - std::floor(rank);
  return (*values)[static_cast<size_t>(lower)] * (1 - weight) +
         (*values)[static_cast<size_t>(upper)] * weight;
}

namespace {

// Go's strconv.FormatFloat(v, 'f', -1, 64): shortest digits that round-trip, no exponent.
std::string FormatFloatF(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[400];
  for (int d = 0; d < 330; ++d) {
    std::snprintf(buf, sizeof(buf), "%.*f", d, v);
    if (std::strtod(buf, nullptr) == v) return buf;
  }
  return buf;
}

// topk/bottomk keep a heap of the k best samples with the worst at the root, exactly as
// Prometheus does with Go's container/heap, so that ties pick the same samples.
// Less: the root-most element; NaN counts as the worst.
struct KHeap {
  AggOp op;
  std::vector<Sample> h;
  bool Less(size_t i, size_t j) const {
    double a = h[i].v, b = h[j].v;
    if (std::isnan(a)) return true;
    return op == AggOp::kTopk ? a < b : a > b;
  }
  void Up(size_t j) {
    while (j > 0) {
      size_t i = (j - 1) / 2;
      if (!Less(j, i)) break;
      std::swap(h[i], h[j]);
      j = i;
    }
  }
  bool Down(size_t i0) {
    size_t i = i0, n = h.size();
    while (true) {
      size_t j1 = 2 * i + 1;
      if (j1 >= n) break;
      size_t j = j1;
      if (j1 + 1 < n && Less(j1 + 1, j1)) j = j1 + 1;
      if (!Less(j, i)) break;
      std::swap(h[i], h[j]);
      i = j;
    }
    return i > i0;
  }
  void Offer(const Sample& s, size_t k) {
    if (h.size() < k) {
      h.push_back(s);
      Up(h.size() - 1);
      return;
    }
    double root = h[0].v;
    bool better = op == AggOp::kTopk ? root < s.v : root > s.v;
    if (better || (std::isnan(root) && !std::isnan(s.v))) {
      h[0] = s;
      if (k > 1 && !Down(0)) Up(0);
    }
  }
};

struct Group {
  LabelsPtr labels;
  double value = 0, c = 0, mean = 0, count = 0;
  bool incremental_mean = false;
  KHeap heap{AggOp::kTopk, {}};  // topk/bottomk
  std::vector<double> values;     // quantile
};

LabelsPtr GroupLabelsUncached(const Node& n, const storage::Labels& l) {
  storage::Labels out;
  for (const auto& lb : l) {
    bool listed = std::find(n.grouping.begin(), n.grouping.end(), lb.name) != n.grouping.end();
    if (n.without ? (!listed && lb.name != storage::kMetricNameLabel) : listed) out.push_back(lb);
  }
  return MakeLabels(std::move(out));
}

const LabelsPtr& GroupLabels(const Node& n, const LabelsPtr& l) {
  return CurrentLabelCache().Labels(&n, l, nullptr, [&] { return GroupLabelsUncached(n, *l); });
}

}  // namespace

Result<EvalValue> Aggregate(const Node& n, Vector v, const EvalValue* param) {
  EvalValue out;
  out.type = ValueType::kVector;
  const AggOp op = n.agg;
  int64_t k = 0;
  double q = 0;
  std::string value_label;
  if (op == AggOp::kTopk || op == AggOp::kBottomk) {
    double p = param->scalar;
    if (std::isnan(p)) return Status::InvalidArgument("Parameter value is NaN");
    if (p >= 9.2e18 || p <= -9.2e18) {
      return Status::InvalidArgument("Scalar value " + FormatNumber(p) + " overflows int64");
    }
    k = static_cast<int64_t>(p);
    if (k < 1) return out;
  } else if (op == AggOp::kQuantile) {
    q = param->scalar;
    if (std::isnan(q) || q < 0 || q > 1) {
      AddWarning("PromQL warning: quantile value should be between 0 and 1, got " + FormatNumber(q));
    }
  } else if (op == AggOp::kCountValues) {
    value_label = param->str;
    bool ok = !value_label.empty();
    for (size_t i = 0; i < value_label.size() && ok; ++i) {
      char c = value_label[i];
      ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
    }
    if (!ok) return Status::InvalidArgument("invalid label name \"" + value_label + "\"");
  }

  std::unordered_map<std::string_view, size_t> index;
  std::unordered_map<const void*, size_t> by_ptr;
  const bool interned = LabelsInterned();
  std::vector<Group> groups;
  for (Sample& s : v) {
    LabelsPtr gl;
    if (op == AggOp::kCountValues) {
      storage::Labels l = *GroupLabels(n, s.labels);
      l.erase(std::remove_if(l.begin(), l.end(), [&](const storage::Label& x) { return x.name == value_label; }), l.end());
      auto pos = std::lower_bound(l.begin(), l.end(), value_label,
                                  [](const storage::Label& x, const std::string& y) { return x.name < y; });
      l.insert(pos, storage::Label{value_label, FormatFloatF(s.v)});
      gl = MakeLabels(std::move(l));
    } else if (!n.has_grouping || (!n.without && n.grouping.empty())) {
      gl = MakeLabels({});
    } else {
      gl = GroupLabels(n, s.labels);
    }
    // Interned label sets: the pointer identifies the group (no key string to hash).
    size_t gi;
    bool inserted;
    if (interned) {
      auto [it, ins] = by_ptr.emplace(gl.get(), groups.size());
      gi = it->second;
      inserted = ins;
    } else {
      auto [it, ins] = index.emplace(CachedKey(gl), groups.size());
      gi = it->second;
      inserted = ins;
    }
    if (inserted) {
      groups.emplace_back();
      Group& g = groups.back();
      g.labels = gl;
      g.value = s.v;
      g.mean = s.v;
      g.count = 1;
      if (op == AggOp::kStddev || op == AggOp::kStdvar) g.value = std::isfinite(s.v) ? 0 : NAN;
      if (op == AggOp::kTopk || op == AggOp::kBottomk) {
        g.heap.op = op;
        g.heap.Offer(s, static_cast<size_t>(k));
      }
      if (op == AggOp::kQuantile) g.values.push_back(s.v);
      continue;
    }
    Group& g = groups[gi];
    g.count += 1;
    switch (op) {
      case AggOp::kSum: KahanInc(s.v, &g.value, &g.c); break;
      case AggOp::kAvg: {
        if (!g.incremental_mean) {
          double nv = g.value, nc = g.c;
          KahanInc(s.v, &nv, &nc);
          if (!std::isinf(nv)) { g.value = nv; g.c = nc; break; }
          g.incremental_mean = true;
          g.mean = g.value / (g.count - 1);
          g.c /= g.count - 1;
        }
        if (std::isinf(g.mean)) {
          if (std::isinf(s.v) && (g.mean > 0) == (s.v > 0)) break;
          if (!std::isinf(s.v) && !std::isnan(s.v)) break;
        }
        double current = g.mean + g.c;
        KahanInc(s.v / g.count - current / g.count, &g.mean, &g.c);
        break;
      }
      case AggOp::kMin:
        if (g.value > s.v || std::isnan(g.value)) g.value = s.v;
        break;
      case AggOp::kMax:
        if (g.value < s.v || std::isnan(g.value)) g.value = s.v;
        break;
      case AggOp::kStddev: case AggOp::kStdvar: {
        double delta = s.v - g.mean;
        g.mean += delta / g.count;
        g.value += delta * (s.v - g.mean);
        break;
      }
      case AggOp::kTopk: case AggOp::kBottomk:
        g.heap.Offer(s, static_cast<size_t>(k));
        break;
      case AggOp::kQuantile: g.values.push_back(s.v); break;
      default: break;
    }
  }
  for (Group& g : groups) {
    double val = g.value;
    switch (op) {
      case AggOp::kSum: val = g.value + g.c; break;
      case AggOp::kAvg:
        if (g.count == 1) val = g.value;
        else if (g.incremental_mean) val = g.mean + g.c;
        else val = (g.value + g.c) / g.count;
        break;
      case AggOp::kCount: case AggOp::kCountValues: val = g.count; break;
      case AggOp::kGroup: val = 1; break;
      case AggOp::kStdvar: val = g.value / g.count; break;
      case AggOp::kStddev: val = std::sqrt(g.value / g.count); break;
      case AggOp::kQuantile: val = Quantile(q, &g.values); break;
      case AggOp::kTopk: case AggOp::kBottomk: {
        // Output best first, NaN last (Prometheus sorts the heap in reverse).
        std::stable_sort(g.heap.h.begin(), g.heap.h.end(), [&](const Sample& a, const Sample& b) {
          if (std::isnan(a.v)) return false;
          if (std::isnan(b.v)) return true;
          return op == AggOp::kTopk ? a.v > b.v : a.v < b.v;
        });
        for (Sample& x : g.heap.h) out.vec.push_back(std::move(x));
        continue;
      }
      default: break;
    }
    out.vec.push_back(Sample{g.labels, val, 0});
  }
  return out;
}

}  // namespace sb::promql
