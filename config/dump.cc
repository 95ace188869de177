// DumpConfig and the Fingerprint() methods share one emitter per struct: the dump masks
// secrets, the fingerprint reveals them into a SHA-256 digest. Sharing the code means a field
// that is dumped is also fingerprinted, so a reload never misses a changed field that an
// operator could see.
#include <openssl/evp.h>

#include <cctype>

#include "common/duration.h"
#include "config/config.h"
#include "config/yaml_util.h"

namespace sb::config {
namespace {

enum class Mode { kDump, kFingerprint };

struct Out {
  YAML::Emitter e;
  Mode mode;

  // Emits "key: value" for a secret: "<secret>" when dumping, the value when fingerprinting,
  // nothing when empty.
  void SecretField(const char* key, const Secret& s) {
    if (s.empty()) return;
    e << YAML::Key << key << YAML::Value
      << (mode == Mode::kDump ? std::string(Secret::kMask) : s.Reveal());
  }
  void Str(const char* key, const std::string& v, bool omit_empty = true) {
    if (omit_empty && v.empty()) return;
    e << YAML::Key << key << YAML::Value << v;
  }
  void Dur(const char* key, Duration d) {
    e << YAML::Key << key << YAML::Value << FormatDuration(d);
  }
  template <typename T>
  void Val(const char* key, const T& v) {
    e << YAML::Key << key << YAML::Value << v;
  }
  void StrList(const char* key, const std::vector<std::string>& v) {
    if (v.empty()) return;
    e << YAML::Key << key << YAML::Value << YAML::BeginSeq;
    for (const auto& s : v) e << s;
    e << YAML::EndSeq;
  }
  void StrMap(const char* key, const std::map<std::string, std::string>& m) {
    if (m.empty()) return;
    e << YAML::Key << key << YAML::Value << YAML::BeginMap;
    for (const auto& [k, v] : m) e << YAML::Key << k << YAML::Value << v;
    e << YAML::EndMap;
  }
  void Other(const std::map<std::string, std::string>& other) {
    for (const auto& [k, text] : other) {
      YAML::Node n;
      try {
        n = YAML::Load(text);
      } catch (const YAML::Exception&) {
        n = YAML::Node(text);
      }
      e << YAML::Key << k << YAML::Value << n;
    }
  }
};

// Replaces the password of "scheme://user:pass@host/..." with "<secret>" when dumping.
std::string MaskUrl(const std::string& url, Mode mode) {
  if (mode == Mode::kFingerprint) return url;
  size_t start = url.find("://");
  if (start == std::string::npos) return url;
  start += 3;
  size_t end = url.find_first_of("/?#", start);
  if (end == std::string::npos) end = url.size();
  size_t at = url.rfind('@', end);
  if (at == std::string::npos || at < start) return url;
  size_t colon = url.find(':', start);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + Secret::kMask + url.substr(at);
}

bool LooksSecret(const std::string& header) {
  std::string lower;
  for (char c : header) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* word : {"auth", "token", "key", "secret", "password", "cookie", "session"}) {
    if (lower.find(word) != std::string::npos) return true;
  }
  return false;
}

void EmitRelabel(Out& o, const char* key, const std::vector<RelabelConfig>& list) {
  if (list.empty()) return;
  o.e << YAML::Key << key << YAML::Value << YAML::BeginSeq;
  for (const auto& r : list) {
    o.e << YAML::BeginMap;
    if (!r.source_labels.empty()) {
      o.e << YAML::Key << "source_labels" << YAML::Value << YAML::Flow << YAML::BeginSeq;
      for (const auto& s : r.source_labels) o.e << s;
      o.e << YAML::EndSeq;
    }
    o.Str("separator", r.separator, false);
    o.Str("regex", r.regex, false);
    o.Str("target_label", r.target_label);
    o.Str("replacement", r.replacement, false);
    o.Str("action", r.action, false);
    if (r.modulus != 0) o.Val("modulus", r.modulus);
    o.e << YAML::EndMap;
  }
  o.e << YAML::EndSeq;
}

void EmitHttpClient(Out& o, const HttpClientConfig& c) {
  if (c.authorization) {
    o.e << YAML::Key << "authorization" << YAML::Value << YAML::BeginMap;
    o.Str("type", c.authorization->type);
    o.SecretField("credentials", c.authorization->credentials);
    o.Str("credentials_file", c.authorization->credentials_file);
    o.e << YAML::EndMap;
  }
  if (c.basic_auth) {
    o.e << YAML::Key << "basic_auth" << YAML::Value << YAML::BeginMap;
    o.Str("username", c.basic_auth->username);
    o.Str("username_file", c.basic_auth->username_file);
    o.SecretField("password", c.basic_auth->password);
    o.Str("password_file", c.basic_auth->password_file);
    o.e << YAML::EndMap;
  }
  const TlsConfig& t = c.tls_config;
  o.e << YAML::Key << "tls_config" << YAML::Value << YAML::BeginMap;
  o.Str("ca_file", t.ca_file);
  o.Str("ca", t.ca);
  o.Str("cert_file", t.cert_file);
  o.Str("cert", t.cert);
  o.Str("key_file", t.key_file);
  o.SecretField("key", t.key);
  o.Str("server_name", t.server_name);
  o.Val("insecure_skip_verify", t.insecure_skip_verify);
  o.Str("min_version", t.min_version);
  o.Str("max_version", t.max_version);
  o.e << YAML::EndMap;
  if (!c.proxy_url.empty()) o.Str("proxy_url", MaskUrl(c.proxy_url, o.mode));
  o.Str("no_proxy", c.no_proxy);
  if (c.proxy_from_environment) o.Val("proxy_from_environment", true);
  o.Val("follow_redirects", c.follow_redirects);
  o.Val("enable_http2", c.enable_http2);
}

void EmitScrape(Out& o, const ScrapeConfig& j) {
  o.e << YAML::BeginMap;
  o.Str("job_name", j.job_name, false);
  o.Dur("scrape_interval", j.scrape_interval);
  o.Dur("scrape_timeout", j.scrape_timeout);
  o.StrList("scrape_protocols", j.scrape_protocols);
  o.Str("fallback_scrape_protocol", j.fallback_scrape_protocol);
  o.Str("metrics_path", j.metrics_path, false);
  o.Str("scheme", j.scheme, false);
  if (!j.params.empty()) {
    o.e << YAML::Key << "params" << YAML::Value << YAML::BeginMap;
    for (const auto& [k, vs] : j.params) {
      o.e << YAML::Key << k << YAML::Value << YAML::Flow << YAML::BeginSeq;
      for (const auto& v : vs) o.e << v;
      o.e << YAML::EndSeq;
    }
    o.e << YAML::EndMap;
  }
  o.Val("honor_labels", j.honor_labels);
  o.Val("honor_timestamps", j.honor_timestamps);
  o.Val("enable_compression", j.enable_compression);
  o.Val("sample_limit", j.sample_limit);
  o.Val("label_limit", j.label_limit);
  o.Val("label_name_length_limit", j.label_name_length_limit);
  o.Val("label_value_length_limit", j.label_value_length_limit);
  o.Val("target_limit", j.target_limit);
  o.Str("body_size_limit", internal::FormatByteSize(j.body_size_limit_bytes));
  o.Dur("refresh_interval", j.refresh_interval);
  o.Val("respect_cache_headers", j.respect_cache_headers);
  o.Val("max_requests_per_hour", j.max_requests_per_hour);
  EmitHttpClient(o, j);
  if (!j.static_configs.empty()) {
    o.e << YAML::Key << "static_configs" << YAML::Value << YAML::BeginSeq;
    for (const auto& sc : j.static_configs) {
      o.e << YAML::BeginMap;
      o.e << YAML::Key << "targets" << YAML::Value << YAML::BeginSeq;
      for (const auto& t : sc.targets) o.e << t;
      o.e << YAML::EndSeq;
      o.StrMap("labels", sc.labels);
      o.e << YAML::EndMap;
    }
    o.e << YAML::EndSeq;
  }
  EmitRelabel(o, "relabel_configs", j.relabel_configs);
  EmitRelabel(o, "metric_relabel_configs", j.metric_relabel_configs);
  o.Other(j.other_keys);
  o.e << YAML::EndMap;
}

void EmitRemoteWrite(Out& o, const RemoteWriteConfig& rw) {
  o.e << YAML::BeginMap;
  o.Str("url", MaskUrl(rw.url, o.mode), false);
  o.Str("name", rw.name);
  o.Dur("remote_timeout", rw.remote_timeout);
  if (!rw.headers.empty()) {
    o.e << YAML::Key << "headers" << YAML::Value << YAML::BeginMap;
    for (const auto& [k, v] : rw.headers) {
      bool mask = o.mode == Mode::kDump && LooksSecret(k);
      o.e << YAML::Key << k << YAML::Value << (mask ? std::string(Secret::kMask) : v);
    }
    o.e << YAML::EndMap;
  }
  EmitRelabel(o, "write_relabel_configs", rw.write_relabel_configs);
  o.Str("protobuf_message", rw.protobuf_message, false);
  o.Val("send_exemplars", rw.send_exemplars);
  o.Val("send_native_histograms", rw.send_native_histograms);
  o.Val("round_robin_dns", rw.round_robin_dns);
  const QueueConfig& q = rw.queue_config;
  o.e << YAML::Key << "queue_config" << YAML::Value << YAML::BeginMap;
  o.Val("capacity", q.capacity);
  o.Val("max_shards", q.max_shards);
  o.Val("min_shards", q.min_shards);
  o.Val("max_samples_per_send", q.max_samples_per_send);
  o.Dur("batch_send_deadline", q.batch_send_deadline);
  o.Dur("min_backoff", q.min_backoff);
  o.Dur("max_backoff", q.max_backoff);
  o.Val("retry_on_http_429", q.retry_on_http_429);
  o.Dur("sample_age_limit", q.sample_age_limit);
  o.e << YAML::EndMap;
  const MetadataConfig& md = rw.metadata_config;
  o.e << YAML::Key << "metadata_config" << YAML::Value << YAML::BeginMap;
  o.Val("send", md.send);
  o.Dur("send_interval", md.send_interval);
  o.Val("max_samples_per_send", md.max_samples_per_send);
  o.e << YAML::EndMap;
  EmitHttpClient(o, rw);
  o.Dur("resend_interval", rw.resend_interval);
  o.Dur("max_backfill", rw.max_backfill);
  o.e << YAML::EndMap;
}

std::string Sha256Hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

}  // namespace

std::string ScrapeConfig::Fingerprint() const {
  Out o{YAML::Emitter(), Mode::kFingerprint};
  EmitScrape(o, *this);
  return Sha256Hex(o.e.c_str());
}

std::string RemoteWriteConfig::Fingerprint() const {
  Out o{YAML::Emitter(), Mode::kFingerprint};
  EmitRemoteWrite(o, *this);
  return Sha256Hex(o.e.c_str());
}

std::string DumpConfig(const Config& c) {
  Out o{YAML::Emitter(), Mode::kDump};
  const GlobalConfig& g = c.global;
  o.e << YAML::BeginMap;
  o.e << YAML::Key << "global" << YAML::Value << YAML::BeginMap;
  o.Dur("scrape_interval", g.scrape_interval);
  o.Dur("scrape_timeout", g.scrape_timeout);
  o.Dur("evaluation_interval", g.evaluation_interval);
  o.StrMap("external_labels", g.external_labels);
  o.StrList("scrape_protocols", g.scrape_protocols);
  o.Val("sample_limit", g.sample_limit);
  o.Val("label_limit", g.label_limit);
  o.Val("label_name_length_limit", g.label_name_length_limit);
  o.Val("label_value_length_limit", g.label_value_length_limit);
  o.Val("target_limit", g.target_limit);
  o.Str("body_size_limit", internal::FormatByteSize(g.body_size_limit_bytes));
  o.Dur("refresh_interval", g.refresh_interval);
  o.Val("respect_cache_headers", g.respect_cache_headers);
  o.Val("max_requests_per_hour", g.max_requests_per_hour);
  o.Other(g.other_keys);
  o.e << YAML::EndMap;
  if (!c.scrape_configs.empty()) {
    o.e << YAML::Key << "scrape_configs" << YAML::Value << YAML::BeginSeq;
    for (const auto& j : c.scrape_configs) EmitScrape(o, j);
    o.e << YAML::EndSeq;
  }
  if (!c.remote_write.empty()) {
    o.e << YAML::Key << "remote_write" << YAML::Value << YAML::BeginSeq;
    for (const auto& rw : c.remote_write) EmitRemoteWrite(o, rw);
    o.e << YAML::EndSeq;
  }
  o.e << YAML::Key << "recommendations" << YAML::Value << YAML::BeginMap;
  o.StrList("sources", c.recommendations.sources);
  o.Dur("scan_interval", c.recommendations.scan_interval);
  o.e << YAML::Key << "s3" << YAML::Value << YAML::BeginMap;
  o.Str("endpoint", c.recommendations.s3.endpoint);
  o.Str("region", c.recommendations.s3.region);
  o.Str("profile", c.recommendations.s3.profile);
  o.Val("path_style", c.recommendations.s3.path_style);
  o.e << YAML::EndMap;
  o.e << YAML::EndMap;
  o.e << YAML::EndMap;
  return std::string(o.e.c_str()) + "\n";
}

}  // namespace sb::config
