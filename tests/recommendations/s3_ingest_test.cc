// `scout-bridge recommendations ingest s3://...` end to end: s3rver on a free loopback port,
// filled by the AWS CLI with the 18 fixtures, read by the real binary (MakeSource ->
// S3Source -> Scanner), then a rescan that re-reads nothing (ETags), then a removed object.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "tests/testing/testing.h"

namespace sb::recommendations {
namespace {

namespace fs = std::filesystem;
namespace t = sb::testing;
using ::testing::HasSubstr;

const std::string kFixtures = std::string(SB_SOURCE_DIR) + "/tests/recommendations/fixtures";
const std::string kBinary = std::string(SB_BINARY_DIR) + "/scout-bridge";

std::string AwsCli() {
  std::string debian = t::FindExecutable("/usr/bin/aws");
  return debian.empty() ? t::FindExecutable("aws") : debian;
}

// Runs `argv` with S3rver's default credentials and no shared AWS files.
int RunWithS3Env(std::vector<std::string> argv, std::string* out) {
  std::vector<std::string> full = {"env", "AWS_ACCESS_KEY_ID=S3RVER", "AWS_SECRET_ACCESS_KEY=S3RVER",
                                   "AWS_EC2_METADATA_DISABLED=true", "AWS_DEFAULT_REGION=us-east-1",
                                   "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"};
  full.insert(full.end(), argv.begin(), argv.end());
  return t::RunCommand(full, out, std::chrono::seconds(40));
}

TEST(RecommendationsS3IngestTest, IngestFromS3rverThenRescanByEtag) {
  const std::string s3rver = std::string(SB_SOURCE_DIR) + "/tools/node/node_modules/s3rver/bin/s3rver.js";
  const std::string node = t::FindExecutable("node");
  ASSERT_FALSE(node.empty()) << "node not installed: run scripts/install-deps.sh";
  ASSERT_EQ(::access(s3rver.c_str(), R_OK), 0) << "s3rver not installed: run scripts/install-deps.sh";
  ASSERT_FALSE(AwsCli().empty()) << "aws CLI not installed: run scripts/install-deps.sh";
  t::TempDir dir;
  fs::create_directories(dir.File("s3data"));
  fs::create_directories(dir.File("upload"));
  for (const auto& e : fs::directory_iterator(kFixtures)) {
    if (e.path().extension() == ".txt") fs::copy_file(e.path(), dir.File("upload/" + e.path().filename().string()));
  }
  const int port = t::PickFreePort();
  const std::string endpoint = "http://127.0.0.1:" + std::to_string(port);
  t::Subprocess server({node, "--openssl-legacy-provider", s3rver, "--directory", dir.File("s3data"), "--port",
                        std::to_string(port), "--address", "127.0.0.1", "--silent", "--configure-bucket", "reports"},
                       dir.File("s3rver.log"));
  ASSERT_TRUE(t::WaitForPort(port, std::chrono::seconds(20))) << t::ReadFile(dir.File("s3rver.log"));
  std::string out;
  ASSERT_EQ(RunWithS3Env({AwsCli(), "--endpoint-url", endpoint, "s3", "sync", dir.File("upload"), "s3://reports/ci/",
                          "--only-show-errors"}, &out), 0) << out;

  const std::vector<std::string> ingest = {kBinary, "recommendations", "ingest", "s3://reports/ci/",
                                           "--storage.path=" + dir.File("data"), "--s3.endpoint=" + endpoint,
                                           "--s3.path-style"};
  ASSERT_EQ(RunWithS3Env(ingest, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("s3://reports/ci/: 18 files, 18 parsed, 0 unchanged, 0 not reports, 0 errors"));
  ASSERT_EQ(RunWithS3Env(ingest, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("s3://reports/ci/: 18 files, 0 parsed, 18 unchanged"));

  ASSERT_EQ(RunWithS3Env({AwsCli(), "--endpoint-url", endpoint, "s3", "rm",
                          "s3://reports/ci/01_cartography_fixture_node-25-alpine.txt", "--only-show-errors"}, &out), 0)
      << out;
  ASSERT_EQ(RunWithS3Env(ingest, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("17 files, 0 parsed, 17 unchanged, 0 not reports, 0 errors, 1 removed"));
  ASSERT_EQ(t::RunCommand({kBinary, "recommendations", "export", "--format=cypher", "--storage.path=" + dir.File("data")}, &out), 0);
  EXPECT_EQ(out.find("ecr000000000000"), std::string::npos);  // fixture 01's BUILT_ON is gone
  EXPECT_THAT(out, HasSubstr("{id: 'alpine:3'}"));

  // A wrong key id: a clear one-line error naming the bucket, no secret, exit 1.
  std::vector<std::string> bad = {"env", "AWS_ACCESS_KEY_ID=WRONGKEY", "AWS_SECRET_ACCESS_KEY=topsecret-value",
                                  "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"};
  bad.insert(bad.end(), ingest.begin(), ingest.end());
  EXPECT_EQ(t::RunCommand(bad, &out, std::chrono::seconds(40)), 1) << out;
  EXPECT_THAT(out, HasSubstr("s3://reports/ci/: FAILED: "));
  EXPECT_EQ(out.find("topsecret-value"), std::string::npos);
}

}  // namespace
}  // namespace sb::recommendations
