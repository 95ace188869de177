// Internal to the function implementations (functions.cc, functions_range.cc).
#pragma once

#include "promql-lite/eval.h"

namespace sb::promql {

// Functions whose last argument is a range vector (rate, *_over_time, ...).
Result<EvalValue> CallRangeFunction(const Node& n, std::vector<EvalValue>& args, int64_t t_ms);
// The labels absent()/absent_over_time() give: the equality matchers of a selector argument.
LabelsPtr AbsentLabels(const Node* arg);
// timestamp(): each sample's own time (selector arguments) or the evaluation time.
Result<EvalValue> MapValuesWithTime(EvalValue& arg, bool use_sample_time, int64_t t_ms);

}  // namespace sb::promql
