// Parser: a recursive-descent / precedence-climbing parser for the PromQL grammar that
// builds and type-checks the syntax tree (ast.h) the way Prometheus 3's parser does.
//
//   SB_ASSIGN_OR_RETURN(NodePtr root, Parse("sum by (job) (rate(x[5m]))"));
//
// Precedence, lowest first: or; and unless; == != < <= > >=; + -; * / % atan2; ^ (right
// associative). Unary minus binds weaker than ^ (so -2^2 is -4).
//
// Thread-safety: a free function; safe from any thread.
#pragma once

#include <string_view>

#include "common/status.h"
#include "promql-lite/ast.h"

namespace sb::promql {

// Parses and type-checks `input`.
// Errors: InvalidArgument "line:col: parse error: <what>" for syntax and type errors
// (positions are 1-based, col counts bytes); Unimplemented for functions this engine does
// not implement (native histograms, info(), experimental functions).
Result<NodePtr> Parse(std::string_view input);

}  // namespace sb::promql
