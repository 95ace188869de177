// The /api/v1 handlers over a temporary store, called without sockets: parameters, answer
// shapes, error types and status codes as Prometheus 2.42 gives them.
#include "promql-lite/api/api.h"

#include <boost/json.hpp>

#include "common/gzip.h"
#include "gtest/gtest.h"
#include "storage/store.h"
#include "tests/testing/testing.h"

namespace sb::promql::api {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;

constexpr int64_t kT0 = 1700000000000;  // first sample
constexpr int64_t kHour = 3600000;

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::StoreOptions so;
    so.path = dir_.File("bridge.db");
    so.synchronous = "OFF";
    auto store = storage::Store::Open(so);
    ASSERT_OK(store);
    store_ = std::move(store).value();
    std::vector<storage::SeriesSamples> batch;
    for (const char* sev : {"HIGH", "LOW"}) {
      storage::SeriesSamples s;
      s.labels = {{"__name__", "scout_stream_vulnerabilities"}, {"job", "acme"}, {"severity", sev},
                  {"streamName", "production"}};
      for (int i = 0; i < 4; ++i) s.samples.push_back({kT0 + i * kHour, (sev[0] == 'H' ? 10.0 : 1.0) + i});
      batch.push_back(s);
    }
    storage::SeriesSamples other;
    other.labels = {{"__name__", "scout_policy_evaluated_images"}, {"id", "p<1>"}, {"job", "globex"}};
    other.samples.push_back({kT0 + 10 * kHour, 7});
    batch.push_back(other);
    ASSERT_OK(store_->AppendSamples(batch));
    clock_.SetMs(kT0 + 3 * kHour + 60000);
    ApiOptions o;
    o.engine.lookback_delta = std::chrono::minutes(65);
    o.clock = &clock_;
    o.metadata_source = [] {
      auto e = std::make_shared<expo::Exposition>();
      expo::Family f;
      f.name = "scout_stream_vulnerabilities";
      f.type = expo::MetricType::kGauge;
      f.help = "Vulnerabilities of a stream by severity";
      e->families.push_back(f);
      f.name = "scout_policy_evaluated_images";
      f.help = "Images evaluated";
      e->families.push_back(f);
      return std::vector<std::shared_ptr<const expo::Exposition>>{e};
    };
    api_ = std::make_unique<Api>(store_.get(), o);
  }

  bridge::Response Get(const std::string& target) {
    bridge::Request req(http::verb::get, target, 11);
    return api_->Handle(req);
  }
  bridge::Response Post(const std::string& target, const std::string& body,
                        const std::string& content_type = "application/x-www-form-urlencoded") {
    bridge::Request req(http::verb::post, target, 11);
    req.set(http::field::content_type, content_type);
    req.body() = body;
    req.prepare_payload();
    return api_->Handle(req);
  }
  static std::string Body(const bridge::Response& r) { return r.body() ? std::string(*r.body()) : ""; }

  testing::TempDir dir_;
  FakeClock clock_{0};
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Api> api_;
};

TEST_F(ApiTest, SeriesListsMatchingLabelSetsSorted) {
  auto r = Get("/api/v1/series?match[]=scout_stream_vulnerabilities");
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(r[http::field::content_type], "application/json");
  EXPECT_EQ(Body(r),
            R"({"status":"success","data":[{"__name__":"scout_stream_vulnerabilities","job":"acme","severity":"HIGH","streamName":"production"},)"
            R"({"__name__":"scout_stream_vulnerabilities","job":"acme","severity":"LOW","streamName":"production"}]})");
}

TEST_F(ApiTest, SeriesHonoursTimeRangeUnionAndLimit) {
  // Only globex's series has samples after kT0 + 5h.
  auto r = Get("/api/v1/series?match[]=scout_stream_vulnerabilities&match[]=%7Bjob%3D%22globex%22%7D&start=" +
               std::to_string((kT0 + 5 * kHour) / 1000));
  EXPECT_EQ(Body(r),
            R"({"status":"success","data":[{"__name__":"scout_policy_evaluated_images","id":"p\u003c1\u003e","job":"globex"}]})");
  r = Get("/api/v1/series?match[]=%7Bjob%3D~%22.%2B%22%7D&limit=1");
  EXPECT_EQ(Body(r),
            R"({"status":"success","data":[{"__name__":"scout_policy_evaluated_images","id":"p\u003c1\u003e","job":"globex"}],)"
            R"("warnings":["results truncated due to limit"]})");
}

TEST_F(ApiTest, SeriesErrorsAreBadData) {
  auto r = Get("/api/v1/series");
  EXPECT_EQ(r.result_int(), 400);
  EXPECT_EQ(Body(r), R"({"status":"error","errorType":"bad_data","error":"no match[] parameter provided"})");
  r = Get("/api/v1/series?match[]=up&start=x");
  EXPECT_EQ(Body(r),
            R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"start\": Invalid time value for 'start': cannot parse \"x\" to a valid timestamp"})");
  r = Get("/api/v1/series?match[]=up(");
  EXPECT_EQ(r.result_int(), 400);
  EXPECT_NE(Body(r).find(R"("error":"invalid parameter \"match[]\": 1:)"), std::string::npos) << Body(r);
  r = Get("/api/v1/series?match[]=up&limit=0");
  EXPECT_EQ(r.result_int(), 400);
}

TEST_F(ApiTest, LabelNamesAndValues) {
  EXPECT_EQ(Body(Get("/api/v1/labels")),
            R"({"status":"success","data":["__name__","id","job","severity","streamName"]})");
  EXPECT_EQ(Body(Post("/api/v1/labels", "match[]=scout_policy_evaluated_images")),
            R"({"status":"success","data":["__name__","id","job"]})");
  EXPECT_EQ(Body(Get("/api/v1/label/job/values")), R"({"status":"success","data":["acme","globex"]})");
  EXPECT_EQ(Body(Get("/api/v1/label/job/values?start=" + std::to_string((kT0 + 5 * kHour) / 1000))),
            R"({"status":"success","data":["globex"]})");
  EXPECT_EQ(Body(Get("/api/v1/label/severity/values?match[]=scout_stream_vulnerabilities")),
            R"({"status":"success","data":["HIGH","LOW"]})");
  EXPECT_EQ(Body(Get("/api/v1/label/__name__/values")),
            R"({"status":"success","data":["scout_policy_evaluated_images","scout_stream_vulnerabilities"]})");
  EXPECT_EQ(Body(Get("/api/v1/label/nope/values")), R"({"status":"success","data":[]})");
  auto r = Get("/api/v1/label/a-b/values");
  EXPECT_EQ(r.result_int(), 400);
  EXPECT_EQ(Body(r), R"({"status":"error","errorType":"bad_data","error":"invalid label name: \"a-b\""})");
  EXPECT_EQ(Get("/api/v1/label/job/nothing").result_int(), 404);
}

TEST_F(ApiTest, MetadataComesFromServedSnapshots) {
  EXPECT_EQ(Body(Get("/api/v1/metadata")),
            R"({"status":"success","data":{"scout_policy_evaluated_images":[{"type":"gauge","help":"Images evaluated","unit":""}],)"
            R"("scout_stream_vulnerabilities":[{"type":"gauge","help":"Vulnerabilities of a stream by severity","unit":""}]}})");
  EXPECT_EQ(Body(Get("/api/v1/metadata?limit=1")),
            R"({"status":"success","data":{"scout_policy_evaluated_images":[{"type":"gauge","help":"Images evaluated","unit":""}]}})");
  EXPECT_EQ(Body(Get("/api/v1/metadata?metric=nope")), R"({"status":"success","data":{}})");
  EXPECT_EQ(Body(Get("/api/v1/metadata?limit=x")),
            R"({"status":"error","errorType":"bad_data","error":"limit must be a number"})");
}

TEST_F(ApiTest, FixedAnswersForBuildinfoRulesAndExemplars) {
  json::value b = json::parse(Body(Get("/api/v1/status/buildinfo")));
  EXPECT_EQ(b.at("status").as_string(), "success");
  EXPECT_EQ(b.at("data").at("version").as_string(), "2.42.0");
  EXPECT_EQ(Body(Get("/api/v1/rules")), R"({"status":"success","data":{"groups":[]}})");
  EXPECT_EQ(Get("/api/v1/rules?type=x").result_int(), 400);
  EXPECT_EQ(Body(Get("/api/v1/query_exemplars?query=up&start=1&end=2")), R"({"status":"success","data":[]})");
  EXPECT_EQ(Get("/api/v1/query_exemplars?query=up(").result_int(), 400);
}

TEST_F(ApiTest, InstantQueryUsesLookbackAndDefaultTime) {
  // Default time: the clock (kT0 + 3h + 1m): the last samples, 13 and 4.
  auto r = Get("/api/v1/query?query=scout_stream_vulnerabilities");
  EXPECT_EQ(r.result_int(), 200) << Body(r);
  std::string t = "1700010860";
  EXPECT_EQ(Body(r),
            R"({"status":"success","data":{"resultType":"vector","result":[)"
            R"({"metric":{"__name__":"scout_stream_vulnerabilities","job":"acme","severity":"HIGH","streamName":"production"},"value":[)" + t + R"(,"13"]},)"
            R"({"metric":{"__name__":"scout_stream_vulnerabilities","job":"acme","severity":"LOW","streamName":"production"},"value":[)" + t + R"(,"4"]}]}})");
  // 66 minutes after the last sample: beyond the 65m lookback.
  r = Post("/api/v1/query", "query=scout_stream_vulnerabilities&time=" + std::to_string((kT0 + 3 * kHour) / 1000 + 66 * 60));
  EXPECT_EQ(Body(r), R"({"status":"success","data":{"resultType":"vector","result":[]}})");
  r = Get("/api/v1/query?query=sum(scout_stream_vulnerabilities)&time=1700000000.5");
  EXPECT_EQ(Body(r), R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000.500,"11"]}]}})");
  r = Get("/api/v1/query?query=1%2F0&time=1700000017");
  EXPECT_EQ(Body(r), R"({"status":"success","data":{"resultType":"scalar","result":[1700000017,"+Inf"]}})");
}

TEST_F(ApiTest, RangeQueryAnswersAMatrix) {
  auto r = Post("/api/v1/query_range?query=ignored",
                "query=sum(scout_stream_vulnerabilities)&start=1700000017&end=1700007217&step=1h");
  EXPECT_EQ(r.result_int(), 200) << Body(r);
  EXPECT_EQ(Body(r),
            R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[)"
            R"([1700000017,"11"],[1700003617,"13"],[1700007217,"15"]]}]}})");
}

TEST_F(ApiTest, QueryErrorsMapToPrometheusTypesAndCodes) {
  auto r = Get("/api/v1/query?query=sum(up&time=1");
  EXPECT_EQ(r.result_int(), 400);
  EXPECT_EQ(Body(r).rfind(R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:)", 0), 0u)
      << Body(r);
  r = Get("/api/v1/query?query=up&time=abc");
  EXPECT_EQ(Body(r),
            R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"time\": Invalid time value for 'time': cannot parse \"abc\" to a valid timestamp"})");
  r = Get("/api/v1/query_range?query=up&start=10&end=1&step=1");
  EXPECT_EQ(Body(r),
            R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"end\": end timestamp must not be before start time"})");
  r = Get("/api/v1/query_range?query=up&start=1&end=10&step=0");
  EXPECT_EQ(r.result_int(), 400);
  r = Get("/api/v1/query_range?query=up&start=1&end=1700000000&step=1");
  EXPECT_EQ(Body(r),
            R"J({"status":"error","errorType":"bad_data","error":"exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"})J");
  r = Get("/api/v1/query?query=up&timeout=x");
  EXPECT_EQ(Body(r),
            R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"timeout\": cannot parse \"x\" to a valid duration"})");
}

TEST_F(ApiTest, EvaluationErrorsAreExecutionErrorsAndBadQueriesAreBadData) {
  // As in Prometheus: the query parses, so a failure while evaluating it is 422 execution.
  auto r = Get("/api/v1/query_range?query=scout_stream_vulnerabilities%20%2B%20on()%20scout_stream_vulnerabilities"
               "&start=1700000000&end=1700010800&step=60");
  EXPECT_EQ(r.result_int(), 422) << Body(r);
  EXPECT_EQ(Body(r).rfind(R"({"status":"error","errorType":"execution","error":"found duplicate series for the match group {})", 0), 0u)
      << Body(r);
  EXPECT_NE(Body(r).find("many-to-many matching not allowed: matching labels must be unique on one side"), std::string::npos);
  // A range vector cannot be a range query's result: that is the query's fault, 400.
  r = Get("/api/v1/query_range?query=scout_stream_vulnerabilities[5m]&start=1700000000&end=1700010800&step=60");
  EXPECT_EQ(Body(r),
            R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": invalid expression type \"range vector\" for range query, must be Scalar or instant Vector"})");
}

TEST_F(ApiTest, SampleLimitIsAnExecutionError) {
  ApiOptions o;
  o.engine.max_samples = 1;
  o.clock = &clock_;
  Api small(store_.get(), o);
  bridge::Request req(http::verb::get, "/api/v1/query_range?query=scout_stream_vulnerabilities&start=1700000000&end=1700010800&step=60", 11);
  auto r = small.Handle(req);
  EXPECT_EQ(r.result_int(), 422) << Body(r);
  EXPECT_NE(Body(r).find(R"("errorType":"execution")"), std::string::npos) << Body(r);
}

TEST_F(ApiTest, MethodsAndPaths) {
  bridge::Request put(http::verb::put, "/api/v1/query?query=up", 11);
  EXPECT_EQ(api_->Handle(put).result_int(), 405);
  EXPECT_EQ(Get("/api/v1/nope").result_int(), 404);
  // A POST body that is not a form is ignored, as in Go.
  auto r = Post("/api/v1/label/job/values", "match[]=nothing", "text/plain");
  EXPECT_EQ(Body(r), R"({"status":"success","data":["acme","globex"]})");
  r = Post("/api/v1/labels", "match[]=%zz");
  EXPECT_EQ(r.result_int(), 400);
  EXPECT_EQ(Body(r), R"({"status":"error","errorType":"bad_data","error":"error parsing form values: invalid URL escape \"%zz\""})");
  auto routes = Api::Routes(std::make_shared<Api>(store_.get(), ApiOptions{}));
  EXPECT_EQ(routes.size(), 10u);
  EXPECT_TRUE(routes.back().prefix);
  EXPECT_EQ(routes.back().path, "/api/v1/label/");
}

TEST_F(ApiTest, LargeAnswersAreGzippedForClientsThatAcceptIt) {
  const std::string target = "/api/v1/query_range?query=scout_stream_vulnerabilities&start=1700000000&end=1700010800&step=60";
  std::string plain = Body(Get(target));
  ASSERT_GT(plain.size(), 1024u);
  for (const char* ae : {"gzip", "deflate, gzip;q=0.5", "*", "GZIP"}) {
    bridge::Request req(http::verb::get, target, 11);
    req.set(http::field::accept_encoding, ae);
    auto r = api_->Handle(req);
    EXPECT_EQ(r[http::field::content_encoding], "gzip") << ae;
    EXPECT_EQ(r[http::field::vary], "Accept-Encoding");
    auto inflated = GzipDecompress(Body(r), 1 << 20);
    ASSERT_OK(inflated);
    EXPECT_EQ(*inflated, plain);
  }
  for (const char* ae : {"deflate", "gzip;q=0", "identity"}) {
    bridge::Request req(http::verb::get, target, 11);
    req.set(http::field::accept_encoding, ae);
    auto r = api_->Handle(req);
    EXPECT_EQ(r[http::field::content_encoding], "") << ae;
    EXPECT_EQ(Body(r), plain) << ae;
  }
  // Small answers go out plain.
  bridge::Request small(http::verb::get, "/api/v1/label/job/values", 11);
  small.set(http::field::accept_encoding, "gzip");
  EXPECT_EQ(api_->Handle(small)[http::field::content_encoding], "");
}

TEST(DefaultLookbackDeltaTest, CoversTheLongestRefreshPlusMargin) {
  using std::chrono::minutes;
  EXPECT_EQ(DefaultLookbackDelta(minutes(0)), minutes(65));
  EXPECT_EQ(DefaultLookbackDelta(minutes(60)), minutes(65));
  EXPECT_EQ(DefaultLookbackDelta(minutes(120)), minutes(125));
}

}  // namespace
}  // namespace sb::promql::api
