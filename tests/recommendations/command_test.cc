// The real binary's `recommendations ingest|export`, and the served metrics through promtool.
#include <filesystem>

#include "tests/testing/testing.h"

namespace sb::recommendations {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const std::string kFixtures = std::string(SB_SOURCE_DIR) + "/tests/recommendations/fixtures";
const std::string kBinary = std::string(SB_BINARY_DIR) + "/scout-bridge";

TEST(RecommendationsCommandTest, IngestThenExportCypherAndJson) {
  testing::TempDir data, reports;
  fs::create_directories(reports.File("team/a"));
  fs::copy(kFixtures, reports.File("team/a"));  // 18 reports + SOURCES.md (not a report)
  std::string out;
  ASSERT_EQ(testing::RunCommand({kBinary, "recommendations", "ingest", reports.path(), "--storage.path", data.path()}, &out), 0)
      << out;
  EXPECT_THAT(out, HasSubstr(": 19 files, 18 parsed, 0 unchanged, 1 not reports, 0 errors, 0 removed"));
  // Again: nothing re-read.
  ASSERT_EQ(testing::RunCommand({kBinary, "recommendations", "ingest", reports.path(), "--storage.path=" + data.path()}, &out), 0);
  EXPECT_THAT(out, HasSubstr(": 19 files, 0 parsed, 19 unchanged"));

  ASSERT_EQ(testing::RunCommand({kBinary, "recommendations", "export", "--format=cypher", "--storage.path=" + data.path()}, &out), 0);
  EXPECT_THAT(out, HasSubstr("MERGE (n:DockerScoutPublicImage {id: 'node:25-alpine'})"));
  EXPECT_THAT(out, HasSubstr("STARTS WITH 'ecr000000000000' MATCH (b:DockerScoutPublicImage {id: 'node:25-alpine'}) MERGE (a)-[r:BUILT_ON]->(b)"));
  ASSERT_EQ(testing::RunCommand({kBinary, "recommendations", "export", "--format", "json", "--storage.path", data.path()}, &out), 0);
  EXPECT_THAT(out, HasSubstr("\"label\": \"DockerScoutPublicImageTag\""));

  EXPECT_EQ(testing::RunCommand({kBinary, "recommendations", "export", "--format=xml", "--storage.path=" + data.path()}, &out), 2);
  EXPECT_THAT(out, HasSubstr("--format must be cypher or json"));
  EXPECT_EQ(testing::RunCommand({kBinary, "recommendations", "ingest", "--storage.path=" + data.path()}, &out), 2);
  EXPECT_EQ(testing::RunCommand({kBinary, "recommendations", "frobnicate"}, &out), 2);
  EXPECT_EQ(testing::RunCommand({kBinary, "recommendations", "ingest", "/nonexistent/dir", "--storage.path=" + data.path()}, &out), 1);
  EXPECT_THAT(out, HasSubstr("/nonexistent/dir: FAILED: /nonexistent/dir: no such directory"));
  EXPECT_EQ(testing::RunCommand({kBinary, "recommendations", "export", "--format=json", "--storage.path=/nonexistent/x"}, &out), 1);
}

}  // namespace
}  // namespace sb::recommendations
