// The store is the bridge's memory across restarts: a bridge restarted with a store younger
// than the refresh interval serves the stored snapshot at once and does not touch the
// upstream; every fetch is kept with job and instance labels.
#include "storage/store.h"
#include "tests/integration/harness.h"

namespace sb::itest {
namespace {

using namespace std::chrono_literals;

TEST(WarmRestartTest, RestartServesStoredSnapshotWithoutAnUpstreamRequest) {
  testing::TempDir dir;
  testing::WriteFile(dir.File("t"), "tok\n");
  auto sim = StartSimulator({{"acme", "tok"}}, 1h, false);
  const config::Config cfg = MustParse("scrape_configs:\n" + ScoutJobYaml("acme", sim->port(), dir.File("t")));
  const std::string store_dir = dir.File("data");
  std::string first_body;
  {
    auto app = StartBridge(cfg, FastTuning(), "", store_dir);
    ASSERT_TRUE(WaitUntil([&] { return StatusOf(*app, "acme").health == bridge::TargetHealth::kUp; }, 10s));
    ASSERT_EQ(testing::HttpRequest(app->port(), "GET", "/v1/exporter/org/acme/metrics", {}, "", &first_body), 200);
    app->Stop();
  }
  ASSERT_EQ(sim->RequestCount("acme"), 1u);

  auto app = StartBridge(cfg, FastTuning(), "", store_dir);
  // Served at once: no wait for a fetch, and the schedule waits out the refresh interval.
  std::string body;
  ASSERT_EQ(testing::HttpRequest(app->port(), "GET", "/v1/exporter/org/acme/metrics", {}, "", &body), 200);
  EXPECT_EQ(body, first_body);
  EXPECT_EQ(body, sim->ExpectedBody("acme"));
  auto st = StatusOf(*app, "acme");
  EXPECT_EQ(st.next_fetch_reason, "refresh");
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(sim->RequestCount("acme"), 1u);
  app->Stop();
  app.reset();

  // The fetch is in the store, with the target labels a Prometheus would attach.
  storage::StoreOptions so;
  so.path = store_dir + "/bridge.db";
  auto store = storage::Store::Open(so);
  ASSERT_OK(store);
  auto job = storage::Matcher::Make(storage::Matcher::Type::kEqual, "job", "acme");
  auto name = storage::Matcher::Make(storage::Matcher::Type::kEqual, "__name__", "scout_stream_vulnerabilities");
  ASSERT_OK(job);
  ASSERT_OK(name);
  auto series = (*store)->Select({*job, *name}, 0, INT64_MAX);
  ASSERT_OK(series);
  EXPECT_EQ(series->size(), 25u);  // 5 streams x 5 severities
  for (const auto& ref : *series) {
    auto samples = (*store)->Samples(ref.id, 0, INT64_MAX);
    ASSERT_OK(samples);
    EXPECT_EQ(samples->size(), 1u);
  }
}

TEST(WarmRestartTest, TargetLabelsFollowPrometheusRules) {
  expo::Exposition data;
  expo::Family f;
  f.name = "m";
  f.samples.push_back({"m", {{"job", "inner"}, {"a", "b"}}, 1, std::nullopt});
  data.families.push_back(f);
  // The samples carry canonical keys: exactly the encoding of the sorted label set.
  auto plain = bridge::ToSeriesSamples(data, "outer", "h:1", false);
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_TRUE(plain[0].labels.empty());
  storage::Labels want = {{"__name__", "m"}, {"exported_job", "inner"}, {"a", "b"}, {"job", "outer"}, {"instance", "h:1"}};
  EXPECT_EQ(plain[0].key, storage::EncodeLabels(storage::Canonicalize(want).value()));
  auto honored = bridge::ToSeriesSamples(data, "outer", "h:1", true);
  storage::Labels want_honored = {{"__name__", "m"}, {"job", "inner"}, {"a", "b"}, {"instance", "h:1"}};
  EXPECT_EQ(honored[0].key, storage::EncodeLabels(storage::Canonicalize(want_honored).value()));
  // An empty value is left out, as Prometheus treats it as absent.
  data.families[0].samples[0].labels.push_back({"empty", ""});
  EXPECT_EQ(bridge::ToSeriesSamples(data, "outer", "h:1", true)[0].key, honored[0].key);
  // Given the keys of the last fetch, a sample whose key is the one at its place carries
  // that view instead of a copy; any other gets its own key.
  const std::string stored = honored[0].key;  // stands for the store's own copy
  const std::vector<std::string_view> known = {stored};
  std::vector<storage::LabelView> scratch;
  std::string buf;
  std::vector<storage::SeriesSample> out;
  bridge::AppendSeriesSample(data.families[0].samples[0], "outer", "h:1", true, &scratch, &out, &known, &buf);
  bridge::AppendSeriesSample(data.families[0].samples[0], "outer", "h:1", false, &scratch, &out, &known, &buf);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].stored_key.data(), stored.data());
  EXPECT_TRUE(out[0].key.empty());
  EXPECT_TRUE(out[1].stored_key.empty());  // beyond the known keys
  EXPECT_EQ(out[1].key, plain[0].key);
  out.clear();
  bridge::AppendSeriesSample(data.families[0].samples[0], "outer", "h:1", false, &scratch, &out, &known, &buf);
  EXPECT_TRUE(out[0].stored_key.empty());  // at its place, but a different series
  EXPECT_EQ(out[0].key, plain[0].key);
}

}  // namespace
}  // namespace sb::itest
