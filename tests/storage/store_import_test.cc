// Tests of Store::AppendSamples (storage/store_import.cc).
#include <sqlite3.h>

#include <bit>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "storage/store.h"
#include "tests/storage/store_testing.h"
#include "tests/storage/xor_chunk_data.h"
#include "tests/testing/testing.h"

namespace sb::storage {
namespace {

using ::testing::HasSubstr;
using testdata::kHourMs;
using testdata::kStartMs;

Labels L(std::string name, Labels extra = {}) {
  extra.push_back({"__name__", std::move(name)});
  return extra;
}

uint64_t Bits(double v) { return std::bit_cast<uint64_t>(v); }

// All samples of the one series with exactly these label pairs.
std::vector<Sample> Read(Store* store, const Labels& labels) {
  std::vector<Matcher> ms;
  for (const Label& l : labels) {
    ms.push_back(Matcher::Make(Matcher::Type::kEqual, l.name, l.value).value());
  }
  Result<std::vector<SeriesRef>> refs = store->Select(ms, INT64_MIN, INT64_MAX);
  EXPECT_TRUE(refs.ok());
  if (!refs.ok() || refs->size() != 1) return {};
  Result<std::vector<Sample>> samples = store->Samples((*refs)[0].id, INT64_MIN, INT64_MAX);
  EXPECT_TRUE(samples.ok()) << samples.status().ToString();
  return samples.ok() ? *samples : std::vector<Sample>{};
}

std::vector<Sample> Hourly(int n, double v0, int64_t start = kStartMs) {
  std::vector<Sample> out;
  for (int i = 0; i < n; ++i) out.push_back({start + i * kHourMs, v0 + i});
  return out;
}

TEST(StoreImportTest, CreatesSeriesAndReadsBackAfterReopen) {
  testing::TempDir dir;
  const StoreOptions o = TestStoreOptions(dir);
  {
    auto store = OpenOrDie(o);
    Result<ImportStats> stats = store->AppendSamples(
        {{L("up", {{"job", "a"}}), Hourly(10, 0)}, {L("up", {{"job", "b"}}), Hourly(3, 100)}});
    ASSERT_OK(stats);
    EXPECT_EQ(stats->series, 2);
    EXPECT_EQ(stats->series_created, 2);
    EXPECT_EQ(stats->samples_added, 13);
    EXPECT_EQ(stats->samples_skipped, 0);
    EXPECT_EQ(Read(store.get(), {{"job", "b"}}).size(), 3u);
  }
  auto store = OpenOrDie(o);
  std::vector<Sample> a = Read(store.get(), {{"job", "a"}});
  ASSERT_EQ(a.size(), 10u);
  EXPECT_EQ(a[9].timestamp_ms, kStartMs + 9 * kHourMs);
  EXPECT_EQ(a[9].value, 9);
  // A fetch continues the imported series where the import stopped.
  ASSERT_OK(store->AppendFetch("t", kStartMs + 10 * kHourMs,
                               {SeriesSample{L("up", {{"job", "a"}}), 42}}, ""));
  a = Read(store.get(), {{"job", "a"}});
  ASSERT_EQ(a.size(), 11u);
  EXPECT_EQ(a[10].value, 42);
  EXPECT_EQ(a[0].value, 0);
}

TEST(StoreImportTest, ImportingTheSameBatchTwiceAddsNothing) {
  testing::TempDir dir;
  const StoreOptions o = TestStoreOptions(dir);
  const std::vector<SeriesSamples> batch = {{L("x", {{"i", "1"}}), Hourly(50, 1)},
                                            {L("x", {{"i", "2"}}), Hourly(20, 7)}};
  {
    auto store = OpenOrDie(o);
    ASSERT_OK(store->AppendSamples(batch));
  }
  const int64_t chunk_rows = RawScalar(o.path, "SELECT COUNT(*) FROM chunks");
  const int64_t samples = RawScalar(o.path, "SELECT SUM(num_samples) FROM chunks");
  auto store = OpenOrDie(o);  // also after a restart: the heads are reloaded from disk
  Result<ImportStats> again = store->AppendSamples(batch);
  ASSERT_OK(again);
  EXPECT_EQ(again->series, 2);
  EXPECT_EQ(again->series_created, 0);
  EXPECT_EQ(again->samples_added, 0);
  EXPECT_EQ(again->samples_skipped, 70);
  EXPECT_EQ(RawScalar(o.path, "SELECT COUNT(*) FROM chunks"), chunk_rows);
  EXPECT_EQ(RawScalar(o.path, "SELECT SUM(num_samples) FROM chunks"), samples);
  EXPECT_EQ(samples, 70);
  EXPECT_EQ(RawScalar(o.path, "SELECT COUNT(*) FROM series"), 2);
}

TEST(StoreImportTest, OverlappingBatchAppendsOnlyTheNewerSamples) {
  testing::TempDir dir;
  auto store = OpenOrDie(TestStoreOptions(dir));
  ASSERT_OK(store->AppendSamples({{L("x"), Hourly(10, 0)}}));
  // Samples 5..14: 5..9 are at or before the last stored time, 10..14 are new.
  Result<ImportStats> stats = store->AppendSamples({{L("x"), Hourly(10, 500, kStartMs + 5 * kHourMs)}});
  ASSERT_OK(stats);
  EXPECT_EQ(stats->samples_skipped, 5);
  EXPECT_EQ(stats->samples_added, 5);
  std::vector<Sample> got = Read(store.get(), {{"__name__", "x"}});
  ASSERT_EQ(got.size(), 15u);
  EXPECT_EQ(got[9].value, 9);     // the stored sample, not the batch's 504
  EXPECT_EQ(got[10].value, 505);  // the first new one
}

TEST(StoreImportTest, OutOfOrderSamplesAreRefusedAndNothingIsWritten) {
  testing::TempDir dir;
  const StoreOptions o = TestStoreOptions(dir);
  auto store = OpenOrDie(o);
  std::vector<Sample> bad = Hourly(5, 0);
  bad[3].timestamp_ms = bad[2].timestamp_ms;  // equal is not increasing either
  Result<ImportStats> r =
      store->AppendSamples({{L("good"), Hourly(5, 0)}, {L("bad", {{"k", "v"}}), bad}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("bad{k=\"v\"}"));
  EXPECT_THAT(r.status().message(), HasSubstr(std::to_string(bad[2].timestamp_ms)));
  EXPECT_EQ(RawScalar(o.path, "SELECT COUNT(*) FROM series"), 0);
  EXPECT_EQ(RawScalar(o.path, "SELECT COUNT(*) FROM chunks"), 0);
  EXPECT_TRUE(store->LabelNames().empty());
}

TEST(StoreImportTest, BadLabelsAndRepeatedSeriesAreRefused) {
  testing::TempDir dir;
  auto store = OpenOrDie(TestStoreOptions(dir));
  Result<ImportStats> r = store->AppendSamples({{{{"job", "a"}}, Hourly(2, 0)}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  r = store->AppendSamples({{L("x", {{"a", "1"}}), Hourly(2, 0)},
                            {{{"a", "1"}, {"__name__", "x"}}, Hourly(2, 0)}});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("appears twice"));
  EXPECT_TRUE(store->LabelNames().empty());
}

TEST(StoreImportTest, StaleMarkersAndNanPayloadsRoundTripBitForBit) {
  testing::TempDir dir;
  const StoreOptions o = TestStoreOptions(dir);
  const std::vector<uint64_t> bits = {
      Bits(1.5), kStaleMarkerBits, 0x7ff8000000000001ULL, 0xfff8000000000abcULL,
      Bits(std::numeric_limits<double>::infinity()), Bits(-0.0), kStaleMarkerBits,
      0x7ff0000000000001ULL};
  std::vector<Sample> samples;
  for (size_t i = 0; i < bits.size(); ++i) {
    samples.push_back({kStartMs + static_cast<int64_t>(i) * 1000,
                       std::bit_cast<double>(bits[i])});
  }
  {
    auto store = OpenOrDie(o);
    ASSERT_OK(store->AppendSamples({{L("nan"), samples}}));
  }
  auto store = OpenOrDie(o);
  std::vector<Sample> got = Read(store.get(), {{"__name__", "nan"}});
  ASSERT_EQ(got.size(), bits.size());
  for (size_t i = 0; i < bits.size(); ++i) EXPECT_EQ(Bits(got[i].value), bits[i]) << i;
}

TEST(StoreImportTest, LongSeriesAreCutIntoChunksAndReadInOrder) {
  testing::TempDir dir;
  StoreOptions o = TestStoreOptions(dir);
  o.chunk_max_samples = 100;
  auto store = OpenOrDie(o);
  ASSERT_OK(store->AppendSamples({{L("x"), Hourly(250, 0)}}));
  EXPECT_EQ(RawScalar(o.path, "SELECT COUNT(*) FROM chunks"), 3);
  // The open (last) chunk keeps growing on the next import.
  ASSERT_OK(store->AppendSamples({{L("x"), Hourly(30, 250, kStartMs + 250 * kHourMs)}}));
  EXPECT_EQ(RawScalar(o.path, "SELECT COUNT(*) FROM chunks"), 3);
  EXPECT_EQ(RawScalar(o.path, "SELECT MAX(num_samples) FROM chunks"), 100);
  EXPECT_EQ(RawScalar(o.path, "SELECT MIN(num_samples) FROM chunks"), 80);
  std::vector<Sample> got = Read(store.get(), {{"__name__", "x"}});
  ASSERT_EQ(got.size(), 280u);
  for (int i = 0; i < 280; ++i) {
    ASSERT_EQ(got[i].timestamp_ms, kStartMs + i * kHourMs);
    ASSERT_EQ(got[i].value, i);
  }
  // Select sees the whole imported time range.
  Result<std::vector<SeriesRef>> refs =
      store->Select({}, kStartMs + 279 * kHourMs, kStartMs + 279 * kHourMs);
  ASSERT_OK(refs);
  EXPECT_EQ(refs->size(), 1u);
  refs = store->Select({}, kStartMs + 280 * kHourMs, INT64_MAX);
  ASSERT_OK(refs);
  EXPECT_TRUE(refs->empty());
}

TEST(StoreImportTest, ThreeOrgsOfScoutLikeSeriesImportInOneCall) {
  testing::TempDir dir;
  const StoreOptions o = TestStoreOptions(dir);
  std::vector<SeriesSamples> batch;
  for (int org = 0; org < 3; ++org) {
    for (int s = 0; s < 250; ++s) {
      batch.push_back({L("scout_vulns", {{"org", "org" + std::to_string(org)},
                                        {"image", "img" + std::to_string(s)}}),
                       testdata::ScoutLike(org * 1000 + s, 720)});
    }
  }
  auto store = OpenOrDie(o);
  Result<ImportStats> stats = store->AppendSamples(batch);
  ASSERT_OK(stats);
  EXPECT_EQ(stats->series_created, 750);
  EXPECT_EQ(stats->samples_added, 750 * 720);
  EXPECT_EQ(RawScalar(o.path, "SELECT SUM(num_samples) FROM chunks"), 750 * 720);
  std::vector<Sample> got = Read(store.get(), {{"org", "org2"}, {"image", "img7"}});
  std::vector<Sample> want = testdata::ScoutLike(2007, 720);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(got[i].timestamp_ms, want[i].timestamp_ms);
    ASSERT_EQ(got[i].value, want[i].value);
  }
}

}  // namespace
}  // namespace sb::storage
