#include "remote_write/encode.h"

#include <gtest/gtest.h>

#include <random>

#include "remote_write/cursor_db.h"
#include "remote_write/metrics.h"
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

}  // namespace
}  // namespace sb::remote_write
