// A real Prometheus 2.42 (Debian's `prometheus`, started here on a loopback port) scrapes
// the bridge every second with the job block of Docker's sample project, only the target and
// scheme changed; its query API must return the simulator's values. promtool checks the body.
#include <boost/json.hpp>

#include <sstream>

#include "tests/integration/harness.h"
#include "tools/scout_sim/scout_data.h"

namespace sb::itest {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

std::string Prometheus() { return testing::FindExecutable("prometheus"); }
std::string Promtool() { return testing::FindExecutable("promtool"); }

std::string UrlEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
    else { char b[4]; snprintf(b, sizeof b, "%%%02X", c); out += b; }
  }
  return out;
}

TEST(PrometheusTest, PrometheusScrapingTheBridgeSeesTheSimulatorsValues) {
  ASSERT_FALSE(Prometheus().empty()) << "prometheus not installed: run scripts/install-deps.sh";
  testing::TempDir dir;
  testing::WriteFile(dir.File("token"), "tok-acme\n");
  auto sim = StartSimulator({{"acme", "tok-acme"}}, 1h, true);
  auto app = StartBridge(MustParse("scrape_configs:\n" + ScoutJobYaml("acme", sim->port(), dir.File("token"))));
  ASSERT_TRUE(WaitUntil([&] { return StatusOf(*app, "acme").health == bridge::TargetHealth::kUp; }, 10s));

  // Docker's sample job block, verbatim but for <ORG>, the target and the scheme. (Its
  // credentials_file must exist for Prometheus to scrape at all; the bridge ignores it.)
  const std::string prom_config =
      "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
      "scrape_configs:\n"
      "  - job_name: acme\n"
      "    metrics_path: /v1/exporter/org/acme/metrics\n"
      "    scheme: http\n"
      "    static_configs:\n"
      "      - targets:\n"
      "          - 127.0.0.1:" + std::to_string(app->port()) + "\n"
      "    authorization:\n"
      "      type: Bearer\n"
      "      credentials_file: " + dir.File("token") + "\n";
  testing::WriteFile(dir.File("prometheus.yml"), prom_config);
  const int prom_port = testing::PickFreePort();
  testing::Subprocess prom({Prometheus(), "--config.file=" + dir.File("prometheus.yml"),
                            "--storage.tsdb.path=" + dir.File("tsdb"),
                            "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)},
                           dir.File("prometheus.log"));
  ASSERT_TRUE(WaitUntil([&] {
    std::string body;
    return testing::HttpRequest(prom_port, "GET", "/-/ready", {}, "", &body) == 200;
  }, 30s)) << testing::ReadFile(dir.File("prometheus.log"));

  const auto spec = sim::SpecForSeriesCount("acme", 250);
  const std::string expected_body = sim->ExpectedBody("acme");
  json::array result;
  ASSERT_TRUE(WaitUntil([&] {
    std::string body;
    if (testing::HttpRequest(prom_port, "GET", "/api/v1/query?query=" + UrlEncode("{job=\"acme\",__name__=~\"scout_.*\"}"),
                             {}, "", &body) != 200) return false;
    result = json::parse(body).at("data").at("result").as_array();
    return static_cast<int>(result.size()) == spec.SeriesCount();
  }, 30s)) << "series seen: " << result.size();

  // Every series Prometheus stored has the simulator's value and labels, plus job/instance.
  for (const auto& v : result) {
    const auto& metric = v.at("metric").as_object();
    EXPECT_EQ(metric.at("job").as_string(), "acme");
    EXPECT_EQ(metric.at("instance").as_string(), "127.0.0.1:" + std::to_string(app->port()));
    // Find the sample line in the simulator's body by its label values and compare values.
    std::string value(v.at("value").as_array()[1].as_string());
    std::string needle;
    if (metric.contains("severity")) {
      needle = "scout_stream_vulnerabilities{streamName=\"" + std::string(metric.at("streamName").as_string()) +
               "\",severity=\"" + std::string(metric.at("severity").as_string()) + "\"} " + value + "\n";
    } else {
      needle = std::string(metric.at("__name__").as_string()) + "{id=\"" + std::string(metric.at("id").as_string()) +
               "\",displayName=\"" + std::string(metric.at("displayName").as_string()) + "\",streamName=\"" +
               std::string(metric.at("streamName").as_string()) + "\"} " + value + "\n";
    }
    EXPECT_NE(expected_body.find(needle), std::string::npos) << needle;
  }

  // Prometheus scraped many times; the upstream saw one request.
  ASSERT_TRUE(WaitUntil([&] {
    std::string body;
    if (testing::HttpRequest(prom_port, "GET", "/api/v1/query?query=" + UrlEncode("count_over_time(up{job=\"acme\"}[1m])"),
                             {}, "", &body) != 200) return false;
    auto r = json::parse(body).at("data").at("result").as_array();
    return !r.empty() && std::stod(std::string(r[0].at("value").as_array()[1].as_string())) >= 5;
  }, 30s));
  EXPECT_EQ(sim->RequestCount("acme"), 1u);
}

TEST(PrometheusTest, PromtoolCheckMetricsFindsOnlyScoutsOwnCamelCaseLint) {
  ASSERT_FALSE(Promtool().empty()) << "promtool not installed: run scripts/install-deps.sh";
  testing::TempDir dir;
  testing::WriteFile(dir.File("token"), "tok\n");
  auto sim = StartSimulator({{"acme", "tok"}}, 1h, false);
  auto app = StartBridge(MustParse("scrape_configs:\n" + ScoutJobYaml("acme", sim->port(), dir.File("token"))));
  std::string body;
  ASSERT_TRUE(WaitUntil([&] {
    return testing::HttpRequest(app->port(), "GET", "/v1/exporter/org/acme/metrics", {}, "", &body) == 200;
  }, 10s));
  {
    testing::WriteFile(dir.File("scout.txt"), body);
    std::string out;
    int rc = testing::RunCommand({"sh", "-c", Promtool() + " check metrics < " + dir.File("scout.txt")}, &out);
    // promtool exits non-zero on lint findings; the only ones allowed are about Scout's
    // own camelCase label names (streamName, displayName).
    std::istringstream lines(out);
    std::string line;
    int lint = 0;
    while (std::getline(lines, line)) {
      if (line.empty()) continue;
      EXPECT_THAT(line, ::testing::HasSubstr("camelCase")) << "unexpected promtool finding";
      ++lint;
    }
    if (lint == 0) {
      EXPECT_EQ(rc, 0) << out;
    }
  }
  // The bridge's own /metrics must be clean.
  std::string self;
  ASSERT_EQ(testing::HttpRequest(app->port(), "GET", "/metrics", {}, "", &self), 200);
  testing::WriteFile(dir.File("self.txt"), self);
  std::string out;
  EXPECT_EQ(testing::RunCommand({"sh", "-c", Promtool() + " check metrics < " + dir.File("self.txt")}, &out), 0) << out;
}

}  // namespace
}  // namespace sb::itest
