// The bridge with a recommendations source: scheduled scan, JSON API, metrics path, and the
// metrics kept in the store like any target's. Loopback only.
#include "bridge/recommendations_service.h"

#include <filesystem>

#include "bridge/app.h"
#include "recommendations/metrics.h"
#include "storage/postings.h"
#include "tests/integration/harness.h"
#include "tests/testing/testing.h"

namespace sb::recommendations {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

const std::string kFixtures = std::string(SB_SOURCE_DIR) + "/tests/recommendations/fixtures";

void CopyFixture(const std::string& prefix, const std::string& to) {
  for (const auto& e : fs::directory_iterator(kFixtures)) {
    if (e.path().filename().string().rfind(prefix, 0) == 0) fs::copy_file(e.path(), to);
  }
}

TEST(RecommendationsServiceTest, BridgeScansSourcesAndServesJsonAndMetricsAndStoresThem) {
  testing::TempDir data, reports;
  CopyFixture("01_", reports.File("app.txt"));
  CopyFixture("13_", reports.File("demo.txt"));
  testing::WriteFile(reports.File("notes.md"), "not a report\n");
  bridge::AppOptions o;
  o.listen_address = "127.0.0.1:0";
  o.storage_path = data.path();
  config::Config cfg;
  cfg.recommendations.sources = {reports.path()};
  cfg.recommendations.scan_interval = std::chrono::hours(1);
  o.config = cfg;
  bridge::App app(o);
  ASSERT_OK(app.Start());
  const int port = app.port();

  std::string body;
  ASSERT_TRUE(itest::WaitUntil(
      [&] {
        if (testing::HttpRequest(port, "GET", "/api/v1/recommendations", {}, "", &body) != 200) return false;
        return json::parse(body).at("data").at("targets").as_array().size() == 2;
      },
      20s))
      << body;
  auto parsed = json::parse(body);
  EXPECT_EQ(parsed.at("status"), "success");
  EXPECT_EQ(parsed.at("data").at("targets").at(0).at("base").at("name"), "node");

  ASSERT_EQ(testing::HttpRequest(port, "GET", "/api/v1/recommendations?base=alpine:3", {}, "", &body), 200);
  ASSERT_EQ(json::parse(body).at("data").at("targets").as_array().size(), 1u);
  EXPECT_EQ(json::parse(body).at("data").at("targets").at(0).at("image"), "shotaohtsuka/scout-demo:v1");
  EXPECT_EQ(testing::HttpRequest(port, "GET", "/api/v1/recommendations?bogus=1", {}, "", &body), 400);

  ASSERT_EQ(testing::HttpRequest(port, "GET", bridge::kRecommendationsMetricsPath, {}, "", &body), 200);
  EXPECT_THAT(body, HasSubstr("scout_image_base_info{image=\"shotaohtsuka/scout-demo:v1\",digest=\"a3eaeba5365f\","
                              "base_image=\"alpine\",base_tag=\"3\"} 1\n"));

  // promtool accepts the body (lint included).
  if (std::string promtool = testing::FindExecutable("promtool"); !promtool.empty()) {
    testing::WriteFile(data.File("recs.prom"), body);
    std::string out;
    EXPECT_EQ(testing::RunCommand({"/bin/sh", "-c", promtool + " check metrics < " + data.File("recs.prom")}, &out), 0)
        << out;
  }

  // The same metrics are in the store, under job="scout-recommendations".
  ASSERT_TRUE(itest::WaitUntil(
      [&] {
        auto latest = app.store()->Latest(kMetricsTargetKey);
        return latest.ok() && latest->has_value();
      },
      20s));
  auto job = storage::Matcher::Make(storage::Matcher::Type::kEqual, "job", kMetricsJob);
  ASSERT_OK(job);
  auto refs = app.store()->Select({*job}, INT64_MIN, INT64_MAX);
  ASSERT_OK(refs);
  EXPECT_GE(refs->size(), 10u);
  app.Stop();
}

TEST(RecommendationsServiceTest, ReloadWithNewSourcesScansThemAtOnce) {
  testing::TempDir data, a, b;
  CopyFixture("01_", a.File("app.txt"));
  CopyFixture("17_", b.File("lab.txt"));
  auto yaml = [](const std::string& dir) {
    return "recommendations:\n  sources: [" + dir + "]\n  scan_interval: 1h\n";
  };
  testing::WriteFile(data.File("bridge.yml"), yaml(a.path()));
  bridge::AppOptions o;
  o.listen_address = "127.0.0.1:0";
  o.storage_path = data.File("store");
  o.config_file = data.File("bridge.yml");
  bridge::App app(o);
  ASSERT_OK(app.Start());
  auto image_of_first = [&]() -> std::string {
    std::string body;
    if (testing::HttpRequest(app.port(), "GET", "/api/v1/recommendations", {}, "", &body) != 200) return "";
    auto targets = json::parse(body).at("data").at("targets").as_array();
    return targets.size() == 1 ? std::string(targets[0].at("image").as_string()) : "";
  };
  ASSERT_TRUE(itest::WaitUntil([&] { return image_of_first() == "registry.example.test/example/app:1.2.3"; }, 20s));
  testing::WriteFile(data.File("bridge.yml"), yaml(b.path()));
  ASSERT_OK(app.Reload());
  // The interval is an hour: only the reload can have triggered this scan.
  EXPECT_TRUE(itest::WaitUntil([&] { return image_of_first() == "lab8:classic"; }, 20s)) << image_of_first();
  app.Stop();
}

}  // namespace
}  // namespace sb::recommendations
