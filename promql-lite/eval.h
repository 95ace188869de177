// Evaluator: the engine's internal evaluation of a parsed expression at one time, over
// selector data loaded once per query (Preload), plus the shared value types of the
// function and aggregation code (functions.cc, aggregations.cc, binary.cc).
//
// A range query is evaluated step by step with the same Evaluator; selector data for the
// whole range (all steps, offsets, @, subquery ranges) is loaded by Preload before the
// first step, so the Queryable is read once per selector per query.
//
// Thread-safety: an Evaluator is used by one thread for one query.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "promql-lite/ast.h"
#include "promql-lite/engine.h"
#include "promql-lite/value.h"

namespace sb::promql {

using LabelsPtr = std::shared_ptr<const storage::Labels>;

// One element of an instant vector. t is the sample's own timestamp (timestamp() reads it).
struct Sample {
  LabelsPtr labels;
  double v = 0;
  int64_t t = 0;
};
using Vector = std::vector<Sample>;

// One series of a range vector, restricted to a window. Points are either borrowed from
// loaded selector data (data/size) or owned (subqueries).
struct RangeSeries {
  LabelsPtr labels;
  const Point* data = nullptr;
  size_t size = 0;
  std::vector<Point> owned;
  const Point* begin() const { return data; }
  const Point* end() const { return data + size; }
};

struct EvalValue {
  ValueType type = ValueType::kVector;
  double scalar = 0;
  std::string str;
  Vector vec;
  std::vector<RangeSeries> mat;
  // kMatrix: the window is (range_end - range_ms, range_end].
  int64_t range_end = 0;
  int64_t range_ms = 0;
};

// Per-query memo of label computations, keyed by label-set pointers. Loaded series keep
// their LabelsPtr for the whole query, so across the steps of a range query the same
// inputs give the same output pointers: no per-step label copies or key strings. Entries
// hold their input pointers, so an address cannot be reused while it is a key.
// Installed for the current thread by ScopedLabelCache (Engine does this per query).
class LabelCache {
 public:
  // Memoized make(a, b) for (tag, a, b); b may be null.
  template <typename F>
  const LabelsPtr& Labels(const void* tag, const LabelsPtr& a, const LabelsPtr* b, F make) {
    Entry& e = entries_[Key3{tag, a.get(), b ? b->get() : nullptr}];
    if (!e.out) {
      e.a = a;
      if (b) e.b = *b;
      e.out = make();
    }
    return e.out;
  }
  // Memoized string make() for (tag, a).
  template <typename F>
  const std::string& String(const void* tag, const LabelsPtr& a, F make) {
    Entry& e = entries_[Key3{tag, a.get(), nullptr}];
    if (!e.a) {
      e.a = a;
      e.str = make();
    }
    return e.str;
  }
  // The one shared copy of a label set with this content (interning: within a query,
  // equal label sets are the same pointer, so duplicates are found by pointer).
  LabelsPtr Intern(storage::Labels l);
  size_t size() const { return entries_.size(); }
  void Clear() {
    entries_.clear();
    interned_.clear();
  }

 private:
  struct Key3 {
    const void* tag;
    const void* a;
    const void* b;
    bool operator==(const Key3&) const = default;
  };
  struct Hash {
    size_t operator()(const Key3& k) const {
      // Sequentially allocated pointers hash to nearby buckets: good locality.
      size_t h = std::hash<const void*>()(k.tag);
      h = h * 31 + std::hash<const void*>()(k.a);
      return h * 31 + std::hash<const void*>()(k.b);
    }
  };
  struct Entry {
    LabelsPtr a, b, out;
    std::string str;
  };
  std::unordered_map<Key3, Entry, Hash> entries_;
  std::unordered_map<std::string, LabelsPtr> interned_;
};

// The current thread's cache (a bounded fallback when none is installed).
LabelCache& CurrentLabelCache();
class ScopedLabelCache {
 public:
  ScopedLabelCache();
  ~ScopedLabelCache();
  ScopedLabelCache(const ScopedLabelCache&) = delete;
  ScopedLabelCache& operator=(const ScopedLabelCache&) = delete;

 private:
  LabelCache cache_;
  LabelCache* prev_;
};

// Query warnings (Prometheus's "PromQL warning: ..." annotations), collected for the
// current thread's query by ScopedWarnings; duplicates are kept once. Without a scope
// they are dropped.
void AddWarning(std::string warning);
class ScopedWarnings {
 public:
  explicit ScopedWarnings(std::vector<std::string>* sink);
  ~ScopedWarnings();
  ScopedWarnings(const ScopedWarnings&) = delete;
  ScopedWarnings& operator=(const ScopedWarnings&) = delete;

 private:
  std::vector<std::string>* prev_;
};

// Label helpers. MakeLabels interns within a query (ScopedLabelCache installed).
LabelsPtr MakeLabels(storage::Labels l);
// Whether MakeLabels interns on this thread now (equal label sets are equal pointers).
bool LabelsInterned();
// LabelsKey of *l, memoized in the current cache (valid while the cache lives).
const std::string& CachedKey(const LabelsPtr& l);
LabelsPtr DropName(const LabelsPtr& l);
const std::string* GetLabel(const storage::Labels& l, const std::string& name);
// A key identifying a label set (for maps).
std::string LabelsKey(const storage::Labels& l);
// Error if two samples have the same labels: "vector cannot contain metrics with the same
// labelset".
Status CheckNoDuplicates(const Vector& v);

class Evaluator {
 public:
  Evaluator(Queryable* q, const EngineOptions& opts, int64_t start_ms, int64_t end_ms,
            int64_t step_ms);

  // Loads the data of every selector in `root` for all evaluation times of the query.
  // Errors: from the Queryable; ResourceExhausted beyond max_samples.
  Status Preload(const Node& root);

  // Evaluates `n` at t_ms.
  Result<EvalValue> Eval(const Node& n, int64_t t_ms);

  // Unavailable if the query's deadline has passed.
  Status CheckDeadline(const char* stage) const;
  // Counts `n` more samples held; ResourceExhausted beyond max_samples.
  Status AddSamples(int64_t n);

  const EngineOptions& options() const { return opts_; }

 private:
  struct LoadedSeries {
    LabelsPtr labels;
    std::vector<Point> points;   // without stale markers
    std::vector<int64_t> stale;  // times of stale markers
    // Index of the last point <= the previous lookup time: steps move forward, so the
    // next lookup usually advances it by one instead of binary-searching.
    mutable size_t cursor = 0;
  };
  struct Loaded {
    std::vector<LoadedSeries> series;
    int64_t mint = INT64_MAX, maxt = INT64_MIN;
  };

  void CollectRanges(const Node& n, int64_t lo, int64_t hi);
  int64_t AtTime(const Node& n, int64_t t) const;

  Result<EvalValue> EvalVectorSelector(const Node& n, int64_t t, bool keep_time);
  Result<EvalValue> EvalMatrixSelector(const Node& n, int64_t t);
  Result<EvalValue> EvalSubquery(const Node& n, int64_t t);
  Result<EvalValue> EvalBinary(const Node& n, int64_t t);
  Result<EvalValue> EvalCall(const Node& n, int64_t t);
  Result<EvalValue> EvalAggregate(const Node& n, int64_t t);

  Queryable* q_;
  EngineOptions opts_;
  int64_t start_ms_, end_ms_, step_ms_;
  std::chrono::steady_clock::time_point deadline_;
  int64_t samples_ = 0;
  std::unordered_map<const Node*, Loaded> data_;
};

// binary.cc: a binary operation on evaluated operands.
Result<EvalValue> EvalBinaryOp(const Node& n, EvalValue lhs, EvalValue rhs);
double ScalarBinop(BinOp op, double l, double r, bool* keep);

// aggregations.cc: an aggregation of `v` (param: the evaluated parameter, if any).
Result<EvalValue> Aggregate(const Node& n, Vector v, const EvalValue* param);

// functions.cc: a function call with evaluated arguments at eval time t_ms.
Result<EvalValue> CallFunction(const Node& n, std::vector<EvalValue>& args, int64_t t_ms);

// Prometheus's quantile with linear interpolation over `values` (sorted in place).
double Quantile(double q, std::vector<double>* values);
// Kahan-Neumaier summation step.
void KahanInc(double inc, double* sum, double* c);

}  // namespace sb::promql
