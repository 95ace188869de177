// DirectorySource: the reports under one local directory, read recursively.
//
// Rules:
//  - hidden files and hidden directories (name starting with '.') are skipped, with all
//    they contain;
//  - symbolic links are never followed out of the root: a link to a file is listed only
//    when its target resolves (weakly_canonical) to a place under the root; links to
//    directories are not descended into at all (no loops);
//  - only regular files are listed, sorted by their path relative to the root ('/'
//    separated);
//  - the version of a file is "<size>:<mtime in ns>", so a scan re-reads a file only when
//    either changed.
//
// Thread-safety: none needed (see ReportSource); List() and Read() do not share state
// beyond the immutable root.
#pragma once

#include <cstddef>
#include <string>

#include "recommendations/source.h"

namespace sb::recommendations {

struct DirectorySourceOptions {
  std::string root;  // the directory; required
  // A listing with more files fails (ResourceExhausted) instead of growing without end.
  // Default 1,000,000.
  size_t max_files = 1000000;
  // Files larger than this fail to Read (ResourceExhausted); reports are a few KB.
  // Default 16 MiB (the parser's limit).
  size_t max_file_bytes = 16u << 20;
};

class DirectorySource final : public ReportSource {
 public:
  // The root need not exist yet: List() reports NotFound until it does.
  explicit DirectorySource(DirectorySourceOptions options);

  std::string Describe() const override { return options_.root; }
  // Errors: NotFound "<root>: no such directory"; IOError naming the root and the entry;
  // ResourceExhausted beyond max_files.
  Result<std::vector<ReportObject>> List() override;
  // Errors: NotFound/IOError naming the file; PermissionDenied when the file now resolves
  // out of the root; ResourceExhausted beyond max_file_bytes.
  Result<std::string> Read(const ReportObject& object) override;

 private:
  DirectorySourceOptions options_;
};

}  // namespace sb::recommendations
