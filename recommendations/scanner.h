// Scanner: one scan of a set of report sources, and the current state that results.
//
// A scan lists every source, reads and parses only the objects whose version changed
// since the last scan, forgets objects that are gone, and (when anything changed) rebuilds
// the graph (GraphStore::ReplaceGraph) and the metrics. The per-file state lives in
// GraphStore's recommendation_files table, so a restarted bridge serves the last graph and
// metrics at once and re-reads only files that changed meanwhile.
//
// Failures stay local: a file that cannot be read keeps its previous report (and is retried
// at the next scan); a file that is not a report is skipped with one debug line; a
// malformed report is logged (warn) with its file and line and contributes nothing; a
// source whose listing fails keeps all its previous reports (the last good graph).
// Reports of sources no longer configured are dropped.
//
// Thread-safety: Scan() from one thread at a time (the App's work pool, or the CLI).
// View() from any thread: it returns an immutable snapshot, swapped atomically per scan.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/exposition/model.h"
#include "common/status.h"
#include "recommendations/graph_store.h"
#include "recommendations/report.h"
#include "recommendations/source.h"

namespace sb::recommendations {

struct ReportEntry {
  std::string source;  // ReportSource::Describe()
  std::string name;    // ReportObject::name
  std::shared_ptr<const Report> report;
};

// What the API and the metrics endpoint serve. Immutable once published.
struct ScanView {
  std::vector<ReportEntry> reports;  // source order (as configured), then name
  std::shared_ptr<const expo::Exposition> metrics;  // the scout_image_* metrics
  expo::Exposition health;           // the scout_bridge_recommendations_* scan health
  std::string metrics_text;          // both, rendered as text 0.0.4
  int64_t scan_time_ms = 0;          // of the scan that built it; 0 = loaded at start-up
};

struct SourceScanResult {
  std::string source;
  Status status;  // the listing error, if the listing failed
  size_t listed = 0, unchanged = 0, parsed = 0, skipped = 0, failed = 0, removed = 0;
};

struct ScanSummary {
  std::vector<SourceScanResult> sources;
  bool changed = false;  // something was added, changed or removed: graph rewritten
  size_t reports = 0, nodes = 0, edges = 0;
  Status store_status;   // a failure to write the tables (the in-memory state is current)
  int64_t duration_ms = 0;
  bool ok() const;       // every source listed and the tables written
  std::string ToString() const;  // one line: "sources=2 reports=18 parsed=3 ..."
};

struct ScanProgress {
  const std::string& source;
  size_t done;
  size_t total;
};
using ProgressFn = std::function<void(const ScanProgress&)>;

class Scanner {
 public:
  struct Options {
    std::string db_path;  // the store's SQLite file, <storage.path>/bridge.db
    Clock* clock = SystemClock::Default();
  };
  // Opens the tables and loads the previous state (re-parsing stored report texts).
  static Result<std::unique_ptr<Scanner>> Open(const Options& options);

  // Scans `sources` (in order). Reports of sources not in the list are dropped, unless
  // keep_other_sources (the CLI's one-off ingest of one source keeps the rest).
  ScanSummary Scan(const std::vector<ReportSource*>& sources, const ProgressFn& progress = {},
                   bool keep_other_sources = false);

  std::shared_ptr<const ScanView> View() const { return view_.load(); }
  GraphStore& graph_store() { return *store_; }

 private:
  struct Entry {
    std::string version;
    std::string status;  // "report" | "skipped" | "error"
    std::shared_ptr<const Report> report;
  };
  Scanner(Options options, std::unique_ptr<GraphStore> store) : options_(options), store_(std::move(store)) {}
  // Publishes a new view. With `rebuild`, the report list, the report metrics and the
  // graph (written to the store) are rebuilt first; otherwise only the scan health is new.
  void Publish(const std::vector<std::string>& order, int64_t now_ms, ScanSummary* summary, bool rebuild);

  Options options_;
  std::unique_ptr<GraphStore> store_;
  std::map<std::string, std::map<std::string, Entry>> files_;  // source -> name -> entry
  std::vector<std::string> order_;  // source order of the last scan
  size_t nodes_ = 0, edges_ = 0;    // of the stored graph
  std::vector<ReportEntry> entries_;                   // as of the last rebuild
  std::shared_ptr<const expo::Exposition> report_metrics_;
  std::string report_metrics_text_;
  std::map<std::string, bool> source_up_;              // by source, after its last listing
  int64_t last_scan_ms_ = 0;
  std::atomic<std::shared_ptr<const ScanView>> view_;
};

}  // namespace sb::recommendations
