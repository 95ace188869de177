#include "tests/promql/scout_dataset.h"

#include <ctime>
#include <map>

#include "common/exposition/parser.h"
#include "tools/scout_sim/scout_data.h"

namespace sb::testdata {
namespace {

constexpr int64_t kOffsetsS[] = {11, 23, 37, 41, 53};

// OpenMetrics label value escaping: backslash, double quote and newline.
void AppendEscaped(std::string* out, const std::string& v) {
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out->push_back('\\');
      out->push_back(c);
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
}

struct FamilyData {
  std::string help, type;
  // series text "name{labels}" -> lines "value timestamp"
  std::map<std::string, std::vector<std::string>> series;
};

}  // namespace

int64_t RecentStartS(int hours) {
  int64_t now = static_cast<int64_t>(time(nullptr));
  return (now - static_cast<int64_t>(hours) * 3600 - 86400) / 86400 * 86400;
}

int64_t FetchTimeS(const ScoutDatasetOptions& o, size_t org_index, int i) {
  return o.start_s + static_cast<int64_t>(i) * 3600 + kOffsetsS[org_index % std::size(kOffsetsS)];
}

std::string RenderScoutDataset(const ScoutDatasetOptions& o) {
  std::map<std::string, FamilyData> families;  // by family name: OpenMetrics wants families contiguous
  for (size_t oi = 0; oi < o.orgs.size(); ++oi) {
    const std::string& org = o.orgs[oi];
    sim::OrgSpec spec = sim::SpecForSeriesCount(org, o.approx_series_per_org);
    for (int i = 0; i < o.hours; ++i) {
      std::string body = sim::RenderOrgMetrics(spec, i);
      auto exp = expo::ParseExposition(body, expo::Format::kText004);
      if (!exp.ok()) return "# generator error: " + exp.status().ToString() + "\n";
      std::string ts = std::to_string(FetchTimeS(o, oi, i));
      for (const auto& fam : exp->families) {
        FamilyData& fd = families[fam.name];
        fd.help = fam.help;
        fd.type = expo::MetricTypeName(fam.type, /*openmetrics=*/true);
        for (const auto& s : fam.samples) {
          bool in_gap = oi == 1 && i >= o.gap_begin && i < o.gap_end;
          std::string key = s.name + "{";
          bool staging = false;
          for (const auto& l : s.labels) {
            if (l.name == "streamName" && l.value == "staging") staging = true;
            key += l.name + "=\"";
            AppendEscaped(&key, l.value);
            key += "\",";
          }
          if (in_gap && staging) continue;
          key += "instance=\"api.scout.docker.com\",job=\"" + org + "\"}";
          char val[64];
          snprintf(val, sizeof val, "%.17g", s.value);
          fd.series[key].push_back(std::string(val) + " " + ts);
        }
      }
    }
  }
  std::string out;
  for (const auto& [name, fd] : families) {
    out += "# HELP " + name + " " + fd.help + "\n";
    out += "# TYPE " + name + " " + fd.type + "\n";
    for (const auto& [key, lines] : fd.series) {
      for (const auto& line : lines) {
        out += key;
        out.push_back(' ');
        out += line;
        out.push_back('\n');
      }
    }
  }
  out += "# EOF\n";
  return out;
}

}  // namespace sb::testdata
