#include "recommendations/metrics.h"

#include <set>
#include <utility>

namespace sb::recommendations {

namespace {

expo::Family Gauge(const char* name, const char* help) {
  expo::Family f;
  f.name = name;
  f.type = expo::MetricType::kGauge;
  f.help = help;
  return f;
}

void Add(expo::Family* f, expo::Labels labels, double value) {
  expo::Labels kept;
  for (auto& l : labels) {
    if (!l.value.empty()) kept.push_back(std::move(l));
  }
  f->samples.push_back({f->name, std::move(kept), value, std::nullopt});
}

}  // namespace

expo::Exposition BuildMetrics(const std::vector<const Report*>& reports) {
  expo::Family info = Gauge("scout_image_base_info", "Base image of a scanned image, from docker scout recommendations.");
  expo::Family vulns = Gauge("scout_image_base_vulnerabilities", "Vulnerabilities of the base image, by severity.");
  expo::Family rec_info = Gauge("scout_image_recommended_update_info",
                                "A base image tag docker scout recommends (kind refresh or change).");
  expo::Family fixes = Gauge("scout_image_recommended_update_fixes",
                             "Vulnerabilities of the base image that the recommended tag removes, by severity.");
  expo::Family up = Gauge("scout_image_base_up_to_date", "1 when the base image version is up to date, else 0.");
  std::set<std::pair<std::string, std::string>> seen;
  for (const Report* r : reports) {
    if (!seen.insert({r->target_image, r->target_digest}).second) continue;
    const std::string& image = r->target_image;
    const std::string& digest = r->target_digest;
    const BaseImage& b = r->base;
    Add(&info, {{"image", image}, {"digest", digest}, {"base_image", b.name}, {"base_tag", b.tag}}, 1);
    if (b.vulnerabilities.known) {
      for (int s = 0; s < kSeverityCount; ++s) {
        Add(&vulns, {{"image", image}, {"digest", digest}, {"severity", SeverityName(static_cast<Severity>(s))}},
            static_cast<double>(b.vulnerabilities.count[s]));
      }
    }
    std::set<std::string> tags;
    for (const Recommendation& rec : r->recommendations) {
      if (!tags.insert(rec.tag).second) continue;
      Add(&rec_info, {{"image", image}, {"digest", digest}, {"recommended_tag", rec.tag}, {"kind", KindName(rec.kind)}}, 1);
      if (!b.vulnerabilities.known) continue;
      for (int s = 0; s < 4; ++s) {
        int64_t d = b.vulnerabilities.count[s] - rec.vulnerabilities.count[s];
        Add(&fixes, {{"image", image}, {"digest", digest}, {"recommended_tag", rec.tag},
                     {"severity", SeverityName(static_cast<Severity>(s))}},
            static_cast<double>(d > 0 ? d : 0));
      }
    }
    Add(&up, {{"image", image}, {"digest", digest}}, r->base_up_to_date ? 1 : 0);
  }
  expo::Exposition out;
  for (expo::Family* f : {&info, &vulns, &rec_info, &fixes, &up}) {
    if (!f->samples.empty()) out.families.push_back(std::move(*f));
  }
  return out;
}

expo::Exposition BuildScanHealth(const std::vector<SourceHealth>& sources, int64_t last_scan_ms) {
  expo::Family up = Gauge("scout_bridge_recommendations_source_up", "1 when the last listing of the source worked.");
  expo::Family files = Gauge("scout_bridge_recommendations_files",
                             "Report files held per source and outcome (report, skipped, error).");
  expo::Family last = Gauge("scout_bridge_recommendations_last_scan_timestamp_seconds",
                            "Time of the last scan of the recommendation sources.");
  for (const SourceHealth& h : sources) {
    if (h.scanned) Add(&up, {{"source", h.source}}, h.up ? 1 : 0);
    Add(&files, {{"source", h.source}, {"outcome", "report"}}, static_cast<double>(h.reports));
    Add(&files, {{"source", h.source}, {"outcome", "skipped"}}, static_cast<double>(h.skipped));
    Add(&files, {{"source", h.source}, {"outcome", "error"}}, static_cast<double>(h.errors));
  }
  if (last_scan_ms > 0) Add(&last, {}, static_cast<double>(last_scan_ms) / 1000.0);
  expo::Exposition out;
  for (expo::Family* f : {&up, &files, &last}) {
    if (!f->samples.empty()) out.families.push_back(std::move(*f));
  }
  return out;
}

std::vector<storage::SeriesSample> ToSeriesSamples(const expo::Exposition& exposition) {
  std::vector<storage::SeriesSample> out;
  for (const auto& f : exposition.families) {
    for (const auto& s : f.samples) {
      storage::SeriesSample ss;
      ss.labels.push_back({"__name__", s.name});
      for (const auto& l : s.labels) ss.labels.push_back({l.name, l.value});
      ss.labels.push_back({"job", kMetricsJob});
      ss.value = s.value;
      out.push_back(std::move(ss));
    }
  }
  return out;
}

}  // namespace sb::recommendations
