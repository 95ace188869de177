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

}  // namespace
}  // namespace sb::recommendations
