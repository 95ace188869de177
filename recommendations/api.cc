#include "recommendations/api.h"

#include <boost/url/parse_query.hpp>
#include <boost/url/params_view.hpp>

#include "recommendations/report_json.h"

namespace sb::recommendations {
namespace json = boost::json;

namespace {

ApiAnswer Bad(const std::string& why) {
  json::object o{{"status", "error"}, {"errorType", "bad_data"}, {"error", why}};
  return {400, json::serialize(o)};
}

std::string WithoutTag(const std::string& ref) {
  size_t colon = ref.rfind(':');
  if (colon == std::string::npos || ref.find('/', colon) != std::string::npos) return ref;
  return ref.substr(0, colon);
}

}  // namespace

ApiAnswer RecommendationsApi(const ScanView* view, std::string_view query) {
  std::string image, base;
  bool has_image = false, has_base = false;
  if (!query.empty()) {
    auto parsed = boost::urls::parse_query(query);
    if (!parsed) return Bad("invalid query string");
    for (const auto& p : boost::urls::params_view(*parsed)) {
      if (p.key == "image") {
        image = p.value;
        has_image = true;
      } else if (p.key == "base") {
        base = p.value;
        has_base = true;
      } else {
        return Bad("unknown parameter \"" + std::string(p.key) + "\" (known: image, base)");
      }
    }
  }
  json::array targets;
  if (view) {
    for (const ReportEntry& e : view->reports) {
      const Report& r = *e.report;
      if (has_image && r.target_image != image && WithoutTag(r.target_image) != image) continue;
      if (has_base && r.base.Reference() != base && r.base.name != base) continue;
      json::object t;
      t["source"] = e.source;
      t["file"] = e.name;
      t["layout"] = LayoutName(r.layout);
      t["image"] = r.target_image;
      t["digest"] = r.target_digest;
      t["base"] = BaseToJson(r.base);
      t["base_up_to_date"] = r.base_up_to_date;
      t["no_tag_recommendations"] = r.no_tag_recommendations;
      json::array recs;
      for (const auto& rec : r.recommendations) recs.push_back(RecommendationToJson(r.base, rec));
      t["recommendations"] = std::move(recs);
      targets.push_back(std::move(t));
    }
  }
  json::object data;
  data["scan_time_ms"] = view ? view->scan_time_ms : 0;
  data["targets"] = std::move(targets);
  json::object root{{"status", "success"}, {"data", std::move(data)}};
  return {200, json::serialize(root)};
}

}  // namespace sb::recommendations
