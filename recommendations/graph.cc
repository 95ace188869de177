#include "recommendations/graph.h"

#include <algorithm>
#include <map>
#include <tuple>

namespace sb::recommendations {
namespace json = boost::json;

namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

json::value StrOrNull(const std::string& s) { return s.empty() ? json::value(nullptr) : json::value(s); }

json::array Strings(const std::vector<std::string>& list) {
  json::array a;
  for (const auto& s : list) a.emplace_back(s);
  return a;
}

bool Contains(const std::string& haystack, const char* needle) { return haystack.find(needle) != std::string::npos; }

class Builder {
 public:
  // Adds or merges a node.
  void Node(const std::string& label, const std::string& id, json::object props) {
    auto [it, inserted] = nodes_.try_emplace({label, id}, std::move(props));
    if (inserted) return;
    json::object& have = it->second;
    for (auto& kv : props) {
      json::value& slot = have[kv.key()];
      if (kv.key() == "alternative_tags") {
        if (!slot.is_array()) slot = json::array();
        for (const auto& t : kv.value().as_array()) {
          auto& arr = slot.as_array();
          if (std::find(arr.begin(), arr.end(), t) == arr.end()) arr.push_back(t);
        }
      } else if (slot.is_null()) {
        slot = kv.value();
      }
    }
  }
  void Edge(const std::string& type, const std::string& sl, const std::string& si, const std::string& dl,
            const std::string& di, json::object props) {
    edges_.try_emplace({type, sl, si, dl, di}, std::move(props));  // first report wins
  }
  Graph Finish() {
    Graph g;
    for (auto& [k, v] : nodes_) g.nodes.push_back({k.first, k.second, std::move(v), 0, 0});
    for (auto& [k, v] : edges_) {
      g.edges.push_back({std::get<0>(k), std::get<1>(k), std::get<2>(k), std::get<3>(k), std::get<4>(k), std::move(v), 0, 0});
    }
    return g;
  }

 private:
  std::map<std::pair<std::string, std::string>, json::object> nodes_;
  std::map<std::tuple<std::string, std::string, std::string, std::string, std::string>, json::object> edges_;
};

json::object TagProps(const std::string& name, const std::string& tag, const std::vector<std::string>& alt,
                      const std::string& size, const ImageDetails& d) {
  json::object p;
  p["name"] = name;
  p["tag"] = tag;
  p["alternative_tags"] = Strings(alt);
  p["size"] = StrOrNull(size);
  p["flavor"] = StrOrNull(Lower(d.flavor));
  p["os"] = StrOrNull(InferOs(tag, d.flavor));
  p["runtime"] = StrOrNull(d.runtime);
  p["is_slim"] = d.slim || Contains(Lower(tag), "slim");
  return p;
}

}  // namespace

std::string InferOs(const std::string& tag, const std::string& flavor) {
  std::string f = Lower(flavor);
  for (const char* known : {"alpine", "debian", "ubuntu", "wolfi", "distroless"}) {
    if (f == known) return f;
  }
  std::string t = Lower(tag);
  if (Contains(t, "alpine")) return "alpine";
  for (const char* d : {"bookworm", "bullseye", "buster", "trixie"}) {
    if (Contains(t, d)) return "debian";
  }
  for (const char* u : {"ubuntu", "jammy", "focal", "noble"}) {
    if (Contains(t, u)) return "ubuntu";
  }
  return f;
}

Graph BuildGraph(const std::vector<const Report*>& reports) {
  Builder b;
  for (const Report* r : reports) {
    const BaseImage& base = r->base;
    if (base.name.empty() || base.tag.empty()) continue;
    const std::string pi_id = base.Reference();
    json::object pi;
    pi["name"] = base.name;
    pi["tag"] = base.tag;
    pi["alternative_tags"] = Strings(base.supported_tags);
    pi["version"] = StrOrNull(base.details.runtime);
    pi["digest"] = StrOrNull(base.digest);
    b.Node(kPublicImageLabel, pi_id, std::move(pi));

    std::vector<std::string> current_alt = base.supported_tags;
    if (!base.name_field.empty() && base.name_field != base.tag &&
        std::find(current_alt.begin(), current_alt.end(), base.name_field) == current_alt.end()) {
      current_alt.push_back(base.name_field);
    }
    b.Node(kPublicImageTagLabel, pi_id, TagProps(base.name, base.tag, current_alt, base.size, base.details));
    b.Edge("BUILT_FROM", kPublicImageLabel, pi_id, kPublicImageTagLabel, pi_id, {});

    for (const Recommendation& rec : r->recommendations) {
      const std::string tag_id = base.name + ":" + rec.tag;
      b.Node(kPublicImageTagLabel, tag_id, TagProps(base.name, rec.tag, rec.alternative_tags, rec.details.size, rec.details));
      Fixes f = FixesOf(base, rec);
      auto opt = [](const std::optional<int64_t>& v) { return v ? json::value(*v) : json::value(nullptr); };
      json::object e;
      e["benefits"] = Strings(rec.benefits);
      e["fix_critical"] = opt(f.critical);
      e["fix_high"] = opt(f.high);
      e["fix_medium"] = opt(f.medium);
      e["fix_low"] = opt(f.low);
      e["kind"] = KindName(rec.kind);
      b.Edge("SHOULD_UPDATE_TO", kPublicImageLabel, pi_id, kPublicImageTagLabel, tag_id, std::move(e));
    }
    if (!r->target_digest.empty()) {
      json::object e;
      e["image"] = StrOrNull(r->target_image);
      b.Edge("BUILT_ON", kImageLabel, r->target_digest, kPublicImageLabel, pi_id, std::move(e));
    }
  }
  return b.Finish();
}

}  // namespace sb::recommendations
