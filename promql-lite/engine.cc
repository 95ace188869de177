#include "promql-lite/engine.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "promql-lite/eval.h"
#include "promql-lite/parser.h"
#include "storage/store.h"

namespace sb::promql {

const char* ValueTypeName(ValueType type) {
  switch (type) {
    case ValueType::kScalar: return "scalar";
    case ValueType::kVector: return "vector";
    case ValueType::kMatrix: return "matrix";
    case ValueType::kString: return "string";
  }
  return "";
}

Result<std::vector<Series>> StoreQueryable::Select(const std::vector<storage::Matcher>& matchers,
                                                   int64_t mint, int64_t maxt) {
  SB_ASSIGN_OR_RETURN(std::vector<storage::SeriesRef> refs, store_->Select(matchers, mint, maxt));
  std::vector<Series> out;
  out.reserve(refs.size());
  for (auto& r : refs) {
    SB_ASSIGN_OR_RETURN(std::vector<storage::Sample> samples, store_->Samples(r.id, mint, maxt));
    Series s;
    s.labels = std::move(r.labels);
    s.points.reserve(samples.size());
    for (const auto& x : samples) s.points.push_back(Point{x.timestamp_ms, x.value});
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(),
            [](const Series& a, const Series& b) { return LabelsLess(a.labels, b.labels); });
  return out;
}

void MemoryQueryable::Add(Series series) {
  std::sort(series.labels.begin(), series.labels.end(),
            [](const storage::Label& a, const storage::Label& b) { return a.name < b.name; });
  auto pos = std::lower_bound(series_.begin(), series_.end(), series,
                              [](const Series& a, const Series& b) { return LabelsLess(a.labels, b.labels); });
  series_.insert(pos, std::move(series));
}

Result<std::vector<Series>> MemoryQueryable::Select(const std::vector<storage::Matcher>& matchers,
                                                    int64_t mint, int64_t maxt) {
  std::vector<Series> out;
  for (const Series& s : series_) {
    bool match = true;
    for (const auto& m : matchers) {
      const std::string* v = GetLabel(s.labels, m.name());
      if (!m.Matches(v ? *v : std::string())) { match = false; break; }
    }
    if (!match) continue;
    Series r;
    r.labels = s.labels;
    auto b = std::lower_bound(s.points.begin(), s.points.end(), mint,
                              [](const Point& p, int64_t x) { return p.t < x; });
    auto e = std::upper_bound(b, s.points.end(), maxt,
                              [](int64_t x, const Point& p) { return x < p.t; });
    if (b == e) continue;
    r.points.assign(b, e);
    out.push_back(std::move(r));
  }
  return out;
}

namespace {

Series ToSeries(Sample&& s) {
  Series out;
  out.labels = *s.labels;
  out.points.push_back(Point{s.t, s.v});
  return out;
}

bool ContainsSort(const Node& n) {
  if (n.kind == NodeKind::kCall && (std::string(n.func->name) == "sort" || std::string(n.func->name) == "sort_desc")) {
    return true;
  }
  for (const auto& c : n.args) {
    if (ContainsSort(*c)) return true;
  }
  return false;
}

}  // namespace

Result<QueryResult> Engine::Instant(std::string_view expr, int64_t t_ms) {
  SB_ASSIGN_OR_RETURN(NodePtr root, Parse(expr));
  QueryResult r;
  ScopedLabelCache cache;
  ScopedWarnings warnings(&r.warnings);
  Evaluator ev(q_, opts_, t_ms, t_ms, 0);
  SB_RETURN_IF_ERROR(ev.Preload(*root));
  SB_ASSIGN_OR_RETURN(EvalValue v, ev.Eval(*root, t_ms));
  r.value.type = v.type;
  r.value.t = t_ms;
  switch (v.type) {
    case ValueType::kScalar: r.value.scalar = v.scalar; break;
    case ValueType::kString: r.value.str = v.str; break;
    case ValueType::kVector:
      r.value.series.reserve(v.vec.size());
      for (Sample& s : v.vec) {
        s.t = t_ms;
        r.value.series.push_back(ToSeries(std::move(s)));
      }
      break;
    case ValueType::kMatrix:
      for (RangeSeries& rs : v.mat) {
        Series s;
        s.labels = *rs.labels;
        s.points.assign(rs.begin(), rs.end());
        r.value.series.push_back(std::move(s));
      }
      std::sort(r.value.series.begin(), r.value.series.end(),
                [](const Series& a, const Series& b) { return LabelsLess(a.labels, b.labels); });
      break;
  }
  return r;
}

Result<QueryResult> Engine::Range(std::string_view expr, int64_t start_ms, int64_t end_ms,
                                  int64_t step_ms) {
  if (step_ms <= 0) {
    return Status::InvalidArgument("zero or negative query resolution step widths are not accepted. Try a positive integer");
  }
  if (end_ms < start_ms) return Status::InvalidArgument("end timestamp must not be before start time");
  if ((end_ms - start_ms) / step_ms + 1 > opts_.max_points_per_series) {
    return Status::InvalidArgument("exceeded maximum resolution of " + std::to_string(opts_.max_points_per_series) +
                                   " points per timeseries. Try decreasing the query resolution (?step=XX)");
  }
  SB_RETURN_IF_ERROR(CheckQuery(expr, /*range_query=*/true));
  SB_ASSIGN_OR_RETURN(NodePtr root, Parse(expr));
  QueryResult r;
  ScopedLabelCache cache;
  ScopedWarnings warnings(&r.warnings);
  if (start_ms != end_ms && ContainsSort(*root)) {
    AddWarning("PromQL warning: sort is ineffective for range queries since results are always ordered by labels");
  }
  Evaluator ev(q_, opts_, start_ms, end_ms, step_ms);
  SB_RETURN_IF_ERROR(ev.Preload(*root));
  r.value.type = ValueType::kMatrix;
  std::unordered_map<const storage::Labels*, size_t> by_ptr;
  std::unordered_map<std::string_view, size_t> by_key;
  std::vector<std::pair<LabelsPtr, std::vector<Point>>> acc;
  for (int64_t t = start_ms; t <= end_ms; t += step_ms) {
    SB_RETURN_IF_ERROR(ev.CheckDeadline("query execution"));
    SB_ASSIGN_OR_RETURN(EvalValue v, ev.Eval(*root, t));
    if (v.type == ValueType::kScalar) {
      if (acc.empty()) acc.emplace_back(MakeLabels({}), std::vector<Point>{});
      acc[0].second.push_back(Point{t, v.scalar});
      continue;
    }
    SB_RETURN_IF_ERROR(ev.AddSamples(static_cast<int64_t>(v.vec.size())));
    for (Sample& s : v.vec) {
      size_t idx;
      auto pit = by_ptr.find(s.labels.get());
      if (pit != by_ptr.end()) {
        idx = pit->second;
      } else {
        auto [kit, inserted] = by_key.emplace(CachedKey(s.labels), acc.size());
        idx = kit->second;
        if (inserted) acc.emplace_back(s.labels, std::vector<Point>{});
        // Remember the pointer only while the label set is kept alive by acc.
        if (acc[idx].first.get() == s.labels.get()) by_ptr.emplace(s.labels.get(), idx);
      }
      auto& pts = acc[idx].second;
      if (!pts.empty() && pts.back().t == t) {
        return Status::InvalidArgument("vector cannot contain metrics with the same labelset");
      }
      pts.push_back(Point{t, s.v});
    }
  }
  r.value.series.reserve(acc.size());
  for (auto& [labels, pts] : acc) r.value.series.push_back(Series{*labels, std::move(pts)});
  std::sort(r.value.series.begin(), r.value.series.end(),
            [](const Series& a, const Series& b) { return LabelsLess(a.labels, b.labels); });
  return r;
}

Status CheckQuery(std::string_view expr, bool range_query) {
  SB_ASSIGN_OR_RETURN(NodePtr root, Parse(expr));
  if (range_query && root->type != ValueType::kScalar && root->type != ValueType::kVector) {
    return Status::InvalidArgument(std::string("invalid expression type \"") +
                                   (root->type == ValueType::kMatrix ? "range vector" : "string") +
                                   "\" for range query, must be Scalar or instant Vector");
  }
  return Status::OK();
}

Result<std::string> FormatQuery(std::string_view expr) {
  SB_ASSIGN_OR_RETURN(NodePtr root, Parse(expr));
  return Format(*root);
}

Result<std::vector<storage::Matcher>> ParseSeriesSelector(std::string_view selector) {
  SB_ASSIGN_OR_RETURN(NodePtr root, Parse(selector));
  if (root->kind != NodeKind::kVectorSelector || root->offset_ms != 0 || root->at != AtKind::kNone) {
    return Status::InvalidArgument("invalid series selector \"" + std::string(selector) +
                                   "\": expected a plain vector selector like up{job=\"x\"}");
  }
  return std::move(root->matchers);
}

}  // namespace sb::promql
