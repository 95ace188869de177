// Helpers shared by the store's tests: options for a throwaway store, opening one, and raw
// SQLite access to its file, to inspect or damage what the store wrote.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <string>

#include "storage/store.h"
#include "tests/testing/testing.h"

namespace sb::storage {

// A store in `dir` with synchronous = OFF: durability is not under test (the crash test
// sets its own options); it keeps the tests fast.
inline StoreOptions TestStoreOptions(const testing::TempDir& dir) {
  StoreOptions o;
  o.path = dir.File("store.db");
  o.synchronous = "OFF";
  return o;
}

inline std::unique_ptr<Store> OpenOrDie(const StoreOptions& o) {
  Result<std::unique_ptr<Store>> r = Store::Open(o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

// The first column of the first row of `sql` run on the file at `path`; -1 if none.
inline int64_t RawScalar(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr);
  int64_t n = -1;
  if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

// Runs `sql` on the file at `path`, expecting success.
inline void RawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

}  // namespace sb::storage
