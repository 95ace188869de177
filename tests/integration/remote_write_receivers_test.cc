// The remote-write feeder against real receivers started here on loopback ports: Prometheus
// 2.42 (--web.enable-remote-write-receiver) and VictoriaMetrics 1.79 (/api/v1/write). The
// bridge scrapes the Scout simulator (1 s windows, so every fetch has new values) and feeds
// both; each receiver's query API must then hold every real fetch sample the bridge stored,
// with exact values and labels. Also: a VictoriaMetrics outage, and SIGKILLs of the real
// binary while it sends.
#include <boost/json.hpp>
#include <csignal>
#include <cmath>

#include "tests/integration/harness.h"

namespace sb::itest {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

// series ("name{labels}") -> timestamp_ms -> value
using SampleMap = std::map<std::string, std::map<int64_t, double>>;

std::string UrlEncode(const std::string& s) {
  std::string out;
  char buf[4];
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string Key(const json::object& metric) {
  storage::Labels ls;
  for (const auto& [k, v] : metric) ls.push_back({std::string(k), std::string(v.as_string())});
  std::sort(ls.begin(), ls.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return storage::LabelsToString(ls);
}

// Every non-stale sample of job `job` in the bridge's store.
SampleMap FromStore(storage::Store* store, const std::string& job) {
  SampleMap out;
  auto m = storage::Matcher::Make(storage::Matcher::Type::kEqual, "job", job);
  auto refs = store->Select({*m}, 0, INT64_MAX);
  EXPECT_TRUE(refs.ok());
  if (!refs.ok()) return out;
  for (const auto& ref : *refs) {
    auto samples = store->Samples(ref.id, 0, INT64_MAX);
    if (!samples.ok()) continue;
    for (const auto& s : *samples) {
      if (!std::isnan(s.value)) out[storage::LabelsToString(ref.labels)][s.timestamp_ms] = s.value;
    }
  }
  return out;
}

SampleMap FromPrometheus(int port, const std::string& job) {
  SampleMap out;
  std::string body;
  if (testing::HttpRequest(port, "GET", "/api/v1/query?query=" + UrlEncode("{job=\"" + job + "\"}[2h]"), {}, "",
                           &body) != 200) {
    return out;
  }
  auto root = json::parse(body);
  for (const auto& r : root.at("data").at("result").as_array()) {
    auto& m = out[Key(r.at("metric").as_object())];
    for (const auto& v : r.at("values").as_array()) {
      const auto& pair = v.as_array();
      int64_t ts = std::llround(pair[0].to_number<double>() * 1000);
      m[ts] = std::strtod(std::string(pair[1].as_string()).c_str(), nullptr);
    }
  }
  return out;
}

SampleMap FromVictoria(int port, const std::string& job) {
  SampleMap out;
  std::string body;
  testing::HttpRequest(port, "GET", "/internal/force_flush", {}, "", &body);
  if (testing::HttpRequest(port, "GET", "/api/v1/export?match[]=" + UrlEncode("{job=\"" + job + "\"}"), {}, "",
                           &body) != 200) {
    return out;
  }
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find('\n', pos);
    if (end == std::string::npos) end = body.size();
    std::string line = body.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty()) continue;
    auto o = json::parse(line).as_object();
    auto& m = out[Key(o.at("metric").as_object())];
    const auto& vals = o.at("values").as_array();
    const auto& ts = o.at("timestamps").as_array();
    for (size_t i = 0; i < vals.size() && i < ts.size(); ++i) {
      if (vals[i].is_number()) m[ts[i].to_number<int64_t>()] = vals[i].to_number<double>();
    }
  }
  return out;
}

// Whether `got` has every sample of `want` (exact timestamps and values); `missing` says
// what first lacks.
bool Covers(const SampleMap& got, const SampleMap& want, std::string* missing) {
  for (const auto& [series, samples] : want) {
    auto it = got.find(series);
    if (it == got.end()) {
      *missing = "series " + series;
      return false;
    }
    for (const auto& [t, v] : samples) {
      auto s = it->second.find(t);
      if (s == it->second.end() || s->second != v) {
        *missing = series + " @" + std::to_string(t);
        return false;
      }
    }
  }
  return true;
}

// The largest gap between consecutive samples of any series.
int64_t MaxGapMs(const SampleMap& m) {
  int64_t gap = 0;
  for (const auto& [s, samples] : m) {
    int64_t prev = -1;
    for (const auto& [t, v] : samples) {
      if (prev >= 0) gap = std::max(gap, t - prev);
      prev = t;
    }
  }
  return gap;
}

struct Victoria {
  Victoria(const std::string& dir, int port)
      : port(port),
        proc({testing::FindExecutable("victoria-metrics"), "-httpListenAddr=127.0.0.1:" + std::to_string(port),
              "-storageDataPath=" + dir + "/vm", "-search.latencyOffset=0s", "-search.disableCache",
              "-retentionPeriod=100y"},
             dir + "/vm-" + std::to_string(port) + ".log") {}
  bool Ready() {
    return WaitUntil([&] {
      std::string b;
      return testing::HttpRequest(port, "GET", "/health", {}, "", &b) == 200;
    }, 30s);
  }
  int port;
  testing::Subprocess proc;
};

struct PromReceiver {
  explicit PromReceiver(const std::string& dir)
      : port(testing::PickFreePort()),
        proc(([&] {
               testing::WriteFile(dir + "/prom.yml", "global:\n  scrape_interval: 1m\n");
               return std::vector<std::string>{testing::FindExecutable("prometheus"), "--web.enable-remote-write-receiver",
                                               "--config.file=" + dir + "/prom.yml",
                                               "--storage.tsdb.path=" + dir + "/prom-tsdb",
                                               "--web.listen-address=127.0.0.1:" + std::to_string(port)};
             })(),
             dir + "/prom.log") {}
  bool Ready() {
    return WaitUntil([&] {
      std::string b;
      return testing::HttpRequest(port, "GET", "/-/ready", {}, "", &b) == 200;
    }, 30s);
  }
  int port;
  testing::Subprocess proc;
};

std::string JobYaml(int sim_port, const std::string& token_file) {
  return ScoutJobYaml("acme", sim_port, token_file, "http",
                      "    refresh_interval: 1s\n    max_requests_per_hour: 100000\n    respect_cache_headers: false\n");
}

std::string RemoteWriteYaml(const std::string& name, const std::string& url, const std::string& queue_extra = "") {
  return "  - url: " + url + "\n    name: " + name +
         "\n    resend_interval: 2s\n    queue_config:\n      min_backoff: 50ms\n      max_backoff: 500ms\n" +
         queue_extra;
}

TEST(RemoteWriteReceiversTest, PrometheusAndVictoriaMetricsGetEveryFetchSampleExactly) {
  ASSERT_FALSE(testing::FindExecutable("prometheus").empty());
  ASSERT_FALSE(testing::FindExecutable("victoria-metrics").empty());
  testing::TempDir dir;
  testing::WriteFile(dir.File("t"), "tok\n");
  PromReceiver prom(dir.path());
  Victoria vm(dir.path(), testing::PickFreePort());
  ASSERT_TRUE(prom.Ready()) << testing::ReadFile(dir.File("prom.log"));
  ASSERT_TRUE(vm.Ready());
  auto sim = StartSimulator({{"acme", "tok"}}, 1s, false);
  auto cfg = MustParse("scrape_configs:\n" + JobYaml(sim->port(), dir.File("t")) + "remote_write:\n" +
                       RemoteWriteYaml("prom", "http://127.0.0.1:" + std::to_string(prom.port) + "/api/v1/write") +
                       RemoteWriteYaml("vm", "http://127.0.0.1:" + std::to_string(vm.port) + "/api/v1/write"));
  auto app = StartBridge(cfg, FastTuning(), "", dir.File("data"));
  ASSERT_TRUE(WaitUntil([&] { return sim->RequestCount("acme") >= 4; }, 20s));
  SampleMap want = FromStore(app->store(), "acme");
  ASSERT_GT(want.size(), 100u);
  size_t fetches = want.begin()->second.size();
  EXPECT_GE(fetches, 3u);
  std::string missing;
  ASSERT_TRUE(WaitUntil([&] { return Covers(FromPrometheus(prom.port, "acme"), want, &missing); }, 30s))
      << "Prometheus lacks " << missing;
  ASSERT_TRUE(WaitUntil([&] { return Covers(FromVictoria(vm.port, "acme"), want, &missing); }, 30s))
      << "VictoriaMetrics lacks " << missing;
  // Labels are exactly the stored ones (no extra series) and there is no gap beyond a
  // re-send interval plus the re-send guard and slack.
  auto got = FromPrometheus(prom.port, "acme");
  EXPECT_EQ(got.size(), want.size());
  EXPECT_LE(MaxGapMs(got), 2000 + 5000 + 2000);
  std::string metrics;
  ASSERT_EQ(testing::HttpRequest(app->port(), "GET", "/metrics", {}, "", &metrics), 200);
  EXPECT_NE(metrics.find("scout_bridge_remote_storage_samples_total{remote_name=\"vm\""), std::string::npos);
  app->Stop();
}

TEST(RemoteWriteReceiversTest, VictoriaMetricsOutageLosesNothingAndDoesNotStorm) {
  ASSERT_FALSE(testing::FindExecutable("victoria-metrics").empty());
  testing::TempDir dir;
  testing::WriteFile(dir.File("t"), "tok\n");
  const int vm_port = testing::PickFreePort();
  auto vm = std::make_unique<Victoria>(dir.path(), vm_port);
  ASSERT_TRUE(vm->Ready());
  auto sim = StartSimulator({{"acme", "tok"}}, 1s, false);
  auto cfg = MustParse("scrape_configs:\n" + JobYaml(sim->port(), dir.File("t")) + "remote_write:\n" +
                       RemoteWriteYaml("vm", "http://127.0.0.1:" + std::to_string(vm_port) + "/api/v1/write"));
  auto app = StartBridge(cfg, FastTuning(), "", dir.File("data"));
  ASSERT_TRUE(WaitUntil([&] { return sim->RequestCount("acme") >= 2; }, 20s));
  vm->proc.Stop();  // SIGTERM: VictoriaMetrics flushes and exits
  vm.reset();
  const auto outage_start = std::chrono::steady_clock::now();
  const size_t before = sim->RequestCount("acme");
  ASSERT_TRUE(WaitUntil([&] { return sim->RequestCount("acme") >= before + 4; }, 20s));
  const double outage_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - outage_start).count();
  vm = std::make_unique<Victoria>(dir.path(), vm_port);
  ASSERT_TRUE(vm->Ready());
  SampleMap want = FromStore(app->store(), "acme");
  std::string missing;
  ASSERT_TRUE(WaitUntil([&] { return Covers(FromVictoria(vm_port, "acme"), want, &missing); }, 40s))
      << "VictoriaMetrics lacks " << missing;
  // Attempts: one endpoint retrying with backoff up to 500 ms makes a few per second, not
  // hundreds.
  std::string metrics;
  ASSERT_EQ(testing::HttpRequest(app->port(), "GET", "/metrics", {}, "", &metrics), 200);
  size_t at = metrics.find("scout_bridge_remote_storage_sent_requests_total{remote_name=\"vm\"");
  ASSERT_NE(at, std::string::npos);
  double requests = std::strtod(metrics.c_str() + metrics.find(' ', metrics.find('}', at)) + 1, nullptr);
  EXPECT_LT(requests, 20 + outage_s * 10) << metrics.substr(at, 200);
  app->Stop();
}

TEST(RemoteWriteReceiversTest, SigkillWhileSendingLosesNoFetch) {
  ASSERT_FALSE(testing::FindExecutable("victoria-metrics").empty());
  const std::string binary = std::string(SB_BINARY_DIR) + "/scout-bridge";
  testing::TempDir dir;
  testing::WriteFile(dir.File("t"), "tok\n");
  const int vm_port = testing::PickFreePort();
  Victoria vm(dir.path(), vm_port);
  ASSERT_TRUE(vm.Ready());
  // Small batches and a slow-ish receiver path make kills land mid-send.
  auto sim = StartSimulator({{"acme", "tok"}}, 1s, false, "", "", 2000);
  testing::WriteFile(dir.File("bridge.yml"),
                     "scrape_configs:\n" + JobYaml(sim->port(), dir.File("t")) + "remote_write:\n" +
                         RemoteWriteYaml("vm", "http://127.0.0.1:" + std::to_string(vm_port) + "/api/v1/write",
                                         "      max_samples_per_send: 50\n      max_shards: 1\n"));
  std::mt19937 rng(7);
  for (int round = 0; round < 5; ++round) {
    const int port = testing::PickFreePort();
    testing::Subprocess bridge({binary, "--config.file=" + dir.File("bridge.yml"), "--storage.path=" + dir.File("data"),
                                "--web.listen-address=127.0.0.1:" + std::to_string(port)},
                               dir.File("bridge.log"));
    ASSERT_TRUE(testing::WaitForPort(port, 10s));
    std::this_thread::sleep_for(std::chrono::milliseconds(1200 + rng() % 800));
    bridge.Stop(SIGKILL);
  }
  // A last run without kills must deliver everything the store holds.
  const int port = testing::PickFreePort();
  {
    testing::Subprocess bridge({binary, "--config.file=" + dir.File("bridge.yml"), "--storage.path=" + dir.File("data"),
                                "--web.listen-address=127.0.0.1:" + std::to_string(port)},
                               dir.File("bridge.log"));
    ASSERT_TRUE(testing::WaitForPort(port, 10s));
    std::this_thread::sleep_for(1s);
    bridge.Stop(SIGKILL);  // stop fetching; the store is now final
  }
  storage::StoreOptions so;
  so.path = dir.File("data") + "/bridge.db";
  SampleMap want;
  {
    auto store = storage::Store::Open(so);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    want = FromStore(store->get(), "acme");
  }
  ASSERT_FALSE(want.empty());
  // Deliver the rest: a bridge that cannot fetch any more (the simulator is gone).
  sim.reset();
  testing::Subprocess bridge({binary, "--config.file=" + dir.File("bridge.yml"), "--storage.path=" + dir.File("data"),
                              "--web.listen-address=127.0.0.1:" + std::to_string(port)},
                             dir.File("bridge.log"));
  std::string missing;
  EXPECT_TRUE(WaitUntil([&] { return Covers(FromVictoria(vm_port, "acme"), want, &missing); }, 40s))
      << "VictoriaMetrics lacks " << missing << "\n" << testing::ReadFile(dir.File("bridge.log")).substr(0, 2000);
}

}  // namespace
}  // namespace sb::itest
