// CursorDb: the durable part of the remote-write queue. The queue itself is the store (every
// fetch is kept there); this table remembers, per endpoint and per target, the fetch time of
// the last real fetch the receiver acknowledged with a 2xx (or that was dropped as
// unsendable). A restart resumes right after it. Schema (docs/format/schema.md):
//
//   CREATE TABLE remote_write_cursors(
//     endpoint TEXT NOT NULL,        -- EndpointKey(): "<name> <url>" (name may be empty)
//     target_key TEXT NOT NULL,      -- the store's target key, "<job>/<address>"
//     last_sent_ms INTEGER NOT NULL, -- fetch time of the last acknowledged fetch
//     updated_ms INTEGER NOT NULL,   -- wall time of the last update (for operators)
//     PRIMARY KEY(endpoint, target_key)) WITHOUT ROWID;
//
// It lives in the store's own file (bridge.db) but is written through a connection of its
// own; WAL mode lets it commit next to the store's writer (busy_timeout covers the short
// overlaps). Every Put is one transaction with synchronous = FULL: on disk on return.
//
// Thread-safety: all methods may be called from any thread (an internal mutex).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/status.h"

struct sqlite3;

namespace sb::remote_write {

class CursorDb {
 public:
  // Opens `path` (created if missing) and creates the table if it is not there.
  // Errors: IOError naming the path and SQLite's message.
  static Result<std::unique_ptr<CursorDb>> Open(const std::string& path);
  ~CursorDb();

  // The cursor of (endpoint, target), or nullopt if none. Errors: IOError.
  Result<std::optional<int64_t>> Get(const std::string& endpoint, const std::string& target_key);
  // All cursors of `endpoint`, by target key. Errors: IOError.
  Result<std::map<std::string, int64_t>> List(const std::string& endpoint);
  // Sets the cursor (insert or replace). Errors: IOError.
  Status Put(const std::string& endpoint, const std::string& target_key, int64_t last_sent_ms, int64_t now_ms);
  // Forgets the cursor (a target removed from the config, after its stale markers went out).
  Status Delete(const std::string& endpoint, const std::string& target_key);

 private:
  explicit CursorDb(sqlite3* db) : db_(db) {}
  Status Exec(const std::string& sql);
  std::mutex mu_;
  sqlite3* db_;
};

}  // namespace sb::remote_write
