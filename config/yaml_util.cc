#include "config/yaml_util.h"

#include <charconv>
#include <cmath>
#include <limits>

#include "common/duration.h"
#include "config/config.h"

namespace sb::config {

Result<int64_t> ParseByteSize(std::string_view text) {
  const std::string quoted = "\"" + std::string(text) + "\"";
  std::string_view s = text;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    if (s[0] == '-') return Status::InvalidArgument("negative size " + quoted);
    s.remove_prefix(1);
  }
  if (s == "0") return int64_t{0};
  if (s.empty()) return Status::InvalidArgument("empty size");
  struct Unit { std::string_view name; int64_t bytes; };
  static constexpr Unit kUnits[] = {
      {"B", 1},           {"KB", 1LL << 10},  {"KiB", 1LL << 10}, {"MB", 1LL << 20},
      {"MiB", 1LL << 20}, {"GB", 1LL << 30},  {"GiB", 1LL << 30}, {"TB", 1LL << 40},
      {"TiB", 1LL << 40}, {"PB", 1LL << 50},  {"PiB", 1LL << 50}, {"EB", 1LL << 60},
      {"EiB", 1LL << 60}};
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  int64_t total = 0;
  while (!s.empty()) {
    // <digits>[.<digits>] then a unit; at least one digit somewhere in the number.
    size_t i = 0;
    int64_t whole = 0;
    bool digits = false;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (whole > (kMax - 9) / 10) return Status::InvalidArgument("size out of range " + quoted);
      whole = whole * 10 + (s[i] - '0');
      digits = true;
      ++i;
    }
    double frac = 0;
    if (i < s.size() && s[i] == '.') {
      ++i;
      double scale = 0.1;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        frac += (s[i] - '0') * scale;
        scale /= 10;
        digits = true;
        ++i;
      }
    }
    if (!digits) return Status::InvalidArgument("invalid size " + quoted);
    size_t j = i;
    while (j < s.size() && s[j] != '.' && (s[j] < '0' || s[j] > '9')) ++j;
    std::string_view unit = s.substr(i, j - i);
    if (unit.empty()) {
      return Status::InvalidArgument("missing unit in size " + quoted +
                                     " (use B, KB, MB, GB, ... or KiB, MiB, GiB, ...)");
    }
    const Unit* found = nullptr;
    for (const auto& u : kUnits) {
      if (u.name == unit) found = &u;
    }
    if (found == nullptr) {
      return Status::InvalidArgument("unknown unit \"" + std::string(unit) + "\" in size " +
                                     quoted);
    }
    if (whole > kMax / found->bytes) return Status::InvalidArgument("size out of range " + quoted);
    int64_t part = whole * found->bytes;
    double extra = std::floor(frac * static_cast<double>(found->bytes));
    if (extra >= static_cast<double>(kMax - part)) {
      return Status::InvalidArgument("size out of range " + quoted);
    }
    part += static_cast<int64_t>(extra);
    if (total > kMax - part) return Status::InvalidArgument("size out of range " + quoted);
    total += part;
    s.remove_prefix(j);
  }
  return total;
}

namespace internal {

Status Source::ErrorAt(const YAML::Mark& mark, const std::string& msg) const {
  if (mark.is_null()) return Status::InvalidArgument(name + ": " + msg);
  return Status::InvalidArgument(name + ":" + std::to_string(mark.line + 1) + ":" +
                                 std::to_string(mark.column + 1) + ": " + msg);
}

std::string Indexed(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

std::optional<bool> ParseYamlBool(std::string_view t) {
  static constexpr std::string_view kTrue[] = {"true", "True", "TRUE", "yes", "Yes", "YES",
                                               "on",   "On",   "ON",   "y",   "Y"};
  static constexpr std::string_view kFalse[] = {"false", "False", "FALSE", "no", "No", "NO",
                                                "off",   "Off",   "OFF",   "n",  "N"};
  for (auto v : kTrue) if (t == v) return true;
  for (auto v : kFalse) if (t == v) return false;
  return std::nullopt;
}

std::string FormatByteSize(int64_t bytes) {
  static constexpr const char* kNames[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes <= 0) return std::to_string(bytes) + "B";
  int unit = 0;
  while (unit < 6 && bytes % 1024 == 0) {
    bytes /= 1024;
    ++unit;
  }
  return std::to_string(bytes) + kNames[unit];
}

namespace {
const char* KindName(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a sequence";
    case YAML::NodeType::Scalar: return "a scalar";
    default: return "null";
  }
}
}  // namespace

Result<MapView> MapView::Open(const Source& src, const YAML::Node& node, std::string path,
                              const KeySet& keys) {
  MapView view;
  view.src_ = &src;
  view.node_ = node;
  view.path_ = std::move(path);
  if (!node.IsDefined() || node.IsNull()) return view;
  if (!node.IsMap()) {
    return src.ErrorAt(node, std::string("expected a mapping") + view.InPath() + " (got " +
                                 KindName(node) + ")");
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node& k = it->first;
    if (!k.IsScalar()) return src.ErrorAt(k, "mapping keys must be plain strings" + view.InPath());
    const std::string& name = k.Scalar();
    if (view.entries_.count(name) != 0) {
      return src.ErrorAt(k, "duplicate key \"" + name + "\"" + view.InPath());
    }
    if (auto u = keys.unsupported.find(name); u != keys.unsupported.end()) {
      return src.ErrorAt(k, "unsupported key \"" + name + "\"" + view.InPath() + ": " +
                                u->second);
    }
    if (keys.passthrough.count(name) != 0) {
      view.passthrough_.insert(name);
    } else if (keys.known.count(name) == 0) {
      return src.ErrorAt(k, "unknown key \"" + name + "\"" + view.InPath());
    }
    view.entries_.emplace(name, Entry{k, it->second});
  }
  return view;
}

std::string MapView::InPath() const {
  return path_.empty() ? std::string(" at the top level") : " in " + path_;
}

std::string MapView::Child(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

bool MapView::Has(std::string_view key) const {
  auto it = entries_.find(key);
  return it != entries_.end() && it->second.value.IsDefined() && !it->second.value.IsNull();
}

YAML::Node MapView::Get(std::string_view key) const {
  if (!Has(key)) return YAML::Node(YAML::NodeType::Undefined);
  return entries_.find(key)->second.value;
}

YAML::Node MapView::KeyNode(std::string_view key) const { return entries_.find(key)->second.key; }

Status MapView::KeyError(std::string_view key, const std::string& msg) const {
  auto it = entries_.find(key);
  YAML::Mark mark = node_.IsDefined() ? node_.Mark() : YAML::Mark::null_mark();
  if (it != entries_.end()) {
    mark = Has(key) ? it->second.value.Mark() : it->second.key.Mark();
  }
  return src_->ErrorAt(mark, msg + " for key \"" + std::string(key) + "\"" + InPath());
}

Status MapView::ValueError(std::string_view key, const std::string& what) const {
  YAML::Node v = Get(key);
  std::string text = v.IsScalar() ? v.Scalar() : std::string();
  return KeyError(key, "value \"" + text + "\" " + what);
}

Result<std::string> MapView::Scalar(std::string_view key, const YAML::Node& v,
                                    const char* what) const {
  if (!v.IsScalar()) {
    return KeyError(key, std::string("expected ") + what + " (got " + KindName(v) + ")");
  }
  return v.Scalar();
}

Status MapView::String(std::string_view key, std::string* out) const {
  if (!Has(key)) return Status::OK();
  SB_ASSIGN_OR_RETURN(*out, Scalar(key, Get(key), "a string"));
  return Status::OK();
}

Status MapView::SecretString(std::string_view key, Secret* out) const {
  if (!Has(key)) return Status::OK();
  // The value never goes into the message.
  if (!Get(key).IsScalar()) return KeyError(key, "expected a string");
  *out = Secret(Get(key).Scalar());
  return Status::OK();
}

Status MapView::Bool(std::string_view key, std::optional<bool>* out) const {
  if (!Has(key)) return Status::OK();
  SB_ASSIGN_OR_RETURN(std::string text, Scalar(key, Get(key), "a boolean"));
  std::optional<bool> b = ParseYamlBool(text);
  if (!b) return KeyError(key, "invalid boolean \"" + text + "\"");
  *out = b;
  return Status::OK();
}

Status MapView::Bool(std::string_view key, bool* out) const {
  std::optional<bool> b;
  SB_RETURN_IF_ERROR(Bool(key, &b));
  if (b) *out = *b;
  return Status::OK();
}

Status MapView::Int(std::string_view key, int64_t* out, int64_t min, int64_t max) const {
  if (!Has(key)) return Status::OK();
  SB_ASSIGN_OR_RETURN(std::string text, Scalar(key, Get(key), "an integer"));
  std::string_view t = text;
  if (!t.empty() && t[0] == '+') t.remove_prefix(1);
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || ptr != t.data() + t.size()) {
    return KeyError(key, "invalid integer \"" + text + "\"");
  }
  if (v < min || v > max) {
    std::string range = max == INT64_MAX ? ">= " + std::to_string(min)
                                         : std::to_string(min) + ".." + std::to_string(max);
    return KeyError(key, "value " + text + " out of range (" + range + ")");
  }
  *out = v;
  return Status::OK();
}

Status MapView::Int(std::string_view key, std::optional<int64_t>* out, int64_t min) const {
  if (!Has(key)) return Status::OK();
  int64_t v = 0;
  SB_RETURN_IF_ERROR(Int(key, &v, min));
  *out = v;
  return Status::OK();
}

Status MapView::Uint(std::string_view key, uint64_t* out) const {
  if (!Has(key)) return Status::OK();
  int64_t v = 0;
  SB_RETURN_IF_ERROR(Int(key, &v, 0));
  *out = static_cast<uint64_t>(v);
  return Status::OK();
}

Status MapView::Uint(std::string_view key, std::optional<uint64_t>* out) const {
  if (!Has(key)) return Status::OK();
  uint64_t v = 0;
  SB_RETURN_IF_ERROR(Uint(key, &v));
  *out = v;
  return Status::OK();
}

Status MapView::Dur(std::string_view key, std::optional<Duration>* out) const {
  if (!Has(key)) return Status::OK();
  SB_ASSIGN_OR_RETURN(std::string text, Scalar(key, Get(key), "a duration"));
  Result<Duration> d = ParseDuration(text);
  if (!d.ok()) {
    return KeyError(key, "invalid duration \"" + text + "\" (use e.g. 30s, 5m, 1h30m)");
  }
  *out = *d;
  return Status::OK();
}

Status MapView::Dur(std::string_view key, Duration* out) const {
  std::optional<Duration> d;
  SB_RETURN_IF_ERROR(Dur(key, &d));
  if (d) *out = *d;
  return Status::OK();
}

Status MapView::Size(std::string_view key, std::optional<int64_t>* out) const {
  if (!Has(key)) return Status::OK();
  SB_ASSIGN_OR_RETURN(std::string text, Scalar(key, Get(key), "a size"));
  Result<int64_t> n = ParseByteSize(text);
  if (!n.ok()) return KeyError(key, "invalid size \"" + text + "\" (" + n.status().message() + ")");
  *out = *n;
  return Status::OK();
}

Status MapView::StringList(std::string_view key, std::vector<std::string>* out) const {
  if (!Has(key)) return Status::OK();
  YAML::Node v = Get(key);
  if (!v.IsSequence()) return KeyError(key, std::string("expected a list (got ") + KindName(v) + ")");
  out->clear();
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].IsScalar()) {
      return src_->ErrorAt(v[i], std::string("expected a string, got ") + KindName(v[i]) +
                                     ", in " + Indexed(Child(key), i));
    }
    out->push_back(v[i].Scalar());
  }
  return Status::OK();
}

Status MapView::StringMap(std::string_view key, std::map<std::string, std::string>* out) const {
  if (!Has(key)) return Status::OK();
  YAML::Node v = Get(key);
  if (!v.IsMap()) return KeyError(key, std::string("expected a mapping (got ") + KindName(v) + ")");
  out->clear();
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!it->first.IsScalar()) return src_->ErrorAt(it->first, "keys must be strings in " + Child(key));
    const std::string& name = it->first.Scalar();
    if (out->count(name) != 0) {
      return src_->ErrorAt(it->first, "duplicate key \"" + name + "\" in " + Child(key));
    }
    if (it->second.IsNull()) {
      (*out)[name] = "";
    } else if (!it->second.IsScalar()) {
      return src_->ErrorAt(it->second, "expected a string value for \"" + name + "\" in " + Child(key));
    } else {
      (*out)[name] = it->second.Scalar();
    }
  }
  return Status::OK();
}

Status MapView::StringListMap(std::string_view key,
                              std::map<std::string, std::vector<std::string>>* out) const {
  if (!Has(key)) return Status::OK();
  YAML::Node v = Get(key);
  if (!v.IsMap()) return KeyError(key, std::string("expected a mapping (got ") + KindName(v) + ")");
  out->clear();
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!it->first.IsScalar()) return src_->ErrorAt(it->first, "keys must be strings in " + Child(key));
    const std::string& name = it->first.Scalar();
    if (out->count(name) != 0) {
      return src_->ErrorAt(it->first, "duplicate key \"" + name + "\" in " + Child(key));
    }
    std::vector<std::string>& values = (*out)[name];
    if (!it->second.IsSequence()) {
      return src_->ErrorAt(it->second, "expected a list of strings for \"" + name + "\" in " + Child(key));
    }
    for (const auto& e : it->second) {
      if (!e.IsScalar()) return src_->ErrorAt(e, "expected a string in " + Child(key) + "." + name);
      values.push_back(e.Scalar());
    }
  }
  return Status::OK();
}

std::map<std::string, std::string> MapView::TakePassthrough() const {
  std::map<std::string, std::string> out;
  for (const auto& name : passthrough_) {
    const Entry& e = entries_.find(name)->second;
    YAML::Emitter em;
    em.SetMapFormat(YAML::Flow);
    em.SetSeqFormat(YAML::Flow);
    em << e.value;
    out[name] = em.c_str();
  }
  return out;
}

}  // namespace internal
}  // namespace sb::config
