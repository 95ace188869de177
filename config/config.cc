// Parsing and validation of the whole document. Order of work: YAML syntax (yaml-cpp), then
// `global` (so that jobs can inherit from it), then each scrape job, remote_write entry and
// the recommendations block. Every step stops at the first error.
#include "config/config.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/duration.h"
#include "config/blocks.h"
#include "config/yaml_util.h"

namespace sb::config {
namespace {

using internal::Indexed;
using internal::KeySet;
using internal::MapView;
using internal::Source;

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

const std::set<std::string, std::less<>>& ScrapeProtocols() {
  static const std::set<std::string, std::less<>> k = {
      "PrometheusProto", "OpenMetricsText0.0.1", "OpenMetricsText1.0.0", "PrometheusText0.0.4",
      "PrometheusText1.0.0"};
  return k;
}

Status CheckScrapeProtocols(const MapView& m, const std::vector<std::string>& protos) {
  std::set<std::string> seen;
  for (const auto& p : protos) {
    if (ScrapeProtocols().count(p) == 0) {
      return m.KeyError("scrape_protocols", "unknown scrape protocol " + Quote(p));
    }
    if (!seen.insert(p).second) {
      return m.KeyError("scrape_protocols", "duplicate scrape protocol " + Quote(p));
    }
  }
  return Status::OK();
}

Status CheckLabelNames(const MapView& m, std::string_view key,
                       const std::map<std::string, std::string>& labels) {
  for (const auto& [name, value] : labels) {
    if (!internal::IsValidLabelName(name)) {
      return m.KeyError(key, "invalid label name " + Quote(name));
    }
  }
  return Status::OK();
}

// Prometheus: an unset timeout takes the inherited one, capped at the interval; a set one
// must not exceed the interval.
Status ResolveTimeout(const MapView& m, Duration interval, std::optional<Duration> timeout,
                      Duration inherited, Duration* out) {
  if (!timeout || timeout->count() == 0) {
    *out = std::min(inherited, interval);
    return Status::OK();
  }
  if (*timeout > interval) {
    return m.KeyError("scrape_timeout", "scrape_timeout " + FormatDuration(*timeout) +
                                            " is greater than scrape_interval " +
                                            FormatDuration(interval));
  }
  *out = *timeout;
  return Status::OK();
}

Status ParseGlobal(const MapView& top, GlobalConfig* g) {
  static const KeySet kKeys{
      {"scrape_interval", "scrape_timeout", "evaluation_interval", "external_labels",
       "scrape_protocols", "sample_limit", "label_limit", "label_name_length_limit",
       "label_value_length_limit", "target_limit", "body_size_limit", "refresh_interval",
       "respect_cache_headers", "max_requests_per_hour"},
      {"rule_query_offset", "query_log_file", "scrape_failure_log_file", "keep_dropped_targets",
       "metric_name_validation_scheme", "metric_name_escaping_scheme",
       "always_scrape_classic_histograms", "convert_classic_histograms_to_nhcb"}};
  SB_ASSIGN_OR_RETURN(MapView m, MapView::Open(top.src(), top.Get("global"), "global", kKeys));
  std::optional<Duration> interval, timeout;
  SB_RETURN_IF_ERROR(m.Dur("scrape_interval", &interval));
  SB_RETURN_IF_ERROR(m.Dur("scrape_timeout", &timeout));
  if (interval && interval->count() > 0) g->scrape_interval = *interval;
  SB_RETURN_IF_ERROR(ResolveTimeout(m, g->scrape_interval, timeout, GlobalConfig{}.scrape_timeout,
                                    &g->scrape_timeout));
  SB_RETURN_IF_ERROR(m.Dur("evaluation_interval", &g->evaluation_interval));
  SB_RETURN_IF_ERROR(m.StringMap("external_labels", &g->external_labels));
  SB_RETURN_IF_ERROR(CheckLabelNames(m, "external_labels", g->external_labels));
  SB_RETURN_IF_ERROR(m.StringList("scrape_protocols", &g->scrape_protocols));
  SB_RETURN_IF_ERROR(CheckScrapeProtocols(m, g->scrape_protocols));
  SB_RETURN_IF_ERROR(m.Uint("sample_limit", &g->sample_limit));
  SB_RETURN_IF_ERROR(m.Uint("label_limit", &g->label_limit));
  SB_RETURN_IF_ERROR(m.Uint("label_name_length_limit", &g->label_name_length_limit));
  SB_RETURN_IF_ERROR(m.Uint("label_value_length_limit", &g->label_value_length_limit));
  SB_RETURN_IF_ERROR(m.Uint("target_limit", &g->target_limit));
  std::optional<int64_t> body;
  SB_RETURN_IF_ERROR(m.Size("body_size_limit", &body));
  if (body && *body > 0) g->body_size_limit_bytes = *body;
  SB_RETURN_IF_ERROR(m.Dur("refresh_interval", &g->refresh_interval));
  if (g->refresh_interval.count() <= 0) return m.ValueError("refresh_interval", "must be > 0");
  SB_RETURN_IF_ERROR(m.Bool("respect_cache_headers", &g->respect_cache_headers));
  SB_RETURN_IF_ERROR(m.Int("max_requests_per_hour", &g->max_requests_per_hour, 1));
  g->other_keys = m.TakePassthrough();
  return Status::OK();
}

// "host", "host:port", "[v6]", "[v6]:port" -> with the scheme's default port added.
// Returns an error text in *problem.
std::string NormalizeTarget(std::string_view t, const std::string& scheme, std::string* problem) {
  if (t.find("://") != std::string_view::npos) {
    *problem = "must be host[:port], not a URL (set scheme and metrics_path instead)";
    return "";
  }
  if (t.empty() || t.find_first_of("/?#@ \t") != std::string_view::npos) {
    *problem = "must be host[:port]";
    return "";
  }
  std::string_view host = t, port;
  if (t[0] == '[') {
    size_t close = t.find(']');
    if (close == std::string_view::npos) {
      *problem = "has an unclosed '['";
      return "";
    }
    host = t.substr(0, close + 1);
    std::string_view rest = t.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') {
        *problem = "must be [ipv6]:port";
        return "";
      }
      port = rest.substr(1);
      if (port.empty()) { *problem = "has an empty port"; return ""; }
    }
  } else {
    size_t colon = t.find(':');
    if (colon != std::string_view::npos) {
      if (t.find(':', colon + 1) != std::string_view::npos) {
        *problem = "has several ':' (put IPv6 addresses in brackets)";
        return "";
      }
      host = t.substr(0, colon);
      port = t.substr(colon + 1);
      if (port.empty()) { *problem = "has an empty port"; return ""; }
    }
  }
  if (host.empty() || host == "[]") {
    *problem = "has no host";
    return "";
  }
  if (!port.empty()) {
    int p = 0;
    for (char c : port) {
      if (c < '0' || c > '9' || p > 65535) { p = -1; break; }
      p = p * 10 + (c - '0');
    }
    if (p < 1 || p > 65535) {
      *problem = "has an invalid port";
      return "";
    }
    return std::string(t);
  }
  return std::string(host) + (scheme == "https" ? ":443" : ":80");
}

Status ParseStaticConfigs(const MapView& job, const std::string& scheme,
                          std::vector<StaticConfig>* out) {
  if (!job.Has("static_configs")) return Status::OK();
  YAML::Node list = job.Get("static_configs");
  if (!list.IsSequence()) return job.KeyError("static_configs", "expected a list");
  static const KeySet kKeys{{"targets", "labels"}};
  for (size_t i = 0; i < list.size(); ++i) {
    SB_ASSIGN_OR_RETURN(MapView m, MapView::Open(job.src(), list[i],
                                                 Indexed(job.Child("static_configs"), i), kKeys));
    StaticConfig sc;
    SB_RETURN_IF_ERROR(m.StringList("targets", &sc.targets));
    for (size_t t = 0; t < sc.targets.size(); ++t) {
      std::string problem;
      std::string norm = NormalizeTarget(sc.targets[t], scheme, &problem);
      if (!problem.empty()) {
        return job.src().ErrorAt(m.Get("targets")[t], "target " + Quote(sc.targets[t]) + " " +
                                                           problem + " in " +
                                                           Indexed(m.Child("targets"), t));
      }
      sc.targets[t] = std::move(norm);
    }
    SB_RETURN_IF_ERROR(m.StringMap("labels", &sc.labels));
    SB_RETURN_IF_ERROR(CheckLabelNames(m, "labels", sc.labels));
    out->push_back(std::move(sc));
  }
  return Status::OK();
}

const KeySet& ScrapeKeys() {
  static const KeySet k = [] {
    KeySet keys{{"job_name", "honor_labels", "honor_timestamps", "params", "scrape_interval",
                 "scrape_timeout", "scrape_protocols", "fallback_scrape_protocol",
                 "metrics_path", "scheme", "enable_compression", "body_size_limit",
                 "sample_limit", "label_limit", "label_name_length_limit",
                 "label_value_length_limit", "target_limit", "static_configs",
                 "relabel_configs", "metric_relabel_configs", "refresh_interval",
                 "respect_cache_headers", "max_requests_per_hour"},
                {"track_timestamps_staleness", "keep_dropped_targets",
                 "native_histogram_bucket_limit", "native_histogram_min_bucket_factor",
                 "scrape_classic_histograms", "always_scrape_classic_histograms",
                 "convert_classic_histograms_to_nhcb", "metric_name_validation_scheme",
                 "metric_name_escaping_scheme", "scrape_failure_log_file"}};
    for (const char* sd :
         {"file_sd_configs", "kubernetes_sd_configs", "consul_sd_configs", "dns_sd_configs",
          "ec2_sd_configs", "azure_sd_configs", "gce_sd_configs", "http_sd_configs",
          "docker_sd_configs", "dockerswarm_sd_configs", "openstack_sd_configs",
          "digitalocean_sd_configs", "hetzner_sd_configs", "eureka_sd_configs",
          "kuma_sd_configs", "lightsail_sd_configs", "linode_sd_configs", "marathon_sd_configs",
          "nerve_sd_configs", "nomad_sd_configs", "serverset_sd_configs", "triton_sd_configs",
          "uyuni_sd_configs", "vultr_sd_configs", "scaleway_sd_configs", "ionos_sd_configs",
          "puppetdb_sd_configs", "ovhcloud_sd_configs", "stackit_sd_configs"}) {
      keys.unsupported[sd] = "scout-bridge discovers targets only through static_configs";
    }
    internal::AddHttpClientKeys(&keys);
    return keys;
  }();
  return k;
}

Status ParseScrapeConfig(const MapView& m, const GlobalConfig& g, ScrapeConfig* job) {
  SB_RETURN_IF_ERROR(m.String("job_name", &job->job_name));
  if (job->job_name.empty()) {
    return job->job_name.empty() && m.Has("job_name")
               ? m.KeyError("job_name", "empty value")
               : m.src().ErrorAt(m.node(), "missing required key \"job_name\" in " + m.path());
  }
  SB_RETURN_IF_ERROR(m.String("scheme", &job->scheme));
  if (job->scheme != "http" && job->scheme != "https") {
    return m.KeyError("scheme", "invalid scheme " + Quote(job->scheme) + " (use http or https)");
  }
  SB_RETURN_IF_ERROR(m.String("metrics_path", &job->metrics_path));
  if (job->metrics_path.empty() || job->metrics_path[0] != '/') {
    return m.KeyError("metrics_path", "path " + Quote(job->metrics_path) + " must start with '/'");
  }
  SB_RETURN_IF_ERROR(m.StringListMap("params", &job->params));
  SB_RETURN_IF_ERROR(ParseStaticConfigs(m, job->scheme, &job->static_configs));
  SB_RETURN_IF_ERROR(m.Bool("honor_labels", &job->honor_labels));
  SB_RETURN_IF_ERROR(m.Bool("honor_timestamps", &job->honor_timestamps));
  SB_RETURN_IF_ERROR(m.Bool("enable_compression", &job->enable_compression));

  std::optional<Duration> interval, timeout;
  SB_RETURN_IF_ERROR(m.Dur("scrape_interval", &interval));
  SB_RETURN_IF_ERROR(m.Dur("scrape_timeout", &timeout));
  job->scrape_interval = interval && interval->count() > 0 ? *interval : g.scrape_interval;
  SB_RETURN_IF_ERROR(ResolveTimeout(m, job->scrape_interval, timeout, g.scrape_timeout,
                                    &job->scrape_timeout));

  SB_RETURN_IF_ERROR(m.StringList("scrape_protocols", &job->scrape_protocols));
  SB_RETURN_IF_ERROR(CheckScrapeProtocols(m, job->scrape_protocols));
  if (job->scrape_protocols.empty()) job->scrape_protocols = g.scrape_protocols;
  SB_RETURN_IF_ERROR(m.String("fallback_scrape_protocol", &job->fallback_scrape_protocol));
  if (!job->fallback_scrape_protocol.empty() &&
      ScrapeProtocols().count(job->fallback_scrape_protocol) == 0) {
    return m.KeyError("fallback_scrape_protocol",
                      "unknown scrape protocol " + Quote(job->fallback_scrape_protocol));
  }

  // Limits: 0 or absent inherits the global value, as in Prometheus.
  struct Limit { const char* key; uint64_t* field; uint64_t global; };
  for (const Limit& l : {Limit{"sample_limit", &job->sample_limit, g.sample_limit},
                         Limit{"label_limit", &job->label_limit, g.label_limit},
                         Limit{"label_name_length_limit", &job->label_name_length_limit,
                               g.label_name_length_limit},
                         Limit{"label_value_length_limit", &job->label_value_length_limit,
                               g.label_value_length_limit},
                         Limit{"target_limit", &job->target_limit, g.target_limit}}) {
    SB_RETURN_IF_ERROR(m.Uint(l.key, l.field));
    if (*l.field == 0) *l.field = l.global;
  }
  SB_RETURN_IF_ERROR(internal::ParseRelabelList(m, "relabel_configs", &job->relabel_configs));
  SB_RETURN_IF_ERROR(
      internal::ParseRelabelList(m, "metric_relabel_configs", &job->metric_relabel_configs));
  SB_RETURN_IF_ERROR(internal::ParseHttpClient(m, job));

  // Bridge-only overrides.
  std::optional<Duration> refresh;
  SB_RETURN_IF_ERROR(m.Dur("refresh_interval", &refresh));
  if (refresh && refresh->count() <= 0) return m.ValueError("refresh_interval", "must be > 0");
  job->refresh_interval = refresh.value_or(g.refresh_interval);
  std::optional<bool> respect;
  SB_RETURN_IF_ERROR(m.Bool("respect_cache_headers", &respect));
  job->respect_cache_headers = respect.value_or(g.respect_cache_headers);
  std::optional<int64_t> budget;
  SB_RETURN_IF_ERROR(m.Int("max_requests_per_hour", &budget, 1));
  job->max_requests_per_hour = budget.value_or(g.max_requests_per_hour);
  std::optional<int64_t> body;
  SB_RETURN_IF_ERROR(m.Size("body_size_limit", &body));
  job->body_size_limit_bytes = body && *body > 0 ? *body : g.body_size_limit_bytes;
  job->other_keys = m.TakePassthrough();
  return Status::OK();
}

Status ParseRecommendations(const MapView& top, RecommendationsConfig* r) {
  SB_ASSIGN_OR_RETURN(MapView m, MapView::Open(top.src(), top.Get("recommendations"),
                                               "recommendations",
                                               KeySet{{"sources", "scan_interval", "s3"}}));
  SB_RETURN_IF_ERROR(m.StringList("sources", &r->sources));
  SB_RETURN_IF_ERROR(m.Dur("scan_interval", &r->scan_interval));
  if (r->scan_interval.count() <= 0) return m.ValueError("scan_interval", "must be > 0");
  SB_ASSIGN_OR_RETURN(MapView s3, MapView::Open(m.src(), m.Get("s3"), m.Child("s3"),
                                                KeySet{{"endpoint", "region", "profile", "path_style"}}));
  SB_RETURN_IF_ERROR(s3.String("endpoint", &r->s3.endpoint));
  SB_RETURN_IF_ERROR(s3.String("region", &r->s3.region));
  SB_RETURN_IF_ERROR(s3.String("profile", &r->s3.profile));
  SB_RETURN_IF_ERROR(s3.Bool("path_style", &r->s3.path_style));
  const std::string& ep = r->s3.endpoint;
  if (ep.find('@') != std::string::npos) {  // never echo it: it may hold a password
    return s3.KeyError("endpoint", "must not contain user info (credentials come from the AWS "
                                   "environment variables or the shared credentials file)");
  }
  if (!ep.empty() && ep.rfind("http://", 0) != 0 && ep.rfind("https://", 0) != 0) {
    return s3.ValueError("endpoint", "must start with http:// or https://");
  }
  if (r->s3.region.empty()) return s3.ValueError("region", "must not be empty");
  return Status::OK();
}

// Iterates the list under `key` of `top`, calling fn(MapView, index).
template <typename Fn>
Status ForEachEntry(const MapView& top, const char* key, const KeySet& keys, Fn fn) {
  if (!top.Has(key)) return Status::OK();
  YAML::Node list = top.Get(key);
  if (!list.IsSequence()) return top.KeyError(key, "expected a list");
  for (size_t i = 0; i < list.size(); ++i) {
    SB_ASSIGN_OR_RETURN(MapView m, MapView::Open(top.src(), list[i], Indexed(key, i), keys));
    SB_RETURN_IF_ERROR(fn(m, i));
  }
  return Status::OK();
}

Result<Config> ParseInDir(std::string_view text, const std::string& source_name,
                          const std::string& dir) {
  Source src{source_name};
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return src.ErrorAt(e.mark, "YAML syntax error: " + e.msg);
  }
  static const KeySet kTop = [] {
    KeySet k{{"global", "scrape_configs", "remote_write", "recommendations"}};
    for (const char* key : {"alerting", "rule_files", "remote_read", "storage", "tracing",
                            "scrape_config_files", "otlp", "runtime"}) {
      k.unsupported[key] =
          "scout-bridge reads only global, scrape_configs, remote_write and recommendations";
    }
    return k;
  }();
  SB_ASSIGN_OR_RETURN(MapView top, MapView::Open(src, root, "", kTop));
  Config cfg;
  SB_RETURN_IF_ERROR(ParseGlobal(top, &cfg.global));

  std::map<std::string, size_t> job_index;
  SB_RETURN_IF_ERROR(ForEachEntry(top, "scrape_configs", ScrapeKeys(), [&](const MapView& m,
                                                                           size_t i) -> Status {
    ScrapeConfig job;
    SB_RETURN_IF_ERROR(ParseScrapeConfig(m, cfg.global, &job));
    auto [it, fresh] = job_index.emplace(job.job_name, i);
    if (!fresh) {
      return m.KeyError("job_name", "duplicate job_name " + Quote(job.job_name) +
                                        " (first defined in scrape_configs[" +
                                        std::to_string(it->second) + "])");
    }
    internal::ResolveHttpClientPaths(dir, &job);
    cfg.scrape_configs.push_back(std::move(job));
    return Status::OK();
  }));

  std::map<std::string, size_t> rw_names;
  SB_RETURN_IF_ERROR(ForEachEntry(top, "remote_write", internal::RemoteWriteKeys(), [&](const MapView& m,
                                                                         size_t i) -> Status {
    RemoteWriteConfig rw;
    SB_RETURN_IF_ERROR(internal::ParseRemoteWrite(m, &rw));
    if (!rw.name.empty()) {
      auto [it, fresh] = rw_names.emplace(rw.name, i);
      if (!fresh) {
        return m.KeyError("name", "duplicate remote_write name " + Quote(rw.name) +
                                      " (first defined in remote_write[" +
                                      std::to_string(it->second) + "])");
      }
    }
    internal::ResolveHttpClientPaths(dir, &rw);
    cfg.remote_write.push_back(std::move(rw));
    return Status::OK();
  }));
  SB_RETURN_IF_ERROR(ParseRecommendations(top, &cfg.recommendations));
  return cfg;
}

}  // namespace

Duration EffectiveRefresh(const ScrapeConfig& job) { return job.refresh_interval; }

Result<Config> ParseConfig(std::string_view yaml_text, const std::string& source_name) {
  return ParseInDir(yaml_text, source_name, "");
}

Result<Config> LoadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    std::string msg = "cannot read config file " + path + ": " + std::strerror(err);
    return err == ENOENT ? Status::NotFound(msg) : Status::IOError(msg);
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return Status::IOError("error reading config file " + path);
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  if (dir == ".") dir = "";  // Relative to the working directory: keep paths as written.
  return ParseInDir(buf.str(), path, dir);
}

}  // namespace sb::config
