// The query API of a live bridge (in process): it fetches the Scout simulator with the sample
// project's job block, keeps the fetch in its store, and its /api/v1 answers carry the
// simulator's values, job/instance labels as Prometheus attaches them, and the HELP/TYPE of
// the served snapshot.
#include <boost/json.hpp>

#include "tests/integration/harness.h"
#include "tests/integration/promql_peers.h"

namespace sb::itest {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

TEST(PromqlLiveTest, LiveBridgeAnswersQueriesFromItsFetchesWithMetadata) {
  testing::TempDir dir;
  testing::WriteFile(dir.File("token"), "tok-acme\n");
  auto sim = StartSimulator({{"acme", "tok-acme"}}, 1h, true);
  auto app = StartBridge(MustParse("scrape_configs:\n" + ScoutJobYaml("acme", sim->port(), dir.File("token"))),
                         FastTuning(), "", dir.File("data"));
  ASSERT_TRUE(WaitUntil([&] { return StatusOf(*app, "acme").health == bridge::TargetHealth::kUp; }, 10s));
  const std::string instance = "127.0.0.1:" + std::to_string(sim->port());

  // Every series of the fetch, as an instant query at the default time (now).
  std::string body;
  ASSERT_EQ(PromqlPeers::Call(app->port(), "/api/v1/query", {{"query", "count({job=\"acme\"})"}}, true, &body), 200)
      << body;
  json::value v = json::parse(body);
  ASSERT_EQ(v.at("data").at("result").as_array().size(), 1u) << body;
  const int series = sim::SpecForSeriesCount("acme", 250).SeriesCount();
  EXPECT_EQ(v.at("data").at("result").as_array()[0].at("value").as_array()[1].as_string(), std::to_string(series));

  // One series' value is the simulator's, with the target labels.
  ASSERT_EQ(PromqlPeers::Call(app->port(), "/api/v1/query",
                              {{"query", "scout_stream_vulnerabilities{streamName=\"production\",severity=\"HIGH\"}"}},
                              false, &body), 200);
  v = json::parse(body);
  const auto& result = v.at("data").at("result").as_array();
  ASSERT_EQ(result.size(), 1u) << body;
  EXPECT_EQ(result[0].at("metric").at("job").as_string(), "acme");
  EXPECT_EQ(result[0].at("metric").at("instance").as_string(), instance);
  std::string value(result[0].at("value").as_array()[1].as_string());
  std::string expected = sim->ExpectedBody("acme");
  EXPECT_NE(expected.find("scout_stream_vulnerabilities{streamName=\"production\",severity=\"HIGH\"} " + value + "\n"),
            std::string::npos)
      << value << "\n" << expected.substr(0, 600);

  // Label values and metadata from the served snapshot.
  ASSERT_EQ(PromqlPeers::Call(app->port(), "/api/v1/label/job/values", {}, false, &body), 200);
  EXPECT_EQ(body, R"({"status":"success","data":["acme"]})");
  ASSERT_EQ(PromqlPeers::Call(app->port(), "/api/v1/metadata", {{"metric", "scout_stream_vulnerabilities"}}, false,
                              &body), 200);
  v = json::parse(body);
  const auto& md = v.at("data").at("scout_stream_vulnerabilities").as_array();
  ASSERT_EQ(md.size(), 1u) << body;
  EXPECT_EQ(md[0].at("type").as_string(), "gauge");
  EXPECT_FALSE(md[0].at("help").as_string().empty()) << body;
  // The default lookback covers the 60m refresh interval: a query 50 minutes from now
  // still sees the fetch (Prometheus's 5m default would not).
  const int64_t later = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count() + 50 * 60;
  ASSERT_EQ(PromqlPeers::Call(app->port(), "/api/v1/query",
                              {{"query", "count({job=\"acme\"})"}, {"time", std::to_string(later)}}, true, &body), 200);
  EXPECT_NE(body.find("\"" + std::to_string(series) + "\""), std::string::npos) << body;
  app->Stop();
}

}  // namespace
}  // namespace sb::itest
