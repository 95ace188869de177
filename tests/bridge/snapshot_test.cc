#include "bridge/snapshot.h"

#include <xxhash.h>

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

std::string Plain(const RenderedBody& b) {
  if (!b.gzip) return *b.body;
  auto back = GzipDecompress(*b.body, 1 << 26);
  EXPECT_TRUE(back.ok()) << back.status().ToString();
  return back.ok() ? *back : "";
}

// A body rendered late (the snapshot's source parsed again) is the body that would have been
// rendered at build time from the upstream's parsed data, with the same ETag and head; and
// it does not depend on what the source is (the upstream body, its own gzip, or our text
// rendering). Over random text 0.0.4 upstream bodies, with timestamps, of every type.
TEST(SnapshotTest, LateBodiesEqualPrerenderedOnesForTextUpstreams) {
  expo::testing::RandomExposition gen(20261123);
  expo::testing::RandomOptions ro;
  ro.with_timestamps = true;  // upstream timestamps are dropped in every representation
  for (int round = 0; round < 150; ++round) {
    const std::string upstream = expo::RenderText004(gen.Make(ro), {.with_timestamps = true});
    auto upstream_gz = GzipCompress(upstream, 6);
    ASSERT_OK(upstream_gz);
    auto parse = [&] {
      auto p = expo::ParseExposition(upstream, expo::Format::kText004);
      EXPECT_TRUE(p.ok()) << p.status().ToString();
      return std::move(p).value();
    };
    // As the bridge parses: samples streamed away, families kept.
    size_t streamed = 0;
    expo::ParseOptions streaming;
    streaming.on_sample = [&](const expo::Sample&) {
      ++streamed;
      return Status::OK();
    };
    auto families_only = expo::ParseExposition(upstream, expo::Format::kText004, streaming);
    ASSERT_OK(families_only);
    std::vector<SnapshotOptions> sources(5);
    sources[1].upstream_body = upstream;
    sources[2].upstream_body = upstream;
    sources[2].upstream_gzip = std::make_shared<const std::string>(*upstream_gz);
    sources[3].upstream_body = upstream;
    sources[3].upstream_gzip = sources[2].upstream_gzip;
    sources[3].streamed_sample_count = streamed;
    // As the bridge parses a gzip body while decompressing it: only its digest and its gzip.
    sources[4].upstream_digest = SnapshotOptions::Digest{XXH3_64bits(upstream.data(), upstream.size()), upstream.size()};
    sources[4].upstream_gzip = sources[2].upstream_gzip;
    sources[4].streamed_sample_count = streamed;
    std::vector<std::string> first_plain;  // of the first source, per representation
    std::vector<std::string> upstream_etags;  // of the sources with the upstream body, per representation
    for (size_t src = 0; src < sources.size(); ++src) {
      SnapshotOptions eager_opts = sources[src];
      eager_opts.prerender = AllBits();
      auto data = [&] { return src >= 3 ? *families_only : parse(); };
      auto eager = BuildSnapshot("j", "i:1", 5, data(), eager_opts);
      auto late = BuildSnapshot("j", "i:1", 5, data(), sources[src]);
      ASSERT_OK(eager);
      ASSERT_OK(late);
      EXPECT_EQ((*late)->SampleCount(), (*BuildSnapshot("j", "i:1", 5, parse()))->SampleCount());
      for (Representation r : kAll) {
        EXPECT_TRUE((*eager)->Rendered(r));
        // Only a snapshot whose source is its own text rendering has its gzip at once.
        EXPECT_EQ((*late)->Rendered(r), src == 0 && r == Representation::kTextGzip);
      }
      for (Representation r : kAll) {
        const std::string late_plain = Plain((*late)->Body(r));
        EXPECT_EQ(late_plain, Plain((*eager)->Body(r))) << "round " << round << " source " << src << " rep "
                                                        << static_cast<int>(r) << ", upstream:\n" << upstream;
        EXPECT_EQ((*late)->Body(r).etag, (*eager)->Body(r).etag);
        EXPECT_EQ(*(*late)->Body(r).head, *(*eager)->Body(r).head);
        EXPECT_EQ((*late)->Body(r).gzip, (*eager)->Body(r).gzip);
        if (src == 1) upstream_etags.push_back((*late)->Body(r).etag);
        if (src >= 2) EXPECT_EQ((*late)->Body(r).etag, upstream_etags[static_cast<int>(r)]) << "source " << src;
        if (src == 0) {
          first_plain.push_back(late_plain);
        } else {
          EXPECT_EQ(late_plain, first_plain[static_cast<int>(r)]) << "source " << src;
        }
      }
    }
  }
}

// The upstream's text body and its own gzip are what the store keeps: not compressed again,
// and a warm restart that parses it back gets the same ETags.
TEST(SnapshotTest, StoredBodyIsTheUpstreamsOwnGzipForTextUpstreams) {
  const std::string upstream = "# TYPE a gauge\na{x=\"1\"} 1 1700000000000\n";
  auto gz = GzipCompress(upstream, 9);
  ASSERT_OK(gz);
  auto upstream_gz = std::make_shared<const std::string>(*gz);
  auto parsed = expo::ParseExposition(upstream, expo::Format::kText004);
  ASSERT_OK(parsed);
  auto snap = BuildSnapshot("j", "i:1", 5, *parsed, {.upstream_body = upstream, .upstream_gzip = upstream_gz});
  ASSERT_OK(snap);
  EXPECT_EQ(&(*snap)->StoredGzipBody(), upstream_gz.get());
  for (Representation r : kAll) EXPECT_FALSE((*snap)->Rendered(r));
  EXPECT_EQ((*snap)->source_bytes, upstream.size());

  // As App::StoredState rebuilds it after a restart.
  auto restored = BuildSnapshot("j", "i:1", 5, *parsed, {.upstream_body = upstream});
  ASSERT_OK(restored);
  for (Representation r : kAll) EXPECT_EQ((*restored)->Body(r).etag, (*snap)->Body(r).etag);
  EXPECT_EQ(*(*restored)->Body(Representation::kText).body, "# TYPE a gauge\na{x=\"1\"} 1\n");
}

// An OpenMetrics upstream's UNIT lines and info/stateset/gaugehistogram types do not survive
// the text rendering: a late OpenMetrics body comes from the upstream's own body, and the
// store gets a text rendering.
TEST(SnapshotTest, LateOpenMetricsBodyOfAnOpenMetricsUpstreamKeepsWhatTextCannotSay) {
  expo::testing::RandomExposition gen(77);
  expo::testing::RandomOptions ro;
  ro.openmetrics = true;
  ro.with_timestamps = true;
  for (int round = 0; round < 100; ++round) {
    const std::string upstream = expo::RenderOpenMetrics(gen.Make(ro), {.with_timestamps = true});
    auto parse = [&] {
      auto p = expo::ParseExposition(upstream, expo::Format::kOpenMetrics);
      EXPECT_TRUE(p.ok()) << p.status().ToString();
      return std::move(p).value();
    };
    SnapshotOptions source{.upstream_body = upstream, .upstream_format = expo::Format::kOpenMetrics};
    SnapshotOptions eager_opts = source;
    eager_opts.prerender = AllBits();
    auto eager = BuildSnapshot("j", "i:1", 5, parse(), eager_opts);
    auto late = BuildSnapshot("j", "i:1", 5, parse(), source);
    ASSERT_OK(eager);
    ASSERT_OK(late);
    for (Representation r : kAll) {
      EXPECT_EQ(Plain((*late)->Body(r)), Plain((*eager)->Body(r))) << "round " << round << ", upstream:\n" << upstream;
    }
    auto stored = GzipDecompress((*late)->StoredGzipBody(), 1 << 26);
    ASSERT_OK(stored);
    EXPECT_EQ(*stored, *(*eager)->Body(Representation::kText).body);
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

TEST(SnapshotTest, AnUpstreamDigestNeedsTheUpstreamGzip) {
  expo::Exposition families_only;
  auto snap = BuildSnapshot("acme", "x:443", 1, families_only,
                            {.streamed_sample_count = 0, .upstream_digest = SnapshotOptions::Digest{1, 2}});
  ASSERT_FALSE(snap.ok());
  EXPECT_THAT(snap.status().message(), ::testing::HasSubstr("needs the upstream gzip body"));
}

TEST(SnapshotTest, StreamedSamplesNeedTheUpstreamBody) {
  expo::Exposition families_only = SampleData();
  for (auto& f : families_only.families) f.samples.clear();
  auto snap = BuildSnapshot("acme", "x:443", 1, families_only, {.streamed_sample_count = 2});
  ASSERT_FALSE(snap.ok());
  EXPECT_THAT(snap.status().message(), ::testing::HasSubstr("needs the upstream body"));
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
  EXPECT_EQ((*snap)->source_bytes, (*snap)->Body(Representation::kText).body->size());  // source: the text rendering
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
