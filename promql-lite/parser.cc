// The PromQL parser. One class, because a recursive-descent parser's methods share the
// token cursor; it is longer than the usual ~400 lines for that reason. Grammar and error
// wording follow Prometheus's generated_parser.y and its checkAST type checks.
#include "promql-lite/parser.h"

#include <cmath>
#include <set>
#include <strings.h>

#include "promql-lite/lexer.h"

namespace sb::promql {
namespace {

const char* TypeName(ValueType t) {
  switch (t) {
    case ValueType::kScalar: return "scalar";
    case ValueType::kVector: return "instant vector";
    case ValueType::kMatrix: return "range vector";
    case ValueType::kString: return "string";
  }
  return "?";
}

std::string Lower(const std::string& s) {
  std::string out = s;
  for (char& c : out) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsAggregator(const std::string& word, AggOp* op) {
  const std::string s = Lower(word);
  static const struct { const char* n; AggOp op; } kAggs[] = {
      {"sum", AggOp::kSum}, {"avg", AggOp::kAvg}, {"min", AggOp::kMin}, {"max", AggOp::kMax},
      {"count", AggOp::kCount}, {"group", AggOp::kGroup}, {"stddev", AggOp::kStddev},
      {"stdvar", AggOp::kStdvar}, {"topk", AggOp::kTopk}, {"bottomk", AggOp::kBottomk},
      {"quantile", AggOp::kQuantile}, {"count_values", AggOp::kCountValues}};
  for (const auto& a : kAggs) {
    if (s == a.n) { *op = a.op; return true; }
  }
  return false;
}

bool IsUnsupportedAggregator(const std::string& word) {
  const std::string s = Lower(word);
  return s == "limitk" || s == "limit_ratio";
}

bool IsValidLabelName(const std::string& s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

class Parser {
 public:
  Parser(std::string_view in, std::vector<Token> toks) : in_(in), toks_(std::move(toks)) {}

  Result<NodePtr> ParseAll() {
    SB_ASSIGN_OR_RETURN(NodePtr n, ParseExpr(0));
    if (Peek().type != Tok::kEOF) return Unexpected(Peek(), "");
    return n;
  }

 private:
  const Token& Peek(size_t k = 0) const {
    size_t i = std::min(pos_ + k, toks_.size() - 1);
    return toks_[i];
  }
  const Token& Next() {
    const Token& t = toks_[std::min(pos_, toks_.size() - 1)];
    if (pos_ < toks_.size() - 1) ++pos_;
    return t;
  }
  bool IsIdent(const char* word, size_t k = 0) const {
    const Token& t = Peek(k);
    return t.type == Tok::kIdent && strcasecmp(t.text.c_str(), word) == 0;
  }

  Status Err(size_t pos, const std::string& what) const {
    return Status::InvalidArgument(PositionString(in_, pos) + ": parse error: " + what);
  }
  static std::string Describe(const Token& t) {
    switch (t.type) {
      case Tok::kEOF: return "end of input";
      case Tok::kIdent: return "identifier \"" + t.text + "\"";
      case Tok::kNumber: return "number \"" + t.text + "\"";
      case Tok::kDuration: return "duration \"" + t.text + "\"";
      case Tok::kString: return "string";
      case Tok::kLParen: return "left parenthesis \"(\"";
      case Tok::kRParen: return "right parenthesis \")\"";
      case Tok::kLBrace: return "left brace \"{\"";
      case Tok::kRBrace: return "right brace \"}\"";
      case Tok::kLBracket: return "left bracket \"[\"";
      case Tok::kRBracket: return "right bracket \"]\"";
      case Tok::kComma: return "\",\"";
      case Tok::kColon: return "\":\"";
      case Tok::kAt: return "\"@\"";
      default: return "operator \"" + t.text + "\"";
    }
  }
  Status Unexpected(const Token& t, const std::string& context) const {
    if (t.type == Tok::kEOF) {
      // As Prometheus's lexer: name the bracket left open.
      int paren = 0, bracket = 0, brace = 0;
      for (const Token& x : toks_) {
        switch (x.type) {
          case Tok::kLParen: ++paren; break;
          case Tok::kRParen: --paren; break;
          case Tok::kLBracket: ++bracket; break;
          case Tok::kRBracket: --bracket; break;
          case Tok::kLBrace: ++brace; break;
          case Tok::kRBrace: --brace; break;
          default: break;
        }
      }
      if (brace > 0) return Err(t.pos, "unexpected end of input inside braces");
      if (bracket > 0) return Err(t.pos, "unclosed left bracket");
      if (paren > 0) return Err(t.pos, "unclosed left parenthesis");
    }
    std::string msg = "unexpected " + Describe(t);
    if (!context.empty()) msg += " " + context;
    return Err(t.pos, msg);
  }
  Status Expect(Tok type, const std::string& context) {
    if (Peek().type != type) return Unexpected(Peek(), context);
    Next();
    return Status::OK();
  }

  // Binary operator at the current token, with its precedence; false if none.
  bool PeekBinOp(BinOp* op, int* prec) const {
    const Token& t = Peek();
    switch (t.type) {
      case Tok::kAdd: *op = BinOp::kAdd; *prec = 4; return true;
      case Tok::kSub: *op = BinOp::kSub; *prec = 4; return true;
      case Tok::kMul: *op = BinOp::kMul; *prec = 5; return true;
      case Tok::kDiv: *op = BinOp::kDiv; *prec = 5; return true;
      case Tok::kMod: *op = BinOp::kMod; *prec = 5; return true;
      case Tok::kPow: *op = BinOp::kPow; *prec = 6; return true;
      case Tok::kEql: *op = BinOp::kEql; *prec = 3; return true;
      case Tok::kNeq: *op = BinOp::kNeq; *prec = 3; return true;
      case Tok::kLss: *op = BinOp::kLss; *prec = 3; return true;
      case Tok::kLte: *op = BinOp::kLte; *prec = 3; return true;
      case Tok::kGtr: *op = BinOp::kGtr; *prec = 3; return true;
      case Tok::kGte: *op = BinOp::kGte; *prec = 3; return true;
      case Tok::kIdent: {
        const std::string w = Lower(t.text);
        if (w == "and") { *op = BinOp::kAnd; *prec = 2; return true; }
        if (w == "unless") { *op = BinOp::kUnless; *prec = 2; return true; }
        if (w == "or") { *op = BinOp::kOr; *prec = 1; return true; }
        if (w == "atan2") { *op = BinOp::kAtan2; *prec = 5; return true; }
        return false;
      }
      default: return false;
    }
  }

  // Bounds recursion (and so the evaluator's, which follows the tree) on hostile input.
  // A left-assoc chain like a+a+...+a is as deep as it is long; bound that too.
  static constexpr int kMaxDepth = 256;
  static constexpr int kMaxBinaryOps = 1000;

  Result<NodePtr> ParseExpr(int min_prec) {
    if (++depth_ > kMaxDepth) {
      return Err(Peek().pos, "expression nested too deeply (more than " + std::to_string(kMaxDepth) + " levels)");
    }
    struct Leave { int* d; ~Leave() { --*d; } } leave{&depth_};
    SB_ASSIGN_OR_RETURN(NodePtr lhs, ParseUnary());
    while (true) {
      BinOp op;
      int prec;
      if (!PeekBinOp(&op, &prec) || prec < min_prec) return lhs;
      size_t op_pos = Next().pos;
      if (++binary_ops_ > kMaxBinaryOps) {
        return Err(op_pos, "too many binary operators (more than " + std::to_string(kMaxBinaryOps) + ")");
      }
      auto n = std::make_unique<Node>();
      n->kind = NodeKind::kBinary;
      n->pos = op_pos;
      n->op = op;
      SB_RETURN_IF_ERROR(ParseBinModifiers(n.get()));
      SB_ASSIGN_OR_RETURN(NodePtr rhs, ParseExpr(op == BinOp::kPow ? prec : prec + 1));
      n->pos = lhs->pos;  // Prometheus reports binary-expression errors at its start
      n->args.push_back(std::move(lhs));
      n->args.push_back(std::move(rhs));
      SB_RETURN_IF_ERROR(CheckBinary(n.get(), op_pos));
      lhs = std::move(n);
    }
  }

  Status ParseLabelList(std::vector<std::string>* out) {
    SB_RETURN_IF_ERROR(Expect(Tok::kLParen, "in grouping opts, expected \"(\""));
    while (Peek().type != Tok::kRParen) {
      const Token& t = Peek();
      if (t.type == Tok::kIdent && IsValidLabelName(t.text)) {
        out->push_back(t.text);
      } else if (t.type == Tok::kString) {
        out->push_back(t.text);
      } else {
        return Unexpected(t, "in grouping opts, expected label");
      }
      Next();
      if (Peek().type == Tok::kComma) { Next(); continue; }
      if (Peek().type != Tok::kRParen) return Unexpected(Peek(), "in grouping opts, expected \")\" or \",\"");
    }
    Next();
    return Status::OK();
  }

  Status ParseBinModifiers(Node* n) {
    if (IsIdent("bool")) { Next(); n->return_bool = true; }
    if (IsIdent("on") || IsIdent("ignoring")) {
      n->has_matching = true;
      n->matching_on = Lower(Next().text) == "on";
      SB_RETURN_IF_ERROR(ParseLabelList(&n->matching_labels));
      if (IsIdent("group_left") || IsIdent("group_right")) {
        n->card = Lower(Next().text) == "group_left" ? Cardinality::kManyToOne : Cardinality::kOneToMany;
        if (Peek().type == Tok::kLParen) SB_RETURN_IF_ERROR(ParseLabelList(&n->include_labels));
      }
    }
    return Status::OK();
  }

  Status CheckBinary(Node* n, size_t op_pos) {
    const Node& l = *n->args[0];
    const Node& r = *n->args[1];
    auto ok_type = [](ValueType t) { return t == ValueType::kScalar || t == ValueType::kVector; };
    if (!ok_type(l.type) || !ok_type(r.type)) {
      return Err(n->pos, "binary expression must contain only scalar and instant vector types");
    }
    bool both_scalar = l.type == ValueType::kScalar && r.type == ValueType::kScalar;
    if (n->return_bool && !IsComparison(n->op)) {
      return Err(n->pos, "bool modifier can only be used on comparison operators");
    }
    if (IsComparison(n->op) && both_scalar && !n->return_bool) {
      return Err(op_pos, "comparisons between scalars must use BOOL modifier");
    }
    if (IsSetOp(n->op)) {
      if (l.type == ValueType::kScalar || r.type == ValueType::kScalar) {
        return Err(n->pos, std::string("set operator \"") + BinOpString(n->op) +
                               "\" not allowed in binary scalar expression");
      }
      if (n->card == Cardinality::kManyToOne || n->card == Cardinality::kOneToMany) {
        return Err(n->pos, std::string("no grouping allowed for \"") + BinOpString(n->op) +
                               "\" operation");
      }
      n->card = Cardinality::kManyToMany;
    }
    if (n->has_matching && (l.type != ValueType::kVector || r.type != ValueType::kVector)) {
      // As Prometheus: an error only with labels listed; an empty on()/ignoring() is dropped.
      if (!n->matching_labels.empty()) {
        return Err(n->pos, "vector matching only allowed between instant vectors");
      }
      n->has_matching = false;
      n->matching_on = false;
      n->card = Cardinality::kOneToOne;
      n->include_labels.clear();
    }
    if (n->matching_on) {
      for (const auto& inc : n->include_labels) {
        for (const auto& m : n->matching_labels) {
          if (inc == m) return Err(n->pos, "label \"" + inc + "\" must not occur in ON and GROUP clause at once");
        }
      }
    }
    n->type = both_scalar ? ValueType::kScalar : ValueType::kVector;
    return Status::OK();
  }

  Result<NodePtr> ParseUnary() {
    if (Peek().type == Tok::kSub || Peek().type == Tok::kAdd) {
      const Token& t = Next();
      bool neg = t.type == Tok::kSub;
      size_t pos = t.pos;
      SB_ASSIGN_OR_RETURN(NodePtr operand, ParseExpr(6));
      if (operand->type != ValueType::kScalar && operand->type != ValueType::kVector) {
        return Err(pos, "unary expression only allowed on expressions of type scalar or instant vector, got \"" +
                            std::string(TypeName(operand->type)) + "\"");
      }
      if (operand->kind == NodeKind::kNumber) {
        if (neg) operand->number = -operand->number;
        operand->pos = pos;
        return operand;
      }
      if (!neg) return operand;
      auto n = std::make_unique<Node>();
      n->kind = NodeKind::kUnary;
      n->pos = pos;
      n->op = BinOp::kSub;
      n->type = operand->type;
      n->args.push_back(std::move(operand));
      return n;
    }
    SB_ASSIGN_OR_RETURN(NodePtr p, ParsePrimary());
    return ParsePostfix(std::move(p));
  }

  // A duration in [..], offset or subquery step: a duration literal or a number of seconds.
  Result<int64_t> ParseDurationArg(bool allow_negative, const std::string& context) {
    bool neg = false;
    if (allow_negative && (Peek().type == Tok::kSub || Peek().type == Tok::kAdd)) {
      neg = Next().type == Tok::kSub;
    }
    const Token& t = Peek();
    int64_t ms;
    if (t.type == Tok::kDuration) {
      ms = static_cast<int64_t>(t.number);
    } else if (t.type == Tok::kNumber) {
      double s = t.number * 1000;
      if (!std::isfinite(s) || std::fabs(s) > 9.2e18) return Err(t.pos, "duration out of range");
      ms = static_cast<int64_t>(std::llround(s));
    } else {
      return Unexpected(t, context);
    }
    Next();
    return neg ? -ms : ms;
  }

  Result<NodePtr> ParsePostfix(NodePtr n) {
    while (true) {
      const Token& t = Peek();
      if (t.type == Tok::kLBracket) {
        size_t pos = Next().pos;
        SB_ASSIGN_OR_RETURN(int64_t range, ParseDurationArg(false, "in subquery or range selector, expected duration"));
        if (range <= 0) return Err(pos, "duration must be greater than 0");
        if (Peek().type == Tok::kColon) {
          Next();
          int64_t step = 0;
          if (Peek().type != Tok::kRBracket) {
            SB_ASSIGN_OR_RETURN(step, ParseDurationArg(false, "in subquery, expected duration"));
            if (step <= 0) return Err(pos, "step must be greater than 0");
          }
          SB_RETURN_IF_ERROR(Expect(Tok::kRBracket, "in subquery, expected \"]\""));
          if (n->type != ValueType::kVector) {
            return Err(n->pos, std::string("subquery is only allowed on instant vector, got ") +
                                   TypeName(n->type) + " instead");
          }
          auto s = std::make_unique<Node>();
          s->kind = NodeKind::kSubquery;
          s->pos = n->pos;
          s->type = ValueType::kMatrix;
          s->range_ms = range;
          s->step_ms = step;
          s->args.push_back(std::move(n));
          n = std::move(s);
          continue;
        }
        SB_RETURN_IF_ERROR(Expect(Tok::kRBracket, "in range selector, expected \"]\""));
        if (n->kind != NodeKind::kVectorSelector) {
          return Err(n->pos, "ranges only allowed for vector selectors");
        }
        if (n->offset_ms != 0 || n->at != AtKind::kNone) {
          return Err(pos, "no offset or @ modifiers allowed before range");
        }
        auto m = std::make_unique<Node>();
        m->kind = NodeKind::kMatrixSelector;
        m->pos = n->pos;
        m->type = ValueType::kMatrix;
        m->range_ms = range;
        m->args.push_back(std::move(n));
        n = std::move(m);
        continue;
      }
      if (IsIdent("offset")) {
        size_t pos = Next().pos;
        Node* target = ModifierTarget(n.get());
        if (target == nullptr) {
          return Err(pos, "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery");
        }
        if (target->offset_ms != 0) return Err(pos, "offset may not be set multiple times");
        SB_ASSIGN_OR_RETURN(target->offset_ms, ParseDurationArg(true, "in offset, expected duration"));
        continue;
      }
      if (t.type == Tok::kAt) {
        size_t pos = Next().pos;
        Node* target = ModifierTarget(n.get());
        if (target == nullptr) {
          return Err(pos, "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery");
        }
        if (target->at != AtKind::kNone) return Err(pos, "@ <timestamp> may not be set multiple times");
        if ((IsIdent("start") || IsIdent("end")) && Peek(1).type == Tok::kLParen) {
          target->at = IsIdent("start") ? AtKind::kStart : AtKind::kEnd;
          Next();
          Next();
          SB_RETURN_IF_ERROR(Expect(Tok::kRParen, "in @ modifier, expected \")\""));
          continue;
        }
        bool neg = false;
        if (Peek().type == Tok::kSub || Peek().type == Tok::kAdd) neg = Next().type == Tok::kSub;
        const Token& v = Peek();
        if (v.type != Tok::kNumber && v.type != Tok::kDuration) {
          return Unexpected(v, "in @, expected timestamp");
        }
        double secs = v.type == Tok::kNumber ? v.number : v.number / 1000;
        if (neg) secs = -secs;
        if (!std::isfinite(secs) || std::fabs(secs) > 9.2e15) {
          return Err(v.pos, "timestamp out of bounds for @ modifier: " + v.text);
        }
        Next();
        target->at = AtKind::kTime;
        target->at_ms = static_cast<int64_t>(std::llround(secs * 1000));
        continue;
      }
      return n;
    }
  }

  static Node* ModifierTarget(Node* n) {
    if (n->kind == NodeKind::kVectorSelector || n->kind == NodeKind::kSubquery) return n;
    if (n->kind == NodeKind::kMatrixSelector) return n->args[0].get();
    return nullptr;
  }

  Result<NodePtr> ParsePrimary() {
    const Token& t = Peek();
    auto n = std::make_unique<Node>();
    n->pos = t.pos;
    switch (t.type) {
      case Tok::kNumber:
        n->kind = NodeKind::kNumber;
        n->number = t.number;
        Next();
        return n;
      case Tok::kDuration:
        n->kind = NodeKind::kNumber;
        n->number = t.number / 1000;
        Next();
        return n;
      case Tok::kString:
        n->kind = NodeKind::kString;
        n->type = ValueType::kString;
        n->str = t.text;
        Next();
        return n;
      case Tok::kLParen: {
        Next();
        SB_ASSIGN_OR_RETURN(NodePtr inner, ParseExpr(0));
        SB_RETURN_IF_ERROR(Expect(Tok::kRParen, "in paren expression, expected \")\""));
        n->kind = NodeKind::kParen;
        n->type = inner->type;
        n->args.push_back(std::move(inner));
        return n;
      }
      case Tok::kLBrace:
        return ParseSelector("", t.pos);
      case Tok::kIdent:
        break;
      default:
        return Unexpected(t, "");
    }
    std::string word = t.text;
    if (strcasecmp(word.c_str(), "inf") == 0 || strcasecmp(word.c_str(), "nan") == 0) {
      Next();
      n->kind = NodeKind::kNumber;
      n->number = tolower(word[0]) == 'i' ? INFINITY : NAN;
      return n;
    }
    AggOp agg;
    if (IsAggregator(word, &agg) &&
        (Peek(1).type == Tok::kLParen || IsIdent("by", 1) || IsIdent("without", 1))) {
      return ParseAggregate(agg);
    }
    if (Peek(1).type == Tok::kLParen) {
      if (IsUnsupportedFunction(word) || IsUnsupportedAggregator(word)) {
        return Status::Unimplemented(PositionString(in_, t.pos) + ": function \"" + word +
                                     "\" is not supported by promql-lite (native histograms, "
                                     "info() and experimental functions are out of scope)");
      }
      const FunctionDef* f = LookupFunction(word);
      if (f == nullptr) return Err(t.pos, "unknown function with name \"" + word + "\"");
      return ParseCall(f);
    }
    static const std::set<std::string> kKeywords = {"by", "without", "on", "ignoring",
                                                    "group_left", "group_right", "bool",
                                                    "offset", "and", "or", "unless", "atan2"};
    if (kKeywords.count(Lower(word)) || IsAggregator(word, &agg)) return Unexpected(t, "");
    Next();
    return ParseSelector(word, t.pos);
  }

  Result<NodePtr> ParseCall(const FunctionDef* f) {
    size_t pos = Next().pos;
    Next();  // (
    auto n = std::make_unique<Node>();
    n->kind = NodeKind::kCall;
    n->pos = pos;
    n->func = f;
    n->type = f->return_type;
    while (Peek().type != Tok::kRParen) {
      SB_ASSIGN_OR_RETURN(NodePtr a, ParseExpr(0));
      n->args.push_back(std::move(a));
      if (Peek().type == Tok::kComma) { Next(); continue; }
      if (Peek().type != Tok::kRParen) return Unexpected(Peek(), "in call to function \"" + std::string(f->name) + "\", expected \",\" or \")\"");
    }
    Next();
    size_t nargs = n->args.size(), ntypes = f->arg_types.size();
    std::string fname = std::string("\"") + f->name + "\"";
    if (f->optional_args < 0) {
      if (nargs < ntypes - 1) {
        return Err(pos, "expected at least " + std::to_string(ntypes - 1) + " argument(s) in call to " + fname + ", got " + std::to_string(nargs));
      }
    } else {
      size_t min_args = ntypes - f->optional_args;
      if (nargs < min_args || nargs > ntypes) {
        if (f->optional_args == 0) {
          return Err(pos, "expected " + std::to_string(ntypes) + " argument(s) in call to " + fname + ", got " + std::to_string(nargs));
        }
        if (nargs > ntypes) return Err(pos, "expected at most " + std::to_string(ntypes) + " argument(s) in call to " + fname + ", got " + std::to_string(nargs));
        return Err(pos, "expected at least " + std::to_string(min_args) + " argument(s) in call to " + fname + ", got " + std::to_string(nargs));
      }
    }
    for (size_t i = 0; i < nargs; ++i) {
      ValueType want = f->arg_types[std::min(i, ntypes - 1)];
      ValueType got = n->args[i]->type;
      if (want != got) {
        return Err(n->args[i]->pos, std::string("expected type ") + TypeName(want) +
                                        " in call to function " + fname + ", got " + TypeName(got));
      }
    }
    return n;
  }

  Result<NodePtr> ParseAggregate(AggOp agg) {
    auto n = std::make_unique<Node>();
    n->kind = NodeKind::kAggregate;
    n->pos = Peek().pos;
    n->agg = agg;
    n->type = ValueType::kVector;
    Next();
    auto grouping = [&]() -> Status {
      if (n->has_grouping) return Unexpected(Peek(), "");
      n->has_grouping = true;
      n->without = Lower(Next().text) == "without";
      return ParseLabelList(&n->grouping);
    };
    if (IsIdent("by") || IsIdent("without")) SB_RETURN_IF_ERROR(grouping());
    SB_RETURN_IF_ERROR(Expect(Tok::kLParen, "in aggregation, expected \"(\""));
    std::vector<NodePtr> args;
    while (Peek().type != Tok::kRParen) {
      SB_ASSIGN_OR_RETURN(NodePtr a, ParseExpr(0));
      args.push_back(std::move(a));
      if (Peek().type == Tok::kComma) { Next(); continue; }
      if (Peek().type != Tok::kRParen) return Unexpected(Peek(), "in aggregation, expected \",\" or \")\"");
    }
    Next();
    if (IsIdent("by") || IsIdent("without")) {
      SB_RETURN_IF_ERROR(grouping());
    }
    bool has_param = agg == AggOp::kTopk || agg == AggOp::kBottomk ||
                     agg == AggOp::kQuantile || agg == AggOp::kCountValues;
    size_t want = has_param ? 2 : 1;
    if (args.size() != want) {
      return Err(n->pos, "wrong number of arguments for aggregate expression provided, expected " +
                             std::to_string(want) + ", got " + std::to_string(args.size()));
    }
    NodePtr expr = std::move(args.back());
    if (expr->type != ValueType::kVector) {
      return Err(expr->pos, std::string("expected type instant vector in aggregation expression, got ") + TypeName(expr->type));
    }
    n->args.push_back(std::move(expr));
    if (has_param) {
      ValueType pt = agg == AggOp::kCountValues ? ValueType::kString : ValueType::kScalar;
      if (args[0]->type != pt) {
        return Err(args[0]->pos, std::string("expected type ") + TypeName(pt) + " in aggregation parameter, got " + TypeName(args[0]->type));
      }
      n->args.push_back(std::move(args[0]));
    }
    return n;
  }

  Result<NodePtr> ParseSelector(std::string name, size_t pos) {
    auto n = std::make_unique<Node>();
    n->kind = NodeKind::kVectorSelector;
    n->type = ValueType::kVector;
    n->pos = pos;
    n->metric_name = name;
    if (Peek().type == Tok::kLBrace) {
      Next();
      while (Peek().type != Tok::kRBrace) {
        const Token& lt = Peek();
        std::string lname;
        if (lt.type == Tok::kIdent) {
          lname = lt.text;
        } else if (lt.type == Tok::kString) {
          lname = lt.text;
          if (Peek(1).type == Tok::kComma || Peek(1).type == Tok::kRBrace) {
            // A quoted metric name: {"my.metric", a="b"}.
            if (!n->metric_name.empty()) return Err(lt.pos, "metric name must not be set twice: \"" + n->metric_name + "\" or \"" + lt.text + "\"");
            n->metric_name = lt.text;
            Next();
            if (Peek().type == Tok::kComma) Next();
            continue;
          }
        } else {
          return Unexpected(lt, "in label matching, expected label");
        }
        Next();
        storage::Matcher::Type type;
        switch (Peek().type) {
          case Tok::kAssign: type = storage::Matcher::Type::kEqual; break;
          case Tok::kNeq: type = storage::Matcher::Type::kNotEqual; break;
          case Tok::kRegexMatch: type = storage::Matcher::Type::kRegexMatch; break;
          case Tok::kRegexNoMatch: type = storage::Matcher::Type::kRegexNoMatch; break;
          default: return Unexpected(Peek(), "in label matching, expected label matching operator");
        }
        Next();
        if (Peek().type != Tok::kString) return Unexpected(Peek(), "in label matching, expected string");
        n->specs.push_back({type, lname, Next().text});
        if (Peek().type == Tok::kComma) { Next(); continue; }
        if (Peek().type != Tok::kRBrace) return Unexpected(Peek(), "in label matching, expected \",\" or \"}\"");
      }
      Next();
    }
    bool name_matcher = false;
    for (const auto& s : n->specs) {
      if (s.name == storage::kMetricNameLabel) name_matcher = true;
    }
    if (!n->metric_name.empty() && name_matcher) {
      return Err(pos, "metric name must not be set twice: \"" + n->metric_name + "\"");
    }
    std::vector<MatcherSpec> all = n->specs;
    if (!n->metric_name.empty()) {
      all.insert(all.begin(), {storage::Matcher::Type::kEqual, std::string(storage::kMetricNameLabel), n->metric_name});
    }
    bool non_empty = false;
    for (const auto& s : all) {
      auto m = storage::Matcher::Make(s.type, s.name, s.value);
      if (!m.ok()) return Err(pos, m.status().message());
      if (!m->Matches("")) non_empty = true;
      n->matchers.push_back(std::move(*m));
    }
    if (!non_empty) return Err(pos, "vector selector must contain at least one non-empty matcher");
    return n;
  }

  std::string_view in_;
  std::vector<Token> toks_;
  size_t pos_ = 0;
  int depth_ = 0;
  int binary_ops_ = 0;
};

}  // namespace

Result<NodePtr> Parse(std::string_view input) {
  SB_ASSIGN_OR_RETURN(std::vector<Token> toks, Lex(input));
  Parser p(input, std::move(toks));
  return p.ParseAll();
}

}  // namespace sb::promql
