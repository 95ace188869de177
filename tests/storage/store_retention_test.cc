// Tests of Store::ApplyRetention (storage/store_retention.cc).
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "common/clock.h"
#include "storage/store.h"
#include "tests/storage/store_testing.h"
#include "tests/storage/xor_chunk_data.h"
#include "tests/testing/testing.h"

namespace sb::storage {
namespace {

using std::chrono::hours;
using testdata::kHourMs;
using testdata::kStartMs;

StoreOptions Options(const testing::TempDir& dir) {
  StoreOptions o;
  o.path = dir.File("store.db");
  o.synchronous = "OFF";
  o.chunk_max_samples = 24;  // one chunk per day of hourly samples
  o.retention_time = hours(24 * 5);
  return o;
}

Labels L(std::string name) { return {{"__name__", std::move(name)}}; }

std::vector<Sample> Hourly(int from, int to) {  // samples at hours [from, to)
  std::vector<Sample> out;
  for (int i = from; i < to; ++i) out.push_back({kStartMs + i * kHourMs, double(i)});
  return out;
}

std::vector<Sample> Read(Store* store, const std::string& name) {
  Result<std::vector<SeriesRef>> refs = store->Select(
      {Matcher::Make(Matcher::Type::kEqual, "__name__", name).value()}, INT64_MIN, INT64_MAX);
  EXPECT_TRUE(refs.ok());
  if (!refs.ok() || refs->size() != 1) return {};
  Result<std::vector<Sample>> s = store->Samples((*refs)[0].id, INT64_MIN, INT64_MAX);
  EXPECT_TRUE(s.ok());
  return s.ok() ? *s : std::vector<Sample>{};
}

int64_t FilesBytes(const std::string& path) {
  std::error_code ec;
  int64_t n = static_cast<int64_t>(std::filesystem::file_size(path, ec));
  if (ec) n = 0;
  const auto wal = std::filesystem::file_size(path + "-wal", ec);
  return n + (ec ? 0 : static_cast<int64_t>(wal));
}

TEST(StoreRetentionTest, OldDataDisappearsChunkByChunkAndNewerDataStays) {
  testing::TempDir dir;
  const StoreOptions o = Options(dir);
  FakeClock clock(kStartMs + 240 * kHourMs);  // 10 days after the first sample
  {
    auto store = OpenOrDie(o);
    // "live" has 10 days (10 chunks of 24 samples); "gone" stopped after 3 days.
    ASSERT_OK(store->AppendSamples({{L("live"), Hourly(0, 240)}, {L("gone"), Hourly(0, 72)}}));
    Result<RetentionStats> r = store->ApplyRetention(clock.NowMs());
    ASSERT_OK(r);
    // Cutoff = hour 120: the chunks ending at hours 23, 47, 71, 95, 119 of "live" and all
    // three of "gone" go.
    EXPECT_EQ(r->chunks_dropped, 8);
    EXPECT_EQ(r->samples_dropped, 120 + 72);
    EXPECT_EQ(r->series_emptied, 1);
    std::vector<Sample> live = Read(store.get(), "live");
    ASSERT_EQ(live.size(), 120u);
    EXPECT_EQ(live.front().timestamp_ms, kStartMs + 120 * kHourMs);
    EXPECT_TRUE(Read(store.get(), "gone").empty());
    // An emptied series is no longer selected, but keeps its labels.
    Result<std::vector<SeriesRef>> all = store->Select({}, INT64_MIN, INT64_MAX);
    ASSERT_OK(all);
    EXPECT_EQ(all->size(), 1u);
    EXPECT_EQ(store->LabelValues("__name__").size(), 2u);

    // One hour later the chunk [120, 143] still has data newer than the cutoff: kept whole.
    clock.Advance(hours(1));
    r = store->ApplyRetention(clock.NowMs());
    ASSERT_OK(r);
    EXPECT_EQ(r->chunks_dropped, 0);
    EXPECT_EQ(Read(store.get(), "live").size(), 120u);
    // Once its newest sample (hour 143) is older than the cutoff, it goes.
    clock.SetMs(kStartMs + (143 + 1 + 120) * kHourMs);
    r = store->ApplyRetention(clock.NowMs());
    ASSERT_OK(r);
    EXPECT_EQ(r->chunks_dropped, 1);
    EXPECT_EQ(r->samples_dropped, 24);
  }
  // The in-memory state after a restart agrees.
  auto store = OpenOrDie(o);
  std::vector<Sample> live = Read(store.get(), "live");
  ASSERT_EQ(live.size(), 96u);
  EXPECT_EQ(live.front().timestamp_ms, kStartMs + 144 * kHourMs);
  Result<std::vector<SeriesRef>> old =
      store->Select({}, INT64_MIN, kStartMs + 143 * kHourMs);
  ASSERT_OK(old);
  EXPECT_TRUE(old->empty());
}

TEST(StoreRetentionTest, HeadChunkOfALiveSeriesIsNeverDropped) {
  testing::TempDir dir;
  StoreOptions o = Options(dir);
  o.chunk_max_samples = 4096;  // one chunk holding 10 days
  auto store = OpenOrDie(o);
  for (int i = 0; i < 240; ++i) {
    ASSERT_OK(store->AppendFetch("t", kStartMs + i * kHourMs,
                                 {SeriesSample{L("live"), double(i)}}, "body"));
  }
  // Its first samples are far older than the cutoff, but the chunk has newer data.
  Result<RetentionStats> r = store->ApplyRetention(kStartMs + 240 * kHourMs);
  ASSERT_OK(r);
  EXPECT_EQ(r->chunks_dropped, 0);
  ASSERT_OK(store->AppendFetch("t", kStartMs + 240 * kHourMs, {SeriesSample{L("live"), 1}}, ""));
  EXPECT_EQ(Read(store.get(), "live").size(), 241u);
}

TEST(StoreRetentionTest, EmptiedSeriesStartsAFreshChunkWithoutOldSamples) {
  testing::TempDir dir;
  const StoreOptions o = Options(dir);
  auto store = OpenOrDie(o);
  for (int i = 0; i < 30; ++i) {
    ASSERT_OK(store->AppendFetch("t", kStartMs + i * kHourMs,
                                 {SeriesSample{L("a"), double(i)}}, "body"));
  }
  // Everything (series chunks and fetch log) is older than 5 days at day 40.
  const int64_t now = kStartMs + 40 * 24 * kHourMs;
  Result<RetentionStats> r = store->ApplyRetention(now);
  ASSERT_OK(r);
  EXPECT_EQ(r->samples_dropped, 30);
  EXPECT_EQ(r->series_emptied, 1);
  Result<std::vector<Sample>> log = store->FetchLog("t", INT64_MIN, INT64_MAX);
  ASSERT_OK(log);
  EXPECT_TRUE(log->empty());
  // The cached heads were dropped too: the next fetch does not bring old samples back.
  ASSERT_OK(store->AppendFetch("t", now, {SeriesSample{L("a"), 7}}, "body"));
  std::vector<Sample> a = Read(store.get(), "a");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].timestamp_ms, now);
  log = store->FetchLog("t", INT64_MIN, INT64_MAX);
  ASSERT_OK(log);
  ASSERT_EQ(log->size(), 1u);
  EXPECT_EQ((*log)[0].timestamp_ms, now);
}

TEST(StoreRetentionTest, ZeroRetentionKeepsEverything) {
  testing::TempDir dir;
  StoreOptions o = Options(dir);
  o.retention_time = std::chrono::milliseconds(0);
  auto store = OpenOrDie(o);
  ASSERT_OK(store->AppendSamples({{L("x"), Hourly(0, 100)}}));
  Result<RetentionStats> r = store->ApplyRetention(kStartMs + 100000 * kHourMs);
  ASSERT_OK(r);
  EXPECT_EQ(r->chunks_dropped, 0);
  EXPECT_EQ(Read(store.get(), "x").size(), 100u);
}

// 200 busy series (every value changes) of 2000 hourly samples: ~2.5 MB.
std::vector<SeriesSamples> BusyBatch() {
  std::vector<SeriesSamples> batch;
  for (int s = 0; s < 200; ++s) {
    batch.push_back({{{"__name__", "busy"}, {"i", std::to_string(s)}},
                     testdata::Busy(static_cast<uint64_t>(s), 2000)});
  }
  return batch;
}

TEST(StoreRetentionTest, SizeRetentionBringsTheFilesUnderTheLimitDroppingOldestFirst) {
  testing::TempDir dir;
  StoreOptions o = Options(dir);
  o.chunk_max_samples = 100;  // ~640-byte chunks of busy data
  o.retention_time = std::chrono::milliseconds(0);
  {
    auto store = OpenOrDie(o);
    ASSERT_OK(store->AppendSamples(BusyBatch()));
  }
  const int64_t before = FilesBytes(o.path);
  ASSERT_GT(before, 2'000'000);
  o.retention_size_bytes = 1'000'000;
  auto store = OpenOrDie(o);
  Result<RetentionStats> r = store->ApplyRetention(kStartMs);
  ASSERT_OK(r);
  EXPECT_TRUE(r->size_limit_met);
  EXPECT_GT(r->chunks_dropped, 0);
  EXPECT_LE(r->bytes_after, 1'000'000);
  EXPECT_LE(FilesBytes(o.path), 1'000'000);
  EXPECT_GE(r->bytes_before, before);
  // Oldest first: every series lost the same prefix, give or take one chunk, and kept
  // its newest samples.
  Result<std::vector<SeriesRef>> refs = store->Select({}, INT64_MIN, INT64_MAX);
  ASSERT_OK(refs);
  ASSERT_EQ(refs->size(), 200u);
  int64_t min_first = INT64_MAX, max_first = INT64_MIN;
  for (const SeriesRef& ref : *refs) {
    Result<std::vector<Sample>> s = store->Samples(ref.id, INT64_MIN, INT64_MAX);
    ASSERT_OK(s);
    ASSERT_FALSE(s->empty());
    EXPECT_EQ(s->back().timestamp_ms, kStartMs + 1999 * kHourMs);
    min_first = std::min(min_first, s->front().timestamp_ms);
    max_first = std::max(max_first, s->front().timestamp_ms);
  }
  EXPECT_GT(min_first, kStartMs);
  EXPECT_LE(max_first - min_first, 100 * kHourMs);
  // A second pass has nothing to do.
  r = store->ApplyRetention(kStartMs);
  ASSERT_OK(r);
  EXPECT_EQ(r->chunks_dropped, 0);
}

TEST(StoreRetentionTest, SizeLimitBelowTheHeadsIsReportedAndHeadsStay) {
  testing::TempDir dir;
  StoreOptions o = Options(dir);
  o.chunk_max_samples = 100;  // ~640-byte chunks of busy data
  o.retention_time = std::chrono::milliseconds(0);
  o.retention_size_bytes = 1;
  auto store = OpenOrDie(o);
  ASSERT_OK(store->AppendSamples(BusyBatch()));
  Result<RetentionStats> r = store->ApplyRetention(kStartMs);
  ASSERT_OK(r);
  EXPECT_FALSE(r->size_limit_met);
  EXPECT_EQ(r->chunks_dropped, 200 * 19);  // all but the last of 20 chunks per series
  EXPECT_EQ(r->series_emptied, 0);
  Result<std::vector<SeriesRef>> refs = store->Select({}, INT64_MIN, INT64_MAX);
  ASSERT_OK(refs);
  ASSERT_EQ(refs->size(), 200u);
  for (const SeriesRef& ref : *refs) {
    Result<std::vector<Sample>> s = store->Samples(ref.id, INT64_MIN, INT64_MAX);
    ASSERT_OK(s);
    ASSERT_EQ(s->size(), 100u);
    EXPECT_EQ(s->front().timestamp_ms, kStartMs + 1900 * kHourMs);
  }
}

}  // namespace
}  // namespace sb::storage
