// The store's figures for docs/benchmarks.md, on the Scout simulator's data
// (tools/scout_sim/scout_data.h: realistic label sets; ~1/32 of the values change per
// hourly window):
//
//   BM_Store_AppendFetch/series:100000/timed_flush:0
//                                 one fetch of a 99,900-series org committed (synchronous
//                                 FULL, body kept as the snapshot: AppendFetchGzipBody with
//                                 the gzip'd text body, as the bridge calls it, since it
//                                 compresses that body to serve it anyway), series already
//                                 known
//   .../timed_flush:1             the same plus MaybeFlush after it (the open chunks are
//                                 written every 32 fetches): the amortized cost per fetch
//   BM_Store_OpenAndLatest/replay:0   Open a 99,900-series store and read Latest()
//   BM_Store_OpenAndLatest/replay:1   ... with 15 unflushed fetches to replay (a kill -9
//                                     just before a flush: the worst case)
//   BM_Store_Select30Days         Select one org's 245 series + Samples over 30 days, in a
//                                 store of 3 orgs x 90 days
//   BM_Store_Size/0               bytes/sample on disk, 245 series fetched hourly for 90 days
//   BM_Store_Size/1               ... the same with every value changing every fetch
//   BM_Store_IndexMemory          heap held by a 99,900-series store, SQLite's own
//                                 allocations (page caches, statements) subtracted: the
//                                 in-memory index (keys, ids, series times, open chunks,
//                                 postings); after 24 hourly fetches, and after a reopen
//
// Every store lives in a fresh directory under $TMPDIR (default /tmp), removed at the end.
#include <benchmark/benchmark.h>

#include <malloc.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "common/exposition/parser.h"
#include "common/gzip.h"
#include "storage/store.h"
#include "tools/scout_sim/scout_data.h"

namespace sb::storage {
namespace {

constexpr int64_t kStartMs = 1'700'000'000'000;
constexpr int64_t kHourMs = 3'600'000;

class BenchDir {
 public:
  BenchDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp ? tmp : "/tmp") + "/store_bench.XXXXXX";
    if (mkdtemp(templ.data()) == nullptr) std::abort();
    path_ = templ;
  }
  ~BenchDir() { std::filesystem::remove_all(path_); }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void Check(const Status& s) {
  if (!s.ok()) {
    fprintf(stderr, "bench: %s\n", s.ToString().c_str());
    std::abort();
  }
}

// One fetch of `spec` in window `w` as the bridge stores it: samples with job/instance
// labels, and the body.
struct Fetch {
  std::vector<SeriesSample> samples;
  std::string body;
  std::string body_gz;  // as the bridge has it: the snapshot's gzip'd text body
};

Fetch MakeFetch(const sim::OrgSpec& spec, int64_t w, bool with_body = true) {
  Fetch f;
  std::string body = sim::RenderOrgMetrics(spec, w);
  Result<expo::Exposition> exp = expo::ParseExposition(body, expo::Format::kText004);
  Check(exp.status());
  for (const expo::Family& fam : exp->families) {
    for (const expo::Sample& s : fam.samples) {
      SeriesSample ss;
      ss.value = s.value;
      ss.labels.push_back({"__name__", s.name});
      for (const expo::Label& l : s.labels) ss.labels.push_back({l.name, l.value});
      ss.labels.push_back({"job", "scout"});
      ss.labels.push_back({"instance", "api.scout.docker.com:443"});
      f.samples.push_back(std::move(ss));
    }
  }
  if (with_body) {
    f.body_gz = GzipCompress(body, 6).value();
    f.body = std::move(body);
  }
  return f;
}

int64_t FilesBytes(const std::string& path) {
  int64_t n = 0;
  for (const char* suffix : {"", "-wal"}) {
    std::error_code ec;
    const auto s = std::filesystem::file_size(path + suffix, ec);
    if (!ec) n += static_cast<int64_t>(s);
  }
  return n;
}

void BM_Store_AppendFetch(benchmark::State& state) {
  const sim::OrgSpec spec = sim::SpecForSeriesCount("big", static_cast<int>(state.range(0)));
  BenchDir dir;
  StoreOptions o;
  o.path = dir.File("bridge.db");
  auto store = Store::Open(o);
  Check(store.status());
  // Fetches of 8 windows, prepared up front; the first creates the series.
  std::vector<Fetch> fetches;
  for (int w = 0; w < 8; ++w) fetches.push_back(MakeFetch(spec, w));
  Check((*store)->AppendFetch("scout/big", kStartMs, fetches[0].samples, fetches[0].body));
  // Arg 1 = 0: AppendFetch alone (the commit latency; MaybeFlush, as the bridge calls it
  // after each fetch, runs untimed). 1: both timed, the amortized cost per fetch.
  const bool timed_flush = state.range(1) != 0;
  int64_t i = 1;
  for (auto _ : state) {
    const Fetch& f = fetches[1 + i % 7];
    Check((*store)->AppendFetchGzipBody("scout/big", kStartMs + i * kHourMs, f.samples,
                                        f.body_gz));
    if (!timed_flush) state.PauseTiming();
    Check((*store)->MaybeFlush());
    if (!timed_flush) state.ResumeTiming();
    ++i;
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(fetches[0].samples.size()));
  state.counters["series"] = static_cast<double>(fetches[0].samples.size());
}
BENCHMARK(BM_Store_AppendFetch)
    ->Args({100000, 0})
    ->Args({100000, 1})
    ->ArgNames({"series", "timed_flush"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Flush of 32 fetches' worth of a 99,900-series target: every open chunk rewritten once.
void BM_Store_Flush(benchmark::State& state) {
  const sim::OrgSpec spec = sim::SpecForSeriesCount("big", 100000);
  BenchDir dir;
  StoreOptions o;
  o.path = dir.File("bridge.db");
  o.head_log_max_fetches = 1000;  // only the timed Flush writes chunk rows
  o.head_log_max_samples = 100'000'000;
  auto store = Store::Open(o);
  Check(store.status());
  std::vector<Fetch> fetches;
  for (int w = 0; w < 8; ++w) fetches.push_back(MakeFetch(spec, w));
  int64_t i = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (int k = 0; k < 32; ++k, ++i) {
      const Fetch& f = fetches[i % 8];
      Check((*store)->AppendFetch("scout/big", kStartMs + i * kHourMs, f.samples, f.body));
    }
    state.ResumeTiming();
    Check((*store)->Flush());
  }
  state.counters["series"] = static_cast<double>(fetches[0].samples.size());
}
BENCHMARK(BM_Store_Flush)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(4);

// Arg 0: after a clean close (flushed: nothing to replay). Arg 1: as after a kill -9 with
// the most the head log holds before a flush (head_log_max_samples: 16 fetches of 99,900
// series; 15 of them left to replay).
void BM_Store_OpenAndLatest(benchmark::State& state) {
  const sim::OrgSpec spec = sim::SpecForSeriesCount("big", 100000);
  BenchDir dir;
  StoreOptions o;
  o.path = dir.File("bridge.db");
  const bool replay = state.range(0) != 0;
  {
    StoreOptions w_opts = o;
    w_opts.flush_on_close = !replay;
    auto store = Store::Open(w_opts);
    Check(store.status());
    const int n = replay ? 16 : 3;
    std::vector<Fetch> fetches;
    for (int w = 0; w < std::min(n, 8); ++w) fetches.push_back(MakeFetch(spec, w));
    for (int w = 0; w < n; ++w) {
      const Fetch& f = fetches[w % fetches.size()];
      Check((*store)->AppendFetch("scout/big", kStartMs + w * kHourMs, f.samples, f.body));
      if (w == 0) Check((*store)->Flush());  // the series' first chunk rows exist
    }
  }
  o.flush_on_close = false;  // every iteration opens the same state
  size_t body_bytes = 0;
  for (auto _ : state) {
    auto store = Store::Open(o);
    Check(store.status());
    auto latest = (*store)->Latest("scout/big");
    Check(latest.status());
    if (!latest->has_value()) std::abort();
    body_bytes = (*latest)->body.size();
  }
  state.counters["body_bytes"] = static_cast<double>(body_bytes);
}
BENCHMARK(BM_Store_OpenAndLatest)
    ->Arg(0)
    ->Arg(1)
    ->ArgName("replay")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_Store_Select30Days(benchmark::State& state) {
  BenchDir dir;
  StoreOptions o;
  o.path = dir.File("bridge.db");
  o.synchronous = "OFF";
  auto store = Store::Open(o);
  Check(store.status());
  constexpr int kFetches = 2160;  // 90 days hourly
  for (const char* org : {"org0", "org1", "org2"}) {
    const sim::OrgSpec spec = sim::SpecForSeriesCount(org, 250);
    Fetch first = MakeFetch(spec, 0, false);
    std::vector<SeriesSamples> batch;
    for (size_t s = 0; s < first.samples.size(); ++s) {
      SeriesSamples ss;
      ss.labels = first.samples[s].labels;
      ss.labels.push_back({"org", org});
      for (int w = 0; w < kFetches; ++w) {
        ss.samples.push_back({kStartMs + w * kHourMs, sim::SeriesValue(spec, static_cast<int>(s), w)});
      }
      batch.push_back(std::move(ss));
    }
    Check((*store)->AppendSamples(batch).status());
  }
  const int64_t maxt = kStartMs + (kFetches - 1) * kHourMs;
  const int64_t mint = maxt - 30 * 24 * kHourMs;
  const std::vector<Matcher> ms = {Matcher::Make(Matcher::Type::kEqual, "org", "org1").value()};
  size_t samples = 0, series = 0;
  for (auto _ : state) {
    auto refs = (*store)->Select(ms, mint, maxt);
    Check(refs.status());
    samples = 0;
    for (const SeriesRef& r : *refs) {
      auto s = (*store)->Samples(r.id, mint, maxt);
      Check(s.status());
      samples += s->size();
    }
    series = refs->size();
  }
  state.counters["series"] = static_cast<double>(series);
  state.counters["samples"] = static_cast<double>(samples);
}
BENCHMARK(BM_Store_Select30Days)->Unit(benchmark::kMillisecond);

// arg 0: Scout-like (the simulator's values, ~3% change per fetch); 1: busy (every value
// changes every fetch: a random walk).
void BM_Store_Size(benchmark::State& state) {
  const bool busy = state.range(0) == 1;
  const sim::OrgSpec spec = sim::SpecForSeriesCount("acme", 250);
  constexpr int kFetches = 2160;
  int64_t bytes = 0, samples = 0;
  for (auto _ : state) {
    BenchDir dir;
    StoreOptions o;
    o.path = dir.File("bridge.db");
    o.synchronous = "OFF";  // size does not depend on it; keeps the run short
    {
      auto store = Store::Open(o);
      Check(store.status());
      Fetch f = MakeFetch(spec, 0);
      uint64_t rng = 42;
      std::vector<double> walk(f.samples.size(), 1000.0);
      for (int w = 0; w < kFetches; ++w) {
        for (size_t s = 0; s < f.samples.size(); ++s) {
          if (busy) {
            rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
            walk[s] += static_cast<double>(rng >> 11) * 0x1.0p-53 - 0.5;
            f.samples[s].value = walk[s];
          } else {
            f.samples[s].value = sim::SeriesValue(spec, static_cast<int>(s), w);
          }
        }
        // As the bridge stores a fetch: the snapshot's gzip'd text body, then MaybeFlush.
        Check((*store)->AppendFetchGzipBody("scout/acme", kStartMs + w * kHourMs, f.samples,
                                            GzipCompress(f.body, 6).value()));
        Check((*store)->MaybeFlush());
      }
      samples = static_cast<int64_t>(f.samples.size()) * kFetches;
      // What the bridge's periodic retention pass does even with nothing to drop: return
      // free pages (the snapshot body is rewritten at every fetch) to the file system.
      Check((*store)->ApplyRetention(kStartMs + kFetches * kHourMs).status());
    }  // closing the last connection checkpoints and removes the WAL
    bytes = FilesBytes(o.path);
  }
  state.SetLabel(busy ? "busy" : "scout_like");
  state.counters["bytes"] = static_cast<double>(bytes);
  state.counters["samples"] = static_cast<double>(samples);
  state.counters["bytes_per_sample"] = static_cast<double>(bytes) / static_cast<double>(samples);
}
BENCHMARK(BM_Store_Size)->Arg(0)->Arg(1)->Iterations(1)->Unit(benchmark::kMillisecond);

// Heap in use (glibc's count of allocated bytes) minus SQLite's share of it.
int64_t HeapBytesOutsideSqlite() {
  const struct mallinfo2 mi = mallinfo2();
  return static_cast<int64_t>(mi.uordblks + mi.hblkhd) - sqlite3_memory_used();
}

// Run alone (--benchmark_filter=IndexMemory): the heap counts are process-wide.
void BM_Store_IndexMemory(benchmark::State& state) {
  const sim::OrgSpec spec = sim::SpecForSeriesCount("big", 100000);
  std::vector<Fetch> fetches;
  for (int w = 0; w < 8; ++w) fetches.push_back(MakeFetch(spec, w));
  constexpr int kFetches = 24;
  double appended = 0, reopened = 0, sqlite_bytes = 0;
  for (auto _ : state) {
    BenchDir dir;
    StoreOptions o;
    o.path = dir.File("bridge.db");
    o.synchronous = "OFF";  // memory does not depend on it
    const int64_t before = HeapBytesOutsideSqlite();
    {
      auto store = Store::Open(o);
      Check(store.status());
      for (int w = 0; w < kFetches; ++w) {
        const Fetch& f = fetches[w % fetches.size()];
        Check((*store)->AppendFetchGzipBody("scout/big", kStartMs + w * kHourMs, f.samples,
                                            f.body_gz));
        Check((*store)->MaybeFlush());
      }
      Check((*store)->Flush());
      appended = static_cast<double>(HeapBytesOutsideSqlite() - before);
    }
    {
      // Open rebuilds the index from the tables; the next fetch loads every open chunk.
      auto store = Store::Open(o);
      Check(store.status());
      const Fetch& f = fetches[kFetches % fetches.size()];
      Check((*store)->AppendFetchGzipBody("scout/big", kStartMs + kFetches * kHourMs,
                                          f.samples, f.body_gz));
      Check((*store)->Flush());
      reopened = static_cast<double>(HeapBytesOutsideSqlite() - before);
      sqlite_bytes = static_cast<double>(sqlite3_memory_used());
    }
  }
  state.counters["series"] = static_cast<double>(fetches[0].samples.size());
  state.counters["index_MB_after_24_fetches"] = appended / 1e6;
  state.counters["index_MB_after_reopen"] = reopened / 1e6;
  state.counters["sqlite_MB"] = sqlite_bytes / 1e6;  // not counted above
}
BENCHMARK(BM_Store_IndexMemory)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace sb::storage
