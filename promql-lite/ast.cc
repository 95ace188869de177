#include "promql-lite/ast.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>


namespace sb::promql {

bool IsComparison(BinOp op) { return op >= BinOp::kEql && op <= BinOp::kGte; }
bool IsSetOp(BinOp op) { return op >= BinOp::kAnd; }

const char* BinOpString(BinOp op) {
  static const char* const kNames[] = {"+",  "-", "*",  "/", "%",  "^",   "atan2", "==",
                                       "!=", "<", "<=", ">", ">=", "and", "or",    "unless"};
  return kNames[static_cast<int>(op)];
}

const char* AggOpString(AggOp op) {
  static const char* const kNames[] = {"sum",    "avg",  "min",     "max",
                                       "count",  "group", "stddev", "stdvar",
                                       "topk",   "bottomk", "quantile", "count_values"};
  return kNames[static_cast<int>(op)];
}

std::string FormatNumber(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == 0) return std::signbit(v) ? "-0" : "0";
  // Shortest digits that round-trip, then Go's %v layout for float64 (strconv 'g' with
  // shortest precision: an exponent when exp < -4 || exp >= 6, e.g. 1e+06).
  char buf[64];
  int prec = 1;
  for (; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof(buf), "%.*e", prec - 1, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string s(buf);
  size_t e = s.find('e');
  int exp = std::atoi(s.c_str() + e + 1);
  if (exp < -4 || exp >= 6) {
    std::string mant = s.substr(0, e);
    char eb[16];
    std::snprintf(eb, sizeof(eb), "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
    return mant + eb;
  }
  int decimals = std::max(0, prec - 1 - exp);
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

namespace {

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char b[8];
          std::snprintf(b, sizeof(b), "\\x%02x", c);
          out += b;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out + "\"";
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ", ";
    out += v[i];
  }
  return out;
}

// model.Duration's String(): years and weeks only when exact ("90d", not "12w6d").
std::string Dur(int64_t ms) {
  if (ms == 0) return "0s";
  std::string out;
  auto unit = [&](const char* name, int64_t mult, bool exact) {
    if (exact && ms % mult != 0) return;
    if (int64_t v = ms / mult; v > 0) {
      out += std::to_string(v) + name;
      ms -= v * mult;
    }
  };
  unit("y", 365LL * 86400000, true);
  unit("w", 7LL * 86400000, true);
  unit("d", 86400000, false);
  unit("h", 3600000, false);
  unit("m", 60000, false);
  unit("s", 1000, false);
  unit("ms", 1, false);
  return out;
}

std::string Modifiers(const Node& n) {
  std::string out;
  if (n.at == AtKind::kTime) {
    char b[64];
    std::snprintf(b, sizeof(b), " @ %.3f", static_cast<double>(n.at_ms) / 1000.0);
    out += b;
  } else if (n.at == AtKind::kStart) {
    out += " @ start()";
  } else if (n.at == AtKind::kEnd) {
    out += " @ end()";
  }
  if (n.offset_ms > 0) out += " offset " + Dur(n.offset_ms);
  if (n.offset_ms < 0) out += " offset -" + Dur(-n.offset_ms);
  return out;
}

std::string SelectorBody(const Node& n) {
  std::string out = n.metric_name;
  if (!n.specs.empty()) {
    out += "{";
    for (size_t i = 0; i < n.specs.size(); ++i) {
      if (i) out += ",";
      static const char* const kOps[] = {"=", "!=", "=~", "!~"};
      out += n.specs[i].name + kOps[static_cast<int>(n.specs[i].type)] + Quote(n.specs[i].value);
    }
    out += "}";
  }
  return out;
}

}  // namespace

std::string Format(const Node& n) {
  switch (n.kind) {
    case NodeKind::kNumber: return FormatNumber(n.number);
    case NodeKind::kString: return Quote(n.str);
    case NodeKind::kVectorSelector: return SelectorBody(n) + Modifiers(n);
    case NodeKind::kMatrixSelector: {
      const Node& vs = *n.args[0];
      return SelectorBody(vs) + "[" + Dur(n.range_ms) + "]" + Modifiers(vs);
    }
    case NodeKind::kSubquery:
      return Format(*n.args[0]) + "[" + Dur(n.range_ms) + ":" +
             (n.step_ms ? Dur(n.step_ms) : "") + "]" + Modifiers(n);
    case NodeKind::kParen: return "(" + Format(*n.args[0]) + ")";
    case NodeKind::kUnary: return "-" + Format(*n.args[0]);
    case NodeKind::kBinary: {
      std::string out = Format(*n.args[0]) + " " + BinOpString(n.op);
      if (n.return_bool) out += " bool";
      if (n.matching_on || !n.matching_labels.empty()) {
        out += std::string(n.matching_on ? " on" : " ignoring") + " (" + Join(n.matching_labels) + ")";
        if (n.card == Cardinality::kManyToOne) out += " group_left (" + Join(n.include_labels) + ")";
        if (n.card == Cardinality::kOneToMany) out += " group_right (" + Join(n.include_labels) + ")";
      }
      return out + " " + Format(*n.args[1]);
    }
    case NodeKind::kCall: {
      std::string out = std::string(n.func->name) + "(";
      for (size_t i = 0; i < n.args.size(); ++i) {
        if (i) out += ", ";
        out += Format(*n.args[i]);
      }
      return out + ")";
    }
    case NodeKind::kAggregate: {
      std::string out = AggOpString(n.agg);
      if (n.without) out += " without (" + Join(n.grouping) + ") ";
      else if (!n.grouping.empty()) out += " by (" + Join(n.grouping) + ") ";
      out += "(";
      if (n.args.size() > 1) out += Format(*n.args[1]) + ", ";
      return out + Format(*n.args[0]) + ")";
    }
  }
  return "";
}

}  // namespace sb::promql
