// `scout-bridge recommendations ...`: base-image recommendations on the command line.
//
//   scout-bridge recommendations ingest PATH|s3://BUCKET[/PREFIX] [--storage.path=DIR]
//       [--s3.endpoint=URL] [--s3.region=REGION] [--s3.profile=NAME] [--s3.path-style]
//     Runs one scan of that source into DIR/bridge.db (reports of other sources stay),
//     with a progress bar when stderr is a terminal, then prints a summary.
//   scout-bridge recommendations export --format=cypher|json [--storage.path=DIR]
//     Writes the stored graph to stdout (recommendations/export.h).
//
// DIR defaults to "data/". A running bridge keeps its own in-memory state and picks up
// what `ingest` wrote at its next start.
#pragma once

namespace sb::bridge {

// argv[1] is "recommendations". Returns 0 on success, 1 when the command fails (a source
// that cannot be listed, a store that cannot be opened), 2 on a usage error.
int RecommendationsCommand(int argc, char** argv);

}  // namespace sb::bridge
