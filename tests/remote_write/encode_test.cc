#include "remote_write/encode.h"

#include <gtest/gtest.h>

#include <random>
#include <limits>
#include <cstring>

#include "remote_write/cursor_db.h"
#include "remote_write/metrics.h"
#include "remote_write/relabel.h"
#include "storage/store.h"
#include "tests/testing/testing.h"

namespace sb::remote_write {
namespace {

OutSeries S(storage::Labels ls, std::vector<storage::Sample> samples) { return OutSeries{std::move(ls), std::move(samples)}; }

TEST(EncodeTest, V1RoundTripKeepsLabelsSamplesAndMetadata) {
  OutSeries a = S({{"__name__", "up"}, {"job", "j"}}, {{1000, 1}, {2000, 0.5}});
  OutSeries b = S({{"__name__", "cves"}, {"severity", "high"}}, {{1000, -3e300}});
  Encoder enc;
  std::string raw = enc.EncodeV1({&a, &b}, {{"cves", expo::MetricType::kGauge, "CVEs", ""}});
  auto back = Decode(*Decompress(Compress(raw), 1 << 20), Protocol::kV1);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->series.size(), 2u);
  EXPECT_EQ(back->series[0].labels, a.labels);
  ASSERT_EQ(back->series[0].samples.size(), 2u);
  EXPECT_EQ(back->series[0].samples[1].timestamp_ms, 2000);
  EXPECT_EQ(back->series[0].samples[1].value, 0.5);
  EXPECT_EQ(back->series[1].samples[0].value, -3e300);
  ASSERT_EQ(back->metadata.size(), 1u);
  EXPECT_EQ(back->metadata[0], (OutMetadata{"cves", expo::MetricType::kGauge, "CVEs", ""}));
}

TEST(EncodeTest, EncoderReuseDoesNotLeakPreviousSeries) {
  OutSeries a = S({{"__name__", "a"}}, {{1, 1}});
  OutSeries b = S({{"__name__", "b"}}, {{2, 2}});
  Encoder enc;
  (void)enc.EncodeV1({&a, &b}, {});
  auto back = Decode(enc.EncodeV1({&b}, {}), Protocol::kV1);
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->series.size(), 1u);
  EXPECT_EQ(back->series[0].labels[0].value, "b");
}

TEST(EncodeTest, V2InternsEverySymbolOnceWithEmptyStringFirst) {
  OutSeries a = S({{"__name__", "scout_cves"}, {"job", "scout"}}, {{5, 1}});
  OutSeries b = S({{"__name__", "scout_cves"}, {"job", "other"}}, {{5, 2}});
  std::map<std::string, OutMetadata, std::less<>> md = {
      {"scout_cves", {"scout_cves", expo::MetricType::kCounter, "help text", ""}}};
  Encoder enc;
  std::string raw = enc.EncodeV2({&a, &b}, md);
  auto back = Decode(raw, Protocol::kV2);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->series.size(), 2u);
  EXPECT_EQ(back->series[0].labels, a.labels);
  EXPECT_EQ(back->series[1].labels, b.labels);
  EXPECT_EQ(back->series[1].samples[0].value, 2);
  ASSERT_EQ(back->metadata.size(), 2u);
  EXPECT_EQ(back->metadata[0].type, expo::MetricType::kCounter);
  EXPECT_EQ(back->metadata[0].help, "help text");
  // "scout_cves", "job", "scout" and "help text" appear once each: the v2 payload is
  // smaller than two copies of them.
  size_t count = 0;
  for (size_t pos = raw.find("scout_cves"); pos != std::string::npos; pos = raw.find("scout_cves", pos + 1)) ++count;
  EXPECT_EQ(count, 1u);
}

TEST(EncodeTest, V2DecoderRejectsOutOfRangeSymbolReferences) {
  // Request{symbols: [""], timeseries: [{labels_refs: [0, 7]}]} written by hand.
  std::string raw;
  raw += '\x22'; raw += '\x00';                       // field 4 (symbols), ""
  raw += '\x2a'; raw += '\x04';                       // field 5 (timeseries), 4 bytes
  raw += '\x0a'; raw += '\x02'; raw += '\x00'; raw += '\x07';  // labels_refs packed [0, 7]
  auto back = Decode(raw, Protocol::kV2);
  ASSERT_FALSE(back.ok());
  EXPECT_NE(back.status().message().find("out of range"), std::string::npos);
}

TEST(EncodeTest, DecompressRefusesDeclaredLengthOverTheBound) {
  std::string big(100000, 'x');
  auto r = Decompress(Compress(big), 1000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kResourceExhausted);
  EXPECT_FALSE(Decompress("\xff\xff\xff\xff\xff garbage", 1 << 20).ok());
}

TEST(EncodeTest, FindFamilyStripsCounterAndHistogramSuffixes) {
  std::map<std::string, OutMetadata, std::less<>> md = {{"req", {"req", expo::MetricType::kCounter, "", ""}},
                                                         {"lat", {"lat", expo::MetricType::kHistogram, "", ""}}};
  EXPECT_NE(FindFamily(md, "req_total"), nullptr);
  EXPECT_NE(FindFamily(md, "lat_bucket"), nullptr);
  EXPECT_NE(FindFamily(md, "lat"), nullptr);
  EXPECT_EQ(FindFamily(md, "other_total"), nullptr);
}

TEST(CursorDbTest, CursorsSurviveReopenAndAreKeptPerEndpointAndTarget) {
  testing::TempDir dir;
  std::string path = dir.File("bridge.db");
  {
    auto db = CursorDb::Open(path);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE((*db)->Put("a http://x", "job/t1", 100, 1).ok());
    ASSERT_TRUE((*db)->Put("a http://x", "job/t2", 200, 1).ok());
    ASSERT_TRUE((*db)->Put("b http://y", "job/t1", 300, 1).ok());
    ASSERT_TRUE((*db)->Put("a http://x", "job/t1", 150, 2).ok());
  }
  auto db = CursorDb::Open(path);
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(*(*db)->Get("a http://x", "job/t1"), std::optional<int64_t>(150));
  EXPECT_EQ(*(*db)->Get("b http://y", "job/t1"), std::optional<int64_t>(300));
  EXPECT_EQ(*(*db)->Get("b http://y", "job/t2"), std::nullopt);
  auto list = (*db)->List("a http://x");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 2u);
  ASSERT_TRUE((*db)->Delete("a http://x", "job/t2").ok());
  EXPECT_EQ(*(*db)->Get("a http://x", "job/t2"), std::nullopt);
}

TEST(MetricsTest, RedactUrlRemovesUserinfo) {
  EXPECT_EQ(RedactUrl("https://user:pa55@mimir:443/api/v1/push"), "https://mimir:443/api/v1/push");
  EXPECT_EQ(RedactUrl("http://vm:8428/api/v1/write"), "http://vm:8428/api/v1/write");
}

// Seeded random series with the awkward cases: zero and negative-zero values, NaN and
// stale markers, timestamp 0 and negative timestamps, label values longer than 127 bytes
// (two-byte length varints).
std::vector<OutSeries> RandomSeries(uint32_t seed, int n) {
  std::mt19937 rng(seed);
  const double kSpecial[] = {0.0, -0.0, 1.0, -3e300, std::numeric_limits<double>::quiet_NaN(),
                             std::numeric_limits<double>::infinity()};
  const int64_t kTimes[] = {0, -1, 1, 1'700'000'000'000, INT64_MAX};
  std::vector<OutSeries> out;
  for (int i = 0; i < n; ++i) {
    OutSeries s;
    s.labels = {{"__name__", "m" + std::to_string(i)},
                {"a", std::string(rng() % 300 + 1, static_cast<char>('a' + rng() % 26))},
                {"job", "j"}};
    const int samples = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < samples; ++k) {
      double v = rng() % 2 ? kSpecial[rng() % 6] : static_cast<double>(rng()) / 7.0;
      if (rng() % 5 == 0) {
        uint64_t bits = storage::kStaleMarkerBits;
        std::memcpy(&v, &bits, sizeof v);
      }
      s.samples.push_back({kTimes[rng() % 5] + k, v});
    }
    out.push_back(std::move(s));
  }
  return out;
}

TEST(EncodeTest, PreparedBatchV1IsByteForByteWhatLibprotobufWrites) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    auto series = RandomSeries(seed, 50);
    std::vector<const OutSeries*> ptrs;
    std::vector<std::shared_ptr<const PreparedSeries>> prepared;
    std::vector<BatchSeries> batch;
    for (const auto& s : series) {
      ptrs.push_back(&s);
      prepared.push_back(PrepareSeries(s.labels));
    }
    for (size_t i = 0; i < series.size(); ++i) {
      batch.push_back({{{}, prepared[i].get()}, series[i].samples.data(), series[i].samples.size()});
    }
    Encoder enc;
    std::string want = enc.EncodeV1(ptrs, {});
    std::string got = "stale bytes from an earlier batch";
    Encoder::EncodeBatchV1(batch, {}, &got);
    EXPECT_EQ(got, want) << "seed " << seed;
  }
}

TEST(EncodeTest, PreparedBatchV1CanSendPartOfASeriesSamples) {
  OutSeries a = S({{"__name__", "up"}}, {{1, 1}, {2, 2}, {3, 3}});
  auto p = PrepareSeries(a.labels);
  std::string raw;
  Encoder::EncodeBatchV1({{{{}, p.get()}, a.samples.data() + 1, 2}}, {}, &raw);
  auto back = Decode(raw, Protocol::kV1);
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->series.size(), 1u);
  ASSERT_EQ(back->series[0].samples.size(), 2u);
  EXPECT_EQ(back->series[0].samples[0].timestamp_ms, 2);
  EXPECT_EQ(back->series[0].labels, a.labels);
}

TEST(EncodeTest, PreparedBatchV2DecodesToTheSameSeriesAndMetadata) {
  auto series = RandomSeries(7, 20);
  std::vector<std::shared_ptr<const PreparedSeries>> prepared;
  std::vector<BatchSeries> batch;
  for (const auto& s : series) prepared.push_back(PrepareSeries(s.labels));
  for (size_t i = 0; i < series.size(); ++i) {
    batch.push_back({{{}, prepared[i].get()}, series[i].samples.data(), series[i].samples.size()});
  }
  std::map<std::string, OutMetadata, std::less<>> md = {{"m3", {"m3", expo::MetricType::kGauge, "help", "bytes"}}};
  Encoder enc;
  std::string raw;
  enc.EncodeBatchV2(batch, {}, md, &raw);
  auto back = Decode(raw, Protocol::kV2);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->series.size(), series.size());
  for (size_t i = 0; i < series.size(); ++i) {
    EXPECT_EQ(back->series[i].labels, series[i].labels);
    ASSERT_EQ(back->series[i].samples.size(), series[i].samples.size());
    for (size_t k = 0; k < series[i].samples.size(); ++k) {
      EXPECT_EQ(back->series[i].samples[k].timestamp_ms, series[i].samples[k].timestamp_ms);
      uint64_t x, y;
      std::memcpy(&x, &back->series[i].samples[k].value, 8);
      std::memcpy(&y, &series[i].samples[k].value, 8);
      EXPECT_EQ(x, y);  // bit for bit: NaN payloads (stale markers) survive
    }
  }
  ASSERT_EQ(back->metadata.size(), 1u);
  EXPECT_EQ(back->metadata[0], (OutMetadata{"m3", expo::MetricType::kGauge, "help", "bytes"}));
}

TEST(EncodeTest, ForEachPreparedLabelWalksTheLabelsInOrderAndRejectsGarbage) {
  storage::Labels ls = {{"__name__", "x"}, {"long", std::string(200, 'v')}, {"z", "1"}};
  auto p = PrepareSeries(ls);
  storage::Labels back;
  EXPECT_TRUE(ForEachPreparedLabel(p->pb_labels, [&](std::string_view n, std::string_view v) {
    back.push_back({std::string(n), std::string(v)});
  }));
  EXPECT_EQ(back, ls);
  EXPECT_FALSE(ForEachPreparedLabel(p->pb_labels.substr(0, p->pb_labels.size() - 1), [](auto, auto) {}));
  EXPECT_FALSE(ForEachPreparedLabel("\x12\x00", [](auto, auto) {}));
}

// Without write_relabel_configs a series is sent as the store's key plus the external labels,
// serialized while the request is written: the bytes equal those of the same series prepared
// (relabelled by Relabeler, serialized by libprotobuf), including when the series has a label
// named like an external one (its own value wins).
TEST(EncodeTest, StoreKeyBatchIsByteForByteThePreparedOne) {
  auto rel = Relabeler::Make({}, {{"cluster", "eu"}, {"a", "first"}, {"m3x", "ext"}, {"zz", "last"}});
  ASSERT_TRUE(rel.ok());
  const storage::Labels& external = (*rel)->external();
  for (uint32_t seed : {11u, 12u, 13u}) {
    auto series = RandomSeries(seed, 60);
    series.push_back(S({{"__name__", "m"}, {"cluster", "own"}, {"long", std::string(300, 'v')}}, {{5, 1}}));
    std::vector<std::string> keys;
    std::vector<std::shared_ptr<const PreparedSeries>> prepared;
    for (const auto& s : series) {
      keys.push_back(storage::EncodeLabels(s.labels));
      storage::Labels ls = s.labels;
      ASSERT_TRUE((*rel)->Apply(&ls));
      prepared.push_back(PrepareSeries(ls));
    }
    std::vector<BatchSeries> direct, want_batch;
    for (size_t i = 0; i < series.size(); ++i) {
      direct.push_back({{keys[i], nullptr}, series[i].samples.data(), series[i].samples.size()});
      want_batch.push_back({{{}, prepared[i].get()}, series[i].samples.data(), series[i].samples.size()});
    }
    std::string want, got = "stale bytes";
    Encoder::EncodeBatchV1(want_batch, {}, &want);
    Encoder::EncodeBatchV1(direct, external, &got);
    EXPECT_EQ(got, want) << "seed " << seed;
    // 2.0: the same labels through the symbol table.
    Encoder enc;
    std::string raw2;
    enc.EncodeBatchV2(direct, external, {}, &raw2);
    auto back = Decode(raw2, Protocol::kV2);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    ASSERT_EQ(back->series.size(), series.size());
    for (size_t i = 0; i < series.size(); ++i) {
      storage::Labels ls = series[i].labels;
      ASSERT_TRUE((*rel)->Apply(&ls));
      EXPECT_EQ(back->series[i].labels, ls);
    }
  }
  // The series' own "cluster" wins over the external one.
  storage::Labels seen;
  std::string key = storage::EncodeLabels({{"__name__", "m"}, {"cluster", "own"}});
  EXPECT_TRUE(ForEachLabel({key, nullptr}, external, [&](std::string_view n, std::string_view v) {
    seen.push_back({std::string(n), std::string(v)});
  }));
  EXPECT_EQ(seen, (storage::Labels{{"__name__", "m"}, {"a", "first"}, {"cluster", "own"}, {"m3x", "ext"}, {"zz", "last"}}));
  // A malformed key is refused, not read past its end.
  EXPECT_FALSE(ForEachLabel({std::string_view(key).substr(0, key.size() - 1), nullptr}, {}, [](auto, auto) {}));
  // One series, one shard.
  std::string copy = key;
  EXPECT_EQ(ShardHash({key, nullptr}), ShardHash({copy, nullptr}));
}

TEST(EncodeTest, CompressIntoABufferMatchesCompress) {
  std::string raw(5000, 'x');
  raw += "tail";
  std::string out = "previous contents";
  Compress(raw, &out);
  EXPECT_EQ(out, Compress(raw));
  EXPECT_EQ(*Decompress(out, 1 << 20), raw);
}

}  // namespace
}  // namespace sb::remote_write
