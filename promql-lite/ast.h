// The PromQL syntax tree built by the parser (parser.h), evaluated by eval.h and printed
// back in Prometheus's canonical form by Format(). One Node struct for all expression
// kinds keeps the tree simple; each field says which kinds use it.
//
// Thread-safety: immutable after parsing; safe to share between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "promql-lite/value.h"
#include "storage/postings.h"

namespace sb::promql {

enum class NodeKind {
  kNumber, kString, kVectorSelector, kMatrixSelector, kSubquery, kParen, kUnary, kBinary,
  kCall, kAggregate
};

enum class BinOp {
  kAdd, kSub, kMul, kDiv, kMod, kPow, kAtan2,  // arithmetic
  kEql, kNeq, kLss, kLte, kGtr, kGte,          // comparison
  kAnd, kOr, kUnless                           // set
};
bool IsComparison(BinOp op);
bool IsSetOp(BinOp op);
const char* BinOpString(BinOp op);

enum class AggOp {
  kSum, kAvg, kMin, kMax, kCount, kGroup, kStddev, kStdvar, kTopk, kBottomk, kQuantile,
  kCountValues
};
const char* AggOpString(AggOp op);

enum class Cardinality { kOneToOne, kManyToOne, kOneToMany, kManyToMany };

// `@` modifier: none, a fixed time, or start()/end() of the query.
enum class AtKind { kNone, kTime, kStart, kEnd };

struct FunctionDef {
  const char* name;
  std::vector<ValueType> arg_types;
  // Trailing optional arguments: the last `optional_args` of arg_types may be omitted;
  // -1 means the last type may repeat any number of times (label_join).
  int optional_args;
  ValueType return_type;
};
// The definition of a supported function, or nullptr.
const FunctionDef* LookupFunction(const std::string& name);
// Whether `name` is a Prometheus function this engine does not implement (histograms,
// info, experimental functions): the parser reports Unimplemented for it.
bool IsUnsupportedFunction(const std::string& name);

struct MatcherSpec {
  storage::Matcher::Type type;
  std::string name;
  std::string value;
};

struct Node;
using NodePtr = std::unique_ptr<Node>;

struct Node {
  NodeKind kind = NodeKind::kNumber;
  size_t pos = 0;                   // byte offset in the query, for errors
  ValueType type = ValueType::kScalar;  // kMatrix for range vectors

  double number = 0;                // kNumber
  std::string str;                  // kString value

  // kVectorSelector. matchers include the __name__ matcher when a name was given.
  std::string metric_name;
  std::vector<MatcherSpec> specs;
  std::vector<storage::Matcher> matchers;

  // kVectorSelector and kSubquery: offset and @ (a matrix selector keeps them on its
  // vector selector, as Prometheus does).
  int64_t offset_ms = 0;
  AtKind at = AtKind::kNone;
  int64_t at_ms = 0;

  int64_t range_ms = 0;             // kMatrixSelector, kSubquery
  int64_t step_ms = 0;              // kSubquery; 0 = the default step

  // kUnary: op is kSub or kAdd. kBinary:
  BinOp op = BinOp::kAdd;
  bool return_bool = false;
  bool has_matching = false;        // an on()/ignoring() clause was given
  bool matching_on = false;         // on() rather than ignoring()
  Cardinality card = Cardinality::kOneToOne;
  std::vector<std::string> matching_labels;
  std::vector<std::string> include_labels;  // group_left/right(...)

  // kCall
  const FunctionDef* func = nullptr;
  // kAggregate
  AggOp agg = AggOp::kSum;
  bool without = false;
  bool has_grouping = false;        // by/without given
  std::vector<std::string> grouping;

  // Children: kMatrixSelector/kSubquery/kParen/kUnary: [0]; kBinary: [0] lhs, [1] rhs;
  // kCall: the arguments; kAggregate: [0] the expression, [1] the parameter if any.
  std::vector<NodePtr> args;
};

// The canonical text of an expression (Prometheus's String()).
std::string Format(const Node& node);

// A float as Prometheus prints it in expressions (Go's %v): 1, 0.5, 1e+06, NaN, +Inf.
std::string FormatNumber(double v);

}  // namespace sb::promql
