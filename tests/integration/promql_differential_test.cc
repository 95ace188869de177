// Differential test of the PromQL API: the same 30-day Scout-like history (3 orgs, hourly)
// is backfilled into a real Prometheus 2.42 and into the bridge, and every query and
// template-variable query of Docker's two sample dashboards is sent to both, as Grafana sends
// it (form POST), with $org, $stream, $streamName and $policy substituted: range queries over
// 7 days at a 1h step, and instant queries at several times. The answers must be equal:
// same series, same timestamps, values within 1e-9 relative. Query times sit 17 s off the
// hour and off every fetch time, so left-open (Prometheus 3, the bridge) and closed
// (Prometheus 2.42) range windows select the same samples.
#include <boost/json.hpp>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "gtest/gtest.h"
#include "tests/integration/promql_peers.h"
#include "tests/promql/scout_dataset.h"

namespace sb::itest {
namespace {

namespace json = boost::json;
using Params = std::vector<std::pair<std::string, std::string>>;

// The sample project's dashboards (fixtures/scout-sample-project/prometheus/grafana/
// dashboards/{dashboard,policies}.json), embedded so that the test does not read outside the
// repository. EmbeddedQueriesMatchTheSampleDashboards checks them against the files when
// those are present.
const std::vector<std::string> kOverviewQueries = {
    R"(sum by(severity) (scout_stream_vulnerabilities{job="$org", streamName="$streamName", severity="CRITICAL"}))",
    R"(sum by(severity) (scout_stream_vulnerabilities{job="$org", streamName="$streamName", severity="HIGH"}))",
    R"(sum by(severity) (scout_stream_vulnerabilities{job="$org", streamName="$streamName", severity="MEDIUM"}))",
    R"(sum by(severity) (scout_stream_vulnerabilities{job="$org", streamName="$streamName", severity="LOW"}))",
    R"(sum by(severity) (scout_stream_vulnerabilities{job="$org", streamName="$streamName", severity="UNSPECIFIED"}))",
    R"(sum(scout_stream_vulnerabilities{job="$org", streamName="$streamName"}))",
};
const std::vector<std::string> kPolicyQueries = {
    R"((scout_policy_compliant_images{streamName="$stream", job="$org", id="$policy"} * 100) / scout_policy_evaluated_images{streamName="$stream",  job="$org",id="$policy"})",
    R"(scout_policy_compliant_images{job="$org", streamName="$stream"} / scout_policy_evaluated_images{job="$org", streamName="$stream"} * 100)",
};
// label_values(job), label_values(scout_stream_vulnerabilities,streamName),
// label_values(scout_policy_compliant_images,streamName), label_values(id)
struct VariableQuery {
  std::string definition, label, metric;  // metric "" for label_values(label)
};
const std::vector<VariableQuery> kVariableQueries = {
    {"label_values(job)", "job", ""},
    {"label_values(scout_stream_vulnerabilities,streamName)", "streamName", "scout_stream_vulnerabilities"},
    {"label_values(scout_policy_compliant_images,streamName)", "streamName", "scout_policy_compliant_images"},
    {"label_values(id)", "id", ""},
};

std::string Substitute(std::string q, const std::map<std::string, std::string>& vars) {
  // Longest names first, so that $stream does not eat the start of $streamName.
  std::vector<std::pair<std::string, std::string>> sorted(vars.begin(), vars.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  for (const auto& [name, value] : sorted) {
    for (size_t pos = q.find(name); pos != std::string::npos; pos = q.find(name, pos + value.size())) {
      q.replace(pos, name.size(), value);
    }
  }
  return q;
}

std::string Secs(int64_t s) { return std::to_string(s); }

// Points (or vector samples) in a query answer.
size_t CountPoints(const std::string& body) {
  json::value v = json::parse(body);
  const json::value& r = v.at("data").at("result");
  if (!r.is_array()) return 1;
  size_t n = 0;
  for (const auto& s : r.as_array()) {
    if (s.is_object() && s.as_object().contains("values")) n += s.at("values").as_array().size();
    else ++n;
  }
  return n;
}

class PromqlDifferentialTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_ = new testdata::ScoutDatasetOptions();
    data_->start_s = testdata::RecentStartS(data_->hours);
    peers_ = new PromqlPeers(testdata::RenderScoutDataset(*data_));
  }
  static void TearDownTestSuite() {
    delete peers_;
    delete data_;
    peers_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(peers_->ok()) << peers_->error(); }

  // Sends the request to both servers and expects equal answers. Returns the bridge's body.
  static std::string ExpectSame(const std::string& path, const Params& params, bool post = true) {
    std::string pb, bb;
    int ps = PromqlPeers::Call(peers_->prometheus_port(), path, params, post, &pb);
    int bs = PromqlPeers::Call(peers_->bridge_port(), path, params, post, &bb);
    std::string where = path;
    for (const auto& [k, v] : params) where += " " + k + "=" + v;
    EXPECT_EQ(ps, bs) << where << "\nPrometheus: " << pb << "\nbridge: " << bb;
    std::string diff = CompareApiAnswers(pb, bb);
    EXPECT_EQ(diff, "") << where;
    return bb;
  }

  // The label values a dashboard variable offers, as Grafana asks for them over the
  // dashboard's time range; checked equal on both servers.
  static std::vector<std::string> VariableValues(const VariableQuery& v, int64_t start_s, int64_t end_s) {
    Params p = {{"start", Secs(start_s)}, {"end", Secs(end_s)}};
    if (!v.metric.empty()) p.push_back({"match[]", v.metric});
    std::string body = ExpectSame("/api/v1/label/" + v.label + "/values", p, /*post=*/false);
    std::vector<std::string> out;
    json::value parsed = json::parse(body);
    for (const auto& x : parsed.at("data").as_array()) out.emplace_back(x.as_string());
    return out;
  }

  int64_t LastFetchS() const { return testdata::FetchTimeS(*data_, data_->orgs.size() - 1, data_->hours - 1); }
  // Range windows (7 days, 1h step, 17 s off the hour): the last week, and one across the gap.
  std::vector<std::pair<int64_t, int64_t>> Windows() const {
    int64_t end1 = data_->start_s + static_cast<int64_t>(data_->hours) * 3600 - 3600 + 17;
    int64_t end2 = data_->start_s + static_cast<int64_t>(data_->gap_end + 48) * 3600 + 17;
    return {{end1 - 7 * 86400, end1}, {end2 - 7 * 86400, end2}};
  }
  // Instant times: inside the data, inside globex's gap, just after the last fetch (within the
  // lookback) and past the lookback.
  std::vector<int64_t> Instants() const {
    return {data_->start_s + 100 * 3600 + 17, data_->start_s + (data_->gap_begin + 10) * 3600 + 1817,
            data_->start_s + (data_->gap_begin) * 3600 + 30 * 60 + 17, LastFetchS() + 40 * 60 + 17,
            LastFetchS() + 2 * 3600 + 17};
  }

  void RunDashboard(const std::vector<std::string>& queries, const std::string& stream_var,
                    const std::string& stream_metric, bool with_policies) {
    auto [ws, we] = Windows()[0];
    std::vector<std::string> orgs = VariableValues(kVariableQueries[0], ws, we);
    ASSERT_EQ(orgs, data_->orgs);
    std::vector<std::string> streams = VariableValues({"", "streamName", stream_metric}, ws, we);
    ASSERT_EQ(streams.size(), 5u);
    std::vector<std::string> policies = {""};
    if (with_policies) {
      policies = VariableValues(kVariableQueries[3], ws, we);
      ASSERT_GE(policies.size(), 8u);
      policies = {policies.front(), policies[3], policies[policies.size() / 2], policies.back()};
    }
    int compared = 0;
    size_t points = 0;
    for (const auto& org : orgs) {
      for (const auto& stream : streams) {
        for (const auto& q : queries) {
          bool per_policy = q.find("$policy") != std::string::npos;
          for (const auto& policy : per_policy ? policies : std::vector<std::string>{""}) {
            std::string expr = Substitute(q, {{"$org", org}, {stream_var, stream}, {"$policy", policy}});
            for (auto [s, e] : Windows()) {
              std::string b = ExpectSame("/api/v1/query_range",
                                         {{"query", expr}, {"start", Secs(s)}, {"end", Secs(e)}, {"step", "3600"}});
              points += CountPoints(b);
            }
            for (int64_t t : Instants()) points += CountPoints(ExpectSame("/api/v1/query", {{"query", expr}, {"time", Secs(t)}}));
            compared += 2 + static_cast<int>(Instants().size());
            if (::testing::Test::HasFailure()) return;  // one broken query is enough to read
          }
        }
      }
    }
    // Guards against a silently empty run (e.g. variables answering nothing).
    EXPECT_GE(compared, static_cast<int>(orgs.size() * streams.size() * queries.size()) * 7);
    // ... or answering nothing: most range answers hold a full week of hourly points.
    EXPECT_GT(points, static_cast<size_t>(compared) / 7 * 2 * 100);
    std::cout << "compared " << compared << " answers, " << points << " points\n";
  }

  static testdata::ScoutDatasetOptions* data_;
  static PromqlPeers* peers_;
};

testdata::ScoutDatasetOptions* PromqlDifferentialTest::data_ = nullptr;
PromqlPeers* PromqlDifferentialTest::peers_ = nullptr;

TEST_F(PromqlDifferentialTest, EmbeddedQueriesMatchTheSampleDashboards) {
  const std::string dir = "/work/shared/fixtures/scout-sample-project/prometheus/grafana/dashboards/";
  std::ifstream f1(dir + "dashboard.json"), f2(dir + "policies.json");
  if (!f1 || !f2) GTEST_SKIP() << "sample dashboards not found at " << dir;
  auto collect = [](std::ifstream& f, std::vector<std::string>* exprs, std::vector<std::string>* vars) {
    std::stringstream ss;
    ss << f.rdbuf();
    json::value d = json::parse(ss.str());
    std::function<void(const json::array&)> walk = [&](const json::array& panels) {
      for (const auto& p : panels) {
        if (p.as_object().contains("targets")) {
          for (const auto& t : p.at("targets").as_array()) exprs->emplace_back(t.at("expr").as_string());
        }
        if (p.as_object().contains("panels")) walk(p.at("panels").as_array());
      }
    };
    walk(d.at("panels").as_array());
    for (const auto& v : d.at("templating").at("list").as_array()) vars->emplace_back(v.at("definition").as_string());
  };
  std::vector<std::string> overview, policies, vars;
  collect(f1, &overview, &vars);
  collect(f2, &policies, &vars);
  EXPECT_EQ(overview, kOverviewQueries);
  EXPECT_EQ(policies, kPolicyQueries);
  std::set<std::string> var_set(vars.begin(), vars.end()), embedded;
  for (const auto& v : kVariableQueries) embedded.insert(v.definition);
  EXPECT_EQ(var_set, embedded);
}

TEST_F(PromqlDifferentialTest, VariableQueriesAgree) {
  for (auto [s, e] : Windows()) {
    for (const auto& v : kVariableQueries) {
      std::vector<std::string> values = VariableValues(v, s, e);
      EXPECT_FALSE(values.empty()) << v.definition;
      // Older Grafana versions ask /api/v1/series for label_values(metric, label).
      if (!v.metric.empty()) {
        ExpectSame("/api/v1/series", {{"match[]", v.metric}, {"start", Secs(s)}, {"end", Secs(e)}});
      }
    }
  }
  // Without a time range, and the label names.
  ExpectSame("/api/v1/label/job/values", {}, false);
  ExpectSame("/api/v1/labels", {}, false);
  auto [s, e] = Windows()[0];
  ExpectSame("/api/v1/labels", {{"match[]", "scout_stream_vulnerabilities"}, {"start", Secs(s)}, {"end", Secs(e)}});
  ExpectSame("/api/v1/series", {{"match[]", R"({job="globex",streamName="staging"})"}, {"match[]", "scout_policy_evaluated_images{id=\"no-high-profile-vulns\"}"}});
}

TEST_F(PromqlDifferentialTest, OverviewDashboardAgreesForEveryOrgAndStream) {
  RunDashboard(kOverviewQueries, "$streamName", "scout_stream_vulnerabilities", false);
}

TEST_F(PromqlDifferentialTest, PoliciesDashboardAgreesForEveryOrgStreamAndPolicy) {
  RunDashboard(kPolicyQueries, "$stream", "scout_policy_compliant_images", true);
}

TEST_F(PromqlDifferentialTest, ParameterErrorsMatchPrometheusWordForWord) {
  const std::vector<std::pair<std::string, Params>> cases = {
      {"/api/v1/query", {{"query", "scout_stream_vulnerabilities"}, {"time", "abc"}}},
      {"/api/v1/query", {{"query", "up"}, {"time", "1"}, {"timeout", "x"}}},
      {"/api/v1/query_range", {{"query", "up"}, {"start", "x"}, {"end", "1"}, {"step", "1"}}},
      {"/api/v1/query_range", {{"query", "up"}, {"start", "1"}, {"end", "x"}, {"step", "1"}}},
      {"/api/v1/query_range", {{"query", "up"}, {"start", "10"}, {"end", "1"}, {"step", "1"}}},
      {"/api/v1/query_range", {{"query", "up"}, {"start", "1"}, {"end", "10"}}},
      {"/api/v1/query_range", {{"query", "up"}, {"start", "1"}, {"end", "10"}, {"step", "0"}}},
      {"/api/v1/query_range", {{"query", "up"}, {"start", "1"}, {"end", "10"}, {"step", "-1"}}},
      {"/api/v1/query_range", {{"query", "up"}, {"start", "1"}, {"end", "1700000000"}, {"step", "1"}}},
      {"/api/v1/series", {}},
      {"/api/v1/series", {{"match[]", "up"}, {"start", "x"}}},
      {"/api/v1/labels", {{"end", "x"}}},
      {"/api/v1/label/a-b/values", {}},
      {"/api/v1/metadata", {{"limit", "x"}}},
      {"/api/v1/query_exemplars", {{"query", "up"}, {"start", "x"}}},
  };
  for (const auto& [path, params] : cases) {
    for (bool post : {false, true}) {
      if (path.find("/label/") != std::string::npos && post) continue;  // GET-only in Prometheus
      if (path == "/api/v1/metadata" && post) continue;
      std::string pb, bb;
      int ps = PromqlPeers::Call(peers_->prometheus_port(), path, params, post, &pb);
      int bs = PromqlPeers::Call(peers_->bridge_port(), path, params, post, &bb);
      EXPECT_EQ(ps, bs) << path << " " << pb;
      EXPECT_EQ(pb, bb) << path << (post ? " (POST)" : " (GET)");
    }
  }
}

}  // namespace
}  // namespace sb::itest
