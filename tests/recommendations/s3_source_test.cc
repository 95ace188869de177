// S3Source against a fake S3 on loopback that checks every request's SigV4 signature the
// way S3 does (rebuilding the canonical request from the bytes on the wire), pages its
// listings two keys at a time, and answers errors with S3's XML. Plus the XML reader and
// the URL/option checks.
#include "recommendations/s3_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <mutex>

#include "bridge/http_server.h"
#include "config/config.h"
#include "recommendations/s3_xml.h"
#include "recommendations/sigv4.h"
#include "tests/testing/testing.h"

namespace sb::recommendations {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
namespace http = bridge::http;

constexpr char kBucket[] = "fake-bucket";
constexpr char kKeyId[] = "AKIAFAKE";
constexpr char kSecret[] = "fake/secret+KEY";

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string XmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '"') out += "&quot;";
    else out.push_back(c);
  }
  return out;
}

std::string ErrorXml(const std::string& code, const std::string& message) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code + "</Code><Message>" +
         XmlEscape(message) + "</Message><RequestId>1</RequestId></Error>";
}

// A path-style fake S3 holding one bucket. Thread-safe (the server has two I/O threads).
class FakeS3 {
 public:
  FakeS3() : server_({}, [this](const bridge::Request& req) { return Handle(req); }) {}
  Status Start() { return server_.Start(); }
  std::string Endpoint() const { return "http://127.0.0.1:" + std::to_string(server_.port()); }

  void Put(const std::string& key, const std::string& content) {
    std::lock_guard<std::mutex> l(mu_);
    objects_[key] = content;
  }
  void RequireToken(const std::string& token) { std::lock_guard<std::mutex> l(mu_); token_ = token; }
  void BreakPagination() { std::lock_guard<std::mutex> l(mu_); break_pagination_ = true; }
  void EmptyPagesForever() { std::lock_guard<std::mutex> l(mu_); empty_pages_ = true; }
  void FailWith(unsigned status) { std::lock_guard<std::mutex> l(mu_); fail_status_ = status; }
  int list_requests() const { std::lock_guard<std::mutex> l(mu_); return list_requests_; }
  std::string last_token_header() const { std::lock_guard<std::mutex> l(mu_); return last_token_; }
  std::string last_signed_headers() const { std::lock_guard<std::mutex> l(mu_); return last_signed_; }

 private:
  bridge::Response Xml(const bridge::Request& req, http::status status, std::string body) {
    return bridge::MakeResponse(req.version(), status, "application/xml",
                                std::make_shared<const std::string>(std::move(body)));
  }

  // Recomputes the signature from the request as received; "" if it matches, else an error.
  bridge::Response Handle(const bridge::Request& req) {
    std::lock_guard<std::mutex> l(mu_);
    if (fail_status_ != 0) {
      return bridge::MakeResponse(req.version(), static_cast<http::status>(fail_status_), "text/plain", nullptr);
    }
    std::string target(req.target());
    std::string path = target.substr(0, target.find('?'));
    std::string raw_query = target.find('?') == std::string::npos ? "" : target.substr(target.find('?') + 1);
    std::vector<std::pair<std::string, std::string>> query;
    std::map<std::string, std::string> q;
    for (size_t pos = 0; !raw_query.empty() && pos <= raw_query.size();) {
      size_t amp = raw_query.find('&', pos);
      if (amp == std::string::npos) amp = raw_query.size();
      std::string part = raw_query.substr(pos, amp - pos);
      size_t eq = part.find('=');
      std::string name = PercentDecode(part.substr(0, eq));
      std::string value = eq == std::string::npos ? "" : PercentDecode(part.substr(eq + 1));
      query.emplace_back(name, value);
      q[name] = value;
      pos = amp + 1;
    }

    // --- authentication, as S3 does it ---
    std::string auth(req[http::field::authorization]);
    const std::string prefix = "AWS4-HMAC-SHA256 Credential=";
    if (auth.rfind(prefix, 0) != 0) return Xml(req, http::status::forbidden, ErrorXml("AccessDenied", "Access Denied"));
    std::string rest = auth.substr(prefix.size());
    std::string credential = rest.substr(0, rest.find(','));
    std::string key_id = credential.substr(0, credential.find('/'));
    std::string scope = credential.substr(credential.find('/') + 1);
    size_t sh = rest.find("SignedHeaders=");
    size_t sg = rest.find("Signature=");
    if (sh == std::string::npos || sg == std::string::npos) {
      return Xml(req, http::status::bad_request, ErrorXml("AuthorizationHeaderMalformed", "malformed"));
    }
    std::string signed_headers = rest.substr(sh + 14, rest.find(',', sh) - sh - 14);
    std::string signature = rest.substr(sg + 10);
    last_signed_ = signed_headers;
    last_token_ = std::string(req["x-amz-security-token"]);
    if (key_id != kKeyId) {
      return Xml(req, http::status::forbidden,
                 ErrorXml("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."));
    }
    if (!token_.empty() && last_token_ != token_) {
      return Xml(req, http::status::forbidden, ErrorXml("InvalidToken", "The provided token is malformed or otherwise invalid."));
    }
    SigV4Request sreq;
    sreq.method = std::string(req.method_string());
    sreq.canonical_uri = path;
    sreq.query = query;
    for (size_t pos = 0; pos <= signed_headers.size();) {
      size_t semi = signed_headers.find(';', pos);
      if (semi == std::string::npos) semi = signed_headers.size();
      std::string name = signed_headers.substr(pos, semi - pos);
      sreq.headers.emplace_back(name, std::string(req[name]));
      pos = semi + 1;
    }
    sreq.payload_sha256 = std::string(req["x-amz-content-sha256"]);
    std::string amz_date(req["x-amz-date"]);
    std::string creq = CanonicalRequest(sreq);
    std::string expected = HexEncode(HmacSha256(
        SigningKey(Secret(kSecret), amz_date.substr(0, 8), "us-east-1", "s3"),
        StringToSign(amz_date, scope, creq)));
    if (scope != CredentialScope(amz_date, "us-east-1", "s3") || signature != expected ||
        signed_headers.find("host") == std::string::npos ||
        signed_headers.find("x-amz-content-sha256") == std::string::npos) {
      return Xml(req, http::status::forbidden,
                 ErrorXml("SignatureDoesNotMatch",
                          "The request signature we calculated does not match the signature you "
                          "provided. Check your key and signing method."));
    }

    // --- the bucket ---
    const std::string bucket_path = std::string("/") + kBucket;
    if (path != bucket_path && path.rfind(bucket_path + "/", 0) != 0) {
      return Xml(req, http::status::not_found, ErrorXml("NoSuchBucket", "The specified bucket does not exist"));
    }
    if (path == bucket_path) return List(req, q);
    std::string key = PercentDecode(path.substr(bucket_path.size() + 1));
    auto it = objects_.find(key);
    if (it == objects_.end()) {
      return Xml(req, http::status::not_found, ErrorXml("NoSuchKey", "The specified key does not exist."));
    }
    return bridge::MakeResponse(req.version(), http::status::ok, "application/octet-stream",
                                std::make_shared<const std::string>(it->second));
  }

  bridge::Response List(const bridge::Request& req, std::map<std::string, std::string>& q) {
    ++list_requests_;
    if (q["list-type"] != "2") return Xml(req, http::status::bad_request, ErrorXml("InvalidArgument", "list-type"));
    const std::string& prefix = q["prefix"];
    size_t start = 0;
    if (q.count("continuation-token")) {
      // Tokens hold characters that need encoding, to check the query round trip.
      const std::string& t = q["continuation-token"];
      if (t.rfind("next/+= ", 0) != 0) return Xml(req, http::status::bad_request, ErrorXml("InvalidArgument", "token"));
      start = std::stoul(t.substr(8));
    }
    std::vector<const std::pair<const std::string, std::string>*> matching;
    for (const auto& kv : objects_) {
      if (kv.first.rfind(prefix, 0) == 0) matching.push_back(&kv);
    }
    if (empty_pages_) {
      return Xml(req, http::status::ok,
                 "<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>" +
                     XmlEscape("next/+= " + std::to_string(start + 1)) +
                     "</NextContinuationToken></ListBucketResult>");
    }
    constexpr size_t kPage = 2;
    std::string body =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>fake-bucket</Name>";
    size_t end = std::min(matching.size(), start + kPage);
    for (size_t i = start; i < end; ++i) {
      body += "<Contents><Key>" + XmlEscape(matching[i]->first) + "</Key><LastModified>2026-11-22T00:00:00.000Z</LastModified>"
              "<ETag>&quot;" + Sha256Hex(matching[i]->second).substr(0, 32) + "&quot;</ETag><Size>" +
              std::to_string(matching[i]->second.size()) + "</Size><StorageClass>STANDARD</StorageClass></Contents>";
    }
    bool truncated = end < matching.size();
    body += std::string("<IsTruncated>") + (truncated ? "true" : "false") + "</IsTruncated>";
    if (truncated && !break_pagination_) {
      body += "<NextContinuationToken>" + XmlEscape("next/+= " + std::to_string(end)) + "</NextContinuationToken>";
    }
    body += "</ListBucketResult>";
    return Xml(req, http::status::ok, body);
  }

  mutable std::mutex mu_;
  std::map<std::string, std::string> objects_;
  std::string token_;
  bool break_pagination_ = false;
  bool empty_pages_ = false;  // every page empty and truncated, with a new token
  unsigned fail_status_ = 0;
  int list_requests_ = 0;
  std::string last_token_;
  std::string last_signed_;
  bridge::HttpServer server_;  // last: stopped (destroyed) before the state it uses
};

AwsCredentials GoodCreds() {
  AwsCredentials c;
  c.access_key_id = kKeyId;
  c.secret_access_key = Secret(kSecret);
  return c;
}

class S3SourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fake_.Start().ok());
    fake_.Put("reports/a.txt", "report a\n");
    fake_.Put("reports/b.txt", "report b, a bit longer\n");
    fake_.Put("reports/dir with space/\xC3\xA4+b&c.txt", std::string("bin\0ary\xff\r\n", 10));
    fake_.Put("reports/sub/", "");  // folder marker
    fake_.Put("reports/z.txt", "zzz");
    fake_.Put("other/x.txt", "not under the prefix");
  }
  S3SourceOptions Options() {
    S3SourceOptions o;
    o.bucket = kBucket;
    o.prefix = "reports/";
    o.endpoint = fake_.Endpoint();
    o.timeout = std::chrono::seconds(10);
    return o;
  }
  std::unique_ptr<ReportSource> Make(AwsCredentials creds, S3SourceOptions o) {
    auto s = MakeS3Source(o, std::move(creds));
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  FakeS3 fake_;
};

TEST_F(S3SourceTest, ListsEveryPageUnderThePrefixSortedWithEtagsAndSizes) {
  auto src = Make(GoodCreds(), Options());
  ASSERT_NE(src, nullptr);
  EXPECT_EQ(src->Describe(), "s3://fake-bucket/reports/");
  auto list = src->List();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 4u);  // the folder marker and other/ are not listed
  EXPECT_EQ((*list)[0].name, "reports/a.txt");
  EXPECT_EQ((*list)[1].name, "reports/b.txt");
  EXPECT_EQ((*list)[2].name, "reports/dir with space/\xC3\xA4+b&c.txt");
  EXPECT_EQ((*list)[3].name, "reports/z.txt");
  EXPECT_EQ((*list)[0].version, Sha256Hex("report a\n").substr(0, 32));  // quotes removed
  EXPECT_EQ((*list)[1].size, 23);
  EXPECT_EQ(fake_.list_requests(), 3);  // 5 keys under the prefix, 2 per page
}

TEST_F(S3SourceTest, ReadsObjectsByteExactEvenWithKeysThatNeedEncoding) {
  auto src = Make(GoodCreds(), Options());
  auto list = src->List();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  for (const ReportObject& o : *list) {
    auto body = src->Read(o);
    ASSERT_TRUE(body.ok()) << body.status().ToString();
    EXPECT_EQ(static_cast<int64_t>(body->size()), o.size) << o.name;
  }
  auto odd = src->Read((*list)[2]);
  ASSERT_TRUE(odd.ok());
  EXPECT_EQ(*odd, std::string("bin\0ary\xff\r\n", 10));
}

TEST_F(S3SourceTest, WrongSecretIsSignatureDoesNotMatchNamingTheBucketAndNeverTheSecret) {
  AwsCredentials bad = GoodCreds();
  bad.secret_access_key = Secret("WRONG-secret-value");
  auto src = Make(bad, Options());
  auto list = src->List();
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), Status::Code::kPermissionDenied);
  EXPECT_EQ(list.status().message(),
            "s3://fake-bucket/reports/: SignatureDoesNotMatch: The request signature we "
            "calculated does not match the signature you provided. Check your key and signing "
            "method.");
  EXPECT_THAT(list.status().ToString(), Not(HasSubstr("WRONG-secret-value")));
  auto read = src->Read({"reports/a.txt", "", 0});
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(read.status().message(), HasSubstr("s3://fake-bucket/reports/a.txt: SignatureDoesNotMatch"));
}

TEST_F(S3SourceTest, UnknownAccessKeyIsInvalidAccessKeyId) {
  AwsCredentials bad = GoodCreds();
  bad.access_key_id = "AKIANOBODY";
  auto list = Make(bad, Options())->List();
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().message(),
            "s3://fake-bucket/reports/: InvalidAccessKeyId: The AWS Access Key Id you provided "
            "does not exist in our records.");
}

TEST_F(S3SourceTest, SessionTokenIsSentAsSignedHeader) {
  fake_.RequireToken("session-token-123");
  auto without = Make(GoodCreds(), Options())->List();
  ASSERT_FALSE(without.ok());
  EXPECT_THAT(without.status().message(), HasSubstr(": InvalidToken: "));

  AwsCredentials creds = GoodCreds();
  creds.session_token = Secret("session-token-123");
  auto list = Make(creds, Options())->List();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(fake_.last_token_header(), "session-token-123");
  EXPECT_EQ(fake_.last_signed_headers(), "host;x-amz-content-sha256;x-amz-date;x-amz-security-token");
}

TEST_F(S3SourceTest, MissingKeyAndMissingBucketAreNotFound) {
  auto src = Make(GoodCreds(), Options());
  auto read = src->Read({"reports/gone.txt", "", 0});
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), Status::Code::kNotFound);
  EXPECT_EQ(read.status().message(), "s3://fake-bucket/reports/gone.txt: NoSuchKey: The specified key does not exist.");

  S3SourceOptions o = Options();
  o.bucket = "no-such-bucket";
  auto list = Make(GoodCreds(), o)->List();
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().message(), "s3://no-such-bucket/reports/: NoSuchBucket: The specified bucket does not exist");
}

TEST_F(S3SourceTest, ErrorWithoutXmlBodyGivesTheHttpStatus) {
  fake_.FailWith(503);
  auto list = Make(GoodCreds(), Options())->List();
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), Status::Code::kUnavailable);
  EXPECT_EQ(list.status().message(), "s3://fake-bucket/reports/: HTTP 503");
}

TEST_F(S3SourceTest, TruncatedListingWithoutTokenStopsWithAnError) {
  fake_.BreakPagination();
  auto list = Make(GoodCreds(), Options())->List();
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), Status::Code::kCorruption);
  EXPECT_THAT(list.status().message(), HasSubstr("truncated listing without a new continuation token"));
  EXPECT_EQ(fake_.list_requests(), 1);
}

TEST_F(S3SourceTest, ListingBeyondMaxObjectsIsResourceExhausted) {
  S3SourceOptions o = Options();
  o.max_objects = 3;
  auto list = Make(GoodCreds(), o)->List();
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), Status::Code::kResourceExhausted);
  EXPECT_EQ(list.status().message(), "s3://fake-bucket/reports/: more than 3 objects");
}

TEST_F(S3SourceTest, ObjectLargerThanTheLimitIsResourceExhaustedNamingTheKey) {
  fake_.Put("reports/huge.txt", std::string(5000, 'x'));
  S3SourceOptions o = Options();
  o.max_object_bytes = 1000;
  auto read = Make(GoodCreds(), o)->Read({"reports/huge.txt", "", 5000});
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), Status::Code::kResourceExhausted);
  EXPECT_EQ(read.status().message(), "s3://fake-bucket/reports/huge.txt: larger than 1000 bytes");
}

TEST_F(S3SourceTest, UnreachableEndpointIsUnavailableNamingTheBucketAndNoSecret) {
  S3SourceOptions o = Options();
  o.endpoint = "http://127.0.0.1:" + std::to_string(sb::testing::PickFreePort());
  o.timeout = std::chrono::seconds(5);
  AwsCredentials creds = GoodCreds();
  creds.session_token = Secret("session-token-SHOULD-NOT-LEAK");
  auto src = Make(creds, o);
  auto list = src->List();
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), Status::Code::kUnavailable);
  EXPECT_THAT(list.status().message(), HasSubstr("s3://fake-bucket/reports/: connect to 127.0.0.1:"));
  auto read = src->Read({"reports/a.txt", "", 0});
  ASSERT_FALSE(read.ok());
  for (const Status& s : {list.status(), read.status()}) {
    EXPECT_THAT(s.ToString(), Not(HasSubstr("SHOULD-NOT-LEAK")));
    EXPECT_THAT(s.ToString(), Not(HasSubstr(kSecret)));
  }
}

TEST_F(S3SourceTest, EndlessListingOfEmptyPagesStopsAtThePageBound) {
  fake_.EmptyPagesForever();
  S3SourceOptions o = Options();
  o.max_objects = 1000;  // 1000 / 100 + 10 = 20 pages allowed
  auto list = Make(GoodCreds(), o)->List();
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), Status::Code::kResourceExhausted);
  EXPECT_EQ(list.status().message(), "s3://fake-bucket/reports/: listing did not end after 20 pages");
  EXPECT_EQ(fake_.list_requests(), 20);
}

TEST_F(S3SourceTest, CredentialsComeFromTheEnvironmentWhenNotGiven) {
  ::setenv("AWS_ACCESS_KEY_ID", kKeyId, 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", kSecret, 1);
  ::unsetenv("AWS_SESSION_TOKEN");
  auto src = MakeS3Source(Options());
  ASSERT_TRUE(src.ok());
  auto list = (*src)->List();
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(list->size(), 4u);
}

TEST_F(S3SourceTest, MissingCredentialsAreAnErrorNamingTheBucket) {
  sb::testing::TempDir home;
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", home.File("none").c_str(), 1);
  auto src = MakeS3Source(Options());
  ASSERT_TRUE(src.ok());
  auto list = (*src)->List();
  ::unsetenv("AWS_SHARED_CREDENTIALS_FILE");
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), Status::Code::kNotFound);
  EXPECT_THAT(list.status().message(), HasSubstr("s3://fake-bucket/reports/: no AWS credentials"));
}

TEST(S3UrlTest, ParsesBucketAndPrefix) {
  auto o = ParseS3Url("s3://my-reports/ci/images/");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->bucket, "my-reports");
  EXPECT_EQ(o->prefix, "ci/images/");
  EXPECT_EQ(o->region, "us-east-1");
  auto bare = ParseS3Url("s3://my-reports");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->prefix, "");
}

TEST(S3UrlTest, ConfigBlockSuppliesEndpointRegionProfileAndPathStyle) {
  config::RecommendationsS3Config s3;
  s3.endpoint = "http://127.0.0.1:4568";
  s3.region = "eu-west-1";
  s3.profile = "ci";
  s3.path_style = true;
  auto o = S3OptionsFromConfig("s3://reports/ci/", s3);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->bucket, "reports");
  EXPECT_EQ(o->prefix, "ci/");
  EXPECT_EQ(o->endpoint, "http://127.0.0.1:4568");
  EXPECT_EQ(o->region, "eu-west-1");
  EXPECT_EQ(o->profile, "ci");
  EXPECT_TRUE(o->path_style);
  EXPECT_FALSE(S3OptionsFromConfig("/srv/reports", s3).ok());
}

TEST(S3UrlTest, EnvironmentSuppliesEndpointAndRegionAsTheAwsCliReadsThem) {
  std::map<std::string, std::string> vars = {{"AWS_ENDPOINT_URL", "http://127.0.0.1:1"},
                                             {"AWS_ENDPOINT_URL_S3", "http://127.0.0.1:2"},
                                             {"AWS_DEFAULT_REGION", "eu-north-1"}};
  EnvLookup env = [&](const std::string& n) -> std::optional<std::string> {
    auto it = vars.find(n);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  auto o = S3OptionsFromEnvironment("s3://reports", env);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->endpoint, "http://127.0.0.1:2");  // the S3-specific variable wins
  EXPECT_EQ(o->region, "eu-north-1");
  vars.erase("AWS_ENDPOINT_URL_S3");
  vars["AWS_REGION"] = "ap-south-1";
  o = S3OptionsFromEnvironment("s3://reports", env);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->endpoint, "http://127.0.0.1:1");
  EXPECT_EQ(o->region, "ap-south-1");
  vars.clear();
  o = S3OptionsFromEnvironment("s3://reports", env);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->endpoint, "");
  EXPECT_EQ(o->region, "us-east-1");
}

TEST(S3UrlTest, AddressingFollowsTheDocumentedTable) {
  auto url = [](std::string bucket, std::string endpoint, bool path_style, std::string key) {
    S3SourceOptions o;
    o.bucket = std::move(bucket);
    o.endpoint = std::move(endpoint);
    o.region = "eu-west-1";
    o.path_style = path_style;
    auto u = S3ObjectUrl(o, key);
    return u.ok() ? *u : u.status().ToString();
  };
  EXPECT_EQ(url("acme", "", false, "ci/a b.txt"), "https://acme.s3.eu-west-1.amazonaws.com/ci/a%20b.txt");
  EXPECT_EQ(url("acme", "", false, ""), "https://acme.s3.eu-west-1.amazonaws.com/");
  EXPECT_EQ(url("acme", "", true, "k"), "https://s3.eu-west-1.amazonaws.com/acme/k");
  EXPECT_EQ(url("acme.reports", "", false, "k"), "https://s3.eu-west-1.amazonaws.com/acme.reports/k");
  EXPECT_EQ(url("acme", "http://127.0.0.1:9000", false, "k"), "http://127.0.0.1:9000/acme/k");
  EXPECT_EQ(url("acme", "http://[::1]:9000", false, "k"), "http://[::1]:9000/acme/k");
  EXPECT_EQ(url("acme", "http://localhost:4568/", false, ""), "http://localhost:4568/acme");
  EXPECT_EQ(url("acme", "https://minio.example.com", true, "k"), "https://minio.example.com/acme/k");
  EXPECT_EQ(url("acme", "https://minio.example.com", false, "k"), "https://acme.minio.example.com/k");
  EXPECT_EQ(url("acme", "https://minio.example.com:8443", false, "k"), "https://acme.minio.example.com:8443/k");
}

TEST(S3UrlTest, RejectsOtherSchemesAndBadBuckets) {
  EXPECT_EQ(ParseS3Url("https://b/x").status().message(), "s3 url \"https://b/x\": must start with s3://");
  EXPECT_EQ(ParseS3Url("s3:///x").status().message(), "s3 url \"s3:///x\": no bucket name");
  EXPECT_EQ(ParseS3Url("s3://a!b/x").status().message(), "s3 url \"s3://a!b/x\": bad bucket name \"a!b\"");
  EXPECT_FALSE(ParseS3Url("s3://ab").ok());  // too short
  EXPECT_FALSE(ParseS3Url("").ok());
}

TEST(S3UrlTest, MakeS3SourceChecksEndpointAndRegion) {
  S3SourceOptions o;
  o.bucket = "bucket";
  o.endpoint = "ftp://127.0.0.1";
  EXPECT_THAT(MakeS3Source(o).status().message(), HasSubstr("scheme must be http or https"));
  o.endpoint = "http://127.0.0.1:9000/some/path";
  EXPECT_THAT(MakeS3Source(o).status().message(), HasSubstr("must not have a path"));
  o.endpoint = "http://user:pw@127.0.0.1:9000";
  auto s = MakeS3Source(o);
  EXPECT_THAT(s.status().message(), HasSubstr("must not contain user info"));
  EXPECT_THAT(s.status().message(), Not(HasSubstr("pw")));  // userinfo is never echoed
  o.endpoint = "";
  o.region = "us east";
  EXPECT_THAT(MakeS3Source(o).status().message(), HasSubstr("bad region"));
  o.region = "eu-west-1";
  auto ok = MakeS3Source(o);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)->Describe(), "s3://bucket");
}

TEST(S3XmlTest, ListPageWithNamespaceAndQuotedEtags) {
  auto page = ParseListObjectsV2(
      "<?xml version=\"1.0\"?><ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<IsTruncated>true</IsTruncated><NextContinuationToken>abc==</NextContinuationToken>"
      "<Contents><Key>a&amp;b.txt</Key><ETag>\"e1\"</ETag><Size>12</Size></Contents>"
      "<Contents><Key>c.txt</Key><ETag>&quot;e2-3&quot;</ETag><Size>0</Size></Contents>"
      "</ListBucketResult>");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_TRUE(page->is_truncated);
  EXPECT_EQ(page->next_continuation_token, "abc==");
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].name, "a&b.txt");
  EXPECT_EQ(page->objects[0].version, "e1");
  EXPECT_EQ(page->objects[0].size, 12);
  EXPECT_EQ(page->objects[1].version, "e2-3");
}

TEST(S3XmlTest, BadDocumentsGiveErrorsWithPositions) {
  EXPECT_THAT(ParseListObjectsV2("<ListBucketResult><Contents>").status().message(), HasSubstr("1:"));
  EXPECT_THAT(ParseListObjectsV2("<Other/>").status().message(), HasSubstr("expected <ListBucketResult>"));
  EXPECT_THAT(ParseListObjectsV2("<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>")
                  .status().message(), HasSubstr("<Contents> without <Key>"));
  EXPECT_THAT(ParseListObjectsV2("<ListBucketResult><Contents><Key>k</Key><Size>-1</Size></Contents></ListBucketResult>")
                  .status().message(), HasSubstr("bad <Size>"));
  EXPECT_THAT(ParseListObjectsV2("<!DOCTYPE x [<!ENTITY a \"aaaa\">]><ListBucketResult/>").status().message(),
              HasSubstr("DOCTYPE is not allowed"));
  EXPECT_FALSE(ParseListObjectsV2("").ok());
  EXPECT_FALSE(ParseListObjectsV2(std::string("\0\xff\xfe", 3)).ok());
}

TEST(S3XmlTest, ErrorDocumentGivesCodeMessageAndRegion) {
  auto e = ParseS3Error("<Error><Code>PermanentRedirect</Code><Message>Use the endpoint.</Message>"
                        "<Region>eu-west-1</Region></Error>");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->code, "PermanentRedirect");
  EXPECT_EQ(e->message, "Use the endpoint.");
  EXPECT_EQ(e->region, "eu-west-1");
  EXPECT_FALSE(ParseS3Error("<Error><Message>m</Message></Error>").ok());
}

}  // namespace
}  // namespace sb::recommendations
