// Export of the stored recommendation graph, for Cartography users and scripts.
//
//   cypher: one statement per line, each ending in ';'. Nodes are MERGEd on (label, id) and
//           get firstseen on create, their properties and lastupdated on every run;
//           BUILT_FROM and SHOULD_UPDATE_TO are MERGEd between nodes MATCHed by id;
//           BUILT_ON MATCHes (:Image) nodes whose _ont_digest, without "sha256:", STARTS
//           WITH the report's short digest, as Cartography's docker_scout module does.
//           Null properties are not SET. Strings are single-quoted with \ and ' escaped.
//   json:   {"nodes": [{"label", "id", "properties", "firstseen", "lastupdated"}],
//            "relationships": [{"type", "start": {"label","id"}, "end": {...},
//                               "properties", "firstseen", "lastupdated"}]}
// firstseen/lastupdated are milliseconds since the epoch.
//
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "recommendations/graph.h"

namespace sb::recommendations {

std::string ExportCypher(const Graph& graph);
std::string ExportJson(const Graph& graph);

// A Cypher string literal: 'it\'s'.
std::string CypherString(const std::string& s);

}  // namespace sb::recommendations
