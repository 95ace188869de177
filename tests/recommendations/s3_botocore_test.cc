// SigV4 cross-checked against an independent implementation: botocore's S3SigV4Auth, as
// shipped inside Debian's awscli (/usr/bin/python3, `import awscli` first so that its
// vendored botocore is importable). Python encodes the key path (urllib quote, safe "/~")
// and the query itself, so keys, prefixes and tokens with spaces, '+', '/', '=', '&' and
// UTF-8 are checked on both the encoding and the signing side. The AWS vectors in
// s3_sigv4_test.cc pin the algorithm; this pins our S3 request shapes.
#include <gtest/gtest.h>

#include <sstream>

#include "recommendations/sigv4.h"
#include "tests/testing/testing.h"

namespace sb::recommendations {
namespace {

namespace t = sb::testing;

constexpr char kScript[] = R"PY(
import sys, json
import awscli  # makes the vendored botocore importable
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from urllib.parse import quote
a = json.loads(sys.argv[1])
path = '/' + a['bucket'] + ('/' + quote(a['key'], safe='/~') if a['key'] else '')
req = AWSRequest(method='GET', url='http://' + a['host'] + path, params=dict(a['query']))
creds = Credentials(a['access_key'], a['secret'], a['token'] or None)
S3SigV4Auth(creds, 's3', a['region']).add_auth(req)
print(req.headers['X-Amz-Date'])
print(path)
print(req.headers['Authorization'])
)PY";

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);  // UTF-8 passes through
    }
  }
  return out + "\"";
}

struct Case {
  std::string key;
  std::vector<std::pair<std::string, std::string>> query;
  std::string token;
};

class BotocoreTest : public ::testing::TestWithParam<Case> {};

TEST_P(BotocoreTest, SignatureAndPathMatchBotocore) {
  const std::string python = t::FindExecutable("/usr/bin/python3");
  ASSERT_FALSE(python.empty()) << "python3 not installed: run scripts/install-deps.sh";
  const Case& c = GetParam();
  const std::string host = "127.0.0.1:4568";
  AwsCredentials creds;
  creds.access_key_id = "AKIAIOSFODNN7EXAMPLE";
  creds.secret_access_key = Secret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
  creds.session_token = Secret(c.token);

  std::string query_json = "[";
  for (size_t i = 0; i < c.query.size(); ++i) {
    query_json += (i ? "," : "") + std::string("[") + JsonString(c.query[i].first) + "," +
                  JsonString(c.query[i].second) + "]";
  }
  query_json += "]";
  std::string args = "{\"bucket\":\"scout-reports\",\"key\":" + JsonString(c.key) +
                     ",\"host\":\"" + host + "\",\"query\":" + query_json +
                     ",\"access_key\":\"AKIAIOSFODNN7EXAMPLE\",\"secret\":" +
                     JsonString(creds.secret_access_key.Reveal()) +
                     ",\"token\":" + JsonString(c.token) + ",\"region\":\"eu-west-1\"}";
  t::TempDir dir;
  t::WriteFile(dir.File("sign.py"), kScript);
  std::string out;
  ASSERT_EQ(t::RunCommand({python, dir.File("sign.py"), args}, &out, std::chrono::seconds(30)), 0) << out;
  std::istringstream lines(out);
  std::string amz_date, py_path, py_auth;
  std::getline(lines, amz_date);
  std::getline(lines, py_path);
  std::getline(lines, py_auth);
  ASSERT_EQ(amz_date.size(), 16u) << out;

  SigV4Request req;
  req.canonical_uri = "/scout-reports";
  if (!c.key.empty()) req.canonical_uri += "/" + AwsUriEncode(c.key, false);
  req.query = c.query;
  req.headers = {{"host", host}, {"x-amz-content-sha256", std::string(kEmptyPayloadSha256)}};
  std::string sig = SignRequest(creds, "eu-west-1", "s3", amz_date, &req);
  EXPECT_EQ(req.canonical_uri, py_path);
  const std::string ours = req.headers.back().second;
  EXPECT_EQ(ours, py_auth) << "canonical request:\n" << CanonicalRequest(req);
  EXPECT_NE(py_auth.find("Signature=" + sig), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    S3Requests, BotocoreTest,
    ::testing::Values(
        Case{"ci/reports/01_node-25-alpine.txt", {}, ""},
        Case{"ci/reports/node 25 (alpine)+\xC3\xBC&x=y;~*.txt", {}, ""},
        Case{"", {{"list-type", "2"}, {"prefix", "ci/reports/ a+b"}}, ""},
        Case{"",
             {{"list-type", "2"},
              {"prefix", "ci/"},
              {"continuation-token", "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="}},
             "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+/="},
        Case{"ci/a.txt", {}, "FwoGZXIvYXdzEXAMPLE+token/with=chars"}));

}  // namespace
}  // namespace sb::recommendations
