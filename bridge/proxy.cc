#include "bridge/proxy.h"

#include <openssl/evp.h>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace sb::bridge {

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

}  // namespace sb::bridge
