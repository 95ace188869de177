// GraphStore: the recommendation tables in the store's SQLite file (<storage.path>/bridge.db),
// on a connection of its own. Tables (created if missing; documented in
// docs/format/schema.md):
//   recommendation_files  one row per report file seen in a source: version, outcome
//                         ("report" | "skipped" | "error"), message, and the text of a
//                         parsed report (so a restart rebuilds the graph and metrics without
//                         re-reading the sources, and a failing source keeps its last good
//                         reports)
//   recommendation_nodes  label, id, properties (JSON), firstseen_ms, lastupdated_ms
//   recommendation_edges  type, source and target label/id, properties, firstseen_ms,
//                         lastupdated_ms
//
// ReplaceGraph writes a whole graph in one transaction: rows that stay keep firstseen,
// rows absent from the new graph are deleted (Cartography's cleanup of stale nodes).
//
// Thread-safety: one thread at a time (the scanner's); the methods are serialized by an
// internal mutex anyway. SQLite's busy timeout (5 s) covers the store's own writer.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "recommendations/graph.h"

struct sqlite3;

namespace sb::recommendations {

struct FileRow {
  std::string source;   // ReportSource::Describe()
  std::string name;     // ReportObject::name
  std::string version;  // ReportObject::version
  std::string status;   // "report" | "skipped" | "error"
  std::string message;  // why skipped / the error ("" for a report)
  std::string content;  // the report text (status "report" only)
  int64_t scanned_ms = 0;
};

class GraphStore {
 public:
  // Opens (creating the tables unless read_only) the SQLite file at `db_path`.
  // Errors: IOError naming the path and SQLite's message.
  static Result<std::unique_ptr<GraphStore>> Open(const std::string& db_path, bool read_only = false);
  ~GraphStore();
  GraphStore(const GraphStore&) = delete;
  GraphStore& operator=(const GraphStore&) = delete;

  Result<std::vector<FileRow>> LoadFiles();
  // Upserts `changed` and deletes `removed` ((source, name) pairs) in one transaction.
  Status UpdateFiles(const std::vector<FileRow>& changed,
                     const std::vector<std::pair<std::string, std::string>>& removed);

  // Makes `graph` the stored graph (see the file comment). `now_ms` becomes lastupdated of
  // every row, and firstseen of new rows.
  Status ReplaceGraph(const Graph& graph, int64_t now_ms);
  // The stored graph with firstseen/lastupdated, sorted as BuildGraph sorts.
  Result<Graph> LoadGraph();

 private:
  explicit GraphStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Status Exec(const char* sql);
  Status Error(const std::string& what) const;

  std::mutex mu_;
  sqlite3* db_;
  std::string path_;
};

}  // namespace sb::recommendations
