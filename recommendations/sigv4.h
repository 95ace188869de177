// AWS Signature Version 4 (header-based, "AWS4-HMAC-SHA256"), as S3 wants it.
//
// The four steps, each a function here so that tests can pin every one of them to the
// vectors AWS publishes (the SigV4 test suite's get-vanilla and S3's GET Object / List
// Objects examples):
//
//   1. CanonicalRequest: METHOD \n canonical-uri \n canonical-query \n canonical-headers \n
//      signed-headers \n hex(sha256(payload)).
//      - canonical-uri is the path as sent, already URI-encoded once (S3 does not normalize
//        it and does not encode it twice: build it with AwsUriEncode(key, false)).
//      - canonical-query: each name and value AwsUriEncode'd (with '/' encoded), sorted by
//        name then value, joined "name=value" with '&' (an empty value keeps its '=').
//      - canonical-headers: names lower-cased, values trimmed with inner runs of spaces
//        collapsed to one, repeated names joined with ',', sorted by name, each "name:value\n".
//      - signed-headers: the sorted names joined with ';'.
//   2. StringToSign: "AWS4-HMAC-SHA256\n<amz-date>\n<date>/<region>/<service>/aws4_request\n"
//      + hex(sha256(canonical request)).
//   3. SigningKey: HMAC chain "AWS4"+secret -> date -> region -> service -> "aws4_request".
//   4. Signature: hex(HMAC(signing key, string to sign)), sent as
//      "Authorization: AWS4-HMAC-SHA256 Credential=<key id>/<scope>, SignedHeaders=..., Signature=...".
//
// Every header passed in SigV4Request::headers is signed; the caller sends exactly those
// (plus the Authorization header SignRequest adds, and nothing that alters them).
// Hashes and HMACs are OpenSSL's (EVP_Digest / HMAC with SHA-256).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/secret.h"
#include "recommendations/aws_credentials.h"

namespace sb::recommendations {

// hex(sha256("")), the payload hash of every GET.
inline constexpr std::string_view kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// Lower-case hex of `bytes`.
std::string HexEncode(std::string_view bytes);
// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);
// The raw 32-byte HMAC-SHA256 of `data` under `key`.
std::string HmacSha256(std::string_view key, std::string_view data);

// AWS's UriEncode: A-Z a-z 0-9 - . _ ~ stay; every other byte becomes %XX (upper-case hex);
// '/' stays only when !encode_slash (object key paths keep their slashes).
std::string AwsUriEncode(std::string_view s, bool encode_slash);

// "YYYYMMDDTHHMMSSZ" for a time in milliseconds since the epoch (UTC).
std::string FormatAmzDate(int64_t unix_ms);

struct SigV4Request {
  std::string method = "GET";
  std::string canonical_uri = "/";  // URI-encoded path as sent, e.g. "/bucket/a%20b.txt"
  // Query parameters, NOT encoded (the signer encodes them); any order.
  std::vector<std::pair<std::string, std::string>> query;
  // Headers to sign and send; any case and order. Must include "host".
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload_sha256 = std::string(kEmptyPayloadSha256);
};

// Step 1. `signed_headers` (optional) receives the signed-headers line.
std::string CanonicalQueryString(const std::vector<std::pair<std::string, std::string>>& query);
std::string CanonicalRequest(const SigV4Request& req, std::string* signed_headers = nullptr);
// "<yyyymmdd>/<region>/<service>/aws4_request". REQUIRES: amz_date is FormatAmzDate-shaped.
std::string CredentialScope(std::string_view amz_date, std::string_view region,
                            std::string_view service);
// Step 2.
std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request);
// Step 3: the raw 32-byte key. `date` is "yyyymmdd".
std::string SigningKey(const Secret& secret_access_key, std::string_view date,
                       std::string_view region, std::string_view service);

// Steps 1 to 4 for `req` at `amz_date`: first adds "x-amz-date" (unless present) and, when
// credentials carry a session token, "x-amz-security-token" to req->headers (so both are
// signed), then appends the "Authorization" header. Returns the signature (hex).
// S3 additionally requires "x-amz-content-sha256": the caller adds it before signing.
std::string SignRequest(const AwsCredentials& credentials, std::string_view region,
                        std::string_view service, std::string_view amz_date, SigV4Request* req);

}  // namespace sb::recommendations
