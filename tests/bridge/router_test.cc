#include "bridge/router.h"

#include <map>

#include "common/exposition/parser.h"
#include "tests/testing/testing.h"

namespace sb::bridge {
namespace {

class FakeContext : public RouterContext {
 public:
  std::shared_ptr<const RouteTable> Routes() const override { return routes; }
  SelfMetrics& Metrics() override { return metrics; }
  std::string RenderSelfMetrics() const override {
    return metrics.Render({}, {}, 0, 0, 0, true, 0);
  }
  std::string TargetsJson() const override { return "{}"; }
  bool Ready() const override { return ready; }
  Status Reload() override {
    ++reloads;
    return reload_status;
  }

  const ApiHandler* FindApi(std::string_view path) const override {
    auto it = apis.find(std::string(path));
    return it == apis.end() ? nullptr : &it->second;
  }

  std::shared_ptr<RouteTable> routes = std::make_shared<RouteTable>();
  std::map<std::string, ApiHandler> apis;
  SelfMetrics metrics;
  bool ready = true;
  int reloads = 0;
  Status reload_status;
};

std::shared_ptr<const Snapshot> MakeSnapshot(double value) {
  auto parsed = expo::ParseExposition("# TYPE scout_stream_vulnerabilities gauge\nscout_stream_vulnerabilities{severity=\"HIGH\"} " +
                                          std::to_string(value) + "\n",
                                      expo::Format::kText004);
  EXPECT_TRUE(parsed.ok());
  auto snap = BuildSnapshot("acme", "api:443", 1'700'000'000'000, std::move(parsed).value());
  EXPECT_TRUE(snap.ok());
  return std::move(snap).value();
}

Request Get(const std::string& target, std::vector<std::pair<http::field, std::string>> headers = {}) {
  Request req{http::verb::get, target, 11};
  for (auto& [f, v] : headers) req.set(f, v);
  return req;
}

std::string BodyOf(const Response& res) { return res.body() ? *res.body() : ""; }

class RouterTest : public ::testing::Test {
 protected:
  void AddEndpoint(const std::string& path, const std::string& job, const std::string& instance,
                   std::shared_ptr<const Snapshot> snap) {
    Endpoint ep;
    ep.job = job;
    ep.instance = instance;
    ep.snapshot = [snap] { return snap; };
    ep.not_ready_reason = [] { return std::string("server returned HTTP status 401"); };
    ctx_.routes->by_path[path].push_back(std::move(ep));
  }
  FakeContext ctx_;
};

TEST_F(RouterTest, ServesJobPathWithoutTimestamps) {
  AddEndpoint("/v1/exporter/org/acme/metrics", "acme", "api:443", MakeSnapshot(12));
  Response res = Route(Get("/v1/exporter/org/acme/metrics"), ctx_);
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res[http::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_THAT(BodyOf(res), ::testing::HasSubstr("scout_stream_vulnerabilities{severity=\"HIGH\"} 12\n"));
  EXPECT_FALSE(res[http::field::etag].empty());
}

TEST_F(RouterTest, LegacyPathIsServedWhenConfigured) {
  AddEndpoint("/v1/exporter/org/acme", "acme", "api:443", MakeSnapshot(1));
  EXPECT_EQ(Route(Get("/v1/exporter/org/acme"), ctx_).result_int(), 200);
  EXPECT_EQ(Route(Get("/v1/exporter/org/acme/metrics"), ctx_).result_int(), 404);
}

TEST_F(RouterTest, RegisteredApiIsServedAndListedOnTheIndex) {
  EXPECT_THAT(BodyOf(Route(Get("/"), ctx_)), ::testing::Not(::testing::HasSubstr("/api/v1/query")));
  EXPECT_EQ(Route(Get("/api/v1/query"), ctx_).result_int(), 404);
  ctx_.apis["/api/v1/query"] = [](const Request& req) {
    Response res{http::status::ok, req.version()};
    res.body() = std::make_shared<const std::string>("answer");
    return res;
  };
  Response res = Route(Get("/api/v1/query"), ctx_);
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(BodyOf(res), "answer");
  EXPECT_THAT(BodyOf(Route(Get("/"), ctx_)), ::testing::HasSubstr("/api/v1/query, /api/v1/query_range"));
}

TEST_F(RouterTest, UnknownPathIs404) {
  EXPECT_EQ(Route(Get("/v1/exporter/org/nobody/metrics"), ctx_).result_int(), 404);
}

TEST_F(RouterTest, BeforeFirstSuccessGives503WithReason) {
  AddEndpoint("/m", "acme", "api:443", nullptr);
  Response res = Route(Get("/m"), ctx_);
  EXPECT_EQ(res.result_int(), 503);
  EXPECT_EQ(BodyOf(res), "no data yet from upstream for job acme: server returned HTTP status 401\n");
}

TEST_F(RouterTest, NegotiatesOpenMetricsAndGzip) {
  AddEndpoint("/m", "acme", "api:443", MakeSnapshot(5));
  Response res = Route(Get("/m", {{http::field::accept, "application/openmetrics-text;version=1.0.0"},
                                  {http::field::accept_encoding, "gzip"}}),
                       ctx_);
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res[http::field::content_type], "application/openmetrics-text; version=1.0.0; charset=utf-8");
  EXPECT_EQ(res[http::field::content_encoding], "gzip");
  EXPECT_EQ(res[http::field::vary], "Accept, Accept-Encoding");
}

TEST_F(RouterTest, IfNoneMatchGives304) {
  AddEndpoint("/m", "acme", "api:443", MakeSnapshot(5));
  Response first = Route(Get("/m"), ctx_);
  std::string etag(first[http::field::etag]);
  Response second = Route(Get("/m", {{http::field::if_none_match, etag}}), ctx_);
  EXPECT_EQ(second.result_int(), 304);
  EXPECT_EQ(BodyOf(second), "");
  // A different representation has a different ETag: the gzip body is sent in full.
  Response gz = Route(Get("/m", {{http::field::if_none_match, etag}, {http::field::accept_encoding, "gzip"}}), ctx_);
  EXPECT_EQ(gz.result_int(), 200);
}

TEST_F(RouterTest, SharedPathNeedsSelector) {
  AddEndpoint("/metrics2", "a", "h1:80", MakeSnapshot(1));
  AddEndpoint("/metrics2", "a", "h2:80", MakeSnapshot(2));
  EXPECT_EQ(Route(Get("/metrics2"), ctx_).result_int(), 400);
  Response res = Route(Get("/metrics2?target=h2:80"), ctx_);
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_THAT(BodyOf(res), ::testing::HasSubstr("} 2\n"));
  EXPECT_EQ(Route(Get("/metrics2?target=h3:80"), ctx_).result_int(), 404);
}

TEST_F(RouterTest, WrongMethodIs405) {
  AddEndpoint("/m", "acme", "api:443", MakeSnapshot(5));
  Request post{http::verb::post, "/m", 11};
  Response res = Route(post, ctx_);
  EXPECT_EQ(res.result_int(), 405);
  EXPECT_EQ(res[http::field::allow], "GET, HEAD");
  EXPECT_EQ(Route(Get("/-/reload"), ctx_).result_int(), 405);
}

TEST_F(RouterTest, ReloadReportsFailure) {
  Request post{http::verb::post, "/-/reload", 11};
  EXPECT_EQ(Route(post, ctx_).result_int(), 200);
  ctx_.reload_status = Status::InvalidArgument("bridge.yml:3:1: unknown key \"x\"");
  Response res = Route(post, ctx_);
  EXPECT_EQ(res.result_int(), 500);
  EXPECT_THAT(BodyOf(res), ::testing::HasSubstr("bridge.yml:3:1"));
  EXPECT_EQ(ctx_.reloads, 2);
}

TEST_F(RouterTest, HealthAndReadiness) {
  EXPECT_EQ(Route(Get("/-/healthy"), ctx_).result_int(), 200);
  EXPECT_EQ(Route(Get("/-/ready"), ctx_).result_int(), 200);
  ctx_.ready = false;
  EXPECT_EQ(Route(Get("/-/ready"), ctx_).result_int(), 503);
}

TEST_F(RouterTest, SelfMetricsCountRequestsByHandlerAndCode) {
  AddEndpoint("/m", "acme", "api:443", MakeSnapshot(5));
  for (int i = 0; i < 3; ++i) (void)Route(Get("/m"), ctx_);
  (void)Route(Get("/nope"), ctx_);
  std::string metrics = BodyOf(Route(Get("/metrics"), ctx_));
  EXPECT_THAT(metrics, ::testing::HasSubstr("scout_bridge_http_requests_total{handler=\"scrape\",code=\"200\"} 3\n"));
  EXPECT_THAT(metrics, ::testing::HasSubstr("scout_bridge_http_requests_total{handler=\"not_found\",code=\"404\"} 1\n"));
  EXPECT_THAT(metrics, ::testing::HasSubstr("scout_bridge_build_info{version=\"0.1.0\""));
}

}  // namespace
}  // namespace sb::bridge

namespace sb::bridge {
namespace {

// Parses "Name: value" lines of a head into a map (lower-case names), skipping the status line.
std::map<std::string, std::string> HeadFields(const std::string& head) {
  std::map<std::string, std::string> out;
  size_t pos = head.find("\r\n") + 2;
  while (pos < head.size()) {
    size_t eol = head.find("\r\n", pos);
    std::string line = head.substr(pos, eol - pos);
    size_t colon = line.find(':');
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
    out[name] = line.substr(colon + 2);
    pos = eol + 2;
  }
  return out;
}

TEST_F(RouterTest, FastPathMatchesTheRegularPathByteForByte) {
  AddEndpoint("/m", "acme", "api:443", MakeSnapshot(7));
  for (const auto& [accept, encoding] : std::vector<std::pair<std::string, std::string>>{
           {"", ""}, {"", "gzip"}, {"application/openmetrics-text;version=1.0.0", ""},
           {"application/openmetrics-text;version=1.0.0", "gzip"}}) {
    Request req = Get("/m", {{http::field::accept, accept}, {http::field::accept_encoding, encoding}});
    PreparedResponse fast;
    ASSERT_TRUE(RouteFast(req, ctx_, &fast));
    Response slow = Route(req, ctx_);
    EXPECT_EQ(*fast.body, BodyOf(slow));
    EXPECT_EQ(fast.head->rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
    auto fields = HeadFields(*fast.head);
    for (auto& f : slow) {
      std::string name(f.name_string());
      for (auto& c : name) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
      if (name == "content-length") continue;  // set by the server on the regular path
      EXPECT_EQ(fields[name], std::string(f.value())) << name;
    }
    EXPECT_EQ(fields["content-length"], std::to_string(fast.body->size()));
  }
}

TEST_F(RouterTest, FastPathDeclinesWhatItCannotAnswer) {
  AddEndpoint("/m", "acme", "api:443", MakeSnapshot(7));
  AddEndpoint("/none", "acme", "api:443", nullptr);
  AddEndpoint("/two", "a", "h1:80", MakeSnapshot(1));
  AddEndpoint("/two", "a", "h2:80", MakeSnapshot(2));
  PreparedResponse out;
  EXPECT_FALSE(RouteFast(Get("/none"), ctx_, &out));                            // 503
  EXPECT_FALSE(RouteFast(Get("/two"), ctx_, &out));                             // needs a selector
  EXPECT_FALSE(RouteFast(Get("/metrics"), ctx_, &out));                         // not a job path
  EXPECT_FALSE(RouteFast(Get("/m", {{http::field::if_none_match, "\"x\""}}), ctx_, &out));  // maybe 304
}

}  // namespace
}  // namespace sb::bridge
