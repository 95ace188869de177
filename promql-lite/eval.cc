#include "promql-lite/eval.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <unordered_set>

#include "storage/store.h"

namespace sb::promql {

namespace {
thread_local LabelCache* t_cache = nullptr;
}  // namespace

LabelsPtr LabelCache::Intern(storage::Labels l) {
  std::string key = LabelsKey(l);
  auto it = interned_.find(key);
  if (it != interned_.end()) return it->second;
  LabelsPtr p = std::make_shared<const storage::Labels>(std::move(l));
  interned_.emplace(std::move(key), p);
  return p;
}

bool LabelsInterned() { return t_cache != nullptr; }

LabelsPtr MakeLabels(storage::Labels l) {
  if (t_cache != nullptr) return t_cache->Intern(std::move(l));
  return std::make_shared<const storage::Labels>(std::move(l));
}

namespace {
const char kDropNameTag = 0;
const char kKeyTag = 0;
}  // namespace

LabelCache& CurrentLabelCache() {
  if (t_cache != nullptr) return *t_cache;
  thread_local LabelCache fallback;
  if (fallback.size() > 100'000) fallback.Clear();
  return fallback;
}

namespace {
thread_local std::vector<std::string>* t_warnings = nullptr;
}  // namespace

void AddWarning(std::string warning) {
  if (t_warnings == nullptr) return;
  if (std::find(t_warnings->begin(), t_warnings->end(), warning) != t_warnings->end()) return;
  t_warnings->push_back(std::move(warning));
}

ScopedWarnings::ScopedWarnings(std::vector<std::string>* sink) : prev_(t_warnings) { t_warnings = sink; }
ScopedWarnings::~ScopedWarnings() { t_warnings = prev_; }

ScopedLabelCache::ScopedLabelCache() : prev_(t_cache) { t_cache = &cache_; }
ScopedLabelCache::~ScopedLabelCache() { t_cache = prev_; }

const std::string& CachedKey(const LabelsPtr& l) {
  return CurrentLabelCache().String(&kKeyTag, l, [&] { return LabelsKey(*l); });
}

static LabelsPtr DropNameUncached(const LabelsPtr& l) {
  bool has = false;
  for (const auto& lb : *l) {
    if (lb.name == storage::kMetricNameLabel) { has = true; break; }
  }
  if (!has) return l;
  storage::Labels out;
  out.reserve(l->size());
  for (const auto& lb : *l) {
    if (lb.name != storage::kMetricNameLabel) out.push_back(lb);
  }
  return MakeLabels(std::move(out));
}

LabelsPtr DropName(const LabelsPtr& l) {
  if (l->empty() || (*l)[0].name != storage::kMetricNameLabel) {
    // Sorted labels: __name__ sorts before lower-case names but after upper-case and '_'.
    if (GetLabel(*l, std::string(storage::kMetricNameLabel)) == nullptr) return l;
  }
  return CurrentLabelCache().Labels(&kDropNameTag, l, nullptr, [&] { return DropNameUncached(l); });
}

const std::string* GetLabel(const storage::Labels& l, const std::string& name) {
  for (const auto& lb : l) {
    if (lb.name == name) return &lb.value;
  }
  return nullptr;
}

std::string LabelsKey(const storage::Labels& l) {
  std::string k;
  for (const auto& lb : l) {
    k += lb.name;
    k.push_back('\xff');
    k += lb.value;
    k.push_back('\xfe');
  }
  return k;
}

bool LabelsLess(const storage::Labels& a, const storage::Labels& b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    if (a[i].name != b[i].name) return a[i].name < b[i].name;
    if (a[i].value != b[i].value) return a[i].value < b[i].value;
  }
  return a.size() < b.size();
}

Status CheckNoDuplicates(const Vector& v) {
  if (v.size() < 2) return Status::OK();
  if (t_cache != nullptr) {
    // Interned: equal label sets are the same pointer.
    thread_local std::vector<const void*> ptrs;  // reused: no allocation per step
    ptrs.clear();
    for (const auto& s : v) ptrs.push_back(s.labels.get());
    std::sort(ptrs.begin(), ptrs.end());
    if (std::adjacent_find(ptrs.begin(), ptrs.end()) != ptrs.end()) {
      return Status::InvalidArgument("vector cannot contain metrics with the same labelset");
    }
    return Status::OK();
  }
  std::unordered_set<std::string_view> seen;
  seen.reserve(v.size());
  for (const auto& s : v) {
    if (!seen.insert(CachedKey(s.labels)).second) {
      return Status::InvalidArgument("vector cannot contain metrics with the same labelset");
    }
  }
  return Status::OK();
}

Evaluator::Evaluator(Queryable* q, const EngineOptions& opts, int64_t start_ms, int64_t end_ms,
                     int64_t step_ms)
    : q_(q), opts_(opts), start_ms_(start_ms), end_ms_(end_ms), step_ms_(step_ms),
      deadline_(std::chrono::steady_clock::now() + opts.timeout) {}

Status Evaluator::CheckDeadline(const char* stage) const {
  if (std::chrono::steady_clock::now() > deadline_) {
    return Status::Unavailable(std::string("query timed out in ") + stage);
  }
  return Status::OK();
}

Status Evaluator::AddSamples(int64_t n) {
  samples_ += n;
  if (samples_ > opts_.max_samples) {
    return Status::ResourceExhausted("query processing would load too many samples into memory in query execution");
  }
  return Status::OK();
}

int64_t Evaluator::AtTime(const Node& n, int64_t t) const {
  switch (n.at) {
    case AtKind::kNone: return t - n.offset_ms;
    case AtKind::kTime: return n.at_ms - n.offset_ms;
    case AtKind::kStart: return start_ms_ - n.offset_ms;
    case AtKind::kEnd: return end_ms_ - n.offset_ms;
  }
  return t;
}

void Evaluator::CollectRanges(const Node& n, int64_t lo, int64_t hi) {
  auto widen = [&](int64_t mint, int64_t maxt) {
    Loaded& d = data_[&n];
    d.mint = std::min(d.mint, mint);
    d.maxt = std::max(d.maxt, maxt);
  };
  switch (n.kind) {
    case NodeKind::kVectorSelector: {
      int64_t a = AtTime(n, lo), b = AtTime(n, hi);
      widen(a - opts_.lookback_delta.count(), b);
      return;
    }
    case NodeKind::kMatrixSelector: {
      const Node& vs = *n.args[0];
      int64_t a = AtTime(vs, lo), b = AtTime(vs, hi);
      Loaded& d = data_[&vs];
      d.mint = std::min(d.mint, a - n.range_ms);
      d.maxt = std::max(d.maxt, b);
      return;
    }
    case NodeKind::kSubquery: {
      int64_t a = AtTime(n, lo), b = AtTime(n, hi);
      CollectRanges(*n.args[0], a - n.range_ms, b);
      return;
    }
    default:
      for (const auto& c : n.args) CollectRanges(*c, lo, hi);
  }
}

Status Evaluator::Preload(const Node& root) {
  CollectRanges(root, start_ms_, end_ms_);
  for (auto& [node, d] : data_) {
    SB_RETURN_IF_ERROR(CheckDeadline("query preparation"));
    SB_ASSIGN_OR_RETURN(std::vector<Series> got, q_->Select(node->matchers, d.mint, d.maxt));
    d.series.reserve(got.size());
    for (auto& s : got) {
      SB_RETURN_IF_ERROR(AddSamples(static_cast<int64_t>(s.points.size())));
      LoadedSeries ls;
      ls.labels = MakeLabels(std::move(s.labels));
      ls.points.reserve(s.points.size());
      for (const Point& p : s.points) {
        uint64_t bits;
        std::memcpy(&bits, &p.v, sizeof(bits));
        if (bits == storage::kStaleMarkerBits) ls.stale.push_back(p.t);
        else ls.points.push_back(p);
      }
      d.series.push_back(std::move(ls));
    }
  }
  return Status::OK();
}

Result<EvalValue> Evaluator::EvalVectorSelector(const Node& n, int64_t t, bool keep_time) {
  EvalValue out;
  out.type = ValueType::kVector;
  const int64_t T = AtTime(n, t);
  const int64_t from = T - opts_.lookback_delta.count();  // exclusive
  auto it = data_.find(&n);
  if (it == data_.end()) return out;
  for (const LoadedSeries& s : it->second.series) {
    const size_t n = s.points.size();
    if (n == 0 || s.points[0].t > T) continue;
    size_t c = s.cursor < n ? s.cursor : n - 1;
    if (s.points[c].t <= T) {
      for (int k = 0; k < 4 && c + 1 < n && s.points[c + 1].t <= T; ++k) ++c;
      if (c + 1 < n && s.points[c + 1].t <= T) c = static_cast<size_t>(std::upper_bound(s.points.begin() + c, s.points.end(), T, [](int64_t x, const Point& q) { return x < q.t; }) - s.points.begin()) - 1;
    } else {
      c = static_cast<size_t>(std::upper_bound(s.points.begin(), s.points.begin() + c, T, [](int64_t x, const Point& q) { return x < q.t; }) - s.points.begin()) - 1;
    }
    s.cursor = c;
    auto p = s.points.begin() + static_cast<std::ptrdiff_t>(c);
    if (p->t <= from) continue;
    if (!s.stale.empty()) {
      auto st = std::upper_bound(s.stale.begin(), s.stale.end(), T);
      if (st != s.stale.begin() && *(st - 1) >= p->t) continue;
    }
    out.vec.push_back(Sample{s.labels, p->v, keep_time ? p->t : t});
  }
  return out;
}

Result<EvalValue> Evaluator::EvalMatrixSelector(const Node& n, int64_t t) {
  const Node& vs = *n.args[0];
  EvalValue out;
  out.type = ValueType::kMatrix;
  const int64_t T = AtTime(vs, t);
  out.range_end = T;
  out.range_ms = n.range_ms;
  auto it = data_.find(&vs);
  if (it == data_.end()) return out;
  auto cmp = [](const Point& q, int64_t x) { return q.t < x; };
  int64_t total = 0;
  for (const LoadedSeries& s : it->second.series) {
    auto b = std::lower_bound(s.points.begin(), s.points.end(), T - n.range_ms + 1, cmp);
    auto e = std::lower_bound(b, s.points.end(), T + 1, cmp);
    if (b == e) continue;
    RangeSeries r;
    r.labels = s.labels;
    r.data = &*b;
    r.size = static_cast<size_t>(e - b);
    total += static_cast<int64_t>(r.size);
    out.mat.push_back(std::move(r));
  }
  if (total > opts_.max_samples) {
    return Status::ResourceExhausted("query processing would load too many samples into memory in query execution");
  }
  return out;
}

namespace {
int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}
}  // namespace

Result<EvalValue> Evaluator::EvalSubquery(const Node& n, int64_t t) {
  EvalValue out;
  out.type = ValueType::kMatrix;
  const int64_t T = AtTime(n, t);
  const int64_t step = n.step_ms > 0 ? n.step_ms : opts_.default_subquery_step.count();
  out.range_end = T;
  out.range_ms = n.range_ms;
  int64_t first = (FloorDiv(T - n.range_ms, step) + 1) * step;
  if ((T - first) / step + 1 > opts_.max_points_per_series * 100) {
    return Status::ResourceExhausted("subquery would evaluate " + std::to_string((T - first) / step + 1) +
                                     " steps, more than " + std::to_string(opts_.max_points_per_series * 100));
  }
  std::map<std::string, size_t> index;
  int64_t total = 0;
  for (int64_t ts = first; ts <= T; ts += step) {
    SB_RETURN_IF_ERROR(CheckDeadline("subquery evaluation"));
    SB_ASSIGN_OR_RETURN(EvalValue v, Eval(*n.args[0], ts));
    for (Sample& s : v.vec) {
      auto [pos, inserted] = index.emplace(CachedKey(s.labels), out.mat.size());
      if (inserted) {
        out.mat.emplace_back();
        out.mat.back().labels = s.labels;
      }
      out.mat[pos->second].owned.push_back(Point{ts, s.v});
      if (++total > opts_.max_samples) {
        return Status::ResourceExhausted("query processing would load too many samples into memory in subquery evaluation");
      }
    }
  }
  for (auto& r : out.mat) {
    r.data = r.owned.data();
    r.size = r.owned.size();
  }
  return out;
}

Result<EvalValue> Evaluator::EvalBinary(const Node& n, int64_t t) {
  SB_ASSIGN_OR_RETURN(EvalValue l, Eval(*n.args[0], t));
  SB_ASSIGN_OR_RETURN(EvalValue r, Eval(*n.args[1], t));
  return EvalBinaryOp(n, std::move(l), std::move(r));
}

Result<EvalValue> Evaluator::EvalCall(const Node& n, int64_t t) {
  std::vector<EvalValue> args;
  args.reserve(n.args.size());
  const std::string name = n.func->name;
  for (size_t i = 0; i < n.args.size(); ++i) {
    const Node* a = n.args[i].get();
    if (name == "timestamp") {
      while (a->kind == NodeKind::kParen) a = a->args[0].get();
      if (a->kind == NodeKind::kVectorSelector) {
        SB_ASSIGN_OR_RETURN(EvalValue v, EvalVectorSelector(*a, t, /*keep_time=*/true));
        args.push_back(std::move(v));
        continue;
      }
    }
    SB_ASSIGN_OR_RETURN(EvalValue v, Eval(*a, t));
    args.push_back(std::move(v));
  }
  return CallFunction(n, args, t);
}

Result<EvalValue> Evaluator::EvalAggregate(const Node& n, int64_t t) {
  SB_ASSIGN_OR_RETURN(EvalValue v, Eval(*n.args[0], t));
  if (n.args.size() > 1) {
    SB_ASSIGN_OR_RETURN(EvalValue p, Eval(*n.args[1], t));
    return Aggregate(n, std::move(v.vec), &p);
  }
  return Aggregate(n, std::move(v.vec), nullptr);
}

Result<EvalValue> Evaluator::Eval(const Node& n, int64_t t) {
  switch (n.kind) {
    case NodeKind::kNumber: {
      EvalValue v;
      v.type = ValueType::kScalar;
      v.scalar = n.number;
      return v;
    }
    case NodeKind::kString: {
      EvalValue v;
      v.type = ValueType::kString;
      v.str = n.str;
      return v;
    }
    case NodeKind::kParen: return Eval(*n.args[0], t);
    case NodeKind::kVectorSelector: return EvalVectorSelector(n, t, false);
    case NodeKind::kMatrixSelector: return EvalMatrixSelector(n, t);
    case NodeKind::kSubquery: return EvalSubquery(n, t);
    case NodeKind::kUnary: {
      SB_ASSIGN_OR_RETURN(EvalValue v, Eval(*n.args[0], t));
      if (v.type == ValueType::kScalar) {
        v.scalar = -v.scalar;
        return v;
      }
      for (Sample& s : v.vec) {
        s.v = -s.v;
        s.labels = DropName(s.labels);
      }
      SB_RETURN_IF_ERROR(CheckNoDuplicates(v.vec));
      return v;
    }
    case NodeKind::kBinary: return EvalBinary(n, t);
    case NodeKind::kCall: return EvalCall(n, t);
    case NodeKind::kAggregate: return EvalAggregate(n, t);
  }
  return Status::Internal("unknown node kind");
}

}  // namespace sb::promql
