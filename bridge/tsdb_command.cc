#include "bridge/tsdb_command.h"

#include <algorithm>
#include <csignal>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "storage/import.h"
#include "storage/store.h"
#include "storage/tools.h"

namespace sb::bridge {

namespace {

// Indented to follow "usage: ".
constexpr const char* kTsdbUsage =
    R"(       scout-bridge tsdb analyze [--storage.path=DIR] [--limit=N]
       scout-bridge tsdb dump [--storage.path=DIR] [--match=SELECTOR ...] [--start=TIME] [--end=TIME]
       scout-bridge tsdb import --format=openmetrics FILE [--storage.path=DIR]
)";

constexpr const char* kHelp = R"(
tsdb analyze: series, samples, chunks, bytes on disk, bytes per sample, and the top
  label names by cardinality (--limit of them, default 10) of the store DIR/bridge.db.
tsdb dump: every sample as `{labels} value timestamp_ms`, one per line, of the series
  matching any --match selector (e.g. 'scout_vulns{severity=~"high|critical"}'; default
  all series) with --start <= timestamp <= --end. TIME is RFC 3339
  (2023-11-14T22:13:20Z) or unix seconds.
tsdb import: backfills DIR/bridge.db from FILE, OpenMetrics text as `promtool tsdb
  create-blocks-from openmetrics` takes it (timestamps in seconds on every sample, ending
  in "# EOF"). One transaction: bad input writes nothing. Samples at or before a series'
  last stored sample are skipped, so importing a file twice adds nothing. Stop the
  bridge that uses DIR first.
  --storage.path defaults to "data/".
)";

int Usage(const std::string& err) {
  if (!err.empty()) std::cerr << "scout-bridge tsdb: " << err << "\n\n";
  std::cerr << "usage: " << (kTsdbUsage + 7) << "(scout-bridge tsdb --help for more)\n";
  return 2;
}

struct TsdbFlags {
  std::string storage_path = "data/";
  std::vector<std::string> matches;
  std::string start, end, limit, format;
  std::vector<std::string> args;  // positional arguments
};

// Parses "--name=value" and "--name value" from argv[3...], for the flags in `known`;
// up to `max_args` positional arguments go to f->args.
bool Parse(int argc, char** argv, const std::vector<std::string>& known, TsdbFlags* f,
           std::string* err, size_t max_args = 0) {
  for (int i = 3; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--", 0) != 0) {
      if (f->args.size() >= max_args) {
        *err = "unexpected argument \"" + a + "\"";
        return false;
      }
      f->args.push_back(a);
      continue;
    }
    std::string name = a.substr(2), value;
    const size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    } else if (std::find(known.begin(), known.end(), name) != known.end()) {
      if (i + 1 >= argc) {
        *err = "flag --" + name + " needs a value";
        return false;
      }
      value = argv[++i];
    }
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      *err = "unknown flag --" + name;
      return false;
    }
    if (name == "storage.path") f->storage_path = value;
    else if (name == "match") f->matches.push_back(value);
    else if (name == "start") f->start = value;
    else if (name == "end") f->end = value;
    else if (name == "limit") f->limit = value;
    else if (name == "format") f->format = value;
  }
  return true;
}

std::string DbPath(const TsdbFlags& f) {
  return (std::filesystem::path(f.storage_path) / "bridge.db").string();
}

int Analyze(const TsdbFlags& f) {
  size_t limit = 10;
  if (!f.limit.empty()) {
    char* end = nullptr;
    const unsigned long v = std::strtoul(f.limit.c_str(), &end, 10);
    if (*end != '\0' || f.limit[0] == '-') return Usage("invalid --limit \"" + f.limit + "\"");
    limit = v;
  }
  Result<storage::AnalyzeReport> r = storage::Analyze(DbPath(f));
  if (!r.ok()) {
    std::cerr << "scout-bridge tsdb analyze: " << r.status().message() << "\n";
    return 1;
  }
  std::cout << storage::FormatAnalyze(*r, limit);
  return 0;
}

int Dump(const TsdbFlags& f) {
  std::vector<std::vector<storage::Matcher>> selectors;
  for (const std::string& m : f.matches) {
    Result<std::vector<storage::Matcher>> sel = storage::ParseSelector(m);
    if (!sel.ok()) return Usage("--match \"" + m + "\": " + sel.status().message());
    selectors.push_back(std::move(sel).value());
  }
  int64_t start = INT64_MIN, end = INT64_MAX;
  for (auto [text, out, name] : {std::tuple{&f.start, &start, "--start"},
                                 std::tuple{&f.end, &end, "--end"}}) {
    if (text->empty()) continue;
    Result<int64_t> t = storage::ParseTimeFlag(*text);
    if (!t.ok()) return Usage(std::string(name) + ": " + t.status().message());
    *out = *t;
  }
  if (start > end) return Usage("--start is after --end");
  const std::string path = DbPath(f);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    std::cerr << "scout-bridge tsdb dump: no store at " << path << "\n";
    return 1;
  }
  // Like other Unix filters, die quietly when the reader goes away (`| head`); main()
  // ignores SIGPIPE for the server's sockets.
  signal(SIGPIPE, SIG_DFL);
  storage::StoreOptions opts;
  opts.path = path;
  Result<std::unique_ptr<storage::Store>> store = storage::Store::Open(opts);
  if (!store.ok()) {
    std::cerr << "scout-bridge tsdb dump: " << store.status().message() << "\n";
    return 1;
  }
  Status st = storage::Dump(**store, selectors, start, end, std::cout);
  std::cout.flush();
  if (!st.ok()) {
    std::cerr << "scout-bridge tsdb dump: " << st.message() << "\n";
    return 1;
  }
  return 0;
}

int Import(const TsdbFlags& f) {
  if (f.format.empty()) return Usage("tsdb import needs --format=openmetrics");
  if (f.format != "openmetrics") {
    return Usage("unknown --format \"" + f.format + "\" (only openmetrics is supported)");
  }
  if (f.args.size() != 1) return Usage("tsdb import needs exactly one FILE");
  const std::string& file = f.args[0];
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::cerr << "scout-bridge tsdb import: cannot read " << file << ": "
              << std::strerror(errno) << "\n";
    return 1;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) {
    std::cerr << "scout-bridge tsdb import: error reading " << file << "\n";
    return 1;
  }
  const std::string body = std::move(buf).str();
  // Parse and check everything before the store is created or opened.
  Result<std::vector<storage::SeriesSamples>> batch = storage::ParseOpenMetricsForImport(body);
  if (!batch.ok()) {
    std::cerr << "scout-bridge tsdb import: " << file << ":" << batch.status().message()
              << "\n";
    return 1;
  }
  std::error_code ec;
  std::filesystem::create_directories(f.storage_path, ec);
  if (ec) {
    std::cerr << "scout-bridge tsdb import: cannot create " << f.storage_path << ": "
              << ec.message() << "\n";
    return 1;
  }
  storage::StoreOptions opts;
  opts.path = DbPath(f);
  Result<std::unique_ptr<storage::Store>> store = storage::Store::Open(opts);
  if (!store.ok()) {
    std::cerr << "scout-bridge tsdb import: " << store.status().message() << "\n";
    return 1;
  }
  Result<storage::ImportStats> stats = (*store)->AppendSamples(*batch);
  if (!stats.ok()) {
    std::cerr << "scout-bridge tsdb import: " << stats.status().message() << "\n";
    return 1;
  }
  int64_t min_t = INT64_MAX, max_t = INT64_MIN;
  for (const storage::SeriesSamples& s : *batch) {
    if (s.samples.empty()) continue;
    min_t = std::min(min_t, s.samples.front().timestamp_ms);
    max_t = std::max(max_t, s.samples.back().timestamp_ms);
  }
  std::cout << "Imported " << file << " into " << opts.path << "\n"
            << "Series: " << stats->series << " (" << stats->series_created << " new)\n"
            << "Samples added: " << stats->samples_added << "\n"
            << "Samples skipped (already stored): " << stats->samples_skipped << "\n";
  if (min_t <= max_t) {
    std::cout << "Time range of the file: " << min_t << " to " << max_t << " (ms)\n";
  }
  return 0;
}

}  // namespace

int TsdbCommand(int argc, char** argv) {
  if (argc < 3) return Usage("missing subcommand (analyze, dump or import)");
  const std::string sub = argv[2];
  if (sub == "--help" || sub == "-h") {
    std::cout << "usage: " << (kTsdbUsage + 7) << kHelp;
    return 0;
  }
  TsdbFlags flags;
  std::string err;
  if (sub == "analyze") {
    if (!Parse(argc, argv, {"storage.path", "limit"}, &flags, &err)) return Usage(err);
    return Analyze(flags);
  }
  if (sub == "dump") {
    if (!Parse(argc, argv, {"storage.path", "match", "start", "end"}, &flags, &err)) {
      return Usage(err);
    }
    return Dump(flags);
  }
  if (sub == "import") {
    if (!Parse(argc, argv, {"storage.path", "format"}, &flags, &err, /*max_args=*/1)) {
      return Usage(err);
    }
    return Import(flags);
  }
  return Usage("unknown subcommand \"" + sub + "\" (analyze, dump or import)");
}

}  // namespace sb::bridge
