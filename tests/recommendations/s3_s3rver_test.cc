// S3Source against a real S3-compatible server: s3rver (npm, installed by
// scripts/install-deps.sh under tools/node) on a free loopback port, filled by the AWS CLI
// with the 18 report fixtures plus 1,000 filler objects under one prefix, so that the
// listing needs two ListObjectsV2 pages. s3rver runs under `node --openssl-legacy-provider`
// (see SetUpTestSuite).
//
// s3rver 3.7.1 checks the access key id of a V4 request but not its signature
// (lib/middleware/authentication.js: "Signature version 4 calculation is unimplemented"),
// and it ignores x-amz-security-token. So here a wrong key id gives the clear error, and a
// session token must merely be accepted; a wrong secret and the signed token header are
// covered by s3_source_test.cc, whose fake S3 recomputes every signature.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>

#include "recommendations/s3_source.h"
#include "recommendations/sigv4.h"
#include "tests/testing/testing.h"

namespace sb::recommendations {
namespace {

using ::testing::HasSubstr;
namespace t = sb::testing;

constexpr char kBucket[] = "scout-reports";
constexpr char kPrefix[] = "ci/reports/";
constexpr int kFillers = 1000;

std::string FixtureDir() { return std::string(SB_SOURCE_DIR) + "/tests/recommendations/fixtures"; }

std::string Md5Hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(md), len));
}

std::string AwsCli() {
  // Debian's awscli first: a pyenv shim earlier on PATH may belong to another Python.
  std::string debian = t::FindExecutable("/usr/bin/aws");
  return debian.empty() ? t::FindExecutable("aws") : debian;
}

class S3rverTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string s3rver = std::string(SB_SOURCE_DIR) + "/tools/node/node_modules/s3rver/bin/s3rver.js";
    const std::string node = t::FindExecutable("node");
    ASSERT_FALSE(node.empty()) << "node not installed: run scripts/install-deps.sh";
    ASSERT_EQ(::access(s3rver.c_str(), R_OK), 0) << "s3rver not installed: run scripts/install-deps.sh";
    ASSERT_FALSE(AwsCli().empty()) << "aws CLI not installed: run scripts/install-deps.sh";
    dir_ = new t::TempDir();
    ASSERT_EQ(::mkdir(dir_->File("data").c_str(), 0700), 0);
    ASSERT_EQ(::mkdir(dir_->File("upload").c_str(), 0700), 0);
    port_ = t::PickFreePort();
    // s3rver makes continuation tokens with DES, which Node >= 17 (OpenSSL 3) only offers
    // through the legacy provider; without it every truncated listing is a 500.
    server_ = new t::Subprocess({node, "--openssl-legacy-provider", s3rver, "--directory", dir_->File("data"), "--port",
                                 std::to_string(port_), "--address", "127.0.0.1", "--silent",
                                 "--configure-bucket", kBucket},
                                dir_->File("s3rver.log"));
    ASSERT_TRUE(t::WaitForPort(port_, std::chrono::seconds(20)))
        << "s3rver did not start: " << t::ReadFile(dir_->File("s3rver.log"));

    // The fixtures, kept byte for byte, plus fillers so that the prefix holds > 1,000 keys.
    fixtures_ = new std::map<std::string, std::string>();
    DIR* d = ::opendir(FixtureDir().c_str());
    ASSERT_NE(d, nullptr) << FixtureDir();
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name.size() > 4 && name.substr(name.size() - 4) == ".txt") {
        std::string content = t::ReadFile(FixtureDir() + "/" + name);
        (*fixtures_)[name] = content;
        t::WriteFile(dir_->File("upload/" + name), content);
      }
    }
    ::closedir(d);
    ASSERT_EQ(fixtures_->size(), 18u);
    t::WriteFile(dir_->File("outside.txt"), "outside the prefix\n");
    std::string out;
    ASSERT_EQ(Aws({"s3", "sync", dir_->File("upload"), std::string("s3://") + kBucket + "/" + kPrefix,
                   "--only-show-errors"}, &out), 0) << out;
    ASSERT_EQ(Aws({"s3", "cp", dir_->File("outside.txt"), std::string("s3://") + kBucket + "/other/outside.txt",
                   "--only-show-errors"}, &out), 0) << out;
  }

  // Adds kFillers small objects under the prefix (once per process: ctest runs each test
  // in a process of its own, and only the pagination test needs them).
  static void UploadFillers() {
    if (fillers_uploaded_) return;
    ASSERT_EQ(::mkdir(dir_->File("fillers").c_str(), 0700), 0);
    for (int i = 0; i < kFillers; ++i) {
      char name[32];
      std::snprintf(name, sizeof name, "filler-%04d.txt", i);
      t::WriteFile(dir_->File(std::string("fillers/") + name), "not a report " + std::to_string(i) + "\n");
    }
    std::string out;
    ASSERT_EQ(Aws({"s3", "sync", dir_->File("fillers"), std::string("s3://") + kBucket + "/" + kPrefix,
                   "--only-show-errors"}, &out), 0) << out;
    fillers_uploaded_ = true;
  }

  static void TearDownTestSuite() {
    delete server_;  // SIGTERM, then SIGKILL: the peer is always stopped
    server_ = nullptr;
    delete fixtures_;
    fixtures_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }

  static int Aws(std::vector<std::string> args, std::string* out) {
    std::vector<std::string> argv = {"env", "AWS_ACCESS_KEY_ID=S3RVER", "AWS_SECRET_ACCESS_KEY=S3RVER",
                                     "AWS_EC2_METADATA_DISABLED=true", "AWS_DEFAULT_REGION=us-east-1",
                                     "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
                                     AwsCli(), "--endpoint-url", Endpoint()};
    argv.insert(argv.end(), args.begin(), args.end());
    return t::RunCommand(argv, out, std::chrono::seconds(40));
  }

  static std::string Endpoint() { return "http://127.0.0.1:" + std::to_string(port_); }

  static S3SourceOptions Options() {
    auto o = ParseS3Url(std::string("s3://") + kBucket + "/" + kPrefix);
    EXPECT_TRUE(o.ok());
    o->endpoint = Endpoint();
    o->timeout = std::chrono::seconds(20);
    return *o;
  }

  static AwsCredentials Creds(const std::string& key_id = "S3RVER") {
    AwsCredentials c;
    c.access_key_id = key_id;
    c.secret_access_key = Secret("S3RVER");
    return c;
  }

  static std::unique_ptr<ReportSource> Source(AwsCredentials creds, S3SourceOptions o = Options()) {
    auto s = MakeS3Source(o, std::move(creds));
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(s).value();
  }

  static t::TempDir* dir_;
  static t::Subprocess* server_;
  static int port_;
  static std::map<std::string, std::string>* fixtures_;
  static bool fillers_uploaded_;
};

t::TempDir* S3rverTest::dir_ = nullptr;
t::Subprocess* S3rverTest::server_ = nullptr;
int S3rverTest::port_ = 0;
std::map<std::string, std::string>* S3rverTest::fixtures_ = nullptr;
bool S3rverTest::fillers_uploaded_ = false;

TEST_F(S3rverTest, ListsMoreThanAThousandObjectsAcrossPagesUnderThePrefixOnly) {
  ASSERT_NO_FATAL_FAILURE(UploadFillers());
  auto list = Source(Creds())->List();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 18u + kFillers);
  EXPECT_TRUE(std::is_sorted(list->begin(), list->end(),
                             [](const ReportObject& a, const ReportObject& b) { return a.name < b.name; }));
  size_t fixtures_seen = 0;
  for (const ReportObject& o : *list) {
    ASSERT_EQ(o.name.rfind(kPrefix, 0), 0u) << o.name;
    auto it = fixtures_->find(o.name.substr(sizeof(kPrefix) - 1));
    if (it == fixtures_->end()) continue;
    ++fixtures_seen;
    EXPECT_EQ(o.size, static_cast<int64_t>(it->second.size())) << o.name;
  }
  EXPECT_EQ(fixtures_seen, 18u);
  // The last filler sits past the first 1,000 keys: it came from the second page.
  EXPECT_EQ(list->back().name, std::string(kPrefix) + "filler-0999.txt");
}

TEST_F(S3rverTest, ReadsEveryFixtureBackByteExactWithItsEtagAsVersion) {
  auto src = Source(Creds());
  auto list = src->List();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  size_t read = 0;
  for (const ReportObject& o : *list) {
    auto it = fixtures_->find(o.name.substr(sizeof(kPrefix) - 1));
    if (it == fixtures_->end()) continue;
    auto body = src->Read(o);
    ASSERT_TRUE(body.ok()) << body.status().ToString();
    EXPECT_EQ(*body, it->second) << o.name;
    EXPECT_EQ(o.version, Md5Hex(it->second)) << o.name;  // single-part ETag = MD5, unquoted
    ++read;
  }
  EXPECT_EQ(read, 18u);
}

TEST_F(S3rverTest, UnknownAccessKeyIsAOneLineErrorNamingTheBucket) {
  auto list = Source(Creds("AKIAWRONGKEY"))->List();
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), Status::Code::kPermissionDenied);
  EXPECT_EQ(list.status().message(),
            "s3://scout-reports/ci/reports/: InvalidAccessKeyId: The AWS Access Key Id you "
            "provided does not exist in our records.");
  auto read = Source(Creds("AKIAWRONGKEY"))->Read({std::string(kPrefix) + "missing.txt", "", 0});
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(read.status().message(),
              HasSubstr("s3://scout-reports/ci/reports/missing.txt: InvalidAccessKeyId"));
}

TEST_F(S3rverTest, SessionTokenCredentialsAreAccepted) {
  AwsCredentials c = Creds();
  c.session_token = Secret("IQoJb3JpZ2luX2VjEXAMPLE");
  auto src = Source(c);
  auto list = src->List();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_GE(list->size(), 18u);
  auto body = src->Read(list->front());
  ASSERT_TRUE(body.ok()) << body.status().ToString();
}

TEST_F(S3rverTest, MissingBucketAndKeyAreNotFoundNamingThem) {
  S3SourceOptions o = Options();
  o.bucket = "no-such-bucket";
  auto list = Source(Creds(), o)->List();
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), Status::Code::kNotFound);
  EXPECT_THAT(list.status().message(), HasSubstr("s3://no-such-bucket/ci/reports/: NoSuchBucket"));
  auto read = Source(Creds())->Read({std::string(kPrefix) + "gone.txt", "", 0});
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), Status::Code::kNotFound);
  EXPECT_THAT(read.status().message(), HasSubstr("s3://scout-reports/ci/reports/gone.txt: NoSuchKey"));
}

TEST_F(S3rverTest, ProfileFromASharedCredentialsFileIsUsed) {
  t::WriteFile(dir_->File("credentials"),
               "[default]\naws_access_key_id = NOBODY\naws_secret_access_key = x\n"
               "[s3rver]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n");
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", dir_->File("credentials").c_str(), 1);
  S3SourceOptions o = Options();
  o.profile = "s3rver";
  auto src = MakeS3Source(o);
  ASSERT_TRUE(src.ok());
  auto list = (*src)->List();
  o.profile = "";  // the default profile's key is unknown to s3rver
  auto fallback = MakeS3Source(o);
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  ::unsetenv("AWS_PROFILE");
  auto denied = (*fallback)->List();
  ::unsetenv("AWS_SHARED_CREDENTIALS_FILE");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_GE(list->size(), 18u);
  ASSERT_FALSE(denied.ok());
  EXPECT_THAT(denied.status().message(), HasSubstr("InvalidAccessKeyId"));
}

}  // namespace
}  // namespace sb::recommendations
