// SigV4 against the vectors AWS publishes: the Signature Version 4 test suite
// (get-vanilla, get-vanilla-query-order-key-case; AKIDEXAMPLE, 20150830T123600Z, region
// us-east-1, service "service"), the signing-key derivation example (20120215, iam), and
// the S3 developer guide's header-signing examples (examplebucket, 20130524T000000Z).
#include "recommendations/sigv4.h"

#include <gtest/gtest.h>

#include <sstream>

namespace sb::recommendations {
namespace {

constexpr char kSuiteSecret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr char kS3DocSecret[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

AwsCredentials Creds(const char* key_id, const char* secret) {
  AwsCredentials c;
  c.access_key_id = key_id;
  c.secret_access_key = Secret(secret);
  return c;
}

std::string HeaderValue(const SigV4Request& req, const std::string& name) {
  for (const auto& [n, v] : req.headers) {
    if (n == name) return v;
  }
  return "<absent>";
}

TEST(SigV4Test, Sha256OfEmptyStringIsTheKnownConstant) {
  EXPECT_EQ(Sha256Hex(""), kEmptyPayloadSha256);
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(SigV4Test, SigningKeyMatchesTheAwsDerivationExample) {
  EXPECT_EQ(HexEncode(SigningKey(Secret(kSuiteSecret), "20120215", "us-east-1", "iam")),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

TEST(SigV4Test, GetVanillaCanonicalRequestStringToSignAndSignatureMatchTheSuite) {
  SigV4Request req;
  req.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
  std::string signed_headers;
  std::string creq = CanonicalRequest(req, &signed_headers);
  EXPECT_EQ(creq,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "host;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(signed_headers, "host;x-amz-date");
  std::string scope = CredentialScope("20150830T123600Z", "us-east-1", "service");
  EXPECT_EQ(scope, "20150830/us-east-1/service/aws4_request");
  EXPECT_EQ(StringToSign("20150830T123600Z", scope, creq),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");

  SigV4Request signed_req;
  signed_req.headers = {{"Host", "example.amazonaws.com"}};
  std::string sig = SignRequest(Creds("AKIDEXAMPLE", kSuiteSecret), "us-east-1", "service",
                                "20150830T123600Z", &signed_req);
  EXPECT_EQ(sig, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  EXPECT_EQ(HeaderValue(signed_req, "x-amz-date"), "20150830T123600Z");
  EXPECT_EQ(HeaderValue(signed_req, "Authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4Test, QueryParametersAreSortedByNameAsInTheSuite) {
  SigV4Request req;
  req.headers = {{"Host", "example.amazonaws.com"}};
  req.query = {{"Param2", "value2"}, {"Param1", "value1"}};
  EXPECT_EQ(SignRequest(Creds("AKIDEXAMPLE", kSuiteSecret), "us-east-1", "service",
                        "20150830T123600Z", &req),
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST(SigV4Test, S3GetObjectExampleWithRangeHeaderMatchesTheDeveloperGuide) {
  SigV4Request req;
  req.canonical_uri = "/test.txt";
  req.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                 {"Range", "bytes=0-9"},
                 {"x-amz-content-sha256", std::string(kEmptyPayloadSha256)},
                 {"x-amz-date", "20130524T000000Z"}};
  EXPECT_EQ(SignRequest(Creds("AKIAIOSFODNN7EXAMPLE", kS3DocSecret), "us-east-1", "s3",
                        "20130524T000000Z", &req),
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_NE(HeaderValue(req, "Authorization")
                .find("SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"),
            std::string::npos);
}

TEST(SigV4Test, S3ListObjectsExampleMatchesTheDeveloperGuide) {
  SigV4Request req;
  req.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                 {"x-amz-content-sha256", std::string(kEmptyPayloadSha256)},
                 {"x-amz-date", "20130524T000000Z"}};
  req.query = {{"prefix", "J"}, {"max-keys", "2"}};
  EXPECT_EQ(Sha256Hex(CanonicalRequest(req)),
            "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7");
  EXPECT_EQ(SignRequest(Creds("AKIAIOSFODNN7EXAMPLE", kS3DocSecret), "us-east-1", "s3",
                        "20130524T000000Z", &req),
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4Test, S3SubresourceWithoutValueKeepsItsEqualsSign) {
  SigV4Request req;
  req.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                 {"x-amz-content-sha256", std::string(kEmptyPayloadSha256)},
                 {"x-amz-date", "20130524T000000Z"}};
  req.query = {{"lifecycle", ""}};
  EXPECT_EQ(CanonicalQueryString(req.query), "lifecycle=");
  EXPECT_EQ(SignRequest(Creds("AKIAIOSFODNN7EXAMPLE", kS3DocSecret), "us-east-1", "s3",
                        "20130524T000000Z", &req),
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4Test, SessionTokenIsSentAndSigned) {
  AwsCredentials c = Creds("AKIDEXAMPLE", kSuiteSecret);
  c.session_token = Secret("FQoGZXIvYXdzEXAMPLETOKEN");
  SigV4Request req;
  req.headers = {{"host", "example.amazonaws.com"}};
  std::string with_token = SignRequest(c, "us-east-1", "service", "20150830T123600Z", &req);
  EXPECT_EQ(HeaderValue(req, "x-amz-security-token"), "FQoGZXIvYXdzEXAMPLETOKEN");
  EXPECT_NE(HeaderValue(req, "Authorization")
                .find("SignedHeaders=host;x-amz-date;x-amz-security-token,"),
            std::string::npos);
  // The token is part of the signature: without it the get-vanilla signature comes back.
  EXPECT_NE(with_token, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4Test, CanonicalHeadersTrimCollapseSpacesAndJoinRepeatedNames) {
  SigV4Request req;
  req.headers = {{"Host", "h"}, {"My-Header1", "  a   b   c  "}, {"my-header1", "d"}};
  EXPECT_EQ(CanonicalRequest(req),
            "GET\n/\n\nhost:h\nmy-header1:a b c,d\n\nhost;my-header1\n" +
                std::string(kEmptyPayloadSha256));
}

TEST(SigV4Test, UriEncodeKeepsUnreservedAndSlashOnlyWhenAsked) {
  EXPECT_EQ(AwsUriEncode("AZaz09-._~", true), "AZaz09-._~");
  EXPECT_EQ(AwsUriEncode("a b/c+d=e*", true), "a%20b%2Fc%2Bd%3De%2A");
  EXPECT_EQ(AwsUriEncode("dir/sub dir/ü.txt", false), "dir/sub%20dir/%C3%BC.txt");
}

TEST(SigV4Test, AmzDateIsUtcBasicFormat) {
  EXPECT_EQ(FormatAmzDate(1440938160000), "20150830T123600Z");
  EXPECT_EQ(FormatAmzDate(0), "19700101T000000Z");
}

TEST(SigV4Test, PrintingCredentialsNeverShowsTheSecret) {
  AwsCredentials c = Creds("AKIDEXAMPLE", kSuiteSecret);
  c.session_token = Secret("TOKEN-VALUE");
  std::ostringstream os;
  os << c.secret_access_key << " " << c.session_token;
  EXPECT_EQ(os.str(), "<secret> <secret>");
}

}  // namespace
}  // namespace sb::recommendations
