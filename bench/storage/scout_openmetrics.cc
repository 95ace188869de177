// Writes a Scout-like history as OpenMetrics text with timestamps (the input of
// `promtool tsdb create-blocks-from openmetrics` and `scout-bridge tsdb import`), for
// bench/storage/size_vs_promtool.sh. Data: the Scout simulator's series
// (tools/scout_sim/scout_data.h) of one org, one sample per hour; values change at ~1/32
// of the fetches (--busy: every value changes every fetch, a random walk).
//
//   scout-openmetrics [--series=N] [--days=D] [--busy] > history.om
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common/exposition/parser.h"
#include "tools/scout_sim/scout_data.h"

int main(int argc, char** argv) {
  int series = 250, days = 90;
  bool busy = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--series=", 9) == 0) series = std::atoi(argv[i] + 9);
    else if (std::strncmp(argv[i], "--days=", 7) == 0) days = std::atoi(argv[i] + 7);
    else if (std::strcmp(argv[i], "--busy") == 0) busy = true;
    else {
      std::fprintf(stderr, "usage: scout-openmetrics [--series=N] [--days=D] [--busy]\n");
      return 2;
    }
  }
  const sb::sim::OrgSpec spec = sb::sim::SpecForSeriesCount("acme", series);
  auto exp = sb::expo::ParseExposition(sb::sim::RenderOrgMetrics(spec, 0),
                                       sb::expo::Format::kText004);
  if (!exp.ok()) return 1;
  // Series names with their label sets, in render order.
  std::vector<std::string> names;
  for (const auto& f : exp->families) {
    for (const auto& s : f.samples) {
      std::string n = s.name + "{";
      for (size_t i = 0; i < s.labels.size(); ++i) {
        if (i > 0) n += ",";
        n += s.labels[i].name + "=\"" + s.labels[i].value + "\"";
      }
      names.push_back(n + "}");
    }
  }
  const int64_t start_s = 1'700'000'000;
  const int fetches = days * 24;
  uint64_t rng = 42;
  std::vector<double> walk(names.size(), 1000.0);
  std::string out;
  for (size_t s = 0; s < names.size(); ++s) {  // one series after the other, in time order
    for (int w = 0; w < fetches; ++w) {
      double v;
      if (busy) {
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        walk[s] += static_cast<double>(rng >> 11) * 0x1.0p-53 - 0.5;
        v = walk[s];
      } else {
        v = sb::sim::SeriesValue(spec, static_cast<int>(s), w);
      }
      char buf[64];
      std::snprintf(buf, sizeof buf, " %.17g %lld\n", v, static_cast<long long>(start_s + w * 3600LL));
      out += names[s];
      out += buf;
    }
    if (out.size() > (1 << 20)) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  }
  out += "# EOF\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fprintf(stderr, "%zu series x %d samples\n", names.size(), fetches);
  return 0;
}
