#include "recommendations/export.h"

#include "recommendations/report_json.h"

namespace sb::recommendations {
namespace json = boost::json;

namespace {

std::string CypherValue(const json::value& v) {
  switch (v.kind()) {
    case json::kind::string: return CypherString(std::string(v.get_string()));
    case json::kind::array: {
      std::string out = "[";
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out += ", ";
        first = false;
        out += CypherValue(e);
      }
      return out + "]";
    }
    default: return json::serialize(v);  // numbers, booleans
  }
}

// ", x.k = v" for each non-null property.
std::string SetProps(const std::string& var, const json::object& props) {
  std::string out;
  for (const auto& kv : props) {
    if (kv.value().is_null()) continue;
    out += ", " + var + "." + std::string(kv.key()) + " = " + CypherValue(kv.value());
  }
  return out;
}

}  // namespace

std::string CypherString(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\\' || c == '\'') out += '\\';
    if (c == '\n') { out += "\\n"; continue; }
    out += c;
  }
  return out + "'";
}

std::string ExportCypher(const Graph& graph) {
  std::string out;
  for (const GraphNode& n : graph.nodes) {
    out += "MERGE (n:" + n.label + " {id: " + CypherString(n.id) + "}) ON CREATE SET n.firstseen = " +
           std::to_string(n.firstseen_ms) + " SET n.lastupdated = " + std::to_string(n.lastupdated_ms) +
           SetProps("n", n.properties) + ";\n";
  }
  for (const GraphEdge& e : graph.edges) {
    std::string match;
    if (e.type == "BUILT_ON") {
      match = "MATCH (a:" + e.src_label + ") WHERE a._ont_digest IS NOT NULL AND replace(a._ont_digest, 'sha256:', '') "
              "STARTS WITH " + CypherString(e.src_id) + " MATCH (b:" + e.dst_label + " {id: " + CypherString(e.dst_id) + "})";
    } else {
      match = "MATCH (a:" + e.src_label + " {id: " + CypherString(e.src_id) + "}), (b:" + e.dst_label +
              " {id: " + CypherString(e.dst_id) + "})";
    }
    out += match + " MERGE (a)-[r:" + e.type + "]->(b) ON CREATE SET r.firstseen = " + std::to_string(e.firstseen_ms) +
           " SET r.lastupdated = " + std::to_string(e.lastupdated_ms) + SetProps("r", e.properties) + ";\n";
  }
  return out;
}

std::string ExportJson(const Graph& graph) {
  json::array nodes, rels;
  for (const GraphNode& n : graph.nodes) {
    json::object o;
    o["label"] = n.label;
    o["id"] = n.id;
    o["properties"] = n.properties;
    o["firstseen"] = n.firstseen_ms;
    o["lastupdated"] = n.lastupdated_ms;
    nodes.push_back(std::move(o));
  }
  for (const GraphEdge& e : graph.edges) {
    json::object o;
    o["type"] = e.type;
    o["start"] = json::object{{"label", e.src_label}, {"id", e.src_id}};
    o["end"] = json::object{{"label", e.dst_label}, {"id", e.dst_id}};
    o["properties"] = e.properties;
    o["firstseen"] = e.firstseen_ms;
    o["lastupdated"] = e.lastupdated_ms;
    rels.push_back(std::move(o));
  }
  json::object root;
  root["nodes"] = std::move(nodes);
  root["relationships"] = std::move(rels);
  return PrettyJson(root);
}

}  // namespace sb::recommendations
