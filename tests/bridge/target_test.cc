#include "bridge/target.h"

#include <cstdlib>

#include "tests/testing/testing.h"

namespace sb::bridge {
namespace {

config::ScrapeConfig Job(const std::string& scheme = "https") {
  config::ScrapeConfig job;
  job.job_name = "acme";
  job.scheme = scheme;
  job.metrics_path = "/v1/exporter/org/acme/metrics";
  return job;
}

TEST(TargetTest, SplitHostPortHandlesNamesIpv6AndDefaults) {
  std::string host;
  uint16_t port = 0;
  ASSERT_TRUE(SplitHostPort("api.scout.docker.com:443", "https", &host, &port));
  EXPECT_EQ(host, "api.scout.docker.com");
  EXPECT_EQ(port, 443);
  ASSERT_TRUE(SplitHostPort("[::1]:9090", "http", &host, &port));
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 9090);
  ASSERT_TRUE(SplitHostPort("example.org", "http", &host, &port));
  EXPECT_EQ(port, 80);
  EXPECT_FALSE(SplitHostPort("::1:80", "http", &host, &port));
  EXPECT_FALSE(SplitHostPort("h:0", "http", &host, &port));
  EXPECT_FALSE(SplitHostPort("h:70000", "http", &host, &port));
}

TEST(TargetTest, RequestTargetCarriesEncodedParams) {
  config::ScrapeConfig job = Job();
  job.params["module"] = {"http 2xx", "b&c"};
  EXPECT_EQ(BuildRequestTarget(job), "/v1/exporter/org/acme/metrics?module=http%202xx&module=b%26c");
}

TEST(TargetTest, ProxyUrlHonoursNoProxy) {
  config::ScrapeConfig job = Job();
  job.proxy_url = "http://proxy.corp:3128";
  job.no_proxy = "localhost, .internal,10.1.2.3";
  EXPECT_EQ(ProxyFor(job, "api.scout.docker.com"), "http://proxy.corp:3128");
  EXPECT_EQ(ProxyFor(job, "metrics.internal"), "");
  EXPECT_EQ(ProxyFor(job, "a.b.internal"), "");
  EXPECT_EQ(ProxyFor(job, "notinternal"), "http://proxy.corp:3128");
  EXPECT_EQ(ProxyFor(job, "10.1.2.3"), "");
  EXPECT_EQ(ProxyFor(job, "LOCALHOST"), "");
}

TEST(TargetTest, ProxyFromEnvironmentBySchemeAndNoProxy) {
  config::ScrapeConfig job = Job("https");
  job.proxy_from_environment = true;
  setenv("HTTPS_PROXY", "http://envproxy:8080", 1);
  setenv("HTTP_PROXY", "http://plainproxy:8080", 1);
  setenv("NO_PROXY", "docker.com", 1);
  EXPECT_EQ(ProxyFor(job, "example.org"), "http://envproxy:8080");
  EXPECT_EQ(ProxyFor(job, "api.scout.docker.com"), "");
  EXPECT_EQ(ProxyFor(Job("http"), "example.org"), "");  // proxy_from_environment off
  config::ScrapeConfig plain = Job("http");
  plain.proxy_from_environment = true;
  EXPECT_EQ(ProxyFor(plain, "example.org"), "http://plainproxy:8080");
  unsetenv("HTTPS_PROXY");
  unsetenv("HTTP_PROXY");
  unsetenv("NO_PROXY");
  EXPECT_EQ(ProxyFor(job, "example.org"), "");
}

}  // namespace
}  // namespace sb::bridge
