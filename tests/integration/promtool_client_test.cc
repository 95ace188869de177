// promtool as a client of the bridge: `promtool query instant|range|series|labels` against
// the running bridge give the right answers (the values of the imported history), and the
// same output as against a real Prometheus 2.42 holding the same data.
#include <algorithm>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/integration/promql_peers.h"
#include "tests/promql/scout_dataset.h"

namespace sb::itest {
namespace {

using namespace std::chrono_literals;

class PromtoolClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_ = new testdata::ScoutDatasetOptions();
    data_->orgs = {"acme"};
    data_->hours = 48;
    data_->start_s = testdata::RecentStartS(data_->hours);
    om_ = new std::string(testdata::RenderScoutDataset(*data_));
    peers_ = new PromqlPeers(*om_);
  }
  static void TearDownTestSuite() {
    delete peers_;
    delete om_;
    delete data_;
  }
  void SetUp() override {
    ASSERT_TRUE(peers_->ok()) << peers_->error();
    promtool_ = testing::FindExecutable("promtool");
  }

  // Runs promtool with `args` against `port`; the URL goes where promtool wants it (after
  // the flags). Returns the exit code; *out gets stdout+stderr.
  int Promtool(const std::string& sub, int port, std::vector<std::string> flags, std::vector<std::string> rest,
               std::string* out) {
    std::vector<std::string> argv = {promtool_, "query", sub};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.push_back("http://127.0.0.1:" + std::to_string(port));
    argv.insert(argv.end(), rest.begin(), rest.end());
    return testing::RunCommand(argv, out, 30s);
  }

  // The value the data set holds for the series with this exact text key at fetch `i`.
  static std::string StoredValue(const std::string& key, int i) {
    std::string needle = key + " ";
    std::string ts = " " + std::to_string(testdata::FetchTimeS(*data_, 0, i)) + "\n";
    for (size_t pos = om_->find(needle); pos != std::string::npos; pos = om_->find(needle, pos + 1)) {
      size_t eol = om_->find('\n', pos);
      std::string line = om_->substr(pos, eol - pos + 1);
      if (line.size() > ts.size() && line.compare(line.size() - ts.size(), ts.size(), ts) == 0) {
        return line.substr(needle.size(), line.size() - needle.size() - ts.size());
      }
    }
    return "<missing>";
  }

  static testdata::ScoutDatasetOptions* data_;
  static std::string* om_;
  static PromqlPeers* peers_;
  std::string promtool_;
};

testdata::ScoutDatasetOptions* PromtoolClientTest::data_ = nullptr;
std::string* PromtoolClientTest::om_ = nullptr;
PromqlPeers* PromtoolClientTest::peers_ = nullptr;

const char* kSeriesKey =
    R"(scout_stream_vulnerabilities{streamName="production",severity="HIGH",instance="api.scout.docker.com",job="acme"})";
const char* kSelector = R"(scout_stream_vulnerabilities{job="acme",streamName="production",severity="HIGH"})";

TEST_F(PromtoolClientTest, InstantQueryPrintsTheStoredValue) {
  int64_t t = testdata::FetchTimeS(*data_, 0, 30) + 600;  // 10 minutes after fetch 30
  std::string out, prom_out;
  ASSERT_EQ(Promtool("instant", peers_->bridge_port(), {"--time=" + std::to_string(t)}, {kSelector}, &out), 0) << out;
  EXPECT_EQ(out, "scout_stream_vulnerabilities{instance=\"api.scout.docker.com\", job=\"acme\", severity=\"HIGH\", "
                 "streamName=\"production\"} => " + StoredValue(kSeriesKey, 30) + " @[" + std::to_string(t) + "]\n");
  ASSERT_EQ(Promtool("instant", peers_->prometheus_port(), {"--time=" + std::to_string(t)}, {kSelector}, &prom_out), 0);
  EXPECT_EQ(out, prom_out);
}

TEST_F(PromtoolClientTest, InstantAggregationAndJsonOutputMatchPrometheus) {
  int64_t t = testdata::FetchTimeS(*data_, 0, 40) + 17;
  for (std::string expr : {"sum by (severity) (scout_stream_vulnerabilities{job=\"acme\"})",
                           "count(scout_policy_evaluated_images) by (streamName)", "1 / 0", "vector(1) * 2"}) {
    for (std::vector<std::string> flags : {std::vector<std::string>{"--time=" + std::to_string(t)},
                                           std::vector<std::string>{"--time=" + std::to_string(t), "-o", "json"}}) {
      std::string out, prom_out;
      EXPECT_EQ(Promtool("instant", peers_->bridge_port(), flags, {expr}, &out), 0) << out;
      EXPECT_EQ(Promtool("instant", peers_->prometheus_port(), flags, {expr}, &prom_out), 0) << prom_out;
      EXPECT_EQ(out, prom_out) << expr;
      EXPECT_FALSE(out.empty()) << expr;
    }
  }
}

TEST_F(PromtoolClientTest, RangeQueryPrintsOnePointPerStep) {
  int64_t start = testdata::FetchTimeS(*data_, 0, 10) + 17;
  int64_t end = start + 12 * 3600;
  std::vector<std::string> flags = {"--start=" + std::to_string(start), "--end=" + std::to_string(end), "--step=1h"};
  std::string out, prom_out;
  ASSERT_EQ(Promtool("range", peers_->bridge_port(), flags, {kSelector}, &out), 0) << out;
  ASSERT_EQ(Promtool("range", peers_->prometheus_port(), flags, {kSelector}, &prom_out), 0) << prom_out;
  EXPECT_EQ(out, prom_out);
  // A header line, then 13 points; the first is fetch 10's value.
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 14) << out;
  EXPECT_NE(out.find("\n" + StoredValue(kSeriesKey, 10) + " @[" + std::to_string(start) + "]\n"), std::string::npos)
      << out;
}

TEST_F(PromtoolClientTest, SeriesAndLabelsListWhatWasImported) {
  int64_t start = data_->start_s, end = data_->start_s + 48 * 3600;
  std::vector<std::string> range = {"--start=" + std::to_string(start), "--end=" + std::to_string(end)};
  std::vector<std::string> flags = range;
  flags.push_back("--match=scout_stream_vulnerabilities{streamName=\"qa\"}");
  std::string out, prom_out;
  ASSERT_EQ(Promtool("series", peers_->bridge_port(), flags, {}, &out), 0) << out;
  ASSERT_EQ(Promtool("series", peers_->prometheus_port(), flags, {}, &prom_out), 0) << prom_out;
  EXPECT_EQ(out, prom_out);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 5) << out;  // one per severity
  EXPECT_NE(out.find("severity=\"CRITICAL\""), std::string::npos) << out;

  ASSERT_EQ(Promtool("labels", peers_->bridge_port(), range, {"streamName"}, &out), 0) << out;
  ASSERT_EQ(Promtool("labels", peers_->prometheus_port(), range, {"streamName"}, &prom_out), 0) << prom_out;
  EXPECT_EQ(out, prom_out);
  EXPECT_EQ(out, "development\nlatest-indexed\nproduction\nqa\nstaging\n");
}

TEST_F(PromtoolClientTest, BadQueryIsReportedAsBadData) {
  std::string out, prom_out;
  EXPECT_EQ(Promtool("instant", peers_->bridge_port(), {"--time=1700000000"}, {"sum(scout_stream_vulnerabilities"}, &out), 1);
  EXPECT_EQ(Promtool("instant", peers_->prometheus_port(), {"--time=1700000000"}, {"sum(scout_stream_vulnerabilities"},
                     &prom_out), 1);
  EXPECT_NE(out.find("bad_data: invalid parameter \"query\""), std::string::npos) << out;
  EXPECT_EQ(out, prom_out);
}

// `scout-bridge query` (no server: straight from the store, here next to the running bridge)
// prints what promtool prints for the same query against Prometheus.
TEST_F(PromtoolClientTest, QueryCommandPrintsWhatPromtoolPrints) {
  const std::string store = "--storage.path=" + peers_->dir() + "/bridge-data";
  int64_t t = testdata::FetchTimeS(*data_, 0, 20) + 17;
  for (std::string expr : {std::string(kSelector), std::string("sum by (severity) (scout_stream_vulnerabilities)"),
                           std::string("scalar(sum(scout_policy_evaluated_images))")}) {
    std::string out, prom_out;
    ASSERT_EQ(testing::RunCommand({peers_->bridge_binary(), "query", store, "--time=" + std::to_string(t), expr}, &out,
                                  30s), 0) << out;
    ASSERT_EQ(Promtool("instant", peers_->prometheus_port(), {"--time=" + std::to_string(t)}, {expr}, &prom_out), 0);
    EXPECT_EQ(out, prom_out) << expr;
  }
  std::vector<std::string> range = {"--start=" + std::to_string(t), "--end=" + std::to_string(t + 6 * 3600), "--step=1h"};
  std::string out, prom_out;
  std::vector<std::string> argv = {peers_->bridge_binary(), "query", store};
  argv.insert(argv.end(), range.begin(), range.end());
  argv.push_back("sum(scout_stream_vulnerabilities)");
  ASSERT_EQ(testing::RunCommand(argv, &out, 30s), 0) << out;
  ASSERT_EQ(Promtool("range", peers_->prometheus_port(), range, {"sum(scout_stream_vulnerabilities)"}, &prom_out), 0);
  EXPECT_EQ(out, prom_out);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 8) << out;

  // JSON: the API's data object.
  ASSERT_EQ(testing::RunCommand({peers_->bridge_binary(), "query", store, "--time=" + std::to_string(t), "--format=json",
                                 "vector(2)"}, &out, 30s), 0) << out;
  EXPECT_EQ(out, "{\"resultType\":\"vector\",\"result\":[{\"metric\":{},\"value\":[" + std::to_string(t) + ",\"2\"]}]}\n");
}

TEST_F(PromtoolClientTest, QueryCommandErrorsAndExitCodes) {
  const std::string store = "--storage.path=" + peers_->dir() + "/bridge-data";
  std::string out;
  EXPECT_EQ(testing::RunCommand({peers_->bridge_binary(), "query", store, "--time=1", "sum(up"}, &out, 30s), 1);
  EXPECT_NE(out.find("query error: bad_data: 1:"), std::string::npos) << out;
  EXPECT_EQ(testing::RunCommand({peers_->bridge_binary(), "query", "--storage.path=" + peers_->dir() + "/nothing", "up"},
                                &out, 30s), 1);
  EXPECT_NE(out.find("no store at"), std::string::npos) << out;
  EXPECT_EQ(testing::RunCommand({peers_->bridge_binary(), "query", store, "--time=abc", "up"}, &out, 30s), 2);
  EXPECT_NE(out.find("cannot parse \"abc\" to a valid timestamp"), std::string::npos) << out;
  EXPECT_EQ(testing::RunCommand({peers_->bridge_binary(), "query", store, "--start=1", "up"}, &out, 30s), 2);
  EXPECT_NE(out.find("needs --start, --end and --step"), std::string::npos) << out;
  EXPECT_EQ(testing::RunCommand({peers_->bridge_binary(), "query", store}, &out, 30s), 2);
  // The server's --query.* flags are checked too.
  EXPECT_EQ(testing::RunCommand({peers_->bridge_binary(), "--config.file=/nonexistent", "--query.lookback-delta=abc"},
                                &out, 30s), 2);
  EXPECT_NE(out.find("invalid --query.lookback-delta"), std::string::npos) << out;
}

}  // namespace
}  // namespace sb::itest
