// SqliteStmt: a prepared SQLite statement on a raw sqlite3* connection, finalized on scope
// exit, with short binders and column readers. Used by the modules that keep their own small
// tables in SQLite (remote_write's cursors, recommendations' graph); the store has its own
// Db/Stmt pair (storage/schema.h) with Status-returning steps.
//
// Header-only so that sb_common need not link SQLite: a user includes this header and
// links SQLite::SQLite3 itself.
//
// Ownership: the statement does not own the connection, which must outlive it.
// Thread-safety: one thread at a time, like the connection.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>

namespace sb {

class SqliteStmt {
 public:
  // Prepares `sql` on `db`; ok() tells whether that worked (sqlite3_errmsg(db) says why not).
  SqliteStmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  ~SqliteStmt() { sqlite3_finalize(s_); }
  SqliteStmt(const SqliteStmt&) = delete;
  SqliteStmt& operator=(const SqliteStmt&) = delete;

  bool ok() const { return rc_ == SQLITE_OK; }
  sqlite3_stmt* get() { return s_; }

  // Binders, 1-based like SQLite. Text and blobs are copied (SQLITE_TRANSIENT).
  void Text(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void Blob(int i, const std::string& v) {
    sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void Int(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); }

  // Returns sqlite3_step's result code (SQLITE_ROW, SQLITE_DONE or an error).
  int Step() { return sqlite3_step(s_); }
  // Resets the statement and clears its bindings for reuse.
  void Reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }

  // Column readers, 0-based. Col copies the bytes (text or blob; "" for NULL).
  std::string Col(int i) {
    const void* p = sqlite3_column_blob(s_, i);
    int n = sqlite3_column_bytes(s_, i);
    return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
  }
  int64_t ColInt(int i) { return sqlite3_column_int64(s_, i); }

 private:
  sqlite3_stmt* s_ = nullptr;
  int rc_;
};

}  // namespace sb
