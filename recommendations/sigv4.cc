#include "recommendations/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <ctime>
#include <map>

#include "common/strings.h"

namespace sb::recommendations {
namespace {

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '.' || c == '_' || c == '~';
}

// Trim, and collapse inner runs of spaces to one (SigV4 canonical header values).
std::string CanonicalHeaderValue(std::string_view v) {
  v = TrimOws(v);
  std::string out;
  out.reserve(v.size());
  bool in_space = false;
  for (char c : v) {
    bool space = (c == ' ' || c == '\t');
    if (space) {
      if (!in_space) out.push_back(' ');
      in_space = true;
    } else {
      out.push_back(c);
      in_space = false;
    }
  }
  return out;
}

bool HasHeader(const SigV4Request& req, std::string_view lower_name) {
  for (const auto& [name, value] : req.headers) {
    if (AsciiLower(name) == lower_name) return true;
  }
  return false;
}

}  // namespace

std::string HexEncode(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(md), len));
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
  return std::string(reinterpret_cast<const char*>(md), len);
}

std::string AwsUriEncode(std::string_view s, bool encode_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (IsUnreserved(c) || (c == '/' && !encode_slash)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

std::string FormatAmzDate(int64_t unix_ms) {
  std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string CanonicalQueryString(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(AwsUriEncode(name, true), AwsUriEncode(value, true));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out.push_back('&');
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

std::string CanonicalRequest(const SigV4Request& req, std::string* signed_headers) {
  // Sorted by lower-cased name; repeated names keep their order, joined with ','.
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : req.headers) {
    std::string lower = AsciiLower(name);
    std::string v = CanonicalHeaderValue(value);
    auto [it, inserted] = headers.emplace(lower, v);
    if (!inserted) it->second += "," + v;
  }
  std::string canonical_headers;
  std::string names;
  for (const auto& [name, value] : headers) {
    canonical_headers += name + ":" + value + "\n";
    if (!names.empty()) names.push_back(';');
    names += name;
  }
  if (signed_headers != nullptr) *signed_headers = names;
  std::string out;
  out.reserve(256 + canonical_headers.size());
  out += req.method;
  out += '\n';
  out += req.canonical_uri.empty() ? "/" : req.canonical_uri;
  out += '\n';
  out += CanonicalQueryString(req.query);
  out += '\n';
  out += canonical_headers;
  out += '\n';
  out += names;
  out += '\n';
  out += req.payload_sha256;
  return out;
}

std::string CredentialScope(std::string_view amz_date, std::string_view region,
                            std::string_view service) {
  std::string out(amz_date.substr(0, 8));
  out += '/';
  out += region;
  out += '/';
  out += service;
  out += "/aws4_request";
  return out;
}

std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request) {
  std::string out = "AWS4-HMAC-SHA256\n";
  out += amz_date;
  out += '\n';
  out += scope;
  out += '\n';
  out += Sha256Hex(canonical_request);
  return out;
}

std::string SigningKey(const Secret& secret_access_key, std::string_view date,
                       std::string_view region, std::string_view service) {
  std::string k = HmacSha256("AWS4" + secret_access_key.Reveal(), date);
  k = HmacSha256(k, region);
  k = HmacSha256(k, service);
  return HmacSha256(k, "aws4_request");
}

std::string SignRequest(const AwsCredentials& credentials, std::string_view region,
                        std::string_view service, std::string_view amz_date, SigV4Request* req) {
  if (!HasHeader(*req, "x-amz-date")) req->headers.emplace_back("x-amz-date", amz_date);
  if (!credentials.session_token.empty() && !HasHeader(*req, "x-amz-security-token")) {
    req->headers.emplace_back("x-amz-security-token", credentials.session_token.Reveal());
  }
  std::string signed_headers;
  std::string canonical = CanonicalRequest(*req, &signed_headers);
  std::string scope = CredentialScope(amz_date, region, service);
  std::string to_sign = StringToSign(amz_date, scope, canonical);
  std::string key = SigningKey(credentials.secret_access_key, amz_date.substr(0, 8), region,
                               service);
  std::string signature = HexEncode(HmacSha256(key, to_sign));
  req->headers.emplace_back("Authorization", "AWS4-HMAC-SHA256 Credential=" +
                                                 credentials.access_key_id + "/" + scope +
                                                 ", SignedHeaders=" + signed_headers +
                                                 ", Signature=" + signature);
  return signature;
}

}  // namespace sb::recommendations
