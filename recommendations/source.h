// ReportSource: a place `docker scout recommendations` reports come from (a directory tree,
// or an S3 bucket and prefix). A scan lists the candidates, compares each version with
// the one it saw last time, and reads only the objects whose version changed.
//
// Implementations: DirectorySource (recommendations/directory_source.h) and S3Source
// (recommendations/s3_source.h). MakeSource (recommendations/make_source.h) picks one
// from a spec string.
//
// Thread-safety: an implementation need not be safe for concurrent calls; a scan uses one
// source from one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace sb::recommendations {

// One report file/object in a source.
struct ReportObject {
  std::string name;     // path relative to the root directory, or the full S3 key
  std::string version;  // changes whenever the content may have changed: "size:mtime_ns" for files, the ETag for S3
  int64_t size = 0;
};

// A place reports come from. Implementations: DirectorySource (yours), S3Source
// (recommendations/s3_source.h, by "s3").
class ReportSource {
 public:
  virtual ~ReportSource() = default;
  // "/srv/reports" or "s3://bucket/prefix" (never credentials).
  virtual std::string Describe() const = 0;
  // Every report candidate, sorted by name. Errors: clear one line naming the root/bucket.
  virtual Result<std::vector<ReportObject>> List() = 0;
  // The content of one object. Errors name the file or bucket+key.
  virtual Result<std::string> Read(const ReportObject& object) = 0;
};

}  // namespace sb::recommendations
