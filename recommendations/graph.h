// The recommendation graph, in Cartography's docker_scout model, built from parsed reports.
//
// Nodes (id "name:tag" for both):
//   DockerScoutPublicImage     name, tag, alternative_tags, version, digest
//   DockerScoutPublicImageTag  name, tag, alternative_tags, size, flavor, os, runtime, is_slim
// Relationships:
//   (:DockerScoutPublicImage)-[:BUILT_FROM]->(:DockerScoutPublicImageTag)   the current tag
//   (:DockerScoutPublicImage)-[:SHOULD_UPDATE_TO]->(:DockerScoutPublicImageTag)
//        benefits, fix_critical, fix_high, fix_medium, fix_low (null when nothing is fixed),
//        kind ("refresh" | "change", ours)
//   (:Image {digest prefix})-[:BUILT_ON]->(:DockerScoutPublicImage)
//        the scanned target, keyed by its short digest (src_id); only for reports that
//        print one. On export it matches Image nodes whose _ont_digest, without
//        "sha256:", starts with that digest.
//
// Several reports may name the same node: its alternative_tags are the union in order of
// appearance, and any other property keeps the first non-null value (reports are taken in
// the order given, i.e. source then file name). The current tag's node gets the supported
// tags, then the "Also known as" tags of a refresh recommendation for the same tag, as in
// Cartography. A report whose base has no name (Scout printed "Base image is  :tag")
// contributes no nodes.
//
// Thread-safety: free functions; values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "recommendations/report.h"

namespace sb::recommendations {

inline constexpr const char* kPublicImageLabel = "DockerScoutPublicImage";
inline constexpr const char* kPublicImageTagLabel = "DockerScoutPublicImageTag";
inline constexpr const char* kImageLabel = "Image";

struct GraphNode {
  std::string label;
  std::string id;
  boost::json::object properties;  // without id, firstseen, lastupdated
  int64_t firstseen_ms = 0;        // set by GraphStore (0 in a freshly built graph)
  int64_t lastupdated_ms = 0;
};

struct GraphEdge {
  std::string type;  // BUILT_FROM | SHOULD_UPDATE_TO | BUILT_ON
  std::string src_label, src_id;
  std::string dst_label, dst_id;
  boost::json::object properties;
  int64_t firstseen_ms = 0;
  int64_t lastupdated_ms = 0;
};

struct Graph {
  std::vector<GraphNode> nodes;  // sorted by (label, id)
  std::vector<GraphEdge> edges;  // sorted by (type, src, dst)
};

Graph BuildGraph(const std::vector<const Report*>& reports);

// Cartography's OS inference: the flavor when it names a distribution (alpine, debian,
// ubuntu, wolfi, distroless), else a distribution named in the tag (alpine; bookworm,
// bullseye, buster, trixie -> debian; ubuntu, jammy, focal, noble -> ubuntu), else the
// flavor lower-cased, else "".
std::string InferOs(const std::string& tag, const std::string& flavor);

}  // namespace sb::recommendations
