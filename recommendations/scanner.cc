#include "recommendations/scanner.h"

#include <set>

#include "common/exposition/render.h"
#include "common/log.h"
#include "recommendations/graph.h"
#include "recommendations/metrics.h"
#include "recommendations/parser.h"

namespace sb::recommendations {

namespace {

// "root/name" for a directory, "s3://bucket/key" for S3: how errors name the object.
std::string DisplayName(const std::string& source, const std::string& name) {
  if (source.rfind("s3://", 0) == 0) {
    size_t slash = source.find('/', 5);
    return source.substr(0, slash) + "/" + name;
  }
  return source + (source.empty() || source.back() == '/' ? "" : "/") + name;
}

}  // namespace

bool ScanSummary::ok() const {
  for (const auto& s : sources) {
    if (!s.status.ok()) return false;
  }
  return store_status.ok();
}

std::string ScanSummary::ToString() const {
  size_t listed = 0, unchanged = 0, parsed = 0, skipped = 0, failed = 0, removed = 0, bad = 0;
  for (const auto& s : sources) {
    listed += s.listed;
    unchanged += s.unchanged;
    parsed += s.parsed;
    skipped += s.skipped;
    failed += s.failed;
    removed += s.removed;
    bad += s.status.ok() ? 0 : 1;
  }
  return "sources=" + std::to_string(sources.size()) + " failed_sources=" + std::to_string(bad) +
         " files=" + std::to_string(listed) + " unchanged=" + std::to_string(unchanged) +
         " parsed=" + std::to_string(parsed) + " skipped=" + std::to_string(skipped) +
         " errors=" + std::to_string(failed) + " removed=" + std::to_string(removed) +
         " reports=" + std::to_string(reports) + " nodes=" + std::to_string(nodes) +
         " edges=" + std::to_string(edges) + " duration_ms=" + std::to_string(duration_ms);
}

Result<std::unique_ptr<Scanner>> Scanner::Open(const Options& options) {
  SB_ASSIGN_OR_RETURN(auto store, GraphStore::Open(options.db_path));
  SB_ASSIGN_OR_RETURN(auto rows, store->LoadFiles());
  std::unique_ptr<Scanner> s(new Scanner(options, std::move(store)));
  for (auto& row : rows) {
    Entry e{row.version, row.status, nullptr};
    if (row.status == "report") {
      auto parsed = ParseReport(row.content, DisplayName(row.source, row.name));
      if (!parsed.ok()) {
        e.version.clear();  // re-read at the next scan
        e.status = "error";
      } else {
        e.report = std::make_shared<const Report>(std::move(parsed).value());
      }
    }
    if (std::find(s->order_.begin(), s->order_.end(), row.source) == s->order_.end()) s->order_.push_back(row.source);
    s->files_[row.source][row.name] = std::move(e);
  }
  SB_ASSIGN_OR_RETURN(Graph stored, s->store_->LoadGraph());
  s->nodes_ = stored.nodes.size();
  s->edges_ = stored.edges.size();
  ScanSummary unused;
  s->Publish(s->order_, 0, &unused, /*rebuild=*/true);
  return s;
}

void Scanner::Publish(const std::vector<std::string>& order, int64_t now_ms, ScanSummary* summary, bool rebuild) {
  if (rebuild) {
    entries_.clear();
    std::vector<const Report*> reports;
    for (const auto& source : order) {
      auto it = files_.find(source);
      if (it == files_.end()) continue;
      for (const auto& [name, e] : it->second) {
        if (!e.report) continue;
        entries_.push_back({source, name, e.report});
        reports.push_back(e.report.get());
      }
    }
    auto metrics = std::make_shared<expo::Exposition>(BuildMetrics(reports));
    report_metrics_text_ = expo::RenderText004(*metrics);
    report_metrics_ = std::move(metrics);
    if (now_ms > 0) {  // a scan, not the start-up load
      Graph g = BuildGraph(reports);
      nodes_ = g.nodes.size();
      edges_ = g.edges.size();
      Status s = store_->ReplaceGraph(g, now_ms);
      if (!s.ok() && summary->store_status.ok()) summary->store_status = s;
    }
  }
  std::vector<SourceHealth> health;
  for (const auto& source : order) {
    SourceHealth h;
    h.source = source;
    auto up = source_up_.find(source);
    h.scanned = up != source_up_.end();
    h.up = h.scanned && up->second;
    if (auto it = files_.find(source); it != files_.end()) {
      for (const auto& [name, e] : it->second) {
        if (e.status == "report") ++h.reports;
        else if (e.status == "skipped") ++h.skipped;
        else ++h.errors;
      }
    }
    health.push_back(std::move(h));
  }
  auto view = std::make_shared<ScanView>();
  view->reports = entries_;
  view->metrics = report_metrics_;
  view->health = BuildScanHealth(health, last_scan_ms_);
  view->metrics_text = report_metrics_text_ + expo::RenderText004(view->health);
  view->scan_time_ms = now_ms;
  summary->reports = entries_.size();
  view_.store(std::move(view));
}

ScanSummary Scanner::Scan(const std::vector<ReportSource*>& sources, const ProgressFn& progress,
                          bool keep_other_sources) {
  const int64_t start_ms = options_.clock->NowMs();
  ScanSummary summary;
  std::vector<FileRow> changed;
  std::vector<std::pair<std::string, std::string>> removed;
  std::vector<std::string> order;
  for (ReportSource* source : sources) {
    const std::string desc = source->Describe();
    if (std::find(order.begin(), order.end(), desc) != order.end()) continue;  // listed twice
    order.push_back(desc);
    SourceScanResult result;
    result.source = desc;
    auto listing = source->List();
    if (!listing.ok()) {
      result.status = listing.status();
      LogWarn("recommendations: source failed, keeping its last reports",
              {{"source", desc}, {"error", listing.status().ToString()}});
      summary.sources.push_back(std::move(result));
      continue;
    }
    auto& known = files_[desc];
    std::set<std::string> present;
    result.listed = listing->size();
    size_t done = 0;
    for (const ReportObject& obj : *listing) {
      present.insert(obj.name);
      if (progress) progress({desc, done, listing->size()});
      ++done;
      auto it = known.find(obj.name);
      if (it != known.end() && it->second.version == obj.version) {
        ++result.unchanged;
        continue;
      }
      const std::string display = DisplayName(desc, obj.name);
      auto content = source->Read(obj);
      if (!content.ok()) {
        ++result.failed;
        LogWarn("recommendations: cannot read report", {{"file", display}, {"error", content.status().ToString()}});
        continue;  // keeps the previous entry, if any; retried next scan
      }
      FileRow row{desc, obj.name, obj.version, "", "", "", start_ms};
      Entry e{obj.version, "", nullptr};
      auto parsed = ParseReport(*content, display);
      if (parsed.ok()) {
        ++result.parsed;
        row.status = e.status = "report";
        row.content = std::move(content).value();
        e.report = std::make_shared<const Report>(std::move(parsed).value());
      } else if (parsed.status().code() == Status::Code::kNotFound) {
        ++result.skipped;
        row.status = e.status = "skipped";
        row.message = parsed.status().message();
        LogDebug("recommendations: file skipped", {{"file", display}, {"reason", parsed.status().message()}});
      } else {
        ++result.failed;
        row.status = e.status = "error";
        row.message = parsed.status().message();
        LogWarn("recommendations: bad report", {{"error", parsed.status().message()}});
      }
      changed.push_back(std::move(row));
      known[obj.name] = std::move(e);
    }
    for (auto it = known.begin(); it != known.end();) {
      if (present.count(it->first)) {
        ++it;
        continue;
      }
      removed.emplace_back(desc, it->first);
      ++result.removed;
      it = known.erase(it);
    }
    summary.sources.push_back(std::move(result));
  }
  if (keep_other_sources) {
    for (const auto& [source, unused] : files_) {
      if (std::find(order.begin(), order.end(), source) == order.end()) order.push_back(source);
    }
  }
  // Sources no longer configured.
  for (auto it = files_.begin(); it != files_.end();) {
    if (std::find(order.begin(), order.end(), it->first) != order.end()) {
      ++it;
      continue;
    }
    for (const auto& [name, e] : it->second) removed.emplace_back(it->first, name);
    it = files_.erase(it);
  }
  bool order_changed = order != order_;
  order_ = order;
  summary.changed = !changed.empty() || !removed.empty() || order_changed;
  summary.store_status = store_->UpdateFiles(changed, removed);
  const int64_t now_ms = options_.clock->NowMs();
  for (const auto& r : summary.sources) source_up_[r.source] = r.status.ok();
  last_scan_ms_ = now_ms;
  Publish(order_, now_ms, &summary, /*rebuild=*/summary.changed);
  summary.nodes = nodes_;
  summary.edges = edges_;
  summary.duration_ms = options_.clock->NowMs() - start_ms;
  if (!summary.store_status.ok()) {
    LogError("recommendations: cannot write the recommendation tables", {{"error", summary.store_status.ToString()}});
  }
  return summary;
}

}  // namespace sb::recommendations
