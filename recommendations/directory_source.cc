#include "recommendations/directory_source.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "common/log.h"

namespace sb::recommendations {
namespace fs = std::filesystem;

namespace {

// True when `path` is `root` or below it (both canonical).
bool IsUnder(const fs::path& path, const fs::path& root) {
  auto r = root.begin(), p = path.begin();
  for (; r != root.end(); ++r, ++p) {
    if (r->empty() && std::next(r) == root.end()) break;  // trailing separator
    if (p == path.end() || *p != *r) return false;
  }
  return true;
}

// "<size>:<mtime ns>" from stat(2) of the resolved file.
bool StatVersion(const fs::path& path, std::string* version, int64_t* size) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  int64_t mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  *size = static_cast<int64_t>(st.st_size);
  *version = std::to_string(st.st_size) + ":" + std::to_string(mtime_ns);
  return true;
}

}  // namespace

DirectorySource::DirectorySource(DirectorySourceOptions options) : options_(std::move(options)) {}

Result<std::vector<ReportObject>> DirectorySource::List() {
  std::error_code ec;
  fs::path root = fs::weakly_canonical(options_.root, ec);
  if (ec || !fs::is_directory(root, ec)) {
    return Status::NotFound(options_.root + ": no such directory");
  }
  std::vector<ReportObject> out;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
  if (ec) return Status::IOError(options_.root + ": " + ec.message());
  for (fs::recursive_directory_iterator end; it != end; it.increment(ec)) {
    if (ec) return Status::IOError(options_.root + ": listing: " + ec.message());
    const fs::directory_entry& entry = *it;
    std::string leaf = entry.path().filename().string();
    if (!leaf.empty() && leaf[0] == '.') {
      if (entry.is_directory(ec) && !entry.is_symlink(ec)) it.disable_recursion_pending();
      continue;
    }
    fs::path target = entry.path();
    if (entry.is_symlink(ec)) {
      // Never followed into directories (the iterator does not recurse through links);
      // a file link counts only when it resolves under the root.
      fs::path resolved = fs::weakly_canonical(entry.path(), ec);
      if (ec || !IsUnder(resolved, root)) {
        LogDebug("recommendations: symlink out of the root skipped",
                 {{"root", options_.root}, {"file", entry.path().lexically_relative(root).string()}});
        ec.clear();
        continue;
      }
      target = resolved;
    }
    ReportObject object;
    if (!StatVersion(target, &object.version, &object.size)) continue;  // not a regular file
    object.name = entry.path().lexically_relative(root).generic_string();
    out.push_back(std::move(object));
    if (out.size() > options_.max_files) {
      return Status::ResourceExhausted(options_.root + ": more than " + std::to_string(options_.max_files) +
                                       " files");
    }
  }
  std::sort(out.begin(), out.end(), [](const ReportObject& a, const ReportObject& b) { return a.name < b.name; });
  return out;
}

Result<std::string> DirectorySource::Read(const ReportObject& object) {
  std::error_code ec;
  fs::path root = fs::weakly_canonical(options_.root, ec);
  fs::path path = fs::weakly_canonical(root / object.name, ec);
  std::string display = (fs::path(options_.root) / object.name).string();
  if (ec) return Status::NotFound(display + ": " + ec.message());
  if (!IsUnder(path, root)) return Status::PermissionDenied(display + ": resolves out of " + options_.root);
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(display + ": cannot open");
  // Size the buffer from stat, not from the limit; read one byte more to catch growth.
  std::string version;
  int64_t size = 0;
  if (!StatVersion(path, &version, &size)) return Status::NotFound(display + ": not a regular file");
  if (static_cast<size_t>(size) > options_.max_file_bytes) {
    return Status::ResourceExhausted(display + ": larger than " + std::to_string(options_.max_file_bytes) + " bytes");
  }
  std::string data;
  data.resize(static_cast<size_t>(size) + 1);
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  if (in.bad()) return Status::IOError(display + ": read error");
  data.resize(static_cast<size_t>(in.gcount()));
  if (data.size() > options_.max_file_bytes) {
    return Status::ResourceExhausted(display + ": larger than " + std::to_string(options_.max_file_bytes) + " bytes");
  }
  return data;
}

}  // namespace sb::recommendations
