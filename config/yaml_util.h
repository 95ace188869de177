// Typed, position-aware reading of yaml-cpp mappings for the config parser. Internal to
// config/: other modules include config/config.h only.
//
// A MapView wraps one YAML mapping. Opening it checks, in document order, that every key is
// a plain scalar, appears once, and is in the allowed set; the first offender becomes an
// error "SOURCE:LINE:COL: unknown key "k" in PATH" (1-based positions). The typed getters
// then read one key each: absent or null keys leave `*out` untouched (so it keeps its
// default), and a value of the wrong shape or syntax becomes an error naming the key, its
// position and the path, e.g. `invalid duration "5x" for key "refresh_interval" in global`.
//
// yaml-cpp throws only from parsing and from as<>(); these helpers never call as<>(), so
// nothing here throws once the document is loaded.
//
// Thread-safety: values; no shared state.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/secret.h"
#include "common/status.h"

namespace sb::config::internal {

// Names the document in error messages.
struct Source {
  std::string name;
  // "NAME:LINE:COL: msg" with 1-based positions taken from `mark`.
  Status ErrorAt(const YAML::Mark& mark, const std::string& msg) const;
  Status ErrorAt(const YAML::Node& node, const std::string& msg) const {
    return ErrorAt(node.Mark(), msg);
  }
};

// Keys a mapping may hold. `known` are read by the parser; `passthrough` are accepted, not
// acted upon, and collected by TakePassthrough(); `unsupported` maps Prometheus keys the
// bridge rejects (e.g. file_sd_configs) to the reason given in the error.
struct KeySet {
  std::set<std::string, std::less<>> known;
  std::set<std::string, std::less<>> passthrough = {};
  std::map<std::string, std::string, std::less<>> unsupported = {};
};

class MapView {
 public:
  // Checks `node` against `keys`. A null/absent node is an empty mapping. `path` names the
  // mapping in messages ("scrape_configs[0].authorization"); empty means the top level.
  static Result<MapView> Open(const Source& src, const YAML::Node& node, std::string path,
                              const KeySet& keys);

  const std::string& path() const { return path_; }
  const Source& src() const { return *src_; }
  // The mapping node itself (for errors about the block as a whole).
  const YAML::Node& node() const { return node_; }
  // True if `key` is present with a non-null value.
  bool Has(std::string_view key) const;
  // The value node of `key`, or an undefined node if absent. Also for null values.
  YAML::Node Get(std::string_view key) const;
  // The key node of `key` (for positions). REQUIRES: the key is present.
  YAML::Node KeyNode(std::string_view key) const;
  // "SOURCE:L:C: <msg> for key "k" in PATH", positioned at the key's value (or the key).
  Status KeyError(std::string_view key, const std::string& msg) const;
  // As KeyError with msg = "value "<text>" <what>", e.g. `value "0s" must be > 0`.
  Status ValueError(std::string_view key, const std::string& what) const;
  // " in PATH" or " at the top level".
  std::string InPath() const;
  // "PATH.key" or "key".
  std::string Child(std::string_view key) const;

  Status String(std::string_view key, std::string* out) const;
  Status SecretString(std::string_view key, Secret* out) const;
  Status Bool(std::string_view key, bool* out) const;
  Status Bool(std::string_view key, std::optional<bool>* out) const;
  // Decimal integers within [min, max].
  Status Int(std::string_view key, int64_t* out, int64_t min = INT64_MIN,
             int64_t max = INT64_MAX) const;
  Status Int(std::string_view key, std::optional<int64_t>* out, int64_t min = INT64_MIN) const;
  Status Uint(std::string_view key, uint64_t* out) const;
  Status Uint(std::string_view key, std::optional<uint64_t>* out) const;
  Status Dur(std::string_view key, Duration* out) const;
  Status Dur(std::string_view key, std::optional<Duration>* out) const;
  // Byte size (see ParseByteSize); "0" yields 0.
  Status Size(std::string_view key, std::optional<int64_t>* out) const;
  Status StringList(std::string_view key, std::vector<std::string>* out) const;
  Status StringMap(std::string_view key, std::map<std::string, std::string>* out) const;
  Status StringListMap(std::string_view key,
                       std::map<std::string, std::vector<std::string>>* out) const;
  // The passthrough keys present, as key -> YAML text of the value (flow style).
  std::map<std::string, std::string> TakePassthrough() const;

 private:
  struct Entry {
    YAML::Node key;
    YAML::Node value;
  };
  Result<std::string> Scalar(std::string_view key, const YAML::Node& v,
                             const char* what) const;

  const Source* src_ = nullptr;
  YAML::Node node_;
  std::string path_;
  std::map<std::string, Entry, std::less<>> entries_;
  std::set<std::string, std::less<>> passthrough_;
};

// "PATH[i]".
std::string Indexed(const std::string& path, size_t i);

// Parses YAML 1.1 booleans as Go's yaml.v2 does (true/false/yes/no/on/off, any case of the
// first letter or all caps). nullopt if not a boolean.
std::optional<bool> ParseYamlBool(std::string_view text);

// Formats a byte count as Prometheus does: the largest exact 1024 unit ("64MiB"), else "NB".
std::string FormatByteSize(int64_t bytes);

}  // namespace sb::config::internal
