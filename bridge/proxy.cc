#include "bridge/proxy.h"

#include <openssl/evp.h>

#include <cctype>
#include <cstdlib>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace sb::bridge {
namespace {

std::string LowerCase(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Env(const char* upper, const char* lower) {
  const char* v = getenv(upper);
  if (v == nullptr || *v == '\0') v = getenv(lower);
  return v ? v : "";
}

}  // namespace


std::string Base64Encode(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(data.data()),
                                static_cast<int>(data.size()));
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

Result<ProxyEndpoint> ParseProxyUrl(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) {
    return Status::InvalidArgument("proxy_url is not a valid URL (" + parsed.error().message() + ")");
  }
  const boost::urls::url_view u = *parsed;
  if (u.scheme_id() != boost::urls::scheme::http) {
    return Status::InvalidArgument("proxy_url must use the http scheme (got '" +
                                   std::string(u.scheme()) + "')");
  }
  ProxyEndpoint ep;
  switch (u.host_type()) {
    case boost::urls::host_type::ipv4: ep.host = u.host_ipv4_address().to_string(); break;
    case boost::urls::host_type::ipv6: ep.host = u.host_ipv6_address().to_string(); break;
    case boost::urls::host_type::name: ep.host = u.host_name(); break;
    default: break;
  }
  if (ep.host.empty()) return Status::InvalidArgument("proxy_url has no usable host");
  if (u.has_port()) {
    if (u.port().empty() || u.port_number() == 0) {
      return Status::InvalidArgument("proxy_url has an invalid port");
    }
    ep.port = u.port_number();
  } else {
    ep.port = 80;
  }
  if (!u.encoded_path().empty() && u.encoded_path() != "/") {
    return Status::InvalidArgument("proxy_url must not have a path");
  }
  if (u.has_userinfo()) {
    std::string userinfo = u.user();
    userinfo += ':';
    if (u.has_password()) userinfo += u.password();
    ep.authorization = "Basic " + Base64Encode(userinfo);
  }
  return ep;
}

bool HostInNoProxy(const std::string& host, std::string_view list) {
  const std::string h = LowerCase(host);
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string entry = LowerCase(std::string(list.substr(0, comma)));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    entry.erase(0, entry.find_first_not_of(" \t"));
    entry.erase(entry.find_last_not_of(" \t") + 1);
    if (entry.empty()) continue;
    if (entry == "*") return true;
    if (entry[0] == '.') entry.erase(0, 1);
    if (h == entry || (h.size() > entry.size() && h.compare(h.size() - entry.size(), entry.size(), entry) == 0 &&
                       h[h.size() - entry.size() - 1] == '.')) {
      return true;
    }
  }
  return false;
}

std::string ChooseProxy(std::string_view proxy_url, std::string_view no_proxy, bool from_environment,
                        std::string_view scheme, const std::string& host) {
  if (!proxy_url.empty()) return HostInNoProxy(host, no_proxy) ? "" : std::string(proxy_url);
  if (!from_environment) return "";
  std::string proxy = scheme == "https" ? Env("HTTPS_PROXY", "https_proxy") : Env("HTTP_PROXY", "http_proxy");
  if (proxy.empty() || HostInNoProxy(host, Env("NO_PROXY", "no_proxy"))) return "";
  return proxy;
}

}  // namespace sb::bridge
