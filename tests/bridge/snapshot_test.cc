#include "bridge/snapshot.h"

#include <set>
#include <thread>
#include <vector>

#include "common/exposition/parser.h"
#include "common/exposition/render.h"
#include "common/gzip.h"
#include "tests/common/exposition_random.h"
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
  for (int r = 0; r < 4; ++r) etags.insert((*a)->Body(static_cast<Representation>(r)).etag);
  EXPECT_EQ(etags.size(), 4u);
  // Same data fetched again: same ETags, so a client's cached copy stays valid.
  EXPECT_EQ((*a)->Body(Representation::kText).etag, (*b)->Body(Representation::kText).etag);
  expo::Exposition changed = SampleData();
  changed.families[0].samples[0].value = 4;
  auto c = BuildSnapshot("acme", "x:443", 3, std::move(changed));
  ASSERT_OK(c);
  EXPECT_NE((*a)->Body(Representation::kText).etag, (*c)->Body(Representation::kText).etag);
}

constexpr Representation kAll[] = {Representation::kText, Representation::kTextGzip, Representation::kOpenMetrics,
                                   Representation::kOpenMetricsGzip};

uint8_t AllBits() {
  uint8_t b = 0;
  for (Representation r : kAll) b |= RepresentationBit(r);
  return b;
}

// A body rendered late (from the gzip text body, parsed again) is byte for byte the body that
// would have been rendered at build time from the upstream's parsed data, with the same
// ETag: over random text 0.0.4 upstream bodies of every type.
TEST(SnapshotTest, LateBodiesEqualPrerenderedOnesForTextUpstreams) {
  expo::testing::RandomExposition gen(20261123);
  expo::testing::RandomOptions ro;
  ro.with_timestamps = true;  // upstream timestamps are dropped in every representation
  for (int round = 0; round < 150; ++round) {
    const std::string upstream = expo::RenderText004(gen.Make(ro), {.with_timestamps = true});
    auto parse = [&] {
      auto p = expo::ParseExposition(upstream, expo::Format::kText004);
      EXPECT_TRUE(p.ok()) << p.status().ToString();
      return std::move(p).value();
    };
    auto eager = BuildSnapshot("j", "i:1", 5, parse(), {.prerender = AllBits()});
    auto late = BuildSnapshot("j", "i:1", 5, parse());
    ASSERT_OK(eager);
    ASSERT_OK(late);
    for (Representation r : kAll) {
      EXPECT_TRUE((*eager)->Rendered(r));
      EXPECT_EQ((*late)->Rendered(r), r == Representation::kTextGzip);
    }
    // Compressed bodies compare decompressed (both are level 1 of the same bytes anyway).
    EXPECT_EQ(*(*late)->Body(Representation::kText).body, *(*eager)->Body(Representation::kText).body)
        << "round " << round << ", upstream:\n" << upstream;
    EXPECT_EQ(*(*late)->Body(Representation::kOpenMetrics).body, *(*eager)->Body(Representation::kOpenMetrics).body)
        << "round " << round << ", upstream:\n" << upstream;
    auto late_omz = GzipDecompress(*(*late)->Body(Representation::kOpenMetricsGzip).body, 1 << 24);
    ASSERT_OK(late_omz);
    EXPECT_EQ(*late_omz, *(*eager)->Body(Representation::kOpenMetrics).body);
    for (Representation r : kAll) {
      EXPECT_EQ((*late)->Body(r).etag, (*eager)->Body(r).etag);
      EXPECT_EQ(*(*late)->Body(r).head, *(*eager)->Body(r).head);
      EXPECT_EQ((*late)->Body(r).gzip, (*eager)->Body(r).gzip);
    }
  }
}

// An OpenMetrics upstream's UNIT lines and info/stateset/gaugehistogram types do not survive
// the text rendering: a late OpenMetrics body comes from the upstream's own body.
TEST(SnapshotTest, LateOpenMetricsBodyOfAnOpenMetricsUpstreamKeepsWhatTextCannotSay) {
  expo::testing::RandomExposition gen(77);
  expo::testing::RandomOptions ro;
  ro.openmetrics = true;
  ro.with_timestamps = true;
  for (int round = 0; round < 100; ++round) {
    auto upstream = std::make_shared<const std::string>(expo::RenderOpenMetrics(gen.Make(ro), {.with_timestamps = true}));
    auto parse = [&] {
      auto p = expo::ParseExposition(*upstream, expo::Format::kOpenMetrics);
      EXPECT_TRUE(p.ok()) << p.status().ToString();
      return std::move(p).value();
    };
    auto eager = BuildSnapshot("j", "i:1", 5, parse(), {.prerender = AllBits()});
    auto late = BuildSnapshot("j", "i:1", 5, parse(), {.openmetrics_source = upstream});
    ASSERT_OK(eager);
    ASSERT_OK(late);
    EXPECT_EQ(*(*late)->Body(Representation::kOpenMetrics).body, *(*eager)->Body(Representation::kOpenMetrics).body)
        << "round " << round << ", upstream:\n" << *upstream;
    EXPECT_EQ(*(*late)->Body(Representation::kText).body, *(*eager)->Body(Representation::kText).body);
  }
}

// What was served while one snapshot was current is pre-rendered in the next; what nobody
// asked for is not rendered at all.
TEST(SnapshotTest, DemandDecidesWhatTheNextSnapshotPrerenders) {
  auto demand = std::make_shared<RepresentationDemand>();
  auto a = BuildSnapshot("acme", "x:443", 1, SampleData(), {.prerender = demand->Take(), .demand = demand});
  ASSERT_OK(a);
  EXPECT_FALSE((*a)->Rendered(Representation::kOpenMetricsGzip));
  (*a)->Body(Representation::kOpenMetricsGzip);  // a Prometheus scrape
  EXPECT_TRUE((*a)->Rendered(Representation::kOpenMetricsGzip));
  EXPECT_FALSE((*a)->Rendered(Representation::kOpenMetrics));  // gzip alone was asked for
  EXPECT_FALSE((*a)->Rendered(Representation::kText));

  auto b = BuildSnapshot("acme", "x:443", 2, SampleData(), {.prerender = demand->Take(), .demand = demand});
  ASSERT_OK(b);
  EXPECT_TRUE((*b)->Rendered(Representation::kOpenMetricsGzip));
  EXPECT_TRUE((*b)->Rendered(Representation::kTextGzip));
  EXPECT_FALSE((*b)->Rendered(Representation::kText));
  EXPECT_FALSE((*b)->Rendered(Representation::kOpenMetrics));

  // Nobody scraped b: c renders only the gzip text body the store keeps.
  auto c = BuildSnapshot("acme", "x:443", 3, SampleData(), {.prerender = demand->Take(), .demand = demand});
  ASSERT_OK(c);
  for (Representation r : kAll) EXPECT_EQ((*c)->Rendered(r), r == Representation::kTextGzip);
}

TEST(SnapshotTest, KeepsFamiliesMetadataButNotSamples) {
  auto snap = BuildSnapshot("acme", "x:443", 1, SampleData());
  ASSERT_OK(snap);
  ASSERT_EQ((*snap)->metadata.families.size(), 1u);
  EXPECT_EQ((*snap)->metadata.families[0].name, "scout_stream_vulnerabilities");
  EXPECT_EQ((*snap)->metadata.families[0].help, "Vulnerabilities.");
  EXPECT_EQ((*snap)->metadata.families[0].type, expo::MetricType::kGauge);
  EXPECT_TRUE((*snap)->metadata.families[0].samples.empty());
  EXPECT_EQ((*snap)->SampleCount(), 2u);
  EXPECT_EQ((*snap)->text_bytes, (*snap)->Body(Representation::kText).body->size());
}

// Many first requests at once: each body is rendered once, and every caller sees it whole.
TEST(SnapshotTest, ConcurrentFirstRequestsShareOneLateRendering) {
  expo::Exposition big;
  big.families.push_back({"scout_image_vulnerabilities", expo::MetricType::kGauge, "Vulns.", "", {}});
  for (int i = 0; i < 20000; ++i) {
    big.families[0].samples.push_back({"scout_image_vulnerabilities", {{"image", "img-" + std::to_string(i)}}, double(i % 9), {}});
  }
  auto snap = BuildSnapshot("acme", "x:443", 1, std::move(big));
  ASSERT_OK(snap);
  std::vector<const std::string*> seen(16);
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] { seen[t] = (*snap)->Body(kAll[t % 4]).body.get(); });
  }
  for (auto& th : threads) th.join();
  for (int t = 4; t < 16; ++t) EXPECT_EQ(seen[t], seen[t % 4]) << "representation " << t % 4 << " rendered twice";
  EXPECT_NE(seen[0]->find("scout_image_vulnerabilities{image=\"img-19999\"} 1\n"), std::string::npos);
  EXPECT_TRUE(seen[2]->ends_with("# EOF\n"));
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
