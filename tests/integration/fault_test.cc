// Upstream faults: the bridge keeps serving the last good snapshot, reports up=0 and the
// error, honours Retry-After, waits after 401, and never exceeds its hourly budget.
#include "tests/integration/harness.h"

namespace sb::itest {
namespace {

using namespace std::chrono_literals;
using bridge::TargetHealth;

class FaultTest : public ::testing::Test {
 protected:
  void Start(const std::string& extra, bridge::ScheduleOptions tuning = FastTuning(), std::string token = "tok") {
    testing::WriteFile(dir_.File("t"), token + "\n");
    sim_ = StartSimulator({{"acme", "tok"}}, 1h, false);
    app_ = StartBridge(MustParse("scrape_configs:\n" + ScoutJobYaml("acme", sim_->port(), dir_.File("t"), "http", extra)), tuning);
  }
  bridge::TargetStatus Status() { return StatusOf(*app_, "acme"); }
  std::string Scrape(int* code = nullptr) {
    std::string body;
    int c = testing::HttpRequest(app_->port(), "GET", "/v1/exporter/org/acme/metrics", {}, "", &body);
    if (code) *code = c;
    return body;
  }
  std::string SelfMetrics() {
    std::string body;
    testing::HttpRequest(app_->port(), "GET", "/metrics", {}, "", &body);
    return body;
  }
  bool WaitHealth(TargetHealth h) { return WaitUntil([&] { return Status().health == h; }, 15s); }

  testing::TempDir dir_;
  std::unique_ptr<sim::ScoutSimulator> sim_;
  std::unique_ptr<bridge::App> app_;
};

TEST_F(FaultTest, LastGoodSnapshotIsServedThroughEveryFault) {
  Start("    refresh_interval: 1s\n    max_requests_per_hour: 60\n");
  ASSERT_TRUE(WaitHealth(TargetHealth::kUp));
  int code = 0;
  const std::string good = Scrape(&code);
  ASSERT_EQ(code, 200);

  struct Case { const char* query; const char* error_part; };
  for (const Case& c : {Case{"mode=status&code=500", "HTTP status 500"},
                        Case{"mode=status&code=502", "HTTP status 502"},
                        Case{"mode=truncated", ""},
                        Case{"mode=garbage", "parsing upstream body"}}) {
    SCOPED_TRACE(c.query);
    auto fault = sim::ParseFaultQuery(c.query);
    ASSERT_OK(fault);
    sim_->SetFault(*fault);
    ASSERT_TRUE(WaitHealth(TargetHealth::kDown));
    auto st = Status();
    EXPECT_FALSE(st.last_error.empty());
    EXPECT_THAT(st.last_error, ::testing::HasSubstr(c.error_part));
    EXPECT_EQ(Scrape(&code), good);
    EXPECT_EQ(code, 200);
    EXPECT_THAT(SelfMetrics(), ::testing::HasSubstr("scout_bridge_upstream_up{job=\"acme\",instance=\"127.0.0.1:" +
                                                    std::to_string(sim_->port()) + "\"} 0\n"));
    sim_->SetFault({});
    ASSERT_TRUE(WaitHealth(TargetHealth::kUp));
  }
  EXPECT_LE(sim_->RequestCount("acme"), 60u);
  EXPECT_LE(Status().requests_last_hour, 60);
}

TEST_F(FaultTest, RetryAfterIsHonoured) {
  Start("    refresh_interval: 1s\n    max_requests_per_hour: 60\n");
  ASSERT_TRUE(WaitHealth(TargetHealth::kUp));
  auto fault = sim::ParseFaultQuery("mode=429&retry_after=3");
  ASSERT_OK(fault);
  sim_->SetFault(*fault);
  ASSERT_TRUE(WaitHealth(TargetHealth::kDown));
  auto st = Status();
  ASSERT_TRUE(st.last_attempt_ms.has_value());
  // The backoff alone would retry within 300 ms; Retry-After says 3 s.
  EXPECT_GE(st.next_fetch_ms - *st.last_attempt_ms, 2900);
  EXPECT_EQ(st.next_fetch_reason, "retry_after");
  EXPECT_THAT(SelfMetrics(), ::testing::HasSubstr("code=\"429\"} 1\n"));
}

TEST_F(FaultTest, UnauthorizedWaitsFifteenMinutes) {
  bridge::ScheduleOptions tuning = FastTuning();  // auth_error_backoff keeps its 15m default
  Start("    refresh_interval: 1s\n", tuning, "wrong-token");
  ASSERT_TRUE(WaitHealth(TargetHealth::kAuthError));
  auto st = Status();
  EXPECT_GE(st.next_fetch_ms - *st.last_attempt_ms, 15 * 60 * 1000 - 1);
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(sim_->RequestCount("acme"), 1u);
  int code = 0;
  std::string body = Scrape(&code);
  EXPECT_EQ(code, 503);
  EXPECT_THAT(body, ::testing::HasSubstr("HTTP status 401"));
}

TEST_F(FaultTest, RotatedTokenFileIsReadBeforeTheNextRequest) {
  bridge::ScheduleOptions tuning = FastTuning();
  tuning.auth_error_backoff = std::chrono::milliseconds(500);
  Start("    refresh_interval: 1s\n", tuning, "old-revoked-token");
  ASSERT_TRUE(WaitHealth(TargetHealth::kAuthError));
  testing::WriteFile(dir_.File("t"), "tok\n");  // the operator rotates the PAT; no restart
  ASSERT_TRUE(WaitHealth(TargetHealth::kUp));
  int code = 0;
  Scrape(&code);
  EXPECT_EQ(code, 200);
}

TEST_F(FaultTest, BudgetCapsRequestsUnderPersistentFailure) {
  Start("    refresh_interval: 1s\n    max_requests_per_hour: 5\n");
  auto fault = sim::ParseFaultQuery("mode=status&code=503");
  ASSERT_OK(fault);
  sim_->SetFault(*fault);
  // Backoff is at most 300 ms here, so without the budget there would be ~10 tries a second.
  ASSERT_TRUE(WaitUntil([&] { return sim_->RequestCount("acme") >= 5; }, 10s));
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(sim_->RequestCount("acme"), 5u);
  auto st = Status();
  EXPECT_EQ(st.requests_last_hour, 5);
  EXPECT_EQ(st.next_fetch_reason, "budget");
}

TEST_F(FaultTest, SlowUpstreamTimesOutAndKeepsServing) {
  Start("    refresh_interval: 1s\n    scrape_timeout: 1s\n    max_requests_per_hour: 30\n");
  ASSERT_TRUE(WaitHealth(TargetHealth::kUp));
  const std::string good = Scrape();
  auto fault = sim::ParseFaultQuery("mode=slow&delay_ms=400&chunk_bytes=64");
  ASSERT_OK(fault);
  sim_->SetFault(*fault);
  ASSERT_TRUE(WaitHealth(TargetHealth::kDown));
  EXPECT_THAT(Status().last_error, ::testing::HasSubstr("timeout"));
  EXPECT_EQ(Scrape(), good);
}

}  // namespace
}  // namespace sb::itest
