#include "bridge/recommendations_command.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "recommendations/export.h"
#include "recommendations/make_source.h"
#include "recommendations/scanner.h"

namespace sb::bridge {
namespace rec = sb::recommendations;

namespace {

constexpr const char* kUsage =
    "usage: scout-bridge recommendations ingest PATH|s3://BUCKET[/PREFIX] [--storage.path=DIR]\n"
    "                        [--s3.endpoint=URL] [--s3.region=REGION] [--s3.profile=NAME] [--s3.path-style]\n"
    "       scout-bridge recommendations export --format=cypher|json [--storage.path=DIR]\n";

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> flags;
};

// Parses "--name=value", "--name value" and the boolean "--s3.path-style". Returns false
// (after printing why) on an unknown flag.
bool ParseArgs(int argc, char** argv, int first, Args* out) {
  static const std::vector<std::string> kValued = {"storage.path", "format", "s3.endpoint", "s3.region", "s3.profile"};
  for (int i = first; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) {
      out->positional.push_back(a);
      continue;
    }
    std::string name = a.substr(2), value;
    size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (name == "s3.path-style" && eq == std::string::npos) {
      out->flags[name] = "true";
      continue;
    }
    if (std::find(kValued.begin(), kValued.end(), name) == kValued.end()) {
      std::cerr << "scout-bridge recommendations: unknown flag --" << name << "\n" << kUsage;
      return false;
    }
    if (eq == std::string::npos) {
      if (i + 1 >= argc) {
        std::cerr << "scout-bridge recommendations: --" << name << " needs a value\n" << kUsage;
        return false;
      }
      value = argv[++i];
    }
    out->flags[name] = value;
  }
  return true;
}

std::string DbPath(const Args& args) {
  auto it = args.flags.find("storage.path");
  std::string dir = it == args.flags.end() ? "data/" : it->second;
  return (std::filesystem::path(dir) / "bridge.db").string();
}

// "[##########----------] 512/1024 /srv/reports" on one terminal line, redrawn in place.
class ProgressBar {
 public:
  void Update(const rec::ScanProgress& p) {
    size_t step = p.total / 200 + 1;  // at most ~200 redraws per source
    if (p.done % step != 0 && p.done + 1 != p.total) return;
    constexpr int kWidth = 30;
    int filled = p.total ? static_cast<int>((p.done + 1) * kWidth / p.total) : kWidth;
    std::string bar(filled, '#');
    bar.append(kWidth - filled, '-');
    std::fprintf(stderr, "\r[%s] %zu/%zu %s", bar.c_str(), p.done + 1, p.total, p.source.c_str());
    std::fflush(stderr);
    drawn_ = true;
  }
  void Finish() {
    if (drawn_) std::fputc('\n', stderr);
  }

 private:
  bool drawn_ = false;
};

int Ingest(const Args& args) {
  if (args.positional.size() != 1) {
    std::cerr << "scout-bridge recommendations ingest: give exactly one PATH or s3:// URL\n" << kUsage;
    return 2;
  }
  rec::SourceSettings settings = rec::SourceSettingsFromEnv();
  if (auto it = args.flags.find("s3.endpoint"); it != args.flags.end()) settings.s3_endpoint = it->second;
  if (auto it = args.flags.find("s3.region"); it != args.flags.end()) settings.s3_region = it->second;
  if (auto it = args.flags.find("s3.profile"); it != args.flags.end()) settings.s3_profile = it->second;
  settings.s3_path_style = args.flags.count("s3.path-style") > 0;
  auto source = rec::MakeSource(args.positional[0], settings);
  if (!source.ok()) {
    std::cerr << "scout-bridge recommendations ingest: " << source.status().message() << "\n";
    return 2;
  }
  std::string db = DbPath(args);
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(db).parent_path(), ec);
  auto scanner = rec::Scanner::Open({db});
  if (!scanner.ok()) {
    std::cerr << "scout-bridge recommendations ingest: " << scanner.status().message() << "\n";
    return 1;
  }
  ProgressBar bar;
  rec::ProgressFn progress;
  if (::isatty(STDERR_FILENO)) progress = [&bar](const rec::ScanProgress& p) { bar.Update(p); };
  rec::ScanSummary summary = (*scanner)->Scan({source->get()}, progress, /*keep_other_sources=*/true);
  bar.Finish();
  for (const auto& s : summary.sources) {
    if (!s.status.ok()) {
      std::cout << s.source << ": FAILED: " << s.status.message() << "\n";
      continue;
    }
    std::cout << s.source << ": " << s.listed << " files, " << s.parsed << " parsed, " << s.unchanged
              << " unchanged, " << s.skipped << " not reports, " << s.failed << " errors, " << s.removed
              << " removed\n";
  }
  std::cout << "reports=" << summary.reports << " nodes=" << summary.nodes << " relationships=" << summary.edges
            << " duration_ms=" << summary.duration_ms << "\n";
  if (!summary.store_status.ok()) std::cout << "store: FAILED: " << summary.store_status.message() << "\n";
  return summary.ok() ? 0 : 1;
}

int Export(const Args& args) {
  auto it = args.flags.find("format");
  std::string format = it == args.flags.end() ? "" : it->second;
  if ((format != "cypher" && format != "json") || !args.positional.empty()) {
    std::cerr << "scout-bridge recommendations export: --format must be cypher or json\n" << kUsage;
    return 2;
  }
  std::string db = DbPath(args);
  if (!std::filesystem::exists(db)) {
    std::cerr << "scout-bridge recommendations export: no store at " << db << "\n";
    return 1;
  }
  auto store = rec::GraphStore::Open(db);
  if (!store.ok()) {
    std::cerr << "scout-bridge recommendations export: " << store.status().message() << "\n";
    return 1;
  }
  auto graph = (*store)->LoadGraph();
  if (!graph.ok()) {
    std::cerr << "scout-bridge recommendations export: " << graph.status().message() << "\n";
    return 1;
  }
  std::cout << (format == "cypher" ? rec::ExportCypher(*graph) : rec::ExportJson(*graph));
  return 0;
}

}  // namespace

int RecommendationsCommand(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << kUsage;
    return 2;
  }
  std::string sub = argv[2];
  Args args;
  if (!ParseArgs(argc, argv, 3, &args)) return 2;
  if (sub == "ingest") return Ingest(args);
  if (sub == "export") return Export(args);
  std::cerr << "scout-bridge recommendations: unknown subcommand \"" << sub << "\"\n" << kUsage;
  return 2;
}

}  // namespace sb::bridge
