#include "recommendations/graph_store.h"

#include <sqlite3.h>

#include "common/sqlite_stmt.h"

namespace sb::recommendations {
namespace json = boost::json;

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS recommendation_files (
  source TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL, status TEXT NOT NULL,
  message TEXT NOT NULL DEFAULT '', content BLOB, scanned_ms INTEGER NOT NULL,
  PRIMARY KEY (source, name));
CREATE TABLE IF NOT EXISTS recommendation_nodes (
  label TEXT NOT NULL, id TEXT NOT NULL, properties TEXT NOT NULL,
  firstseen_ms INTEGER NOT NULL, lastupdated_ms INTEGER NOT NULL, generation INTEGER NOT NULL,
  PRIMARY KEY (label, id));
CREATE TABLE IF NOT EXISTS recommendation_edges (
  type TEXT NOT NULL, src_label TEXT NOT NULL, src_id TEXT NOT NULL,
  dst_label TEXT NOT NULL, dst_id TEXT NOT NULL, properties TEXT NOT NULL,
  firstseen_ms INTEGER NOT NULL, lastupdated_ms INTEGER NOT NULL, generation INTEGER NOT NULL,
  PRIMARY KEY (type, src_label, src_id, dst_label, dst_id));
)sql";

json::object ParseProps(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return {};
  return v.as_object();
}

}  // namespace

Result<std::unique_ptr<GraphStore>> GraphStore::Open(const std::string& db_path, bool read_only) {
  sqlite3* db = nullptr;
  int flags = read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  int rc = sqlite3_open_v2(db_path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Status::IOError("opening " + db_path + ": " + msg);
  }
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<GraphStore> store(new GraphStore(db, db_path));
  if (!read_only) {
    SB_RETURN_IF_ERROR(store->Exec("PRAGMA journal_mode=WAL"));
    SB_RETURN_IF_ERROR(store->Exec(kSchema));
  }
  return store;
}

GraphStore::~GraphStore() { sqlite3_close(db_); }

Status GraphStore::Error(const std::string& what) const {
  return Status::IOError(path_ + ": " + what + ": " + sqlite3_errmsg(db_));
}

Status GraphStore::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Status::IOError(path_ + ": " + msg);
  }
  return Status::OK();
}

Result<std::vector<FileRow>> GraphStore::LoadFiles() {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteStmt q(db_, "SELECT source, name, version, status, message, content, scanned_ms FROM recommendation_files "
                    "ORDER BY source, name");
  if (!q.ok()) return Error("reading recommendation_files");
  std::vector<FileRow> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    out.push_back({q.Col(0), q.Col(1), q.Col(2), q.Col(3), q.Col(4), q.Col(5), q.ColInt(6)});
  }
  if (rc != SQLITE_DONE) return Error("reading recommendation_files");
  return out;
}

Status GraphStore::UpdateFiles(const std::vector<FileRow>& changed,
                               const std::vector<std::pair<std::string, std::string>>& removed) {
  if (changed.empty() && removed.empty()) return Status::OK();
  std::lock_guard<std::mutex> lock(mu_);
  SB_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  auto fail = [&](const std::string& what) {
    Status s = Error(what);
    (void)Exec("ROLLBACK");
    return s;
  };
  {
    SqliteStmt put(db_, "INSERT OR REPLACE INTO recommendation_files (source, name, version, status, message, content, "
                        "scanned_ms) VALUES (?, ?, ?, ?, ?, ?, ?)");
    SqliteStmt del(db_, "DELETE FROM recommendation_files WHERE source = ? AND name = ?");
    if (!put.ok() || !del.ok()) return fail("preparing recommendation_files");
    for (const FileRow& f : changed) {
      put.Text(1, f.source);
      put.Text(2, f.name);
      put.Text(3, f.version);
      put.Text(4, f.status);
      put.Text(5, f.message);
      put.Blob(6, f.content);
      put.Int(7, f.scanned_ms);
      if (put.Step() != SQLITE_DONE) return fail("writing recommendation_files");
      put.Reset();
    }
    for (const auto& [source, name] : removed) {
      del.Text(1, source);
      del.Text(2, name);
      if (del.Step() != SQLITE_DONE) return fail("deleting from recommendation_files");
      del.Reset();
    }
  }
  return Exec("COMMIT");
}

Status GraphStore::ReplaceGraph(const Graph& graph, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  SB_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  auto fail = [&](const std::string& what) {
    Status s = Error(what);
    (void)Exec("ROLLBACK");
    return s;
  };
  {
    int64_t gen = 0;
    SqliteStmt g(db_, "SELECT COALESCE(MAX(generation), 0) FROM recommendation_nodes");
    if (!g.ok() || g.Step() != SQLITE_ROW) return fail("reading the graph generation");
    gen = g.ColInt(0) + 1;
    SqliteStmt node(db_, "INSERT INTO recommendation_nodes (label, id, properties, firstseen_ms, lastupdated_ms, generation) "
                         "VALUES (?1, ?2, ?3, ?4, ?4, ?5) ON CONFLICT (label, id) DO UPDATE SET "
                         "properties = excluded.properties, lastupdated_ms = excluded.lastupdated_ms, "
                         "generation = excluded.generation");
    SqliteStmt edge(db_, "INSERT INTO recommendation_edges (type, src_label, src_id, dst_label, dst_id, properties, "
                         "firstseen_ms, lastupdated_ms, generation) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8) "
                         "ON CONFLICT (type, src_label, src_id, dst_label, dst_id) DO UPDATE SET "
                         "properties = excluded.properties, lastupdated_ms = excluded.lastupdated_ms, "
                         "generation = excluded.generation");
    if (!node.ok() || !edge.ok()) return fail("preparing the graph tables");
    for (const GraphNode& n : graph.nodes) {
      node.Text(1, n.label);
      node.Text(2, n.id);
      node.Text(3, json::serialize(n.properties));
      node.Int(4, now_ms);
      node.Int(5, gen);
      if (node.Step() != SQLITE_DONE) return fail("writing recommendation_nodes");
      node.Reset();
    }
    for (const GraphEdge& e : graph.edges) {
      edge.Text(1, e.type);
      edge.Text(2, e.src_label);
      edge.Text(3, e.src_id);
      edge.Text(4, e.dst_label);
      edge.Text(5, e.dst_id);
      edge.Text(6, json::serialize(e.properties));
      edge.Int(7, now_ms);
      edge.Int(8, gen);
      if (edge.Step() != SQLITE_DONE) return fail("writing recommendation_edges");
      edge.Reset();
    }
    SqliteStmt dn(db_, "DELETE FROM recommendation_nodes WHERE generation <> ?");
    SqliteStmt de(db_, "DELETE FROM recommendation_edges WHERE generation <> ?");
    if (!dn.ok() || !de.ok()) return fail("preparing the cleanup");
    dn.Int(1, gen);
    de.Int(1, gen);
    if (dn.Step() != SQLITE_DONE || de.Step() != SQLITE_DONE) return fail("removing stale graph rows");
  }
  return Exec("COMMIT");
}

Result<Graph> GraphStore::LoadGraph() {
  std::lock_guard<std::mutex> lock(mu_);
  Graph g;
  SqliteStmt n(db_, "SELECT label, id, properties, firstseen_ms, lastupdated_ms FROM recommendation_nodes ORDER BY label, id");
  if (!n.ok()) return Error("reading recommendation_nodes");
  int rc;
  while ((rc = n.Step()) == SQLITE_ROW) {
    g.nodes.push_back({n.Col(0), n.Col(1), ParseProps(n.Col(2)), n.ColInt(3), n.ColInt(4)});
  }
  if (rc != SQLITE_DONE) return Error("reading recommendation_nodes");
  SqliteStmt e(db_, "SELECT type, src_label, src_id, dst_label, dst_id, properties, firstseen_ms, lastupdated_ms "
                    "FROM recommendation_edges ORDER BY type, src_label, src_id, dst_label, dst_id");
  if (!e.ok()) return Error("reading recommendation_edges");
  while ((rc = e.Step()) == SQLITE_ROW) {
    g.edges.push_back({e.Col(0), e.Col(1), e.Col(2), e.Col(3), e.Col(4), ParseProps(e.Col(5)), e.ColInt(6), e.ColInt(7)});
  }
  if (rc != SQLITE_DONE) return Error("reading recommendation_edges");
  return g;
}

}  // namespace sb::recommendations
