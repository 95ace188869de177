// `scout-bridge tsdb ...`: the store tools for people (storage/tools.h) on the command line.
//
//   scout-bridge tsdb analyze [--storage.path=DIR] [--limit=N]
//   scout-bridge tsdb dump [--storage.path=DIR] [--match=SELECTOR ...] [--start=T] [--end=T]
//   scout-bridge tsdb import --format=openmetrics FILE [--storage.path=DIR]   (storage/import.h)
//
// The store is DIR/bridge.db (DIR defaults to "data/"), as the bridge itself uses.
#pragma once

namespace sb::bridge {

// Runs `scout-bridge tsdb ...`; argv[1] is "tsdb". Writes results to stdout and errors to
// stderr. Returns the exit code: 0 on success, 1 when the command fails (no store at the
// path, a corrupt chunk, ...), 2 on a usage error (unknown flag or subcommand, a bad
// selector or time).
int TsdbCommand(int argc, char** argv);

}  // namespace sb::bridge
