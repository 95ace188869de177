// JSON form of a parsed Report (the golden files under tests/recommendations/golden/, the
// /api/v1/recommendations answer and `recommendations export --format json` use it).
// Field names are snake_case; every field is always present (null when unknown), so that a
// golden file shows what the parser did not find as well as what it found.
//
// Thread-safety: free functions without shared state.
#pragma once

#include <string>

#include <boost/json.hpp>

#include "recommendations/report.h"

namespace sb::recommendations {

boost::json::object CountsToJson(const VulnerabilityCounts& counts);  // null-valued when !known
boost::json::object RecommendationToJson(const BaseImage& base, const Recommendation& rec);
boost::json::object BaseToJson(const BaseImage& base);
boost::json::object ReportToJson(const Report& report);

// Pretty-prints with two-space indentation and a trailing newline (stable, diff-friendly).
std::string PrettyJson(const boost::json::value& value);

}  // namespace sb::recommendations
