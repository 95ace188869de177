// The feeder against a fault-injecting receiver: the cases of the prometheus/compliance
// remote-write sender suite, plus the bridge's own durability and re-send rules. Fetches are
// appended to a real Store (in a temp dir) at FakeClock times; the feeder's endpoints run
// for real against FakeReceiver on 127.0.0.1.
#include "remote_write/feeder.h"

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <cstdlib>
#include <optional>
#include <thread>

#include "tests/remote_write/fake_receiver.h"
#include "tests/testing/testing.h"

namespace sb::remote_write {
namespace {

using rwtest::Fault;
using rwtest::FakeReceiver;
using rwtest::ReceivedRequest;

constexpr int64_t kT0 = 1'700'000'000'000;
const std::string kTarget = "scout/up:80";

bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

// Sets an environment variable for the scope of a test, then restores it.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = getenv(name)) old_ = old;
    setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_) setenv(name_, old_->c_str(), 1); else unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

storage::Labels Series(const std::string& name, std::vector<std::pair<std::string, std::string>> extra = {}) {
  storage::Labels ls = {{"__name__", name}, {"job", "scout"}, {"instance", "up:80"}};
  for (auto& [k, v] : extra) ls.push_back({k, v});
  return ls;
}

class FeederTest : public ::testing::Test {
 protected:
  // Starts the receiver, the store and the feeder. `rw_extra` is appended inside the
  // remote_write entry (4-space indent); `global_extra` inside `global:`.
  // `queue` replaces the default queue_config lines (6-space indent).
  void StartAll(FakeReceiver::Plan plan = {}, const std::string& rw_extra = "", const std::string& global_extra = "",
                const std::string& queue = "      min_backoff: 10ms\n      max_backoff: 40ms\n") {
    receiver_ = std::make_unique<FakeReceiver>(std::move(plan));
    ASSERT_TRUE(receiver_->Start().ok());
    yaml_ = "global:\n  scrape_interval: 1m\n" + global_extra +
            "scrape_configs:\n  - job_name: scout\n    static_configs:\n      - targets: ['up:80']\n"
            "remote_write:\n  - url: " + receiver_->url() + "\n    name: fake\n"
            "    queue_config:\n" + queue + rw_extra;
    auto cfg = config::ParseConfig(yaml_, "test.yml");
    ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
    cfg_ = *cfg;
    OpenStore();
    StartFeeder();
  }
  void OpenStore() {
    storage::StoreOptions so;
    so.path = dir_.File("bridge.db");
    so.synchronous = "OFF";
    auto st = storage::Store::Open(so);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    store_ = std::move(st).value();
  }
  void StartFeeder() {
    FeederOptions fo;
    fo.store = store_.get();
    fo.db_path = dir_.File("bridge.db");
    fo.clock = &clock_;
    fo.parsed_source = parsed_source_;
    auto f = Feeder::Start(fo, cfg_);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    feeder_ = std::move(f).value();
    store_->SetCommitListener([f = feeder_.get()](const storage::Store::CommittedFetch& c) { f->OnCommit(c); });
  }
  void StopFeeder() {
    store_->SetCommitListener(nullptr);
    feeder_->Stop();
    feeder_.reset();
  }
  void Fetch(int64_t t, const std::vector<std::pair<storage::Labels, double>>& series, const std::string& body = "") {
    std::vector<storage::SeriesSample> samples;
    for (const auto& [ls, v] : series) samples.push_back({ls, v});
    clock_.SetMs(std::max(clock_.NowMs(), t));
    Status st = store_->AppendFetch(kTarget, t, samples, body);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  // `fetches` fetches, 1 s apart, of the series s{i="0"} .. s{i="<series - 1>"}, valued
  // fetch * step + i.
  void FetchGrid(int series, int fetches, double step) {
    for (int f = 0; f < fetches; ++f) {
      std::vector<std::pair<storage::Labels, double>> batch;
      for (int i = 0; i < series; ++i) batch.push_back({Series("s", {{"i", std::to_string(i)}}), f * step + i});
      Fetch(kT0 + f * 1000, batch);
    }
  }
  // The receiver accepted every series of FetchGrid, each with all its samples in time order.
  void ExpectGridDeliveredInOrder(int series, int fetches) {
    auto all = receiver_->accepted();
    ASSERT_EQ(all.size(), static_cast<size_t>(series));
    for (const auto& [name, samples] : all) {
      ASSERT_EQ(samples.size(), static_cast<size_t>(fetches)) << name;
      for (size_t i = 1; i < samples.size(); ++i) EXPECT_LT(samples[i - 1].timestamp_ms, samples[i].timestamp_ms) << name;
    }
  }
  // Wakes the endpoints (the FakeClock may have moved) and waits until they are caught up.
  bool Idle() {
    feeder_->Poke();
    return WaitFor([&] { return feeder_->Idle(); });
  }
  std::vector<storage::Sample> Got(const storage::Labels& ls) {
    auto canon = storage::Canonicalize(ls);
    auto all = receiver_->accepted();
    return all[storage::LabelsToString(*canon)];
  }
  std::string Metrics() { return feeder_->RenderMetrics(); }

  testing::TempDir dir_;
  FakeClock clock_{kT0};
  std::string yaml_;
  config::Config cfg_;
  std::unique_ptr<FakeReceiver> receiver_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Feeder> feeder_;
  ParsedSource parsed_source_;
};

TEST_F(FeederTest, CounterAndGaugeValuesArriveExactlyAtFetchTimes) {
  StartAll();
  Fetch(kT0, {{Series("reqs_total"), 1}, {Series("temp"), 3.25}});
  Fetch(kT0 + 1000, {{Series("reqs_total"), 5}, {Series("temp"), -2e-9}});
  ASSERT_TRUE(Idle());
  auto c = Got(Series("reqs_total"));
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].timestamp_ms, kT0);
  EXPECT_EQ(c[0].value, 1);
  EXPECT_EQ(c[1].timestamp_ms, kT0 + 1000);
  EXPECT_EQ(c[1].value, 5);
  auto g = Got(Series("temp"));
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0].value, 3.25);
  EXPECT_EQ(g[1].value, -2e-9);
}

TEST_F(FeederTest, LabelsAreSortedUniqueNonEmptyWithNameJobAndInstance) {
  StartAll({}, "", "  external_labels:\n    cluster: eu1\n    __replica__: r1\n");
  Fetch(kT0, {{Series("scout_cves", {{"severity", "high"}, {"empty", ""}, {"a", "1"}}), 7}});
  ASSERT_TRUE(Idle());
  auto reqs = receiver_->requests();
  ASSERT_FALSE(reqs.empty());
  bool seen = false;
  for (const auto& r : reqs) {
    for (const auto& s : r.decoded.series) {
      seen = true;
      std::set<std::string> names;
      for (size_t i = 0; i < s.labels.size(); ++i) {
        EXPECT_FALSE(s.labels[i].name.empty());
        EXPECT_FALSE(s.labels[i].value.empty()) << s.labels[i].name;
        EXPECT_TRUE(names.insert(s.labels[i].name).second) << "repeated " << s.labels[i].name;
        if (i > 0) EXPECT_LT(s.labels[i - 1].name, s.labels[i].name);
      }
      EXPECT_TRUE(names.count("__name__"));
      EXPECT_TRUE(names.count("job"));
      EXPECT_TRUE(names.count("instance"));
      EXPECT_TRUE(names.count("cluster"));
      EXPECT_TRUE(names.count("__replica__"));
      EXPECT_FALSE(names.count("empty"));
    }
  }
  EXPECT_TRUE(seen);
  auto got = Got(Series("scout_cves", {{"severity", "high"}, {"a", "1"}, {"cluster", "eu1"}, {"__replica__", "r1"}}));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].value, 7);
}

TEST_F(FeederTest, HonorLabelsKeepTheExposedJobAndExportedLabels) {
  StartAll();
  // As the bridge stores them: honor_labels keeps an exposed job; otherwise it becomes
  // exported_job next to the target's job.
  storage::Labels honored = {{"__name__", "m"}, {"job", "exposed"}, {"instance", "up:80"}};
  storage::Labels exported = Series("n", {{"exported_job", "exposed"}});
  Fetch(kT0, {{honored, 1}, {exported, 2}});
  ASSERT_TRUE(Idle());
  EXPECT_EQ(Got(honored).size(), 1u);
  EXPECT_EQ(Got(exported).size(), 1u);
}

TEST_F(FeederTest, VanishedSeriesGetStaleMarkersOnLiveAndCatchUpPaths) {
  StartAll();
  Fetch(kT0, {{Series("a"), 1}, {Series("b"), 2}});
  Fetch(kT0 + 1000, {{Series("a"), 1}});
  ASSERT_TRUE(Idle());
  auto b = Got(Series("b"));
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[1].timestamp_ms, kT0 + 1000);
  EXPECT_TRUE(rwtest::IsStaleMarker(b[1].value));
  // Catch-up from the store after a restart carries the store's stale markers too.
  StopFeeder();
  Fetch(kT0 + 2000, {{Series("c"), 3}});
  StartFeeder();
  ASSERT_TRUE(Idle());
  auto a = Got(Series("a"));
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[2].timestamp_ms, kT0 + 2000);
  EXPECT_TRUE(rwtest::IsStaleMarker(a[2].value));
}

TEST_F(FeederTest, ProtocolHeadersAreExactAndConfiguredHeadersAndAuthAreSent) {
  testing::TempDir d;
  StartAll({}, "    headers:\n      X-Scope-OrgID: tenant-1\n    basic_auth:\n      username: u\n      password: s3cr3t-pw\n");
  Fetch(kT0, {{Series("a"), 1}});
  ASSERT_TRUE(Idle());
  auto reqs = receiver_->requests();
  ASSERT_FALSE(reqs.empty());
  const auto& h = reqs[0].headers;
  EXPECT_EQ(h.at("content-encoding"), "snappy");
  EXPECT_EQ(h.at("content-type"), "application/x-protobuf");
  EXPECT_EQ(h.at("x-prometheus-remote-write-version"), "0.1.0");
  EXPECT_EQ(h.at("user-agent"), "scout-bridge/0.1.0");
  EXPECT_EQ(h.at("x-scope-orgid"), "tenant-1");
  EXPECT_EQ(h.at("authorization"), "Basic dTpzM2NyM3QtcHc=");
  EXPECT_EQ(Metrics().find("s3cr3t"), std::string::npos);
}

TEST_F(FeederTest, OrderingHoldsPerSeriesAcrossShardsWithRandomReceiverDelays) {
  std::mt19937 rng(42);
  std::mutex rng_mu;
  StartAll([&](int, const ReceivedRequest&) {
    std::lock_guard<std::mutex> lock(rng_mu);
    Fault f;
    f.delay = std::chrono::milliseconds(rng() % 15);
    return f;
  }, "", "", "      max_samples_per_send: 100\n      min_backoff: 10ms\n      max_backoff: 40ms\n");
  constexpr int kSeries = 1000, kFetches = 4;
  FetchGrid(kSeries, kFetches, 10000.0);
  ASSERT_TRUE(Idle());
  ExpectGridDeliveredInOrder(kSeries, kFetches);
  EXPECT_GT(receiver_->num_requests(), 40);  // 4000 samples / 100 per request
}

TEST_F(FeederTest, Retries500UntilAcceptedAndCountsRetriedSamples) {
  StartAll([](int n, const ReceivedRequest&) { return Fault{n < 2 ? 500u : 204u}; });
  Fetch(kT0, {{Series("a"), 1}, {Series("b"), 2}});
  ASSERT_TRUE(Idle());
  auto reqs = receiver_->requests();
  ASSERT_EQ(reqs.size(), 3u);
  for (const auto& r : reqs) EXPECT_EQ(r.decoded.series.size(), 2u);  // the same batch each time
  EXPECT_EQ(Got(Series("a")).size(), 1u);
  EXPECT_NE(Metrics().find("scout_bridge_remote_storage_retried_samples_total{remote_name=\"fake\",url=\"" +
                           receiver_->url() + "\"} 4"), std::string::npos) << Metrics();
}

TEST_F(FeederTest, Retries400IsNotResentAndTheNextFetchStillGoesOut) {
  StartAll([](int n, const ReceivedRequest&) { return Fault{n == 0 ? 400u : 204u, "", {}, "bad sample"}; });
  Fetch(kT0, {{Series("a"), 1}});
  ASSERT_TRUE(Idle());
  EXPECT_EQ(receiver_->num_requests(), 1);
  Fetch(kT0 + 1000, {{Series("a"), 2}});
  ASSERT_TRUE(Idle());
  EXPECT_EQ(receiver_->num_requests(), 2);
  auto a = Got(Series("a"));
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].value, 2);
  EXPECT_NE(Metrics().find("scout_bridge_remote_storage_failed_samples_total{remote_name=\"fake\",url=\"" +
                           receiver_->url() + "\"} 1"), std::string::npos);
}

TEST_F(FeederTest, Http429HonoursRetryAfter) {
  StartAll([](int n, const ReceivedRequest&) { return n == 0 ? Fault{429, "1"} : Fault{}; });
  auto start = std::chrono::steady_clock::now();
  Fetch(kT0, {{Series("a"), 1}});
  ASSERT_TRUE(Idle());
  EXPECT_EQ(receiver_->num_requests(), 2);
  // The backoff alone would retry within 40 ms; Retry-After asked for a second.
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(950));
  EXPECT_EQ(Got(Series("a")).size(), 1u);
}

TEST_F(FeederTest, Http429IsDroppedWhenRetryOn429IsOff) {
  StartAll([](int, const ReceivedRequest&) { return Fault{429}; },
           "", "", "      retry_on_http_429: false\n");
  Fetch(kT0, {{Series("a"), 1}});
  ASSERT_TRUE(Idle());
  EXPECT_EQ(receiver_->num_requests(), 1);
}

TEST_F(FeederTest, OutageDeliversEverythingInOrderWithBoundedAttempts) {
  std::atomic<bool> down{true};
  StartAll([&](int, const ReceivedRequest&) { return Fault{down ? 503u : 204u}; },
           "", "", "      min_backoff: 20ms\n      max_backoff: 200ms\n");
  for (int i = 0; i < 5; ++i) Fetch(kT0 + i * 1000, {{Series("a"), static_cast<double>(i)}});
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  down = false;
  ASSERT_TRUE(Idle());
  auto a = Got(Series("a"));
  ASSERT_EQ(a.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(a[i].timestamp_ms, kT0 + i * 1000);
    EXPECT_EQ(a[i].value, i);
  }
  // 1.5 s of outage with backoff 20 ms doubling to 200 ms: at most ~1500/20 attempts even
  // with no backoff growth; a retry storm would make hundreds.
  EXPECT_LT(receiver_->num_requests(), 40);
}

TEST_F(FeederTest, RestartResumesAfterTheCursorWithoutResendingAcknowledgedFetches) {
  StartAll();
  Fetch(kT0, {{Series("a"), 1}});
  ASSERT_TRUE(Idle());
  StopFeeder();
  Fetch(kT0 + 1000, {{Series("a"), 2}});
  Fetch(kT0 + 2000, {{Series("a"), 3}});
  StartFeeder();
  ASSERT_TRUE(Idle());
  auto a = Got(Series("a"));
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].value, 1);
  EXPECT_EQ(a[1].value, 2);
  EXPECT_EQ(a[2].value, 3);
}

TEST_F(FeederTest, CurrentValuesAreResentEveryResendIntervalOnAGrid) {
  StartAll({}, "    resend_interval: 10s\n");
  Fetch(kT0, {{Series("a"), 4}});
  ASSERT_TRUE(Idle());
  clock_.Advance(std::chrono::seconds(25) + std::chrono::milliseconds(kResendGuardMs));
  ASSERT_TRUE(Idle());
  auto a = Got(Series("a"));
  ASSERT_EQ(a.size(), 3u);  // kT0, kT0+10s, kT0+20s
  EXPECT_EQ(a[1].timestamp_ms, kT0 + 10000);
  EXPECT_EQ(a[2].timestamp_ms, kT0 + 20000);
  EXPECT_EQ(a[2].value, 4);
}

TEST_F(FeederTest, ResendsOlderThanMaxBackfillAreSkippedAndCounted) {
  StartAll({}, "    resend_interval: 1m\n    max_backfill: 5m\n");
  Fetch(kT0, {{Series("a"), 1}});
  ASSERT_TRUE(Idle());
  StopFeeder();
  clock_.Advance(std::chrono::minutes(30));  // down for 30 minutes
  Fetch(clock_.NowMs(), {{Series("a"), 2}});
  StartFeeder();
  ASSERT_TRUE(Idle());
  auto a = Got(Series("a"));
  // The first fetch, re-sends only within the last 5 minutes before the new fetch, the
  // new fetch.
  ASSERT_GE(a.size(), 6u);
  ASSERT_LE(a.size(), 8u);
  EXPECT_GE(a[1].timestamp_ms, clock_.NowMs() - 5 * 60000);
  EXPECT_EQ(a.back().value, 2);
  EXPECT_NE(Metrics().find("scout_bridge_remote_storage_skipped_resend_samples_total{remote_name=\"fake\",url=\"" +
                           receiver_->url() + "\"} 2"), std::string::npos) << Metrics();
}

TEST_F(FeederTest, RemovedJobGetsStaleMarkersAndItsCursorIsDeleted) {
  StartAll();
  Fetch(kT0, {{Series("a"), 1}, {Series("b"), 2}});
  ASSERT_TRUE(Idle());
  auto cfg = cfg_;
  cfg.scrape_configs.clear();
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(feeder_->Reload(cfg).ok());
  ASSERT_TRUE(Idle());
  for (const char* n : {"a", "b"}) {
    auto s = Got(Series(n));
    ASSERT_EQ(s.size(), 2u) << n;
    EXPECT_TRUE(rwtest::IsStaleMarker(s[1].value));
  }
  auto db = CursorDb::Open(dir_.File("bridge.db"));
  EXPECT_EQ(*(*db)->Get(EndpointKey(cfg_.remote_write[0]), kTarget), std::nullopt);
}

TEST_F(FeederTest, WriteRelabelConfigsDropSeriesAndCountThem) {
  StartAll({}, "    write_relabel_configs:\n      - source_labels: [__name__]\n        regex: debug_.*\n        action: drop\n");
  Fetch(kT0, {{Series("debug_x"), 1}, {Series("kept"), 2}});
  ASSERT_TRUE(Idle());
  EXPECT_EQ(Got(Series("kept")).size(), 1u);
  EXPECT_EQ(receiver_->accepted().size(), 1u);
  EXPECT_NE(Metrics().find("dropped_samples_total{remote_name=\"fake\",url=\"" + receiver_->url() + "\"} 1"),
            std::string::npos);
}

TEST_F(FeederTest, MetadataIsSentFromTheStoredSnapshot) {
  StartAll();
  Fetch(kT0, {{Series("scout_cves"), 1}}, "# HELP scout_cves Known CVEs.\n# TYPE scout_cves gauge\nscout_cves 1\n");
  clock_.Advance(std::chrono::minutes(2));  // metadata send_interval is 1m
  ASSERT_TRUE(WaitFor([&] {
    feeder_->Poke();
    return !receiver_->metadata().empty();
  }));
  auto md = receiver_->metadata();
  EXPECT_EQ(md[0].family, "scout_cves");
  EXPECT_EQ(md[0].type, expo::MetricType::kGauge);
  EXPECT_EQ(md[0].help, "Known CVEs.");
}

TEST_F(FeederTest, MetadataComesFromTheParsedSnapshotWhenTheBridgeHasIt) {
  // The stored body says one thing, the in-memory snapshot another: the snapshot wins (no
  // inflating and re-parsing of the stored body).
  auto data = std::make_shared<expo::Exposition>();
  data->families.push_back({"scout_cves", expo::MetricType::kCounter, "From memory.", "", {}});
  parsed_source_ = [data](const std::string& key) -> std::shared_ptr<const expo::Exposition> {
    return key == kTarget ? data : nullptr;
  };
  StartAll();
  Fetch(kT0, {{Series("scout_cves"), 1}}, "# HELP scout_cves Known CVEs.\n# TYPE scout_cves gauge\nscout_cves 1\n");
  clock_.Advance(std::chrono::minutes(2));
  ASSERT_TRUE(WaitFor([&] {
    feeder_->Poke();
    return !receiver_->metadata().empty();
  }));
  auto md = receiver_->metadata();
  EXPECT_EQ(md[0].type, expo::MetricType::kCounter);
  EXPECT_EQ(md[0].help, "From memory.");
}

TEST_F(FeederTest, RemoteWrite2RoundTripsWithSymbolsAndMetadata) {
  StartAll({}, "    protobuf_message: io.prometheus.write.v2.Request\n");
  Fetch(kT0, {{Series("scout_cves", {{"severity", "high"}}), 3}},
        "# HELP scout_cves Known CVEs.\n# TYPE scout_cves gauge\nscout_cves{severity=\"high\"} 3\n");
  Fetch(kT0 + 1000, {{Series("scout_cves", {{"severity", "high"}}), 4}},
        "# HELP scout_cves Known CVEs.\n# TYPE scout_cves gauge\nscout_cves{severity=\"high\"} 4\n");
  ASSERT_TRUE(Idle());
  auto reqs = receiver_->requests();
  ASSERT_FALSE(reqs.empty());
  EXPECT_EQ(reqs[0].protocol, Protocol::kV2);
  EXPECT_EQ(reqs[0].headers.at("x-prometheus-remote-write-version"), "2.0.0");
  EXPECT_EQ(reqs[0].headers.at("content-type"), "application/x-protobuf;proto=io.prometheus.write.v2.Request");
  EXPECT_TRUE(reqs[0].decode_error.empty()) << reqs[0].decode_error;
  auto s = Got(Series("scout_cves", {{"severity", "high"}}));
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[1].value, 4);
  ASSERT_FALSE(reqs[0].decoded.metadata.empty());
  EXPECT_EQ(reqs[0].decoded.metadata[0].help, "Known CVEs.");
}

TEST_F(FeederTest, RemoteWrite2FallsBackTo1On415) {
  StartAll([](int, const ReceivedRequest& r) { return Fault{r.protocol == Protocol::kV2 ? 415u : 204u}; },
           "    protobuf_message: io.prometheus.write.v2.Request\n");
  Fetch(kT0, {{Series("a"), 1}});
  Fetch(kT0 + 1000, {{Series("a"), 2}});
  ASSERT_TRUE(Idle());
  auto reqs = receiver_->requests();
  ASSERT_GE(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].protocol, Protocol::kV2);
  int v2 = 0;
  for (const auto& r : reqs) v2 += r.protocol == Protocol::kV2;
  EXPECT_EQ(v2, 1);  // once refused, the endpoint stays on 1.0
  EXPECT_EQ(Got(Series("a")).size(), 2u);
  EXPECT_NE(Metrics().find("protocol_fallbacks_total{remote_name=\"fake\",url=\"" + receiver_->url() + "\"} 1"),
            std::string::npos);
}

TEST_F(FeederTest, SampleAgeLimitDropsOlderSamplesAndCountsThem) {
  StartAll({}, "", "", "      min_backoff: 10ms\n      max_backoff: 40ms\n      sample_age_limit: 5m\n");
  StopFeeder();
  Fetch(kT0, {{Series("a"), 1}});
  clock_.Advance(std::chrono::minutes(10));
  Fetch(clock_.NowMs(), {{Series("a"), 2}});
  StartFeeder();
  ASSERT_TRUE(Idle());
  auto a = Got(Series("a"));
  ASSERT_FALSE(a.empty());
  for (const auto& s : a) EXPECT_GE(s.timestamp_ms, clock_.NowMs() - 5 * 60000);  // nothing older
  EXPECT_EQ(a.back().timestamp_ms, clock_.NowMs());
  EXPECT_EQ(a.back().value, 2);
  // The first fetch and the re-sends older than 5 minutes were dropped and counted.
  EXPECT_EQ(Metrics().find("dropped_samples_total{remote_name=\"fake\",url=\"" + receiver_->url() + "\"} 0"),
            std::string::npos) << Metrics();
}

TEST_F(FeederTest, TinyCapacityStillDeliversEverySampleInOrder) {
  // capacity 3 < max_samples_per_send: each shard queue holds one batch at a time.
  StartAll({}, "", "", "      capacity: 3\n      max_samples_per_send: 7\n      min_backoff: 10ms\n"
                       "      max_backoff: 40ms\n");
  constexpr int kSeries = 200, kFetches = 3;
  FetchGrid(kSeries, kFetches, 1000.0);
  ASSERT_TRUE(Idle());
  ExpectGridDeliveredInOrder(kSeries, kFetches);
  for (const auto& r : receiver_->requests()) {
    size_t n = 0;
    for (const auto& s : r.decoded.series) n += s.samples.size();
    EXPECT_LE(n, 7u);
  }
}

TEST_F(FeederTest, PartialBatchGoesOutWithoutWaitingForBatchSendDeadline) {
  // One sample, far below max_samples_per_send, and a deadline of an hour: it is sent at
  // once (the clock never moves).
  StartAll({}, "", "", "      batch_send_deadline: 1h\n      min_backoff: 10ms\n      max_backoff: 40ms\n");
  Fetch(kT0, {{Series("a"), 1}});
  ASSERT_TRUE(Idle());
  EXPECT_EQ(clock_.NowMs(), kT0);
  EXPECT_EQ(Got(Series("a")).size(), 1u);
}

TEST_F(FeederTest, NoProxyBypassesProxyUrlForTheReceiver) {
  // The proxy does not exist: delivery works only if no_proxy is applied.
  StartAll({}, "    proxy_url: http://127.0.0.1:1\n    no_proxy: 127.0.0.1\n");
  Fetch(kT0, {{Series("a"), 1}});
  ASSERT_TRUE(Idle());
  EXPECT_EQ(Got(Series("a")).size(), 1u);
}

TEST_F(FeederTest, ProxyFromEnvironmentHonoursNoProxy) {
  ScopedEnv http_proxy("HTTP_PROXY", "http://127.0.0.1:1");
  ScopedEnv no_proxy("NO_PROXY", "example.org,127.0.0.1");
  StartAll({}, "    proxy_from_environment: true\n");
  Fetch(kT0, {{Series("a"), 1}});
  ASSERT_TRUE(Idle());
  EXPECT_EQ(Got(Series("a")).size(), 1u);
}

TEST_F(FeederTest, ProxyFromEnvironmentSendsThroughTheProxy) {
  // HTTP_PROXY names a port where nothing listens and the receiver is not in NO_PROXY:
  // the attempts fail (so the proxy is used) and nothing arrives.
  ScopedEnv http_proxy("HTTP_PROXY", "http://127.0.0.1:1");
  ScopedEnv no_proxy("NO_PROXY", "example.org");
  StartAll({}, "    proxy_from_environment: true\n");
  Fetch(kT0, {{Series("a"), 1}});
  const std::string prefix = "scout_bridge_remote_storage_sent_requests_total{remote_name=\"fake\",url=\"" +
                             receiver_->url() + "\"} ";
  auto attempts = [&] {
    std::string m = Metrics();
    size_t at = m.find(prefix);
    return at == std::string::npos ? 0 : std::atoi(m.c_str() + at + prefix.size());
  };
  ASSERT_TRUE(WaitFor([&] { return attempts() >= 2; })) << Metrics();  // failed, retried
  EXPECT_EQ(receiver_->num_requests(), 0);
  EXPECT_TRUE(Got(Series("a")).empty());
}

TEST_F(FeederTest, RequestsReuseOneKeptAliveConnection) {
  StartAll({}, "", "", "      max_samples_per_send: 1\n      max_shards: 1\n      min_backoff: 10ms\n"
                       "      max_backoff: 40ms\n");
  Fetch(kT0, {{Series("a"), 1}, {Series("b"), 2}, {Series("c"), 3}});
  Fetch(kT0 + 1000, {{Series("a"), 4}, {Series("b"), 5}, {Series("c"), 6}});
  ASSERT_TRUE(Idle());
  EXPECT_EQ(receiver_->num_requests(), 6);
  EXPECT_EQ(receiver_->connections(), 1u);
}

TEST_F(FeederTest, ReceiverClosingTheConnectionIsNotAFailure) {
  // Every answer says "Connection: close": each request opens a new connection, and no
  // attempt fails for it.
  StartAll([](int, const ReceivedRequest&) {
    Fault f;
    f.close = true;
    return f;
  }, "", "", "      max_samples_per_send: 1\n      max_shards: 1\n      min_backoff: 10ms\n      max_backoff: 40ms\n");
  Fetch(kT0, {{Series("a"), 1}, {Series("b"), 2}});
  ASSERT_TRUE(Idle());
  EXPECT_EQ(receiver_->num_requests(), 2);
  EXPECT_EQ(receiver_->connections(), 2u);
  EXPECT_NE(Metrics().find("scout_bridge_remote_storage_samples_total{remote_name=\"fake\",url=\"" + receiver_->url() +
                           "\"} 2"), std::string::npos) << Metrics();
}

}  // namespace
}  // namespace sb::remote_write
