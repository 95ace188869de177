// The core promise under load: any number of downstream clients, at most one upstream
// request per org per cache window (plus the first), and every served body equal to the
// simulator's data for the current window.
#include <atomic>
#include <iostream>
#include <thread>

#include "common/gzip.h"
#include "tests/integration/harness.h"
#include "tools/scout_sim/scout_data.h"

namespace sb::itest {
namespace {

using namespace std::chrono_literals;

int64_t NowMs() { return SystemClock::Default()->NowMs(); }

TEST(BridgeLoadTest, ManyClientsCauseAtMostOneUpstreamRequestPerWindow) {
  constexpr int64_t kWindowMs = 2000;
  testing::TempDir dir;
  testing::WriteFile(dir.File("acme.token"), "tok-acme\n");
  testing::WriteFile(dir.File("globex.token"), "tok-globex\n");
  auto sim = StartSimulator({{"acme", "tok-acme"}, {"globex", "tok-globex"}}, Duration(kWindowMs), true);
  // refresh_interval below the window: only the simulator's Cache-Control keeps the bridge
  // from fetching more than once per window.
  std::string extra = "    refresh_interval: 1s\n    max_requests_per_hour: 100000\n";
  auto app = StartBridge(MustParse("scrape_configs:\n" +
                                   ScoutJobYaml("acme", sim->port(), dir.File("acme.token"), "http", extra) +
                                   ScoutJobYaml("globex", sim->port(), dir.File("globex.token"), "http", extra)));
  const int port = app->port();
  ASSERT_TRUE(WaitUntil([&] {
    std::string body;
    return testing::HttpRequest(port, "GET", "/v1/exporter/org/acme/metrics", {}, "", &body) == 200 &&
           testing::HttpRequest(port, "GET", "/v1/exporter/org/globex/metrics", {}, "", &body) == 200;
  }, 10s));
  const int64_t first_window = NowMs() / kWindowMs;

  std::atomic<uint64_t> served{0}, mismatched{0}, errors{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  const auto end = std::chrono::steady_clock::now() + 7s;
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&, c] {
      const std::string org = c % 2 ? "acme" : "globex";
      const auto spec = sim::SpecForSeriesCount(org, 250);
      KeepAliveClient client(port);
      if (!client.ok()) { errors++; return; }
      for (int i = 0; i < 100000 && std::chrono::steady_clock::now() < end && !stop; ++i) {
        int64_t before = NowMs();
        std::string body;
        if (client.Get("/v1/exporter/org/" + org + "/metrics", &body) != 200) { errors++; return; }
        int64_t after = NowMs();
        int64_t w0 = before / kWindowMs, w1 = after / kWindowMs;
        bool ok = body == sim::RenderOrgMetrics(spec, w0) || body == sim::RenderOrgMetrics(spec, w1) ||
                  // Just after a boundary the new window's fetch may still be in flight.
                  (before % kWindowMs < 1500 && body == sim::RenderOrgMetrics(spec, w0 - 1));
        if (!ok) mismatched++;
        served++;
      }
    });
  }
  for (auto& t : clients) t.join();
  const int64_t last_window = NowMs() / kWindowMs;
  const int64_t windows = last_window - first_window + 1;

  std::cout << "served " << served.load() << " bodies over " << windows << " windows; upstream requests acme="
            << sim->RequestCount("acme") << " globex=" << sim->RequestCount("globex") << "\n";
  EXPECT_EQ(errors.load(), 0u);
  EXPECT_EQ(mismatched.load(), 0u) << "bodies not matching the simulator's current window";
  EXPECT_GT(served.load(), 1000u) << "the load loop did not run";
  for (const std::string org : {"acme", "globex"}) {
    // windows spanned by the load, plus the first fetch (which may fall in the window before).
    EXPECT_LE(sim->RequestCount(org), static_cast<uint64_t>(windows + 1)) << org;
    EXPECT_GE(sim->RequestCount(org), static_cast<uint64_t>(windows - 1)) << org << ": the bridge stopped refreshing";
  }
  app->Stop();
}

TEST(BridgeLoadTest, DownstreamRequestsNeverReachUpstream) {
  testing::TempDir dir;
  testing::WriteFile(dir.File("t"), "tok\n");
  auto sim = StartSimulator({{"acme", "tok"}}, 1h, false);
  auto app = StartBridge(MustParse("scrape_configs:\n" + ScoutJobYaml("acme", sim->port(), dir.File("t"))));
  ASSERT_TRUE(WaitUntil([&] { return StatusOf(*app, "acme").health == bridge::TargetHealth::kUp; }, 10s));
  KeepAliveClient client(app->port());
  std::string body;
  for (int i = 0; i < 2000; ++i) {
    ASSERT_EQ(client.Get(i % 2 ? "/v1/exporter/org/acme/metrics" : "/v1/exporter/org/unknown/metrics", &body),
              i % 2 ? 200 : 404);
  }
  EXPECT_EQ(sim->RequestCount("acme"), 1u);
  EXPECT_EQ(sim->TotalRequests(), 1u);
}

TEST(BridgeLoadTest, LargeBodiesArriveIntactOnKeptAliveConnections) {
  // 20,000 series: ~2 MB plain, ~100 KB gzip, both above the size at which the bridge sends
  // bodies with sendfile(2) from a memfd.
  testing::TempDir dir;
  testing::WriteFile(dir.File("t"), "tok\n");
  auto sim = StartSimulator({{"big", "tok"}}, 1h, false, "", "", 20000);
  auto app = StartBridge(MustParse("scrape_configs:\n" + ScoutJobYaml("big", sim->port(), dir.File("t"))));
  ASSERT_TRUE(WaitUntil([&] { return StatusOf(*app, "big").health == bridge::TargetHealth::kUp; }, 20s));
  const std::string expected = sim->ExpectedBody("big");
  ASSERT_GT(expected.size(), bridge::kFileBodyMinBytes * 4);
  KeepAliveClient client(app->port());
  for (int i = 0; i < 20; ++i) {
    std::string body;
    const bool gzip = i % 2 == 1;
    ASSERT_EQ(client.Get("/v1/exporter/org/big/metrics", &body,
                         gzip ? std::vector<std::pair<std::string, std::string>>{{"Accept-Encoding", "gzip"}}
                              : std::vector<std::pair<std::string, std::string>>{}),
              200);
    if (gzip) {
      ASSERT_GE(body.size(), bridge::kFileBodyMinBytes);
      auto plain = GzipDecompress(body, 64 << 20);
      ASSERT_OK(plain);
      EXPECT_EQ(*plain, expected) << "request " << i;
    } else {
      EXPECT_EQ(body, expected) << "request " << i;
    }
  }
}

}  // namespace
}  // namespace sb::itest
