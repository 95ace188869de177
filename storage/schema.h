// The store's SQLite layer: thin RAII wrappers over sqlite3 connections and prepared
// statements, the connection settings, and the table-driven forward migrations of the
// schema in docs/format/schema.md. Nothing here knows about series or chunks.
//
// Errors from SQLite become IOError (or Corruption for SQLITE_CORRUPT / SQLITE_NOTADB)
// whose message names the operation and SQLite's own message.
//
// Thread-safety: a Db or Stmt is used by one thread at a time (the caller locks); distinct
// Db objects on one file may be used from distinct threads (SQLite's multi-thread mode).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace sb::storage {

// The newest schema version this binary knows (PRAGMA user_version).
inline constexpr int kSchemaVersion = 2;

class Stmt;

// One SQLite connection. Closes it on destruction.
class Db {
 public:
  // Opens (read_only = false: creating if missing) the database at `path`.
  // Errors: IOError naming the path.
  static Result<std::unique_ptr<Db>> Open(const std::string& path, bool read_only);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs one or more statements without results. Errors: IOError/Corruption.
  Status Exec(std::string_view sql);
  // Prepares one statement. Errors: IOError naming the SQL.
  Result<Stmt> Prepare(std::string_view sql);
  // Runs a query that returns one integer (e.g. a PRAGMA).
  Result<int64_t> QueryInt(std::string_view sql);

  int64_t LastInsertRowid() const;
  // Status for SQLite result code `rc`, "<what>: <sqlite message>".
  Status Error(int rc, std::string_view what) const;
  sqlite3* raw() { return db_; }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

// A prepared statement. Movable; finalizes on destruction.
class Stmt {
 public:
  Stmt(Stmt&& o) noexcept : db_(o.db_), st_(o.st_) { o.st_ = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept;
  ~Stmt();

  // Binders, 1-based like SQLite. Text and blobs are copied by SQLite (SQLITE_TRANSIENT).
  Stmt& Bind(int i, int64_t v);
  Stmt& BindText(int i, std::string_view v);
  Stmt& BindBlob(int i, std::string_view v);
  // Binds without copying: `v` must stay alive and unchanged until the next Step/Reset.
  Stmt& BindBlobNoCopy(int i, std::string_view v);

  // Steps once. Returns true when a row is ready, false when done.
  // Errors: IOError/Corruption from SQLite.
  Result<bool> Step();
  // Steps to completion, expecting no rows, then resets.
  Status Run();
  // Resets the statement and clears its bindings for reuse.
  void Reset();

  int64_t ColumnInt(int i);
  // Views SQLite's buffer: valid until the next Step/Reset.
  std::string_view ColumnBlob(int i);

 private:
  friend class Db;
  Stmt(Db* db, sqlite3_stmt* st) : db_(db), st_(st) {}
  Db* db_;
  sqlite3_stmt* st_;
};

// Connection settings for the store's databases.
struct DbSettings {
  int busy_timeout_ms = 5000;
  // "OFF", "NORMAL", "FULL" or "EXTRA" (PRAGMA synchronous).
  std::string synchronous = "FULL";
};

// Applies the settings, turns on WAL mode, and migrates the schema forward to
// kSchemaVersion (creating it in an empty database).
// Errors: Unimplemented "schema version N is newer than this binary's M" when the file
// was written by a newer binary (nothing is changed then); InvalidArgument for an unknown
// synchronous mode; IOError/Corruption from SQLite.
Status PrepareWriter(Db* db, const DbSettings& settings);

// Applies the busy timeout and checks the schema version of an existing database for a
// read-only connection. Errors: as PrepareWriter, without migrations.
Status PrepareReader(Db* db, const DbSettings& settings);

}  // namespace sb::storage
