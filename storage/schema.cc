#include "storage/schema.h"

#include <sqlite3.h>

#include <string>
#include <utility>

namespace sb::storage {
namespace {

// Forward migrations, append-only: a released entry is never edited. Each runs in its own
// transaction together with "PRAGMA user_version = to_version".
struct Migration {
  int to_version;
  const char* sql;
};

constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE series (
  id          INTEGER PRIMARY KEY,
  labels_hash INTEGER NOT NULL,
  labels      BLOB    NOT NULL
);
CREATE INDEX series_by_hash ON series(labels_hash);
CREATE TABLE chunks (
  series_id   INTEGER NOT NULL,
  min_t       INTEGER NOT NULL,
  max_t       INTEGER NOT NULL,
  num_samples INTEGER NOT NULL,
  data        BLOB    NOT NULL,
  PRIMARY KEY (series_id, min_t)
) WITHOUT ROWID;
CREATE TABLE targets (
  id             INTEGER PRIMARY KEY,
  target_key     TEXT    NOT NULL UNIQUE,
  last_fetch_ms  INTEGER NOT NULL,
  last_series    BLOB    NOT NULL,
  body_encoding  INTEGER NOT NULL,
  body           BLOB    NOT NULL
);
CREATE TABLE fetches (
  target_id   INTEGER NOT NULL,
  min_t       INTEGER NOT NULL,
  max_t       INTEGER NOT NULL,
  num_fetches INTEGER NOT NULL,
  data        BLOB    NOT NULL,
  PRIMARY KEY (target_id, min_t)
) WITHOUT ROWID;
)sql"},
    // 2: the head log (storage/head_log.h): one row per fetch, flushed into chunks later.
    {2, R"sql(
CREATE TABLE head_log (
  seq           INTEGER PRIMARY KEY,
  fetch_time_ms INTEGER NOT NULL,
  num_series    INTEGER NOT NULL,
  data          BLOB    NOT NULL
);
)sql"},
};

static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == kSchemaVersion,
              "one migration per schema version");

Status CheckVersion(int64_t version) {
  if (version > kSchemaVersion) {
    return Status::Unimplemented("schema version " + std::to_string(version) +
                                 " is newer than this binary's " +
                                 std::to_string(kSchemaVersion));
  }
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<Db>> Db::Open(const std::string& path, bool read_only) {
  sqlite3* raw = nullptr;
  const int flags = (read_only ? SQLITE_OPEN_READONLY
                               : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                    SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = "open " + path + ": " +
                      (raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
    sqlite3_close(raw);
    return Status::IOError(std::move(msg));
  }
  sqlite3_extended_result_codes(raw, 1);
  return std::unique_ptr<Db>(new Db(raw));
}

// close_v2: with statements still alive the connection closes when the last is finalized
// (sqlite3_close would fail and leak it, WAL included).
Db::~Db() { sqlite3_close_v2(db_); }

Status Db::Error(int rc, std::string_view what) const {
  std::string msg = std::string(what) + ": " + sqlite3_errmsg(db_);
  const int primary = rc & 0xff;
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) {
    return Status::Corruption(std::move(msg));
  }
  return Status::IOError(std::move(msg));
}

Status Db::Exec(std::string_view sql) {
  const std::string s(sql);
  const int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Error(rc, "sqlite exec \"" + s.substr(0, 60) + "\"");
  return Status::OK();
}

Result<Stmt> Db::Prepare(std::string_view sql) {
  sqlite3_stmt* st = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &st, nullptr);
  if (rc != SQLITE_OK) return Error(rc, "sqlite prepare \"" + std::string(sql) + "\"");
  return Stmt(this, st);
}

Result<int64_t> Db::QueryInt(std::string_view sql) {
  SB_ASSIGN_OR_RETURN(Stmt st, Prepare(sql));
  SB_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return Status::Internal("no row from \"" + std::string(sql) + "\"");
  return st.ColumnInt(0);
}

int64_t Db::LastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }

Stmt& Stmt::operator=(Stmt&& o) noexcept {
  if (this != &o) {
    sqlite3_finalize(st_);
    db_ = o.db_;
    st_ = o.st_;
    o.st_ = nullptr;
  }
  return *this;
}

Stmt::~Stmt() { sqlite3_finalize(st_); }

Stmt& Stmt::Bind(int i, int64_t v) {
  sqlite3_bind_int64(st_, i, v);
  return *this;
}
Stmt& Stmt::BindText(int i, std::string_view v) {
  sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::BindBlob(int i, std::string_view v) {
  // A zero-length blob must still be a blob, not NULL: pass a non-null pointer.
  sqlite3_bind_blob(st_, i, v.empty() ? "" : v.data(), static_cast<int>(v.size()),
                    SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::BindBlobNoCopy(int i, std::string_view v) {
  sqlite3_bind_blob(st_, i, v.empty() ? "" : v.data(), static_cast<int>(v.size()),
                    SQLITE_STATIC);
  return *this;
}

Result<bool> Stmt::Step() {
  const int rc = sqlite3_step(st_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status s = db_->Error(rc, std::string("sqlite step \"") + sqlite3_sql(st_) + "\"");
  sqlite3_reset(st_);
  return s;
}

Status Stmt::Run() {
  Result<bool> r = Step();
  Reset();
  if (!r.ok()) return r.status();
  return Status::OK();
}

void Stmt::Reset() {
  sqlite3_reset(st_);
  sqlite3_clear_bindings(st_);
}

int64_t Stmt::ColumnInt(int i) { return sqlite3_column_int64(st_, i); }

std::string_view Stmt::ColumnBlob(int i) {
  const void* p = sqlite3_column_blob(st_, i);
  const int n = sqlite3_column_bytes(st_, i);
  return p == nullptr ? std::string_view() : std::string_view(static_cast<const char*>(p), n);
}

Status PrepareReader(Db* db, const DbSettings& settings) {
  sqlite3_busy_timeout(db->raw(), settings.busy_timeout_ms);
  SB_ASSIGN_OR_RETURN(int64_t version, db->QueryInt("PRAGMA user_version"));
  SB_RETURN_IF_ERROR(CheckVersion(version));
  if (version < kSchemaVersion) {
    return Status::InvalidArgument("schema version " + std::to_string(version) +
                                   " is older than this binary's " +
                                   std::to_string(kSchemaVersion) +
                                   "; open it read-write once to migrate");
  }
  return Status::OK();
}

Status PrepareWriter(Db* db, const DbSettings& settings) {
  const std::string& sync = settings.synchronous;
  if (sync != "OFF" && sync != "NORMAL" && sync != "FULL" && sync != "EXTRA") {
    return Status::InvalidArgument("unknown synchronous mode \"" + sync +
                                   "\" (want OFF, NORMAL, FULL or EXTRA)");
  }
  sqlite3_busy_timeout(db->raw(), settings.busy_timeout_ms);
  // Check the version before changing anything in a file written by a newer binary.
  SB_ASSIGN_OR_RETURN(int64_t version, db->QueryInt("PRAGMA user_version"));
  SB_RETURN_IF_ERROR(CheckVersion(version));
  if (version == 0) {
    // Only takes effect before the first table exists.
    SB_RETURN_IF_ERROR(db->Exec("PRAGMA auto_vacuum = INCREMENTAL"));
  }
  SB_RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode = WAL"));
  SB_RETURN_IF_ERROR(db->Exec("PRAGMA synchronous = " + sync));
  for (const Migration& m : kMigrations) {
    if (m.to_version <= version) continue;
    SB_RETURN_IF_ERROR(db->Exec("BEGIN IMMEDIATE"));
    Status s = db->Exec(m.sql);
    if (s.ok()) s = db->Exec("PRAGMA user_version = " + std::to_string(m.to_version));
    if (s.ok()) s = db->Exec("COMMIT");
    if (!s.ok()) {
      (void)db->Exec("ROLLBACK");
      return s.Annotate("migrating schema to version " + std::to_string(m.to_version));
    }
  }
  return Status::OK();
}

}  // namespace sb::storage
