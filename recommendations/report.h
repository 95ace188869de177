// The data model of one `docker scout recommendations` text report, as the parser
// (recommendations/parser.h) extracts it. Plain values: copyable, no behaviour beyond small
// helpers. Strings are kept as Scout printed them ("59 MB", "4 weeks ago"); only counts are
// numbers.
//
// Thread-safety: values; safe to copy between threads.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sb::recommendations {

// Severity columns, in the order Scout prints them ("0C 6H 2M 1L 3?").
enum class Severity { kCritical = 0, kHigh = 1, kMedium = 2, kLow = 3, kUnknown = 4 };
inline constexpr int kSeverityCount = 5;
// "critical", "high", "medium", "low", "unknown".
const char* SeverityName(Severity severity);

// Vulnerability counts of one image. Scout leaves out the unknown ("?") column when it is
// zero, and prints an empty field when it knows nothing (then known == false).
struct VulnerabilityCounts {
  bool known = false;
  std::array<int64_t, kSeverityCount> count{};  // indexed by Severity
  int64_t operator[](Severity s) const { return count[static_cast<int>(s)]; }
};

// The change a recommendation brings, as printed under its counts ("-2 -1 +9"). A column
// Scout leaves blank has no change and is 0 here.
struct VulnerabilityDeltas {
  std::array<int64_t, kSeverityCount> delta{};
  int64_t operator[](Severity s) const { return delta[static_cast<int>(s)]; }
};

// "Image details" of a recommended tag. Empty string: not printed.
struct ImageDetails {
  std::string size;
  std::string flavor;
  std::string os;
  std::string runtime;
  bool slim = false;  // "Slim: ✓" (or "v") printed
};

// The base image the scanned target was built on ("Base image is  node:25-alpine").
struct BaseImage {
  std::string name;        // repository, e.g. "node"; "" when Scout could not name it
  std::string tag;         // tag from "Base image is", e.g. "25-alpine"
  std::string name_field;  // the "Name" row; usually the tag, but may be another alias
  std::string digest;      // "sha256:..."; "" when empty
  VulnerabilityCounts vulnerabilities;
  std::string pushed;
  std::string size;
  std::optional<int64_t> packages;
  ImageDetails details;    // flavor, os, runtime, slim of the base itself (size above)
  std::vector<std::string> supported_tags;  // "also available under the supported tag(s)"
  // "name:tag", the id Cartography gives the public image.
  std::string Reference() const { return name + ":" + tag; }
};

enum class RecommendationKind { kRefresh, kChange };
const char* KindName(RecommendationKind kind);  // "refresh" | "change"

// One row group of the "Refresh base image" or "Change base image" table.
struct Recommendation {
  RecommendationKind kind = RecommendationKind::kChange;
  std::string tag;                            // e.g. "slim"
  std::string reason;                         // the line under the tag ("Tag is preferred tag")
  std::vector<std::string> alternative_tags;  // "Also known as", de-duplicated, in order
  std::vector<std::string> benefits;          // "Benefits" bullets, de-duplicated, in order
  std::string pushed;                         // "2 days ago"
  VulnerabilityCounts vulnerabilities;
  VulnerabilityDeltas deltas;                 // as printed
  ImageDetails details;
  int line = 0;                               // 1-based line of the tag row
};

// Which of Scout's layouts the report uses.
enum class Layout {
  kCurrent,   // "Target │ ..." block and "## Recommended fixes"
  kNoTarget,  // current layout whose Target block is missing
  kLegacy,    // scout-cli 1.0.x: "Recommended fixes for image X", no Target block
};
const char* LayoutName(Layout layout);  // "current" | "no_target" | "legacy"

struct Report {
  Layout layout = Layout::kCurrent;
  std::string target_image;   // "registry/app:1.2.3"; may be "" (image given by ID, or no block)
  std::string target_digest;  // short digest as printed ("ecr000000000000"); may be ""
  BaseImage base;
  bool base_up_to_date = false;     // "This image version is up to date."
  bool no_tag_recommendations = false;  // "There are no tag recommendations at this time."
  std::vector<Recommendation> recommendations;  // refresh first, then change, in printed order
};

// Vulnerabilities a recommendation fixes, per severity, the way Cartography computes its
// fix_* properties: base count minus recommended count when positive, otherwise nullopt.
// Only critical..low (Cartography ignores the unknown column). nullopt as well when the base
// counts are unknown.
struct Fixes {
  std::optional<int64_t> critical, high, medium, low;
};
Fixes FixesOf(const BaseImage& base, const Recommendation& rec);

}  // namespace sb::recommendations
