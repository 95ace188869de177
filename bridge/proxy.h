// Parsing of `proxy_url` for the upstream client's HTTP CONNECT tunnels.
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

// Returns standard base64 (RFC 4648, with padding) of `data`.
std::string Base64Encode(std::string_view data);

}  // namespace sb::bridge
