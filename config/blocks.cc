#include "config/blocks.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>

namespace sb::config::internal {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

Status ParseAuthorization(const MapView& parent, Authorization* out) {
  SB_ASSIGN_OR_RETURN(MapView m, MapView::Open(parent.src(), parent.Get("authorization"),
                                               parent.Child("authorization"),
                                               KeySet{{"type", "credentials", "credentials_file"}}));
  SB_RETURN_IF_ERROR(m.String("type", &out->type));
  SB_RETURN_IF_ERROR(m.SecretString("credentials", &out->credentials));
  SB_RETURN_IF_ERROR(m.String("credentials_file", &out->credentials_file));
  // Prometheus trims the type and defaults an empty one to Bearer.
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  out->type.erase(out->type.begin(), std::find_if(out->type.begin(), out->type.end(), not_space));
  out->type.erase(std::find_if(out->type.rbegin(), out->type.rend(), not_space).base(),
                  out->type.end());
  if (out->type.empty()) out->type = "Bearer";
  if (Lower(out->type) == "basic") {
    return m.KeyError("type", "type \"" + out->type + "\" is not allowed (use basic_auth instead)");
  }
  if (m.Has("credentials") && m.Has("credentials_file")) {
    return parent.src().ErrorAt(m.KeyNode("credentials_file"),
                                "\"credentials\" and \"credentials_file\" are mutually exclusive in " +
                                    m.path());
  }
  return Status::OK();
}

Status ParseBasicAuth(const MapView& parent, BasicAuth* out) {
  SB_ASSIGN_OR_RETURN(
      MapView m, MapView::Open(parent.src(), parent.Get("basic_auth"), parent.Child("basic_auth"),
                               KeySet{{"username", "username_file", "password", "password_file"}}));
  SB_RETURN_IF_ERROR(m.String("username", &out->username));
  SB_RETURN_IF_ERROR(m.String("username_file", &out->username_file));
  SB_RETURN_IF_ERROR(m.SecretString("password", &out->password));
  SB_RETURN_IF_ERROR(m.String("password_file", &out->password_file));
  for (auto [a, b] : {std::pair{"username", "username_file"}, std::pair{"password", "password_file"}}) {
    if (m.Has(a) && m.Has(b)) {
      return parent.src().ErrorAt(m.KeyNode(b), Quote(a) + " and " + Quote(b) +
                                                    " are mutually exclusive in " + m.path());
    }
  }
  return Status::OK();
}

Status ParseTls(const MapView& parent, TlsConfig* out) {
  SB_ASSIGN_OR_RETURN(
      MapView m, MapView::Open(parent.src(), parent.Get("tls_config"), parent.Child("tls_config"),
                               KeySet{{"ca_file", "ca", "cert_file", "cert", "key_file", "key",
                                       "server_name", "insecure_skip_verify", "min_version",
                                       "max_version"}}));
  SB_RETURN_IF_ERROR(m.String("ca_file", &out->ca_file));
  SB_RETURN_IF_ERROR(m.String("ca", &out->ca));
  SB_RETURN_IF_ERROR(m.String("cert_file", &out->cert_file));
  SB_RETURN_IF_ERROR(m.String("cert", &out->cert));
  SB_RETURN_IF_ERROR(m.String("key_file", &out->key_file));
  SB_RETURN_IF_ERROR(m.SecretString("key", &out->key));
  SB_RETURN_IF_ERROR(m.String("server_name", &out->server_name));
  SB_RETURN_IF_ERROR(m.Bool("insecure_skip_verify", &out->insecure_skip_verify));
  SB_RETURN_IF_ERROR(m.String("min_version", &out->min_version));
  SB_RETURN_IF_ERROR(m.String("max_version", &out->max_version));
  for (auto [a, b] : {std::pair{"ca", "ca_file"}, std::pair{"cert", "cert_file"},
                      std::pair{"key", "key_file"}}) {
    if (m.Has(a) && m.Has(b)) {
      return parent.src().ErrorAt(m.KeyNode(b), Quote(a) + " and " + Quote(b) +
                                                    " are mutually exclusive in " + m.path());
    }
  }
  bool has_cert = m.Has("cert") || m.Has("cert_file");
  bool has_key = m.Has("key") || m.Has("key_file");
  if (has_cert != has_key) {
    return parent.src().ErrorAt(m.node(), "a client certificate needs both cert(_file) and "
                                          "key(_file) in " + m.path());
  }
  for (const char* k : {"min_version", "max_version"}) {
    const std::string& v = std::string(k) == "min_version" ? out->min_version : out->max_version;
    if (!v.empty() && v != "TLS10" && v != "TLS11" && v != "TLS12" && v != "TLS13") {
      return m.KeyError(k, "unknown TLS version " + Quote(v) + " (use TLS10, TLS11, TLS12, TLS13)");
    }
  }
  return Status::OK();
}

}  // namespace

bool IsValidLabelName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    unsigned char c = name[i];
    bool ok = std::isalpha(c) || c == '_' || (i > 0 && std::isdigit(c));
    if (!ok || c > 127) return false;
  }
  return true;
}

std::string CheckHttpUrl(std::string_view url, bool allow_socks) {
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) return "not an absolute URL";
  std::string scheme = Lower(url.substr(0, sep));
  if (scheme != "http" && scheme != "https" && !(allow_socks && scheme == "socks5")) {
    return "unsupported URL scheme " + Quote(scheme);
  }
  std::string_view rest = url.substr(sep + 3);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (authority.empty() || authority[0] == ':') return "URL has no host";
  return "";
}

void AddHttpClientKeys(KeySet* keys) {
  for (const char* k : {"authorization", "basic_auth", "tls_config", "proxy_url", "no_proxy",
                        "proxy_from_environment", "follow_redirects", "enable_http2",
                        "bearer_token", "bearer_token_file"}) {
    keys->known.insert(k);
  }
  keys->unsupported["oauth2"] = "OAuth2 is not supported; use authorization or basic_auth";
  keys->unsupported["proxy_connect_header"] = "not supported by scout-bridge";
  keys->unsupported["http_headers"] = "not supported by scout-bridge";
}

Status ParseHttpClient(const MapView& m, HttpClientConfig* out) {
  if (m.Has("authorization")) {
    out->authorization.emplace();
    SB_RETURN_IF_ERROR(ParseAuthorization(m, &*out->authorization));
  }
  if (m.Has("basic_auth")) {
    out->basic_auth.emplace();
    SB_RETURN_IF_ERROR(ParseBasicAuth(m, &*out->basic_auth));
  }
  // Legacy Prometheus keys: bearer_token / bearer_token_file.
  if (m.Has("bearer_token") || m.Has("bearer_token_file")) {
    const char* which = m.Has("bearer_token") ? "bearer_token" : "bearer_token_file";
    if (m.Has("bearer_token") && m.Has("bearer_token_file")) {
      return m.src().ErrorAt(m.KeyNode("bearer_token_file"),
                             "\"bearer_token\" and \"bearer_token_file\" are mutually exclusive in " +
                                 m.path());
    }
    if (out->authorization) {
      return m.src().ErrorAt(m.KeyNode(which), std::string("\"") + which +
                                                   "\" and \"authorization\" are mutually exclusive in " +
                                                   m.path());
    }
    Authorization auth;
    SB_RETURN_IF_ERROR(m.SecretString("bearer_token", &auth.credentials));
    SB_RETURN_IF_ERROR(m.String("bearer_token_file", &auth.credentials_file));
    out->authorization = std::move(auth);
  }
  if (out->authorization && out->basic_auth) {
    return m.src().ErrorAt(m.KeyNode("basic_auth"),
                           "\"authorization\" and \"basic_auth\" are mutually exclusive in " +
                               m.path());
  }
  SB_RETURN_IF_ERROR(ParseTls(m, &out->tls_config));
  SB_RETURN_IF_ERROR(m.String("proxy_url", &out->proxy_url));
  SB_RETURN_IF_ERROR(m.String("no_proxy", &out->no_proxy));
  SB_RETURN_IF_ERROR(m.Bool("proxy_from_environment", &out->proxy_from_environment));
  SB_RETURN_IF_ERROR(m.Bool("follow_redirects", &out->follow_redirects));
  SB_RETURN_IF_ERROR(m.Bool("enable_http2", &out->enable_http2));
  if (!out->proxy_url.empty()) {
    // The URL itself is not echoed: it may carry a password.
    std::string problem = CheckHttpUrl(out->proxy_url, /*allow_socks=*/true);
    if (!problem.empty()) return m.KeyError("proxy_url", "invalid proxy URL (" + problem + ")");
    if (out->proxy_from_environment) {
      return m.KeyError("proxy_url", "proxy_url cannot be combined with proxy_from_environment");
    }
  }
  if (!out->no_proxy.empty() && out->proxy_url.empty()) {
    return m.KeyError("no_proxy", "no_proxy needs proxy_url");
  }
  return Status::OK();
}

Status ParseRelabelList(const MapView& parent, std::string_view key,
                        std::vector<RelabelConfig>* out) {
  out->clear();
  if (!parent.Has(key)) return Status::OK();
  YAML::Node list = parent.Get(key);
  if (!list.IsSequence()) return parent.KeyError(key, "expected a list of relabel configs");
  static const KeySet kKeys{{"source_labels", "separator", "regex", "target_label", "replacement",
                             "action", "modulus"}};
  static const std::set<std::string, std::less<>> kActions = {
      "replace", "keep", "drop", "keepequal", "dropequal", "hashmod",
      "labelmap", "labeldrop", "labelkeep", "lowercase", "uppercase"};
  for (size_t i = 0; i < list.size(); ++i) {
    SB_ASSIGN_OR_RETURN(MapView m, MapView::Open(parent.src(), list[i],
                                                 Indexed(parent.Child(key), i), kKeys));
    RelabelConfig rc;
    SB_RETURN_IF_ERROR(m.StringList("source_labels", &rc.source_labels));
    SB_RETURN_IF_ERROR(m.String("separator", &rc.separator));
    SB_RETURN_IF_ERROR(m.String("regex", &rc.regex));
    SB_RETURN_IF_ERROR(m.String("target_label", &rc.target_label));
    SB_RETURN_IF_ERROR(m.String("replacement", &rc.replacement));
    SB_RETURN_IF_ERROR(m.String("action", &rc.action));
    SB_RETURN_IF_ERROR(m.Uint("modulus", &rc.modulus));
    rc.action = Lower(rc.action);  // Prometheus accepts any case.
    if (kActions.count(rc.action) == 0) {
      return m.KeyError("action", "unknown relabel action " + Quote(rc.action));
    }
    RE2::Options opts;
    opts.set_log_errors(false);
    RE2 re("^(?:" + rc.regex + ")$", opts);
    if (!re.ok()) return m.KeyError("regex", "invalid regex " + Quote(rc.regex) + " (" + re.error() + ")");
    const std::string& a = rc.action;
    if ((a == "replace" || a == "hashmod" || a == "lowercase" || a == "uppercase" ||
         a == "keepequal" || a == "dropequal") && rc.target_label.empty()) {
      return parent.src().ErrorAt(m.node(), "relabel action \"" + a + "\" requires target_label in " +
                                                m.path());
    }
    if (a == "hashmod" && rc.modulus == 0) {
      return parent.src().ErrorAt(m.node(), "relabel action \"hashmod\" requires a non-zero modulus in " +
                                                m.path());
    }
    if ((a == "labeldrop" || a == "labelkeep") &&
        (m.Has("source_labels") || m.Has("target_label") || m.Has("modulus") ||
         m.Has("separator") || m.Has("replacement"))) {
      return parent.src().ErrorAt(m.node(), "relabel action \"" + a + "\" takes only regex in " +
                                                m.path());
    }
    out->push_back(std::move(rc));
  }
  return Status::OK();
}

void ResolveHttpClientPaths(const std::string& dir, HttpClientConfig* c) {
  if (dir.empty()) return;
  std::string prefix = dir.back() == '/' ? dir : dir + "/";
  auto fix = [&prefix](std::string* p) {
    if (!p->empty() && (*p)[0] != '/') *p = prefix + *p;
  };
  if (c->authorization) fix(&c->authorization->credentials_file);
  if (c->basic_auth) {
    fix(&c->basic_auth->username_file);
    fix(&c->basic_auth->password_file);
  }
  fix(&c->tls_config.ca_file);
  fix(&c->tls_config.cert_file);
  fix(&c->tls_config.key_file);
}

}  // namespace sb::config::internal
