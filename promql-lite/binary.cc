// Binary operators: arithmetic, comparisons (filtering or bool), and set operators, with
// Prometheus's vector matching (on/ignoring, group_left/group_right) and its errors.
#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include "promql-lite/eval.h"

namespace sb::promql {
namespace {

bool ShouldDropName(BinOp op) { return !IsComparison(op) && !IsSetOp(op); }

// The matching signature of a sample: the values of the on() labels, or of all labels but
// the ignoring() ones and __name__.
std::string SignatureUncached(const Node& n, const storage::Labels& l) {
  std::string k;
  if (n.matching_on) {
    for (const auto& name : n.matching_labels) {
      const std::string* v = GetLabel(l, name);
      k += name;
      k.push_back('\xff');
      if (v) k += *v;
      k.push_back('\xfe');
    }
    return k;
  }
  for (const auto& lb : l) {
    if (lb.name == storage::kMetricNameLabel) continue;
    bool ignored = false;
    for (const auto& name : n.matching_labels) {
      if (name == lb.name) { ignored = true; break; }
    }
    if (ignored) continue;
    k += lb.name;
    k.push_back('\xff');
    k += lb.value;
    k.push_back('\xfe');
  }
  return k;
}

const std::string& Signature(const Node& n, const LabelsPtr& l) {
  return CurrentLabelCache().String(&n, l, [&] { return SignatureUncached(n, *l); });
}

LabelsPtr ResultLabelsUncached(const Node& n, const LabelsPtr& lhs, const LabelsPtr& rhs) {
  bool drop_name = ShouldDropName(n.op) || n.return_bool;
  if (!drop_name && n.card != Cardinality::kOneToOne && n.include_labels.empty()) return lhs;
  storage::Labels out;
  for (const auto& lb : *lhs) {
    if (drop_name && lb.name == storage::kMetricNameLabel) continue;
    if (n.card == Cardinality::kOneToOne) {
      bool listed = false;
      for (const auto& name : n.matching_labels) {
        if (name == lb.name) { listed = true; break; }
      }
      if (n.matching_on && !listed) continue;
      if (!n.matching_on && listed) continue;
    }
    out.push_back(lb);
  }
  for (const auto& name : n.include_labels) {
    const std::string* v = GetLabel(*rhs, name);
    auto it = std::find_if(out.begin(), out.end(), [&](const storage::Label& l) { return l.name == name; });
    if (it != out.end()) out.erase(it);
    if (v && !v->empty()) {
      auto pos = std::lower_bound(out.begin(), out.end(), name,
                                  [](const storage::Label& l, const std::string& x) { return l.name < x; });
      out.insert(pos, storage::Label{name, *v});
    }
  }
  return MakeLabels(std::move(out));
}

const LabelsPtr& ResultLabels(const Node& n, const LabelsPtr& lhs, const LabelsPtr& rhs) {
  return CurrentLabelCache().Labels(&n, lhs, &rhs, [&] { return ResultLabelsUncached(n, lhs, rhs); });
}

Result<EvalValue> SetOp(const Node& n, EvalValue lhs, EvalValue rhs) {
  EvalValue out;
  out.type = ValueType::kVector;
  if (n.op == BinOp::kOr) {
    std::unordered_set<std::string_view> left;
    for (auto& s : lhs.vec) {
      left.insert(Signature(n, s.labels));
      out.vec.push_back(std::move(s));
    }
    for (auto& s : rhs.vec) {
      if (!left.count(Signature(n, s.labels))) out.vec.push_back(std::move(s));
    }
    return out;
  }
  std::unordered_set<std::string_view> right;
  for (const auto& s : rhs.vec) right.insert(Signature(n, s.labels));
  for (auto& s : lhs.vec) {
    bool found = right.count(Signature(n, s.labels)) > 0;
    if (found == (n.op == BinOp::kAnd)) out.vec.push_back(std::move(s));
  }
  return out;
}

std::string MatchGroupString(const Node& n, const storage::Labels& l) {
  storage::Labels g;
  for (const auto& lb : l) {
    bool listed = std::find(n.matching_labels.begin(), n.matching_labels.end(), lb.name) != n.matching_labels.end();
    if (n.matching_on ? listed : (!listed && lb.name != storage::kMetricNameLabel)) g.push_back(lb);
  }
  return storage::LabelsToString(g);
}

Result<EvalValue> VectorVector(const Node& n, EvalValue lhs, EvalValue rhs) {
  if (IsSetOp(n.op)) return SetOp(n, std::move(lhs), std::move(rhs));
  const bool swap = n.card == Cardinality::kOneToMany;
  Vector& many = swap ? rhs.vec : lhs.vec;
  Vector& one = swap ? lhs.vec : rhs.vec;
  // The "one" side must have unique signatures.
  std::unordered_map<std::string_view, const Sample*> one_by_sig;
  for (const auto& s : one) {
    auto [it, inserted] = one_by_sig.emplace(Signature(n, s.labels), &s);
    if (!inserted) {
      return Status::InvalidArgument(
          "found duplicate series for the match group " + MatchGroupString(n, *s.labels) +
          " on the " + (swap ? "left" : "right") + " hand-side of the operation: [" +
          storage::LabelsToString(*s.labels) + ", " + storage::LabelsToString(*it->second->labels) +
          "];many-to-many matching not allowed: matching labels must be unique on one side");
    }
  }
  EvalValue out;
  out.type = ValueType::kVector;
  std::unordered_set<std::string_view> matched;  // one-to-one: signatures already used
  std::unordered_map<std::string, size_t> inserted;  // result labels -> index
  for (const auto& s : many) {
    const std::string& sig = Signature(n, s.labels);
    auto it = one_by_sig.find(sig);
    if (it == one_by_sig.end()) continue;
    const Sample& o = *it->second;
    double l = swap ? o.v : s.v;
    double r = swap ? s.v : o.v;
    // A one-to-one match must be unique even where the comparison then filters it out.
    if (n.card == Cardinality::kOneToOne && !matched.insert(sig).second) {
      return Status::InvalidArgument("multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)");
    }
    bool keep = true;
    double v = ScalarBinop(n.op, l, r, &keep);
    if (IsComparison(n.op)) {
      if (n.return_bool) { v = keep ? 1 : 0; keep = true; }
      else v = l;
      if (!keep) continue;
    }
    LabelsPtr labels = ResultLabels(n, s.labels, o.labels);
    if (n.card != Cardinality::kOneToOne && !inserted.emplace(sig + '\xfd' + CachedKey(labels), 0).second) {
      return Status::InvalidArgument("multiple matches for labels: grouping labels must ensure unique matches");
    }
    out.vec.push_back(Sample{std::move(labels), v, s.t});
  }
  SB_RETURN_IF_ERROR(CheckNoDuplicates(out.vec));
  return out;
}

}  // namespace

double ScalarBinop(BinOp op, double l, double r, bool* keep) {
  *keep = true;
  switch (op) {
    case BinOp::kAdd: return l + r;
    case BinOp::kSub: return l - r;
    case BinOp::kMul: return l * r;
    case BinOp::kDiv: return l / r;
    case BinOp::kMod: return std::fmod(l, r);
    case BinOp::kPow: return std::pow(l, r);
    case BinOp::kAtan2: return std::atan2(l, r);
    case BinOp::kEql: *keep = l == r; return l;
    case BinOp::kNeq: *keep = l != r; return l;
    case BinOp::kLss: *keep = l < r; return l;
    case BinOp::kLte: *keep = l <= r; return l;
    case BinOp::kGtr: *keep = l > r; return l;
    case BinOp::kGte: *keep = l >= r; return l;
    default: return 0;
  }
}

Result<EvalValue> EvalBinaryOp(const Node& n, EvalValue lhs, EvalValue rhs) {
  const bool ls = lhs.type == ValueType::kScalar, rs = rhs.type == ValueType::kScalar;
  if (ls && rs) {
    bool keep;
    double v = ScalarBinop(n.op, lhs.scalar, rhs.scalar, &keep);
    if (IsComparison(n.op)) v = keep ? 1 : 0;
    EvalValue out;
    out.type = ValueType::kScalar;
    out.scalar = v;
    return out;
  }
  if (!ls && !rs) return VectorVector(n, std::move(lhs), std::move(rhs));
  // Vector and scalar.
  const bool swap = ls;
  EvalValue& vec = swap ? rhs : lhs;
  const double s = swap ? lhs.scalar : rhs.scalar;
  EvalValue out;
  out.type = ValueType::kVector;
  out.vec.reserve(vec.vec.size());
  const bool drop = ShouldDropName(n.op) || n.return_bool;
  for (Sample& e : vec.vec) {
    double l = swap ? s : e.v, r = swap ? e.v : s;
    bool keep;
    double v = ScalarBinop(n.op, l, r, &keep);
    if (IsComparison(n.op)) {
      v = e.v;  // the vector's value is kept, whichever side it is on
      if (n.return_bool) { v = keep ? 1 : 0; keep = true; }
    }
    if (!keep) continue;
    e.v = v;
    if (drop) e.labels = DropName(e.labels);
    out.vec.push_back(std::move(e));
  }
  if (drop) SB_RETURN_IF_ERROR(CheckNoDuplicates(out.vec));
  return out;
}

}  // namespace sb::promql
