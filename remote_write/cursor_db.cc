#include "remote_write/cursor_db.h"

#include <sqlite3.h>

#include "common/sqlite_stmt.h"

namespace sb::remote_write {
namespace {

Status Err(sqlite3* db, const std::string& what) {
  return Status::IOError("remote_write_cursors: " + what + ": " + sqlite3_errmsg(db));
}

}  // namespace

Result<std::unique_ptr<CursorDb>> CursorDb::Open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Status::IOError("opening " + path + ": " + msg);
  }
  std::unique_ptr<CursorDb> c(new CursorDb(db));
  sqlite3_busy_timeout(db, 10000);
  Status st = c->Exec(
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
      "CREATE TABLE IF NOT EXISTS remote_write_cursors("
      " endpoint TEXT NOT NULL, target_key TEXT NOT NULL,"
      " last_sent_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,"
      " PRIMARY KEY(endpoint, target_key)) WITHOUT ROWID;");
  if (!st.ok()) return st.Annotate(path);
  return c;
}

CursorDb::~CursorDb() { sqlite3_close(db_); }

Status CursorDb::Exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Status::IOError("remote_write_cursors: " + msg);
  }
  return Status::OK();
}

Result<std::optional<int64_t>> CursorDb::Get(const std::string& endpoint, const std::string& target_key) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteStmt s(db_, "SELECT last_sent_ms FROM remote_write_cursors WHERE endpoint=?1 AND target_key=?2");
  if (!s.ok()) return Err(db_, "prepare");
  s.Text(1, endpoint);
  s.Text(2, target_key);
  int rc = sqlite3_step(s.get());
  if (rc == SQLITE_ROW) return std::optional<int64_t>(sqlite3_column_int64(s.get(), 0));
  if (rc == SQLITE_DONE) return std::optional<int64_t>();
  return Err(db_, "select");
}

Result<std::map<std::string, int64_t>> CursorDb::List(const std::string& endpoint) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteStmt s(db_, "SELECT target_key, last_sent_ms FROM remote_write_cursors WHERE endpoint=?1");
  if (!s.ok()) return Err(db_, "prepare");
  s.Text(1, endpoint);
  std::map<std::string, int64_t> out;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    const char* k = reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 0));
    out[k ? k : ""] = sqlite3_column_int64(s.get(), 1);
  }
  if (rc != SQLITE_DONE) return Err(db_, "select");
  return out;
}

Status CursorDb::Put(const std::string& endpoint, const std::string& target_key, int64_t last_sent_ms, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteStmt s(db_, "INSERT OR REPLACE INTO remote_write_cursors(endpoint, target_key, last_sent_ms, updated_ms) VALUES(?1,?2,?3,?4)");
  if (!s.ok()) return Err(db_, "prepare");
  s.Text(1, endpoint);
  s.Text(2, target_key);
  s.Int(3, last_sent_ms);
  s.Int(4, now_ms);
  if (sqlite3_step(s.get()) != SQLITE_DONE) return Err(db_, "insert");
  return Status::OK();
}

Status CursorDb::Delete(const std::string& endpoint, const std::string& target_key) {
  std::lock_guard<std::mutex> lock(mu_);
  SqliteStmt s(db_, "DELETE FROM remote_write_cursors WHERE endpoint=?1 AND target_key=?2");
  if (!s.ok()) return Err(db_, "prepare");
  s.Text(1, endpoint);
  s.Text(2, target_key);
  if (sqlite3_step(s.get()) != SQLITE_DONE) return Err(db_, "delete");
  return Status::OK();
}

}  // namespace sb::remote_write
