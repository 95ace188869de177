// Tests of the head log (storage/head_log.{h,cc}, storage/store_flush.cc): its byte format,
// replay at Open, Flush, and reads that merge unflushed samples with chunk rows.
#include <sqlite3.h>

#include <atomic>
#include <bit>
#include <string>
#include <thread>
#include <vector>

#include "storage/head_log.h"
#include "storage/store.h"
#include "tests/storage/store_testing.h"
#include "tests/storage/xor_chunk_data.h"
#include "tests/testing/testing.h"

namespace sb::storage {
namespace {

using ::testing::HasSubstr;
using testdata::kHourMs;
using testdata::kStartMs;

constexpr uint64_t kMinusZeroBits = 0x8000000000000000ULL;

// docs/format/schema.md, "head_log", worked example: ids 1, 2, 5, 3, 4 with values
// 0, 3, the stale marker, -0 and 300.
const unsigned char kGolden[] = {
    0x02, 0x00,                                            // id +1 = 1, value 0
    0x02, 0x06,                                            // id +1 = 2, value 3
    0x06, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x7f,  // id +3 = 5, stale marker
    0x03, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80,  // id -2 = 3, -0
    0x02, 0xd8, 0x04,                                      // id +1 = 4, value 300
    0xa5, 0xe3, 0x01, 0x8b,                                // CRC-32, little endian
};

std::string Golden() { return std::string(reinterpret_cast<const char*>(kGolden), sizeof(kGolden)); }

TEST(HeadLogFormatTest, GoldenBytes) {
  std::string blob;
  HeadLogWriter w(&blob);
  w.Add(1, 0.0);
  w.Add(2, 3.0);
  w.Add(5, std::bit_cast<double>(kStaleMarkerBits));
  w.Add(3, std::bit_cast<double>(kMinusZeroBits));
  w.Add(4, 300.0);
  w.Finish();
  EXPECT_EQ(w.count(), 5);
  EXPECT_EQ(blob, Golden());
  std::vector<HeadLogEntry> got;
  ASSERT_OK(DecodeHeadLog(blob, 5, &got));
  ASSERT_EQ(got.size(), 5u);
  const int64_t ids[] = {1, 2, 5, 3, 4};
  const uint64_t bits[] = {0, std::bit_cast<uint64_t>(3.0), kStaleMarkerBits, kMinusZeroBits,
                           std::bit_cast<uint64_t>(300.0)};
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(got[i].series_id, ids[i]);
    EXPECT_EQ(std::bit_cast<uint64_t>(got[i].value), bits[i]) << i;
  }
}

TEST(HeadLogFormatTest, EveryValueRoundTripsBitForBit) {
  const double values[] = {0.5, -1, 1e300, -1e-300, 9007199254740992.0 /* 2^53: raw */,
                           9007199254740991.0, std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity(),
                           std::bit_cast<double>(0x7ff8000000000001ULL), 42};
  std::string blob;
  HeadLogWriter w(&blob);
  int64_t id = 100;
  for (double v : values) w.Add(id += 1000, v);
  w.Finish();
  std::vector<HeadLogEntry> got;
  ASSERT_OK(DecodeHeadLog(blob, std::size(values), &got));
  ASSERT_EQ(got.size(), std::size(values));
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(std::bit_cast<uint64_t>(got[i].value), std::bit_cast<uint64_t>(values[i])) << i;
    EXPECT_EQ(got[i].series_id, 1100 + 1000 * static_cast<int64_t>(i));
  }
}

TEST(HeadLogFormatTest, DamageIsACorruptionErrorWithAPosition) {
  std::vector<HeadLogEntry> got;
  std::string flipped = Golden();
  flipped[3] ^= 0x10;
  Status s = DecodeHeadLog(flipped, 5, &got);
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_THAT(s.message(), HasSubstr("CRC mismatch"));

  EXPECT_THAT(DecodeHeadLog(Golden(), 4, &got).message(),
              HasSubstr("holds 5 entries, its row says 4"));
  EXPECT_THAT(DecodeHeadLog("ab", 0, &got).message(), HasSubstr("shorter than its CRC"));

  // A truncated raw value, with a valid CRC: the position is named.
  std::string blob;
  HeadLogWriter w(&blob);
  w.Add(1, 0.25);
  blob.resize(5);  // id, tag, 3 of the 8 value bytes
  w.Finish();
  s = DecodeHeadLog(blob, 1, &got);
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_THAT(s.message(), HasSubstr("truncated value at byte 0"));
}

SeriesSample S(const std::string& name, double v) {
  return SeriesSample{{{"__name__", name}, {"org", "acme"}}, v};
}

// Every sample of every series, as (series name, t, value bits), in series id order.
std::vector<std::tuple<std::string, int64_t, uint64_t>> Everything(Store* store) {
  std::vector<std::tuple<std::string, int64_t, uint64_t>> out;
  auto refs = store->Select({}, INT64_MIN, INT64_MAX);
  EXPECT_TRUE(refs.ok());
  if (!refs.ok()) return out;
  for (const SeriesRef& r : *refs) {
    auto got = store->Samples(r.id, INT64_MIN, INT64_MAX);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    if (!got.ok()) continue;
    for (const Sample& s : *got) {
      out.emplace_back(r.labels[0].value, s.timestamp_ms, std::bit_cast<uint64_t>(s.value));
    }
  }
  return out;
}

// Fetches f = 0..n-1 of two series, "a" = f and "b" = f/4 (repeats), "b" vanishing at
// fetch 7 (a stale marker) and coming back at 9.
void AppendFetches(Store* store, int from, int to) {
  for (int f = from; f < to; ++f) {
    std::vector<SeriesSample> fetch{S("a", f)};
    if (f < 7 || f >= 9) fetch.push_back(S("b", f / 4));
    ASSERT_OK(store->AppendFetch("t", kStartMs + f * kHourMs, fetch, "body" + std::to_string(f)));
  }
}

TEST(HeadLogStoreTest, AFetchIsOneHeadLogRowAndChunkRowsWaitForFlush) {
  testing::TempDir dir;
  StoreOptions o = TestStoreOptions(dir);
  auto store = OpenOrDie(o);
  AppendFetches(store.get(), 0, 5);
  EXPECT_EQ(store->PendingFetches(), 5u);
  EXPECT_EQ(RawScalar(o.path, "SELECT count(*) FROM head_log"), 5);
  EXPECT_EQ(RawScalar(o.path, "SELECT count(*) FROM chunks"), 0);
  const auto before = Everything(store.get());
  ASSERT_EQ(before.size(), 10u);  // read from memory: nothing is in a chunk row yet
  ASSERT_OK(store->Flush());
  EXPECT_EQ(store->PendingFetches(), 0u);
  EXPECT_EQ(RawScalar(o.path, "SELECT count(*) FROM head_log"), 0);
  EXPECT_EQ(RawScalar(o.path, "SELECT count(*) FROM chunks"), 2);
  EXPECT_EQ(RawScalar(o.path, "SELECT sum(num_samples) FROM chunks"), 10);
  EXPECT_EQ(Everything(store.get()), before);
}

TEST(HeadLogStoreTest, OpenReplaysWhatWasNeverFlushed) {
  testing::TempDir dir;
  StoreOptions o = TestStoreOptions(dir);
  o.flush_on_close = false;  // as after a kill -9
  o.chunk_max_samples = 3;   // chunks are closed while their samples are only logged
  std::vector<std::tuple<std::string, int64_t, uint64_t>> want;
  {
    auto store = OpenOrDie(o);
    AppendFetches(store.get(), 0, 6);
    ASSERT_OK(store->Flush());
    AppendFetches(store.get(), 6, 12);
    want = Everything(store.get());
    ASSERT_EQ(want.size(), 12u + 11u);  // a: 12; b: 7 + stale + 3
    EXPECT_EQ(store->PendingFetches(), 6u);
  }
  {
    auto store = OpenOrDie(o);
    EXPECT_EQ(store->PendingFetches(), 6u);
    EXPECT_EQ(Everything(store.get()), want);
    // Appending goes on from the replayed open chunks.
    AppendFetches(store.get(), 12, 14);
    ASSERT_OK(store->Flush());
    EXPECT_EQ(Everything(store.get()).size(), want.size() + 4);
  }
  {
    auto store = OpenOrDie(o);
    EXPECT_EQ(store->PendingFetches(), 0u);
    auto all = Everything(store.get());
    ASSERT_EQ(all.size(), want.size() + 4);
    EXPECT_TRUE(std::equal(want.begin(), want.begin() + 12, all.begin()));  // "a" first
    // Every chunk row is whole: 3 samples at most, and they add up.
    EXPECT_EQ(RawScalar(o.path, "SELECT max(num_samples) FROM chunks"), 3);
    EXPECT_EQ(RawScalar(o.path, "SELECT sum(num_samples) FROM chunks"),
              static_cast<int64_t>(all.size()));
  }
}

TEST(HeadLogStoreTest, ReplayOfManySeriesLoadsTheirOpenChunksInOnePass) {
  // Past 4096 series the open chunks are preloaded by one scan of the chunk rows.
  testing::TempDir dir;
  StoreOptions o = TestStoreOptions(dir);
  o.flush_on_close = false;
  o.chunk_max_samples = 4;
  constexpr int kSeries = 5000;
  auto fetch = [](int f) {
    std::vector<SeriesSample> out;
    for (int i = 0; i < kSeries; ++i) {
      out.push_back(SeriesSample{{{"__name__", "m"}, {"i", std::to_string(i)}}, f * 1000.0 + i});
    }
    return out;
  };
  {
    auto store = OpenOrDie(o);
    for (int f = 0; f < 6; ++f) {
      ASSERT_OK(store->AppendFetch("t", kStartMs + f * kHourMs, fetch(f), ""));
      // Rows: [0..2] at 2; 3 logged; 4 closes [0..3] and opens [4]; [4] at 4; 5 logged.
      // The preload must take each series' last row, [4], not [0..3].
      if (f == 2 || f == 4) ASSERT_OK(store->Flush());
    }
  }
  auto store = OpenOrDie(o);
  EXPECT_EQ(store->PendingFetches(), 1u);
  auto refs = store->Select({}, INT64_MIN, INT64_MAX);
  ASSERT_OK(refs);
  ASSERT_EQ(refs->size(), static_cast<size_t>(kSeries));
  for (const SeriesRef& r : *refs) {
    const int i = std::stoi(r.labels[1].value);
    auto got = store->Samples(r.id, INT64_MIN, INT64_MAX);
    ASSERT_OK(got);
    ASSERT_EQ(got->size(), 6u) << i;
    for (int f = 0; f < 6; ++f) ASSERT_EQ((*got)[f].value, f * 1000.0 + i);
  }
  // And the replayed open chunks go on: a flush writes them whole.
  ASSERT_OK(store->AppendFetch("t", kStartMs + 6 * kHourMs, fetch(6), ""));
  ASSERT_OK(store->Flush());
  EXPECT_EQ(RawScalar(o.path, "SELECT sum(num_samples) FROM chunks"), 7 * kSeries);
  // [0..3] and [4, 5, 6]: the replay went on in the last row's chunk.
  EXPECT_EQ(RawScalar(o.path, "SELECT count(*) FROM chunks"), 2 * kSeries);
}

TEST(HeadLogStoreTest, ADamagedHeadLogRowIsAClearErrorAtOpen) {
  testing::TempDir dir;
  StoreOptions o = TestStoreOptions(dir);
  o.flush_on_close = false;
  {
    auto store = OpenOrDie(o);
    AppendFetches(store.get(), 0, 3);
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(o.path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE head_log SET data = x'0200020600000000' WHERE seq = 2",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  Result<std::unique_ptr<Store>> r = Store::Open(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
  EXPECT_THAT(r.status().message(), HasSubstr("head_log row seq=2"));
  EXPECT_THAT(r.status().message(), HasSubstr("CRC mismatch"));
}

TEST(HeadLogStoreTest, AnImportOverUnflushedSamplesKeepsThem) {
  testing::TempDir dir;
  StoreOptions o = TestStoreOptions(dir);
  o.flush_on_close = false;
  o.chunk_max_samples = 3;
  {
    auto store = OpenOrDie(o);
    AppendFetches(store.get(), 0, 3);  // "a" has 0, 1, 2 only in the head log: full
    // The import's first sample cuts "a"'s open chunk: its row must be written whole,
    // or replaying the head log (which skips what is before the last row) loses 0..2.
    SeriesSamples in{{{"__name__", "a"}, {"org", "acme"}}, {}};
    for (int f = 3; f < 8; ++f) in.samples.push_back(Sample{kStartMs + f * kHourMs, 10.0 * f});
    auto stats = store->AppendSamples({in});
    ASSERT_OK(stats);
    EXPECT_EQ(stats->samples_added, 5);
  }
  auto store = OpenOrDie(o);  // replays the head log over what the import wrote
  std::vector<int64_t> ts;
  for (const auto& [name, t, bits] : Everything(store.get())) {
    if (name == "a") ts.push_back((t - kStartMs) / kHourMs);
  }
  EXPECT_EQ(ts, (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST(HeadLogStoreTest, ReadersSeeEveryAcknowledgedFetchWhileFlushesRun) {
  testing::TempDir dir;
  StoreOptions o = TestStoreOptions(dir);
  o.head_log_max_fetches = 3;
  o.chunk_max_samples = 5;
  auto store = OpenOrDie(o);
  constexpr int kFetches = 150;
  std::atomic<int> acked{0};
  std::thread writer([&] {
    for (int f = 0; f < kFetches; ++f) {
      EXPECT_OK(store->AppendFetch("t", kStartMs + f * kHourMs, {S("a", f), S("b", 2 * f)}, ""));
      acked = f + 1;
      EXPECT_OK(store->MaybeFlush());
    }
  });
  int reads = 0;
  while (acked < kFetches && reads < 100000) {
    const int before = acked;
    auto refs = store->Select({}, INT64_MIN, INT64_MAX);
    ASSERT_OK(refs);
    for (const SeriesRef& r : *refs) {
      auto got = store->Samples(r.id, INT64_MIN, INT64_MAX);
      ASSERT_OK(got);
      // No sample missing or doubled across the chunk rows / memory boundary.
      ASSERT_GE(got->size(), static_cast<size_t>(before));
      for (size_t i = 0; i < got->size(); ++i) {
        ASSERT_EQ((*got)[i].timestamp_ms, kStartMs + static_cast<int64_t>(i) * kHourMs);
        ASSERT_EQ((*got)[i].value, static_cast<double>(i) * (r.labels[0].value == "a" ? 1 : 2));
      }
    }
    ++reads;
  }
  writer.join();
  EXPECT_GT(reads, 0);
  EXPECT_LE(store->PendingFetches(), 3u);
}

TEST(HeadLogStoreTest, AVersion1StoreIsMigrated) {
  testing::TempDir dir;
  StoreOptions o = TestStoreOptions(dir);
  {
    auto store = OpenOrDie(o);
    AppendFetches(store.get(), 0, 2);
  }
  // As a version-1 binary left it: no head_log table.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(o.path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DROP TABLE head_log; PRAGMA user_version = 1", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto store = OpenOrDie(o);
  EXPECT_EQ(RawScalar(o.path, "PRAGMA user_version"), 2);
  EXPECT_EQ(Everything(store.get()).size(), 4u);
  AppendFetches(store.get(), 2, 3);
  EXPECT_EQ(store->PendingFetches(), 1u);
}

}  // namespace
}  // namespace sb::storage
