// Parse rate of real reports, and scans over a directory of 10,000 reports: the first
// (everything parsed and written) and a rescan where nothing changed (target: < 1 s).
//
//   build-recs/bench/recommendations_bench --benchmark_filter=.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "recommendations/directory_source.h"
#include "recommendations/parser.h"
#include "recommendations/scanner.h"

namespace sb::recommendations {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::vector<std::pair<std::string, std::string>>& Fixtures() {
  static const auto* fixtures = [] {
    auto* out = new std::vector<std::pair<std::string, std::string>>;
    for (const auto& e : fs::directory_iterator(std::string(SB_SOURCE_DIR) + "/tests/recommendations/fixtures")) {
      if (e.path().extension() == ".txt") out->emplace_back(e.path().filename().string(), ReadAll(e.path()));
    }
    std::sort(out->begin(), out->end());
    return out;
  }();
  return *fixtures;
}

// Parses all 18 fixtures per iteration.
void BM_ParseReport_AllFixtures(benchmark::State& state) {
  const auto& fx = Fixtures();
  size_t bytes = 0;
  for (const auto& f : fx) bytes += f.second.size();
  for (auto _ : state) {
    for (const auto& [name, text] : fx) {
      auto r = ParseReport(text, name);
      benchmark::DoNotOptimize(r);
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * fx.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_ParseReport_AllFixtures);

// One fixture at a time: 0 = 01 (current layout), 12 = 13 (DEC letters), 15 = 16 (legacy).
void BM_ParseReport_One(benchmark::State& state) {
  const auto& [name, text] = Fixtures().at(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    auto r = ParseReport(text, name);
    benchmark::DoNotOptimize(r);
  }
  state.SetLabel(name.substr(0, 2));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ParseReport_One)->Arg(0)->Arg(12)->Arg(15);

// A directory of `n` reports in 100 folders: the fixtures, each copy with its own target name.
struct Corpus {
  fs::path dir;  // the reports
  fs::path db;   // the store directory, outside the reports
  explicit Corpus(int n) {
    dir = fs::temp_directory_path() / ("sb-recs-bench-" + std::to_string(::getpid()));
    db = fs::temp_directory_path() / ("sb-recs-bench-db-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::remove_all(db);
    const auto& fx = Fixtures();
    for (int i = 0; i < n; ++i) {
      std::string text = fx[static_cast<size_t>(i) % fx.size()].second;
      size_t at = text.find("Target");
      if (at != std::string::npos) {
        size_t eol = text.find('\n', at);
        text.insert(eol, "-" + std::to_string(i));  // a distinct image name per file
      }
      fs::path folder = dir / ("team-" + std::to_string(i % 100));
      fs::create_directories(folder);
      std::ofstream(folder / ("image-" + std::to_string(i) + ".txt"), std::ios::binary) << text;
    }
  }
  ~Corpus() {
    fs::remove_all(dir);
    fs::remove_all(db);
  }
};

void BM_Scan10k_First(benchmark::State& state) {
  Corpus corpus(10000);
  for (auto _ : state) {
    state.PauseTiming();
    fs::remove_all(corpus.db);
    fs::create_directories(corpus.db);
    auto scanner = Scanner::Open({(corpus.db / "bridge.db").string()});
    DirectorySource real({corpus.dir.string()});
    state.ResumeTiming();
    ScanSummary s = (*scanner)->Scan({&real});
    if (!s.ok() || s.reports == 0) state.SkipWithError(s.ToString().c_str());
    state.counters["reports"] = static_cast<double>(s.reports);
  }
  state.SetItemsProcessed(state.iterations() * 10000);
}
BENCHMARK(BM_Scan10k_First)->Unit(benchmark::kMillisecond)->Iterations(2);

void BM_Rescan10k_Unchanged(benchmark::State& state) {
  Corpus corpus(10000);
  fs::create_directories(corpus.db);
  auto scanner = Scanner::Open({(corpus.db / "bridge.db").string()});
  DirectorySource source({corpus.dir.string()});
  ScanSummary first = (*scanner)->Scan({&source});
  for (auto _ : state) {
    ScanSummary s = (*scanner)->Scan({&source});
    if (s.changed || s.sources[0].unchanged < 10000) state.SkipWithError(s.ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations() * 10000);
}
BENCHMARK(BM_Rescan10k_Unchanged)->Unit(benchmark::kMillisecond)->Iterations(10);

}  // namespace
}  // namespace sb::recommendations
