#include "tools/scout_sim/simulator.h"

#include "bridge/cache_headers.h"
#include "common/http_date.h"

#include <string>
#include <vector>

#include "common/gzip.h"
#include "tests/testing/testing.h"

namespace sb::sim {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

// A header's value from raw response headers ("" if absent). Case-insensitive name.
std::string HeaderValue(const std::string& raw, const std::string& name) {
  std::string lower_raw = raw, lower_name = name + ":";
  for (auto& c : lower_raw) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (auto& c : lower_name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t pos = lower_raw.find("\r\n" + lower_name);
  if (pos == std::string::npos) return "";
  pos += 2 + lower_name.size();
  size_t end = raw.find("\r\n", pos);
  std::string v = raw.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
  while (!v.empty() && v.front() == ' ') v.erase(0, 1);
  return v;
}

class SimulatorTest : public ::testing::Test {
 protected:
  // 2023-11-14T22:13:20Z is 1'700'000'000'000 ms; start tests at a window boundary + 10 s.
  static constexpr int64_t kWindowMs = 60'000;
  static constexpr int64_t kT0 = (1'700'000'000'000 / kWindowMs + 1) * kWindowMs + 10'000;

  void StartSim(bool cache_headers = false) {
    clock_.SetMs(kT0);
    ScoutSimulator::Options o;
    o.orgs["acme"] = {"tokenA", 250};
    o.orgs["globex"] = {"tokenB", 100};
    o.window = Duration(kWindowMs);
    o.cache_headers = cache_headers;
    o.clock = &clock_;
    sim_ = std::make_unique<ScoutSimulator>(o);
    ASSERT_OK(sim_->Start());
  }

  int Get(const std::string& target, const std::string& token, std::string* body,
          std::string* raw = nullptr, Headers extra = {}) {
    if (!token.empty()) extra.emplace_back("Authorization", "Bearer " + token);
    return testing::HttpRequest(sim_->port(), "GET", target, extra, "", body, raw);
  }

  FakeClock clock_;
  std::unique_ptr<ScoutSimulator> sim_;
};

TEST_F(SimulatorTest, MissingTokenGives401) {
  StartSim();
  std::string body, raw;
  EXPECT_EQ(Get("/v1/exporter/org/acme/metrics", "", &body, &raw), 401);
  EXPECT_EQ(HeaderValue(raw, "WWW-Authenticate"), "Bearer");
  EXPECT_EQ(Get("/v1/exporter/org/acme/metrics", "wrong", &body), 401);
  Headers basic = {{"Authorization", "Basic dXNlcjpwYXNz"}};
  EXPECT_EQ(Get("/v1/exporter/org/acme/metrics", "", &body, nullptr, basic), 401);
}

TEST_F(SimulatorTest, OtherOrgsTokenGives403) {
  StartSim();
  std::string body;
  EXPECT_EQ(Get("/v1/exporter/org/acme/metrics", "tokenB", &body), 403);
  EXPECT_EQ(Get("/v1/exporter/org/globex/metrics", "tokenA", &body), 403);
}

TEST_F(SimulatorTest, UnknownOrgWithValidTokenGives404) {
  StartSim();
  std::string body;
  EXPECT_EQ(Get("/v1/exporter/org/initech/metrics", "tokenA", &body), 404);
  EXPECT_EQ(Get("/nothing/here", "tokenA", &body), 404);
}

TEST_F(SimulatorTest, ServesBothPathForms) {
  StartSim();
  std::string a, b, raw;
  EXPECT_EQ(Get("/v1/exporter/org/acme/metrics", "tokenA", &a, &raw), 200);
  EXPECT_EQ(HeaderValue(raw, "Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(Get("/v1/exporter/org/acme", "tokenA", &b), 200);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a, sim_->ExpectedBody("acme"));
  EXPECT_EQ(a, RenderOrgMetrics(SpecForSeriesCount("acme", 250), kT0 / kWindowMs));
  EXPECT_NE(a.find("# TYPE scout_stream_vulnerabilities gauge"), std::string::npos);
  std::string g;
  EXPECT_EQ(Get("/v1/exporter/org/globex/metrics", "tokenB", &g), 200);
  EXPECT_EQ(g, sim_->ExpectedBody("globex"));
  EXPECT_NE(g, a);
}

TEST_F(SimulatorTest, ValuesChangeOnlyAtWindowBoundary) {
  StartSim();
  std::string first, later, next;
  ASSERT_EQ(Get("/v1/exporter/org/acme/metrics", "tokenA", &first), 200);
  clock_.Advance(Duration(kWindowMs - 10'001));  // Last millisecond of the window.
  ASSERT_EQ(Get("/v1/exporter/org/acme/metrics", "tokenA", &later), 200);
  EXPECT_EQ(first, later);
  clock_.Advance(Duration(1));  // First millisecond of the next window.
  ASSERT_EQ(Get("/v1/exporter/org/acme/metrics", "tokenA", &next), 200);
  EXPECT_NE(first, next);
  EXPECT_EQ(next, sim_->ExpectedBody("acme"));
}

TEST_F(SimulatorTest, CacheHeadersCountDown) {
  StartSim(/*cache_headers=*/true);
  std::string body, raw1, raw2, raw3;
  ASSERT_EQ(Get("/v1/exporter/org/acme/metrics", "tokenA", &body, &raw1), 200);
  EXPECT_EQ(HeaderValue(raw1, "Cache-Control"), "max-age=50");
  EXPECT_EQ(HeaderValue(raw1, "Last-Modified"), FormatHttpDate(kT0 - 10'000));
  clock_.Advance(std::chrono::seconds(30));
  ASSERT_EQ(Get("/v1/exporter/org/acme/metrics", "tokenA", &body, &raw2), 200);
  EXPECT_EQ(HeaderValue(raw2, "Cache-Control"), "max-age=20");
  EXPECT_EQ(HeaderValue(raw2, "ETag"), HeaderValue(raw1, "ETag"));
  clock_.Advance(std::chrono::seconds(25));  // Next window, 5 s in.
  ASSERT_EQ(Get("/v1/exporter/org/acme/metrics", "tokenA", &body, &raw3), 200);
  EXPECT_EQ(HeaderValue(raw3, "Cache-Control"), "max-age=55");
  EXPECT_NE(HeaderValue(raw3, "ETag"), HeaderValue(raw1, "ETag"));
}

TEST_F(SimulatorTest, NoCacheHeadersUnlessEnabled) {
  StartSim(/*cache_headers=*/false);
  std::string body, raw;
  ASSERT_EQ(Get("/v1/exporter/org/acme/metrics", "tokenA", &body, &raw), 200);
  EXPECT_EQ(HeaderValue(raw, "Cache-Control"), "");
  EXPECT_EQ(HeaderValue(raw, "ETag"), "");
}

TEST_F(SimulatorTest, ConditionalRequestGives304) {
  StartSim(/*cache_headers=*/true);
  std::string body, raw;
  ASSERT_EQ(Get("/v1/exporter/org/acme/metrics", "tokenA", &body, &raw), 200);
  const std::string etag = HeaderValue(raw, "ETag");
  const std::string last_modified = HeaderValue(raw, "Last-Modified");
  ASSERT_FALSE(etag.empty());

  EXPECT_EQ(Get("/v1/exporter/org/acme/metrics", "tokenA", &body, &raw, {{"If-None-Match", etag}}),
            304);
  EXPECT_TRUE(body.empty());
  EXPECT_EQ(HeaderValue(raw, "ETag"), etag);
  EXPECT_EQ(Get("/v1/exporter/org/acme/metrics", "tokenA", &body, nullptr,
                {{"If-Modified-Since", last_modified}}),
            304);
  EXPECT_EQ(Get("/v1/exporter/org/acme/metrics", "tokenA", &body, nullptr,
                {{"If-None-Match", "\"other\""}}),
            200);
  // A conditional request still needs the token.
  EXPECT_EQ(Get("/v1/exporter/org/acme/metrics", "", &body, nullptr, {{"If-None-Match", etag}}),
            401);

  clock_.Advance(Duration(kWindowMs));  // New window: the old validators no longer match.
  EXPECT_EQ(Get("/v1/exporter/org/acme/metrics", "tokenA", &body, nullptr,
                {{"If-None-Match", etag}}),
            200);
  EXPECT_EQ(Get("/v1/exporter/org/acme/metrics", "tokenA", &body, nullptr,
                {{"If-Modified-Since", last_modified}}),
            200);
}

TEST_F(SimulatorTest, GzipWhenAccepted) {
  StartSim();
  std::string body, raw;
  ASSERT_EQ(Get("/v1/exporter/org/acme/metrics", "tokenA", &body, &raw,
                {{"Accept-Encoding", "gzip, deflate"}}),
            200);
  EXPECT_EQ(HeaderValue(raw, "Content-Encoding"), "gzip");
  auto plain = GzipDecompress(body, 10 << 20);
  ASSERT_OK(plain);
  EXPECT_EQ(*plain, sim_->ExpectedBody("acme"));
  ASSERT_EQ(Get("/v1/exporter/org/acme/metrics", "tokenA", &body, &raw,
                {{"Accept-Encoding", "gzip;q=0"}}),
            200);
  EXPECT_EQ(HeaderValue(raw, "Content-Encoding"), "");
  EXPECT_EQ(body, sim_->ExpectedBody("acme"));
}

TEST_F(SimulatorTest, FaultModes) {
  StartSim();
  const std::string url = "/v1/exporter/org/acme/metrics";
  std::string body, raw;

  Fault f;
  f.mode = FaultMode::kTooManyRequests;
  f.retry_after = "42";
  sim_->SetFault(f);
  EXPECT_EQ(Get(url, "tokenA", &body, &raw), 429);
  EXPECT_EQ(HeaderValue(raw, "Retry-After"), "42");
  f.retry_after = FormatHttpDate(kT0 + 120'000);
  sim_->SetFault(f);
  EXPECT_EQ(Get(url, "tokenA", &body, &raw), 429);
  EXPECT_EQ(HeaderValue(raw, "Retry-After"), f.retry_after);

  f = Fault{};
  f.mode = FaultMode::kStatus;
  f.status = 500;
  sim_->SetFault(f);
  EXPECT_EQ(Get(url, "tokenA", &body), 500);
  EXPECT_EQ(Get(url, "tokenA", &body), 500);  // Sticky until cleared.

  f.mode = FaultMode::kGarbageBody;
  sim_->SetFault(f);
  EXPECT_EQ(Get(url, "tokenA", &body), 200);
  EXPECT_NE(body, sim_->ExpectedBody("acme"));
  EXPECT_NE(body.find('\0'), std::string::npos);

  f.mode = FaultMode::kTruncatedBody;
  sim_->SetFault(f);
  EXPECT_EQ(Get(url, "tokenA", &body, &raw), 200);
  const std::string expected = sim_->ExpectedBody("acme");
  EXPECT_EQ(HeaderValue(raw, "Content-Length"), std::to_string(expected.size()));
  EXPECT_LT(body.size(), expected.size());
  EXPECT_EQ(body, expected.substr(0, body.size()));

  f.mode = FaultMode::kSlowBody;
  f.slow_delay = Duration(5);
  f.slow_chunk_bytes = 4096;
  sim_->SetFault(f);
  EXPECT_EQ(Get(url, "tokenA", &body), 200);
  EXPECT_EQ(body, expected);  // Slow, but complete.

  sim_->SetFault(Fault{});
  EXPECT_EQ(Get(url, "tokenA", &body), 200);
  EXPECT_EQ(body, expected);
}

TEST_F(SimulatorTest, FailNextNRequestsThenRecover) {
  StartSim();
  std::string body;
  EXPECT_EQ(testing::HttpRequest(sim_->port(), "POST", "/sim/fault?mode=status&code=503&count=2",
                                 {}, "", &body),
            200);
  EXPECT_EQ(Get("/v1/exporter/org/acme/metrics", "tokenA", &body), 503);
  EXPECT_EQ(Get("/v1/exporter/org/acme/metrics", "tokenA", &body), 503);
  EXPECT_EQ(Get("/v1/exporter/org/acme/metrics", "tokenA", &body), 200);
  EXPECT_EQ(sim_->fault().mode, FaultMode::kNone);
}

TEST_F(SimulatorTest, ControlEndpointRejectsBadFaults) {
  StartSim();
  std::string body;
  EXPECT_EQ(testing::HttpRequest(sim_->port(), "POST", "/sim/fault?mode=explode", {}, "", &body),
            400);
  EXPECT_EQ(testing::HttpRequest(sim_->port(), "POST", "/sim/fault?mode=status&code=42", {}, "",
                                 &body),
            400);
  EXPECT_EQ(testing::HttpRequest(sim_->port(), "GET", "/sim/fault?mode=none", {}, "", &body), 405);
  EXPECT_EQ(sim_->fault().mode, FaultMode::kNone);
}

TEST(FaultQueryTest, ParsesAllParameters) {
  auto f = ParseFaultQuery(
      "mode=429&retry_after=Wed%2C%2021%20Oct%202015%2007%3A28%3A00%20GMT&count=3");
  ASSERT_OK(f);
  EXPECT_EQ(f->mode, FaultMode::kTooManyRequests);
  EXPECT_EQ(f->retry_after, "Wed, 21 Oct 2015 07:28:00 GMT");
  EXPECT_EQ(f->count, 3);
  auto s = ParseFaultQuery("mode=slow&delay_ms=250&chunk_bytes=100");
  ASSERT_OK(s);
  EXPECT_EQ(s->slow_delay, Duration(250));
  EXPECT_EQ(s->slow_chunk_bytes, 100u);
  EXPECT_FALSE(ParseFaultQuery("code=500").ok());
  EXPECT_FALSE(ParseFaultQuery("mode=status&bogus=1").ok());
}

TEST(HttpDateTest, RoundTrips) {
  EXPECT_EQ(FormatHttpDate(784111777000), "Sun, 06 Nov 1994 08:49:37 GMT");
  int64_t ms = 0;
  ms = bridge::ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT").value_or(0);
  EXPECT_EQ(ms, 784111777000);
  EXPECT_FALSE(bridge::ParseHttpDate("yesterday").has_value());
  EXPECT_FALSE(bridge::ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT trailing").has_value());
}

TEST_F(SimulatorTest, CounterCountsRequests) {
  StartSim();
  std::string body;
  for (int i = 0; i < 3; ++i) Get("/v1/exporter/org/acme/metrics", "tokenA", &body);
  Get("/v1/exporter/org/acme", "", &body);  // Unauthorized requests count too.
  Get("/v1/exporter/org/globex/metrics", "tokenB", &body);
  Get("/sim/stats", "", &body);  // Control routes do not count.
  EXPECT_EQ(sim_->RequestCount("acme"), 4u);
  EXPECT_EQ(sim_->RequestCount("globex"), 1u);
  EXPECT_EQ(sim_->RequestCount("initech"), 0u);
  EXPECT_EQ(sim_->TotalRequests(), 5u);
  ASSERT_EQ(Get("/sim/stats", "", &body), 200);
  EXPECT_NE(body.find("\"total\":5"), std::string::npos) << body;
  EXPECT_NE(body.find("\"acme\":4"), std::string::npos) << body;
  EXPECT_NE(body.find("\"globex\":1"), std::string::npos) << body;
}

TEST_F(SimulatorTest, RoutingWorksWithoutSockets) {
  StartSim();
  bridge::Request req(bridge::http::verb::get, "/v1/exporter/org/acme/metrics", 11);
  req.set(bridge::http::field::authorization, "Bearer tokenA");
  ScoutSimulator::Reply reply = sim_->Handle(req);
  EXPECT_EQ(reply.response.result_int(), 200);
  ASSERT_TRUE(reply.response.body());
  EXPECT_EQ(*reply.response.body(), sim_->ExpectedBody("acme"));
  EXPECT_FALSE(reply.pacing.paced());
}

TEST(SimulatorTlsTest, ServesHttps) {
  testing::TempDir dir;
  std::string out;
  ASSERT_EQ(testing::RunCommand({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                 "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                                 dir.File("key.pem"), "-out", dir.File("cert.pem"), "-days", "2",
                                 "-subj", "/CN=localhost"},
                                &out),
            0)
      << out;
  ScoutSimulator::Options o;
  o.orgs["acme"] = {"tokenA", 250};
  o.tls_cert_file = dir.File("cert.pem");
  o.tls_key_file = dir.File("key.pem");
  ScoutSimulator sim(o);
  ASSERT_OK(sim.Start());
  // curl is the independent TLS client here.
  std::string curl = testing::FindExecutable("curl");
  if (curl.empty()) GTEST_SKIP() << "curl not installed";
  std::string body;
  ASSERT_EQ(testing::RunCommand({curl, "-sS", "--fail", "--cacert", dir.File("cert.pem"),
                                 "--resolve", "localhost:" + std::to_string(sim.port()) +
                                 ":127.0.0.1", "-H", "Authorization: Bearer tokenA",
                                 "https://localhost:" + std::to_string(sim.port()) +
                                     "/v1/exporter/org/acme/metrics"},
                                &body),
            0)
      << body;
  EXPECT_EQ(body, sim.ExpectedBody("acme"));
}

}  // namespace
}  // namespace sb::sim
