// The upstream HTTP(S) client: one request per call (GET for exporters, POST for remote write).
//
// AsyncFetch() runs one HTTP/1.1 request on its own connection (no pooling: the bridge
// fetches each upstream about once an hour) through these phases, each of which can fail:
//
//   resolve -> connect -> [proxy CONNECT] -> [tls handshake] -> write request -> read response
//
// One deadline, `FetchRequest::timeout`, covers all phases together. Bodies may be
// Content-Length or chunked, plain or gzip; the body limit is enforced while reading (on the
// wire) and again while decoding, so neither a huge body nor a gzip bomb is ever held in
// memory beyond `max_body_bytes`.
//
// TLS uses OpenSSL through asio::ssl. Verification is ON unless insecure_skip_verify: the
// chain is checked against the system store (or only `ca_file` when set, as Prometheus does),
// and the peer name is checked by OpenSSL itself (X509_VERIFY_PARAM host / IP), so that a
// failure reads e.g.
//   "tls handshake with 127.0.0.1:8443: certificate verify failed (hostname mismatch)".
//
// Each fetch builds its own ssl::context (reading the system store costs a few ms; the
// bridge fetches rarely), so changed CA files take effect at the next fetch.
//
// Proxies: `proxy_url` "http://[user:pass@]host[:port]" (port defaults to 80, as in Go and
// Prometheus). Both http and https targets go through an HTTP CONNECT tunnel; for plain
// http this is simpler and uniform, and a tunnel never lets the proxy see the target path.
//
// Secrets: no error message ever contains a header value, the target path or query, or the
// proxy's userinfo. Messages name the upstream as "host:port" (IPv6 as "[::1]:port").
//
// Thread-safety: AsyncFetch may be called from any thread. Each fetch owns its state and runs
// its handlers on a strand of its own made from `ioc`, so `ioc` may be run by a pool.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bridge/asio.h"
#include "bridge/tls_context.h"  // TlsOptions
#include "common/status.h"

namespace sb::bridge {

// Sent as User-Agent unless the caller passes its own. Keep in step with project(VERSION).
inline constexpr std::string_view kUserAgent = "scout-bridge/0.1.0";

// Prometheus-style content negotiation: OpenMetrics preferred, then text 0.0.4. Not added
// automatically: the caller passes it (or another Accept) in FetchRequest::headers. With no
// Accept header at all the request carries "Accept: */*".
inline constexpr std::string_view kPrometheusAccept =
    "application/openmetrics-text;version=1.0.0;q=0.5,"
    "application/openmetrics-text;version=0.0.1;q=0.4,"
    "text/plain;version=0.0.4;q=0.3,*/*;q=0.1";

// Response headers larger than this fail the fetch (ResourceExhausted).
inline constexpr size_t kMaxResponseHeaderBytes = 64 * 1024;

struct FetchRequest {
  std::string scheme = "https";  // "http" | "https"
  std::string host;              // DNS name or IP literal (IPv6 without brackets)
  uint16_t port = 443;           // 1..65535
  std::string target = "/";      // origin-form: path + query, starts with '/'
  // Request method, upper-case letters ("GET", "POST"). Default "GET".
  std::string method = "GET";
  // Request body, sent with Content-Length when non-empty or the method is not GET. Never
  // logged or put into error messages.
  std::string body;
  // Extra request headers, sent in order. A header named here replaces the default of the
  // same name: Host (with the port unless default), User-Agent (kUserAgent), Accept (*/*),
  // Accept-Encoding (gzip), Connection (close: one request per connection). Authorization goes here. Names
  // and values must not contain CR, LF or NUL (InvalidArgument). Values are never logged
  // or put into error messages.
  std::vector<std::pair<std::string, std::string>> headers;
  TlsOptions tls;  // used only when scheme == "https"
  // "" for a direct connection, or "http://[user:pass@]host[:port]"; see the file comment.
  // Userinfo is percent-decoded and sent as "Proxy-Authorization: Basic ...".
  std::string proxy_url;
  // Deadline for the whole fetch, all phases together. Must be > 0.
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  // Upper bound for the body, enforced both on the wire (before decoding: a gzip body that
  // is itself larger fails too) and after decoding. Must be > 0.
  size_t max_body_bytes = 64 * 1024 * 1024;
  // When set, a body that came as a gzip stream is not decoded here: FetchResponse::body
  // stays empty and gzip_body holds it, for the caller to decode as it goes (bounded by
  // max_body_bytes itself), never holding the whole decoded body. Other encodings are
  // decoded as usual.
  bool keep_gzip_encoded = false;
};

struct FetchResponse {
  unsigned status = 0;  // HTTP status code, e.g. 200, 304, 503
  // All response headers in arrival order, names lower-cased, values as received.
  std::vector<std::pair<std::string, std::string>> headers;
  // The body with any gzip/deflate Content-Encoding removed (empty when gzip_body is set
  // and FetchRequest::keep_gzip_encoded).
  std::string body;
  // The body as received when it came with Content-Encoding gzip (a gzip stream that decoded
  // to `body`), else empty: kept so that it need not be compressed again.
  std::string gzip_body;
  std::string content_type;  // the Content-Type header, "" if absent
  // Body bytes as received, before decoding (excludes status line, headers and chunk framing).
  size_t wire_bytes = 0;

  // Returns the value of header `lower_name` (which must be lower-case), or nullopt. Several
  // headers of that name are joined with ", " as RFC 9110 section 5.3 allows.
  std::optional<std::string> Header(std::string_view lower_name) const;
};

// Completion: void(Status, FetchResponse).
using FetchCallback = std::function<void(Status, FetchResponse)>;

// Starts one GET of `req` and returns at once. `done` is called exactly once, never from
// inside AsyncFetch, always on a thread that is running `ioc.run()` (within the fetch's own
// strand). If `ioc` is stopped or destroyed first, `done` is destroyed without being called.
//
// Status passed to `done`:
//   OK                 any HTTP response was received in full, whatever its code (4xx and
//                      5xx included): look at FetchResponse::status.
//   InvalidArgument    a bad request: scheme, host, port, target, header text, proxy_url,
//                      timeout or max_body_bytes; or unreadable TLS files (ca/cert/key).
//   Unavailable        resolve, connect, proxy, TLS (certificate errors included), write or
//                      read failed, or the deadline passed ("read response from
//                      127.0.0.1:8080: timeout after 300ms"); also a malformed HTTP
//                      response or a corrupt gzip body.
//   ResourceExhausted  the body exceeds max_body_bytes (on the wire or decoded), or the
//                      headers exceed kMaxResponseHeaderBytes. The message names the limit.
//   Unimplemented      a Content-Encoding other than gzip, x-gzip, deflate, identity.
// On error the FetchResponse is default-constructed except `status`, which is set if a
// response header had arrived.
//
// Lifetimes: `req` is taken by value; nothing refers to the caller's memory afterwards.
// `ioc` must outlive the fetch (until `done` has run or ioc is stopped).
void AsyncFetch(asio::io_context& ioc, FetchRequest req, FetchCallback done);

// The authority as used in messages and the Host header: "host:port", "[v6]:port", or just
// "host" / "[v6]" when `omit_default_port` and port is the scheme's default (80 / 443).
std::string FormatAuthority(std::string_view scheme, std::string_view host, uint16_t port,
                            bool omit_default_port);

}  // namespace sb::bridge
