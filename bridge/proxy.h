// Parsing of `proxy_url` for the upstream client's HTTP CONNECT tunnels, and the choice of
// a proxy per request (no_proxy, proxy_from_environment).
//
// Thread-safety: free functions; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sb::bridge {

struct ProxyEndpoint {
  std::string host;   // DNS name or IP literal (IPv6 without brackets)
  uint16_t port = 0;  // defaults to 80 when the URL has none (as Go's net/http does)
  // The whole "Proxy-Authorization" value ("Basic <base64(user:pass)>"), or "" when the
  // URL has no userinfo. A secret: never log it or put it in an error.
  std::string authorization;
};

// Parses "http://[user[:pass]@]host[:port][/]". User and password are percent-decoded.
// Errors: InvalidArgument for anything else (another scheme, no host, a bad port). The
// message never repeats the URL, which may hold a password.
Result<ProxyEndpoint> ParseProxyUrl(std::string_view url);

// True if `host` is listed in a NO_PROXY-style list: comma-separated names, ".suffix" or
// "suffix" matching the domain and its subdomains, exact IP literals, or "*" for all.
// Ports and CIDR ranges in entries are not interpreted (an entry "10.0.0.0/8" matches only
// that literal text). Case-insensitive.
bool HostInNoProxy(const std::string& host, std::string_view list);

// The proxy for a request to `host`, as Prometheus chooses it: `proxy_url` unless the host
// is in `no_proxy`; or, with `from_environment`, HTTPS_PROXY/HTTP_PROXY (by `scheme`, upper
// case first, then lower case) unless the host is in NO_PROXY. "" for a direct connection.
// Shared by the scrape targets and the remote-write senders.
std::string ChooseProxy(std::string_view proxy_url, std::string_view no_proxy, bool from_environment,
                        std::string_view scheme, const std::string& host);

// Returns standard base64 (RFC 4648, with padding) of `data`.
std::string Base64Encode(std::string_view data);

}  // namespace sb::bridge
