#include "storage/import.h"

#include <cstring>
#include <string>
#include <unordered_map>
#include <utility>

#include "common/exposition/parser.h"

namespace sb::storage {
namespace {

// Where a sample line sits in the body: 1-based line number and the column just past its
// last non-blank byte (where a missing timestamp would go).
struct LinePos {
  size_t line = 0;
  size_t end_col = 1;
};

// The positions of the sample lines, in body order. The exposition parser turns each
// non-blank line that does not start with '#' into exactly one sample, so once it has
// accepted the body, the k-th entry is the line of the k-th sample.
std::vector<LinePos> SampleLines(std::string_view body) {
  std::vector<LinePos> out;
  size_t pos = 0, line = 0;
  while (pos < body.size()) {
    const char* nl = static_cast<const char*>(std::memchr(body.data() + pos, '\n', body.size() - pos));
    const size_t end = nl ? static_cast<size_t>(nl - body.data()) : body.size();
    std::string_view l = body.substr(pos, end - pos);
    pos = end + 1;
    ++line;
    while (!l.empty() && (l.back() == '\r' || l.back() == ' ' || l.back() == '\t')) {
      l.remove_suffix(1);
    }
    size_t i = 0;
    while (i < l.size() && (l[i] == ' ' || l[i] == '\t')) ++i;
    if (i == l.size() || l[i] == '#') continue;
    out.push_back({line, l.size() + 1});
  }
  return out;
}

std::string At(const LinePos& p, size_t col) {
  return std::to_string(p.line) + ":" + std::to_string(col) + ": ";
}

}  // namespace

Result<std::vector<SeriesSamples>> ParseOpenMetricsForImport(std::string_view body,
                                                             const ImportLimits& limits) {
  expo::ParseOptions opts;
  opts.max_samples = limits.max_samples;
  SB_ASSIGN_OR_RETURN(expo::Exposition exp,
                      expo::ParseExposition(body, expo::Format::kOpenMetrics, opts));
  const std::vector<LinePos> lines = SampleLines(body);
  if (lines.size() != exp.SampleCount()) {
    return Status::Internal("import: " + std::to_string(exp.SampleCount()) +
                            " samples parsed but " + std::to_string(lines.size()) +
                            " sample lines found");
  }
  struct SeriesInfo {
    size_t index;      // in out
    size_t last_line;  // line of its previous sample
  };
  std::vector<SeriesSamples> out;
  std::unordered_map<std::string, SeriesInfo> by_key;
  size_t k = 0;
  for (const expo::Family& family : exp.families) {
    for (const expo::Sample& s : family.samples) {
      const LinePos& pos = lines[k++];
      Labels raw;
      raw.reserve(s.labels.size() + 1);
      raw.push_back({std::string(kMetricNameLabel), s.name});
      for (const expo::Label& l : s.labels) raw.push_back({l.name, l.value});
      Result<Labels> labels = Canonicalize(std::move(raw));
      if (!labels.ok()) return Status::InvalidArgument(At(pos, 1) + labels.status().message());
      if (!s.timestamp_ms.has_value()) {
        return Status::InvalidArgument(At(pos, pos.end_col) + "sample of " +
                                       LabelsToString(*labels) +
                                       " has no timestamp (backfill needs one on every sample)");
      }
      std::string key = EncodeLabels(*labels);
      auto [it, inserted] = by_key.try_emplace(std::move(key), SeriesInfo{out.size(), pos.line});
      if (inserted) {
        out.push_back(SeriesSamples{std::move(labels).value(), {}});
      }
      SeriesSamples& series = out[it->second.index];
      if (!series.samples.empty() && *s.timestamp_ms <= series.samples.back().timestamp_ms) {
        return Status::InvalidArgument(
            At(pos, 1) + "sample of " + LabelsToString(series.labels) + " at " +
            std::to_string(*s.timestamp_ms) + " ms is not after its previous sample at " +
            std::to_string(series.samples.back().timestamp_ms) + " ms (line " +
            std::to_string(it->second.last_line) + ")");
      }
      it->second.last_line = pos.line;
      series.samples.push_back(Sample{*s.timestamp_ms, s.value});
    }
  }
  return out;
}

Result<ImportStats> ImportOpenMetrics(Store& store, std::string_view body,
                                      const ImportLimits& limits) {
  SB_ASSIGN_OR_RETURN(std::vector<SeriesSamples> batch, ParseOpenMetricsForImport(body, limits));
  return store.AppendSamples(batch);
}

}  // namespace sb::storage
