#include "recommendations/report_json.h"

namespace sb::recommendations {
namespace json = boost::json;

namespace {

json::value Opt(const std::optional<int64_t>& v) { return v ? json::value(*v) : json::value(nullptr); }

json::array Strings(const std::vector<std::string>& list) {
  json::array out;
  for (const auto& s : list) out.emplace_back(s);
  return out;
}

json::object DetailsToJson(const ImageDetails& d) {
  json::object o;
  o["size"] = d.size;
  o["flavor"] = d.flavor;
  o["os"] = d.os;
  o["runtime"] = d.runtime;
  o["slim"] = d.slim;
  return o;
}

void Pretty(const json::value& v, std::string* out, int indent) {
  auto pad = [&](int n) { out->append(static_cast<size_t>(n) * 2, ' '); };
  switch (v.kind()) {
    case json::kind::object: {
      const auto& o = v.get_object();
      if (o.empty()) { *out += "{}"; return; }
      *out += "{\n";
      size_t i = 0;
      for (const auto& kv : o) {
        pad(indent + 1);
        *out += json::serialize(json::value(kv.key()));
        *out += ": ";
        Pretty(kv.value(), out, indent + 1);
        if (++i < o.size()) *out += ',';
        *out += '\n';
      }
      pad(indent);
      *out += '}';
      return;
    }
    case json::kind::array: {
      const auto& a = v.get_array();
      if (a.empty()) { *out += "[]"; return; }
      *out += "[\n";
      for (size_t i = 0; i < a.size(); ++i) {
        pad(indent + 1);
        Pretty(a[i], out, indent + 1);
        if (i + 1 < a.size()) *out += ',';
        *out += '\n';
      }
      pad(indent);
      *out += ']';
      return;
    }
    default:
      *out += json::serialize(v);
  }
}

}  // namespace

json::object CountsToJson(const VulnerabilityCounts& counts) {
  json::object o;
  for (int s = 0; s < kSeverityCount; ++s) {
    o[SeverityName(static_cast<Severity>(s))] =
        counts.known ? json::value(counts.count[s]) : json::value(nullptr);
  }
  return o;
}

json::object BaseToJson(const BaseImage& b) {
  json::object o;
  o["name"] = b.name;
  o["tag"] = b.tag;
  o["name_field"] = b.name_field;
  o["digest"] = b.digest;
  o["vulnerabilities"] = CountsToJson(b.vulnerabilities);
  o["pushed"] = b.pushed;
  o["size"] = b.size;
  o["packages"] = Opt(b.packages);
  o["flavor"] = b.details.flavor;
  o["os"] = b.details.os;
  o["runtime"] = b.details.runtime;
  o["slim"] = b.details.slim;
  o["supported_tags"] = Strings(b.supported_tags);
  return o;
}

json::object RecommendationToJson(const BaseImage& base, const Recommendation& r) {
  json::object o;
  o["kind"] = KindName(r.kind);
  o["tag"] = r.tag;
  o["line"] = r.line;
  o["reason"] = r.reason;
  o["alternative_tags"] = Strings(r.alternative_tags);
  o["benefits"] = Strings(r.benefits);
  o["pushed"] = r.pushed;
  o["vulnerabilities"] = CountsToJson(r.vulnerabilities);
  json::object deltas;
  for (int s = 0; s < kSeverityCount; ++s) deltas[SeverityName(static_cast<Severity>(s))] = r.deltas.delta[s];
  o["deltas"] = std::move(deltas);
  o["details"] = DetailsToJson(r.details);
  Fixes f = FixesOf(base, r);
  json::object fixes;
  fixes["critical"] = Opt(f.critical);
  fixes["high"] = Opt(f.high);
  fixes["medium"] = Opt(f.medium);
  fixes["low"] = Opt(f.low);
  o["fixes"] = std::move(fixes);
  return o;
}

json::object ReportToJson(const Report& report) {
  json::object o;
  o["layout"] = LayoutName(report.layout);
  json::object target;
  target["image"] = report.target_image;
  target["digest"] = report.target_digest;
  o["target"] = std::move(target);
  o["base"] = BaseToJson(report.base);
  o["base_up_to_date"] = report.base_up_to_date;
  o["no_tag_recommendations"] = report.no_tag_recommendations;
  json::array recs;
  for (const auto& r : report.recommendations) recs.emplace_back(RecommendationToJson(report.base, r));
  o["recommendations"] = std::move(recs);
  return o;
}

std::string PrettyJson(const json::value& value) {
  std::string out;
  Pretty(value, &out, 0);
  out += '\n';
  return out;
}

}  // namespace sb::recommendations
