#include "recommendations/s3_source.h"

#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <chrono>
#include <optional>
#include <utility>
#include <vector>

#include "bridge/http_client.h"
#include "config/config.h"
#include "common/strings.h"
#include "recommendations/s3_xml.h"
#include "recommendations/sigv4.h"

namespace sb::recommendations {
namespace {

// Bucket names as S3 accepts them today (3..63, lower-case letters, digits, '.', '-'),
// plus '_' and upper case, which old us-east-1 buckets and some S3-compatible stores allow.
bool ValidBucket(std::string_view b) {
  if (b.size() < 3 || b.size() > 63) return false;
  for (char c : b) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool ValidRegion(std::string_view r) {
  if (r.empty() || r.size() > 64) return false;
  for (char c : r) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

// Text from outside (keys, S3 messages) made safe for a one-line error: control bytes
// become '?', and the length is bounded.
std::string OneLine(std::string_view s, size_t max_len = 300) {
  std::string out;
  for (char c : s.substr(0, max_len)) {
    out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c);
  }
  if (s.size() > max_len) out += "...";
  return out;
}

struct Endpoint {
  std::string scheme;
  std::string host;
  uint16_t port = 0;
  bool path_style = false;
};

bool IsIpOrLocalhost(const std::string& host) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  return !ec || host == "localhost";
}

Result<Endpoint> ResolveEndpoint(const S3SourceOptions& o) {
  Endpoint ep;
  if (o.endpoint.empty()) {
    ep.scheme = "https";
    ep.port = 443;
    ep.path_style = o.path_style || o.bucket.find('.') != std::string::npos;
    ep.host = ep.path_style ? "s3." + o.region + ".amazonaws.com"
                            : o.bucket + ".s3." + o.region + ".amazonaws.com";
    return ep;
  }
  // Userinfo ("http://user:password@host") is refused, and never echoed.
  std::string shown = o.endpoint;
  size_t at = shown.rfind('@');
  size_t scheme_end = shown.find("://");
  if (at != std::string::npos) {
    size_t from = scheme_end == std::string::npos ? 0 : scheme_end + 3;
    if (at >= from) shown.replace(from, at - from, Secret::kMask);
  }
  std::string what = "s3 endpoint \"" + OneLine(shown, 200) + "\"";
  auto parsed = boost::urls::parse_uri(o.endpoint);
  if (!parsed) return Status::InvalidArgument(what + ": not a URL (" + parsed.error().message() + ")");
  const boost::urls::url_view u = *parsed;
  if (u.scheme_id() == boost::urls::scheme::http) {
    ep.scheme = "http";
    ep.port = 80;
  } else if (u.scheme_id() == boost::urls::scheme::https) {
    ep.scheme = "https";
    ep.port = 443;
  } else {
    return Status::InvalidArgument(what + ": scheme must be http or https");
  }
  if (u.has_userinfo()) return Status::InvalidArgument(what + ": must not contain user info");
  switch (u.host_type()) {
    case boost::urls::host_type::ipv4: ep.host = u.host_ipv4_address().to_string(); break;
    case boost::urls::host_type::ipv6: ep.host = u.host_ipv6_address().to_string(); break;
    case boost::urls::host_type::name: ep.host = u.host_name(); break;
    default: break;
  }
  if (ep.host.empty()) return Status::InvalidArgument(what + ": no host");
  if (u.has_port()) {
    if (u.port().empty() || u.port_number() == 0) return Status::InvalidArgument(what + ": bad port");
    ep.port = u.port_number();
  }
  if (!u.encoded_path().empty() && u.encoded_path() != "/") {
    return Status::InvalidArgument(what + ": must not have a path");
  }
  if (u.has_query() || u.has_fragment()) {
    return Status::InvalidArgument(what + ": must not have a query or fragment");
  }
  ep.path_style = o.path_style || IsIpOrLocalhost(ep.host) ||
                  (ep.scheme == "https" && o.bucket.find('.') != std::string::npos);
  if (!ep.path_style) ep.host = o.bucket + "." + ep.host;
  return ep;
}

// The request path as sent and signed: "/bucket/key" (path-style) or "/key".
std::string RequestPath(const Endpoint& ep, const std::string& bucket, std::string_view key) {
  std::string path;
  if (ep.path_style) {
    path = "/" + AwsUriEncode(bucket, true);
    if (!key.empty()) path += "/" + AwsUriEncode(key, false);
  } else {
    path = "/" + AwsUriEncode(key, false);
  }
  return path;
}

Status::Code CodeFor(unsigned http_status, const std::string& s3_code) {
  if (s3_code == "AccessDenied" || s3_code == "InvalidAccessKeyId" ||
      s3_code == "SignatureDoesNotMatch" || s3_code == "ExpiredToken" ||
      s3_code == "InvalidToken" || s3_code == "AllAccessDisabled" || http_status == 401 ||
      http_status == 403) {
    return Status::Code::kPermissionDenied;
  }
  if (s3_code == "NoSuchBucket" || s3_code == "NoSuchKey" || http_status == 404) {
    return Status::Code::kNotFound;
  }
  if (http_status >= 500 || s3_code == "SlowDown" || s3_code == "RequestTimeout") {
    return Status::Code::kUnavailable;
  }
  return Status::Code::kInvalidArgument;
}

Status MakeStatus(Status::Code code, std::string msg) {
  switch (code) {
    case Status::Code::kPermissionDenied: return Status::PermissionDenied(std::move(msg));
    case Status::Code::kNotFound: return Status::NotFound(std::move(msg));
    case Status::Code::kUnavailable: return Status::Unavailable(std::move(msg));
    default: return Status::InvalidArgument(std::move(msg));
  }
}

class S3Source final : public ReportSource {
 public:
  S3Source(S3SourceOptions options, Endpoint endpoint, std::optional<AwsCredentials> fixed)
      : options_(std::move(options)), endpoint_(std::move(endpoint)), fixed_(std::move(fixed)) {}

  std::string Describe() const override {
    std::string d = "s3://" + options_.bucket;
    if (!options_.prefix.empty()) d += "/" + options_.prefix;
    return d;
  }

  Result<std::vector<ReportObject>> List() override {
    const std::string what = Describe();
    SB_RETURN_IF_ERROR(RefreshCredentials(what));
    std::vector<ReportObject> all;
    std::string token;
    // Bounded by max_objects, by the continuation token having to change from page to page,
    // and by a page count: AWS sends 1,000 keys a page, other stores fewer, and a page may
    // even be empty, so allow pages of 100 keys on average before giving up.
    const size_t max_pages = options_.max_objects / 100 + 10;
    for (size_t page_no = 0;; ++page_no) {
      if (page_no >= max_pages) {
        return Status::ResourceExhausted(what + ": listing did not end after " +
                                         std::to_string(max_pages) + " pages");
      }
      std::vector<std::pair<std::string, std::string>> query = {{"list-type", "2"}};
      if (!options_.prefix.empty()) query.emplace_back("prefix", options_.prefix);
      if (!token.empty()) query.emplace_back("continuation-token", token);
      SB_ASSIGN_OR_RETURN(bridge::FetchResponse resp,
                          Get("", std::move(query), kMaxListBytes, what));
      Result<S3ListPage> page = ParseListObjectsV2(resp.body);
      if (!page.ok()) {
        return Status::Corruption(what + ": bad ListObjectsV2 response: " + page.status().message());
      }
      for (ReportObject& o : page->objects) {
        if (!o.name.empty() && o.name.back() == '/') continue;  // folder marker
        all.push_back(std::move(o));
      }
      if (all.size() > options_.max_objects) {
        return Status::ResourceExhausted(what + ": more than " +
                                         std::to_string(options_.max_objects) + " objects");
      }
      if (!page->is_truncated) break;
      if (page->next_continuation_token.empty() || page->next_continuation_token == token) {
        return Status::Corruption(what + ": truncated listing without a new continuation token");
      }
      token = std::move(page->next_continuation_token);
    }
    std::sort(all.begin(), all.end(),
              [](const ReportObject& a, const ReportObject& b) { return a.name < b.name; });
    return all;
  }

  Result<std::string> Read(const ReportObject& object) override {
    const std::string what = "s3://" + options_.bucket + "/" + OneLine(object.name);
    if (object.name.empty()) return Status::InvalidArgument(what + ": empty key");
    if (!credentials_) SB_RETURN_IF_ERROR(RefreshCredentials(what));
    SB_ASSIGN_OR_RETURN(bridge::FetchResponse resp,
                        Get(object.name, {}, options_.max_object_bytes, what));
    return std::move(resp.body);
  }

 private:
  static constexpr size_t kMaxListBytes = 16 * 1024 * 1024;  // a 1,000-key page is ~300 KB

  Status RefreshCredentials(const std::string& what) {
    if (fixed_) {
      credentials_ = *fixed_;
      return Status::OK();
    }
    Result<AwsCredentials> c = LoadAwsCredentials(options_.profile);
    if (!c.ok()) return c.status().Annotate(what);
    credentials_ = std::move(c).value();
    return Status::OK();
  }

  // One signed GET of `key` ("" = the bucket itself) with `query`. Returns the response if
  // it is a 200, else the error as described in the header.
  Result<bridge::FetchResponse> Get(const std::string& key,
                                    std::vector<std::pair<std::string, std::string>> query,
                                    size_t max_body_bytes, const std::string& what) {
    SigV4Request sreq;
    sreq.canonical_uri = RequestPath(endpoint_, options_.bucket, key);
    sreq.query = std::move(query);
    sreq.headers = {
        {"host", bridge::FormatAuthority(endpoint_.scheme, endpoint_.host, endpoint_.port, true)},
        {"x-amz-content-sha256", std::string(kEmptyPayloadSha256)},
    };
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    SignRequest(*credentials_, options_.region, "s3", FormatAmzDate(now_ms), &sreq);

    bridge::FetchRequest req;
    req.scheme = endpoint_.scheme;
    req.host = endpoint_.host;
    req.port = endpoint_.port;
    req.target = sreq.canonical_uri;
    if (!sreq.query.empty()) req.target += "?" + CanonicalQueryString(sreq.query);
    req.headers = std::move(sreq.headers);
    req.headers.emplace_back("Accept", "*/*");
    req.tls.ca_file = options_.ca_file;
    req.timeout = options_.timeout;
    req.max_body_bytes = max_body_bytes;

    bridge::asio::io_context ioc;
    Status status = Status::Internal("S3 request did not complete");
    bridge::FetchResponse resp;
    bridge::AsyncFetch(ioc, std::move(req), [&](Status s, bridge::FetchResponse r) {
      status = std::move(s);
      resp = std::move(r);
    });
    ioc.run();  // bounded: the fetch's own deadline (options_.timeout) ends it
    if (!status.ok()) {
      if (status.code() == Status::Code::kResourceExhausted) {
        return Status::ResourceExhausted(what + ": larger than " + std::to_string(max_body_bytes) +
                                         " bytes");
      }
      return MakeStatus(status.code() == Status::Code::kInvalidArgument
                            ? Status::Code::kInvalidArgument
                            : Status::Code::kUnavailable,
                        what + ": " + status.message());
    }
    if (resp.status == 200) return resp;
    return ErrorFromResponse(resp, what);
  }

  static Status ErrorFromResponse(const bridge::FetchResponse& resp, const std::string& what) {
    std::string msg = what + ": ";
    std::string code;
    std::string region = resp.Header("x-amz-bucket-region").value_or("");
    Result<S3ErrorDocument> doc = ParseS3Error(resp.body);
    if (doc.ok()) {
      code = doc->code;
      msg += OneLine(doc->code, 80);
      if (!doc->message.empty()) msg += ": " + OneLine(doc->message);
      if (region.empty()) region = doc->region;
    } else {
      msg += "HTTP " + std::to_string(resp.status);  // HEAD-like or non-XML error bodies
    }
    if (!region.empty()) msg += " (the bucket is in region " + OneLine(region, 40) + ")";
    return MakeStatus(CodeFor(resp.status, code), std::move(msg));
  }

  const S3SourceOptions options_;
  const Endpoint endpoint_;
  const std::optional<AwsCredentials> fixed_;
  std::optional<AwsCredentials> credentials_;
};

Status CheckOptions(const S3SourceOptions& options) {
  if (!ValidBucket(options.bucket)) {
    return Status::InvalidArgument("s3: bad bucket name \"" + OneLine(options.bucket, 80) + "\"");
  }
  if (!ValidRegion(options.region)) {
    return Status::InvalidArgument("s3://" + options.bucket + ": bad region \"" +
                                   OneLine(options.region, 80) + "\"");
  }
  if (options.timeout.count() <= 0) {
    return Status::InvalidArgument("s3://" + options.bucket + ": timeout must be > 0");
  }
  if (options.max_object_bytes == 0 || options.max_objects == 0) {
    return Status::InvalidArgument("s3://" + options.bucket + ": limits must be > 0");
  }
  return Status::OK();
}

Result<std::unique_ptr<ReportSource>> Make(const S3SourceOptions& options,
                                           std::optional<AwsCredentials> fixed) {
  SB_RETURN_IF_ERROR(CheckOptions(options));
  SB_ASSIGN_OR_RETURN(Endpoint ep, ResolveEndpoint(options));
  return std::unique_ptr<ReportSource>(new S3Source(options, std::move(ep), std::move(fixed)));
}

}  // namespace

Result<S3SourceOptions> ParseS3Url(std::string_view url) {
  std::string what = "s3 url \"" + OneLine(url, 200) + "\"";
  constexpr std::string_view kScheme = "s3://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return Status::InvalidArgument(what + ": must start with s3://");
  }
  std::string_view rest = url.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string_view bucket = rest.substr(0, slash);
  if (bucket.empty()) return Status::InvalidArgument(what + ": no bucket name");
  if (!ValidBucket(bucket)) {
    return Status::InvalidArgument(what + ": bad bucket name \"" + OneLine(bucket, 80) + "\"");
  }
  S3SourceOptions o;
  o.bucket = std::string(bucket);
  if (slash != std::string_view::npos) o.prefix = std::string(rest.substr(slash + 1));
  return o;
}

Result<S3SourceOptions> S3OptionsFromConfig(std::string_view url,
                                            const config::RecommendationsS3Config& s3) {
  SB_ASSIGN_OR_RETURN(S3SourceOptions o, ParseS3Url(url));
  o.endpoint = s3.endpoint;
  o.region = s3.region;
  o.profile = s3.profile;
  o.path_style = s3.path_style;
  return o;
}

Result<S3SourceOptions> S3OptionsFromEnvironment(std::string_view url, const EnvLookup& env) {
  SB_ASSIGN_OR_RETURN(S3SourceOptions o, ParseS3Url(url));
  auto first = [&](const char* a, const char* b) -> std::optional<std::string> {
    for (const char* name : {a, b}) {
      std::optional<std::string> v = env(name);
      if (v && !v->empty()) return v;
    }
    return std::nullopt;
  };
  if (auto ep = first("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")) o.endpoint = *ep;
  if (auto region = first("AWS_REGION", "AWS_DEFAULT_REGION")) o.region = *region;
  return o;
}

Result<std::string> S3ObjectUrl(const S3SourceOptions& options, std::string_view key) {
  SB_RETURN_IF_ERROR(CheckOptions(options));
  SB_ASSIGN_OR_RETURN(Endpoint ep, ResolveEndpoint(options));
  return ep.scheme + "://" + bridge::FormatAuthority(ep.scheme, ep.host, ep.port, true) +
         RequestPath(ep, options.bucket, key);
}

Result<std::unique_ptr<ReportSource>> MakeS3Source(const S3SourceOptions& options) {
  return Make(options, std::nullopt);
}

Result<std::unique_ptr<ReportSource>> MakeS3Source(const S3SourceOptions& options,
                                                   AwsCredentials credentials) {
  return Make(options, std::move(credentials));
}

}  // namespace sb::recommendations
