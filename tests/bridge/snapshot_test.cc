#include "bridge/snapshot.h"

#include <set>

#include "common/exposition/parser.h"
#include "common/gzip.h"
#include "tests/testing/testing.h"

namespace sb::bridge {
namespace {

expo::Exposition SampleData() {
  auto parsed = expo::ParseExposition(
      "# HELP scout_stream_vulnerabilities Vulnerabilities.\n"
      "# TYPE scout_stream_vulnerabilities gauge\n"
      "scout_stream_vulnerabilities{streamName=\"latest-indexed\",severity=\"CRITICAL\"} 3 1700000000000\n"
      "scout_stream_vulnerabilities{streamName=\"latest-indexed\",severity=\"HIGH\"} 12\n",
      expo::Format::kText004);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return std::move(parsed).value();
}

// Prometheus 2.42's scrape Accept header.
constexpr const char* kPrometheusAccept =
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

TEST(NegotiateTest, PrometheusScraperGetsOpenMetrics) {
  EXPECT_EQ(Negotiate(kPrometheusAccept, "gzip"), Representation::kOpenMetricsGzip);
  EXPECT_EQ(Negotiate(kPrometheusAccept, ""), Representation::kOpenMetrics);
}

TEST(NegotiateTest, NoAcceptHeaderGetsText) {
  EXPECT_EQ(Negotiate("", ""), Representation::kText);
  EXPECT_EQ(Negotiate("*/*", "identity"), Representation::kText);
}

TEST(NegotiateTest, TextPreferredByQValueWins) {
  EXPECT_EQ(Negotiate("application/openmetrics-text;q=0.2,text/plain;version=0.0.4;q=0.9", ""), Representation::kText);
  EXPECT_EQ(Negotiate("text/plain;version=0.0.4", "deflate, gzip;q=0.5"), Representation::kTextGzip);
}

TEST(NegotiateTest, GzipWithZeroQualityIsRefused) {
  EXPECT_EQ(Negotiate("text/plain", "gzip;q=0"), Representation::kText);
  EXPECT_EQ(Negotiate("text/plain", "*"), Representation::kTextGzip);
}

TEST(SnapshotTest, BodiesHaveNoTimestampsAndDecompressToThePlainBody) {
  auto snap = BuildSnapshot("acme", "api.scout.docker.com:443", 1'700'000'000'000, SampleData());
  ASSERT_OK(snap);
  const std::string& text = *(*snap)->Body(Representation::kText).body;
  EXPECT_THAT(text, ::testing::HasSubstr("severity=\"CRITICAL\"} 3\n"));
  EXPECT_THAT(text, ::testing::Not(::testing::HasSubstr("1700000000000")));
  const std::string& om = *(*snap)->Body(Representation::kOpenMetrics).body;
  EXPECT_THAT(om, ::testing::EndsWith("# EOF\n"));
  auto unzipped = GzipDecompress(*(*snap)->Body(Representation::kTextGzip).body, 1 << 20);
  ASSERT_OK(unzipped);
  EXPECT_EQ(*unzipped, text);
  auto om_unzipped = GzipDecompress(*(*snap)->Body(Representation::kOpenMetricsGzip).body, 1 << 20);
  ASSERT_OK(om_unzipped);
  EXPECT_EQ(*om_unzipped, om);
  EXPECT_EQ((*snap)->SampleCount(), 2u);
}

TEST(SnapshotTest, EtagsDifferPerRepresentationAndFollowContent) {
  auto a = BuildSnapshot("acme", "x:443", 1, SampleData());
  auto b = BuildSnapshot("acme", "x:443", 2, SampleData());
  ASSERT_OK(a);
  ASSERT_OK(b);
  std::set<std::string> etags;
  for (int r = 0; r < 4; ++r) etags.insert((*a)->bodies[r].etag);
  EXPECT_EQ(etags.size(), 4u);
  // Same data fetched again: same ETags, so a client's cached copy stays valid.
  EXPECT_EQ((*a)->Body(Representation::kText).etag, (*b)->Body(Representation::kText).etag);
  expo::Exposition changed = SampleData();
  changed.families[0].samples[0].value = 4;
  auto c = BuildSnapshot("acme", "x:443", 3, std::move(changed));
  ASSERT_OK(c);
  EXPECT_NE((*a)->Body(Representation::kText).etag, (*c)->Body(Representation::kText).etag);
}

TEST(EtagTest, IfNoneMatchListsAndWeakValidators) {
  EXPECT_TRUE(EtagMatches("\"abc-t\"", "\"abc-t\""));
  EXPECT_TRUE(EtagMatches("\"x\", W/\"abc-t\"", "\"abc-t\""));
  EXPECT_TRUE(EtagMatches("*", "\"abc-t\""));
  EXPECT_FALSE(EtagMatches("\"abc-o\"", "\"abc-t\""));
  EXPECT_FALSE(EtagMatches("", "\"abc-t\""));
}

TEST(SnapshotSlotTest, StoreReplacesAtomically) {
  SnapshotSlot slot;
  EXPECT_EQ(slot.Load(), nullptr);
  auto a = BuildSnapshot("acme", "x:443", 1, SampleData());
  ASSERT_OK(a);
  slot.Store(*a);
  auto held = slot.Load();
  auto b = BuildSnapshot("acme", "x:443", 2, SampleData());
  ASSERT_OK(b);
  slot.Store(*b);
  EXPECT_EQ(held->fetch_time_ms, 1);  // a reader keeps its snapshot alive
  EXPECT_EQ(slot.Load()->fetch_time_ms, 2);
}

}  // namespace
}  // namespace sb::bridge
