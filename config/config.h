// The scout-bridge configuration: Prometheus-shaped YAML. A `scrape_configs` job block or a
// `remote_write` block copied from a prometheus.yml loads unchanged; fields that only the
// bridge has (refresh_interval, max_requests_per_hour, resend_interval, ...) sit next to
// them with their own defaults. docs/configuration.md lists every key.
//
// Loading is all-or-nothing: ParseConfig either returns a fully resolved, validated Config
// (every per-job field that inherits from `global` already holds its concrete value) or the
// first error as InvalidArgument "FILE:LINE:COL: what went wrong", naming the key. Unknown
// keys are errors, so a typo never silently falls back to a default.
//
// Secrets (tokens, passwords, TLS keys) are held as sb::Secret. DumpConfig prints them as
// "<secret>"; Fingerprint() includes them but only as part of a SHA-256 digest.
//
// Thread-safety: the structs are plain values; the functions are pure and reentrant.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/secret.h"
#include "common/status.h"

namespace sb::config {

// Default for body_size_limit when the config gives none or "0": 64 MiB. Unlike Prometheus,
// "0" does not mean "unlimited": the bridge bounds every upstream body before allocating.
inline constexpr int64_t kDefaultBodySizeLimitBytes = int64_t{64} << 20;

// `authorization:` block. Sent as "Authorization: <type> <credentials>".
struct Authorization {
  std::string type = "Bearer";   // Scheme word. Default "Bearer". "Basic" is rejected (use basic_auth).
  Secret credentials;            // Inline token. Exclusive with credentials_file. Never printed.
  std::string credentials_file;  // File holding the token; read by the HTTP client at request
                                 // time, so a rotated token needs no reload. Relative paths are
                                 // resolved against the config file's directory.
  bool operator==(const Authorization&) const = default;
};

// `basic_auth:` block.
struct BasicAuth {
  std::string username;       // Exclusive with username_file.
  std::string username_file;  // File holding the user name.
  Secret password;            // Exclusive with password_file. Never printed.
  std::string password_file;  // File holding the password.
  bool operator==(const BasicAuth&) const = default;
};

// `tls_config:` block. All fields optional; empty means "system default".
struct TlsConfig {
  std::string ca_file;             // PEM CA bundle used to verify the server. Exclusive with ca.
  std::string ca;                  // Inline PEM CA bundle.
  std::string cert_file;           // Client certificate (PEM); needs key_file or key.
  std::string cert;                // Inline client certificate.
  std::string key_file;            // Client private key (PEM).
  Secret key;                      // Inline client private key. Never printed.
  std::string server_name;         // SNI and verification name; default: the target's host.
  bool insecure_skip_verify = false;  // Skip certificate verification. Default false.
  std::string min_version;         // "TLS10".."TLS13"; empty = library default (TLS 1.2).
  std::string max_version;         // "TLS10".."TLS13"; empty = no cap.
  bool operator==(const TlsConfig&) const = default;
};

// The HTTP client keys Prometheus inlines into both scrape and remote-write blocks.
// Scrape and remote-write configs derive from it, so `job.authorization` reads as in YAML.
struct HttpClientConfig {
  std::optional<Authorization> authorization;  // Absent = no Authorization header. The legacy
                                               // bearer_token/_file keys load into this.
  std::optional<BasicAuth> basic_auth;         // Exclusive with authorization.
  TlsConfig tls_config;                        // Used for https.
  std::string proxy_url;                       // "http://host:port"; empty = no proxy. Its
                                               // password, if any, is masked in dumps.
  std::string no_proxy;                        // Comma-separated hosts that bypass proxy_url.
  bool proxy_from_environment = false;         // Use HTTP(S)_PROXY/NO_PROXY. Default false.
  bool follow_redirects = true;                // Follow 3xx. Default true.
  bool enable_http2 = true;                    // Accepted for compatibility; the bridge speaks
                                               // HTTP/1.1. Default true.
  bool operator==(const HttpClientConfig&) const = default;
};

// One entry of relabel_configs / metric_relabel_configs / write_relabel_configs.
// Defaults as in Prometheus. The regex is validated (RE2, anchored) at load time.
struct RelabelConfig {
  std::vector<std::string> source_labels;  // Labels whose values are joined with separator.
  std::string separator = ";";             // Default ";".
  std::string regex = "(.*)";              // Anchored RE2 pattern. Default "(.*)".
  std::string target_label;                // Required by replace, hashmod, lowercase, ...
  std::string replacement = "$1";          // Default "$1".
  std::string action = "replace";          // replace|keep|drop|keepequal|dropequal|hashmod|
                                           // labelmap|labeldrop|labelkeep|lowercase|uppercase.
  uint64_t modulus = 0;                    // For hashmod; must then be > 0.
  bool operator==(const RelabelConfig&) const = default;
};

// One `static_configs` entry.
struct StaticConfig {
  // "host:port" strings. A target given without a port gets the scheme's default
  // (80 for http, 443 for https) at load time, as Prometheus 2 does.
  std::vector<std::string> targets;
  std::map<std::string, std::string> labels;  // Attached to every series of these targets.
  bool operator==(const StaticConfig&) const = default;
};

// `global:` block. Fields marked "inherited" are the defaults of every scrape job.
struct GlobalConfig {
  Duration scrape_interval = std::chrono::minutes(1);   // Inherited. Default 1m.
  Duration scrape_timeout = std::chrono::seconds(10);   // Inherited. Default 10s, capped at
                                                        // scrape_interval when not set.
  Duration evaluation_interval = std::chrono::minutes(1);  // Accepted, ignored (no rules).
  std::map<std::string, std::string> external_labels;   // Added to remote-write and federation
                                                        // output. Ordered by name.
  std::vector<std::string> scrape_protocols;  // Inherited. Empty = bridge default order.
  uint64_t sample_limit = 0;              // Inherited. 0 = no limit.
  uint64_t label_limit = 0;               // Inherited. 0 = no limit.
  uint64_t label_name_length_limit = 0;   // Inherited. 0 = no limit.
  uint64_t label_value_length_limit = 0;  // Inherited. 0 = no limit.
  uint64_t target_limit = 0;              // Inherited. 0 = no limit.
  // Bridge-only, inherited by every job (see docs/configuration.md for why):
  Duration refresh_interval = std::chrono::minutes(60);  // Minimum time between upstream
                                                         // fetches of one target. Default 60m.
  bool respect_cache_headers = true;   // Also wait for Cache-Control max-age/Expires. Default true.
  int64_t max_requests_per_hour = 6;   // Hard per-target upstream budget incl. retries. Default 6.
  int64_t body_size_limit_bytes = kDefaultBodySizeLimitBytes;  // Key body_size_limit. 64 MiB.
  // Other Prometheus global keys that are accepted but not acted upon (e.g.
  // rule_query_offset, query_log_file), as key -> scalar text. Kept for reload comparison.
  std::map<std::string, std::string> other_keys;
  bool operator==(const GlobalConfig&) const = default;
};

// One `scrape_configs` entry, fully resolved: inherited fields hold concrete values.
struct ScrapeConfig : HttpClientConfig {
  std::string job_name;                      // Required, unique. Becomes the `job` label.
  std::string metrics_path = "/metrics";     // Must start with '/'. Default "/metrics".
  std::string scheme = "http";               // "http" or "https". Default "http".
  std::map<std::string, std::vector<std::string>> params;  // URL query parameters.
  std::vector<StaticConfig> static_configs;  // The targets; the only discovery supported.
  bool honor_labels = false;                 // Keep scraped labels on conflict. Default false.
  bool honor_timestamps = true;              // Keep exposed timestamps. Default true.
  bool enable_compression = true;            // Ask upstream for gzip. Default true.
  Duration scrape_interval{};                // Inherited from global. A wish, never permission
                                             // to fetch upstream more often than refresh_interval.
  Duration scrape_timeout{};                 // Upstream request timeout. Inherited; <= interval.
  std::vector<std::string> scrape_protocols;  // Accept-header preference. Inherited.
  std::string fallback_scrape_protocol;       // Used when Content-Type is missing/unknown.
  uint64_t sample_limit = 0;                 // Inherited. 0 = no limit.
  uint64_t label_limit = 0;                  // Inherited. 0 = no limit.
  uint64_t label_name_length_limit = 0;      // Inherited. 0 = no limit.
  uint64_t label_value_length_limit = 0;     // Inherited. 0 = no limit.
  uint64_t target_limit = 0;                 // Inherited. 0 = no limit.
  std::vector<RelabelConfig> relabel_configs;         // Target relabeling.
  std::vector<RelabelConfig> metric_relabel_configs;  // Series relabeling after a fetch.
  // Bridge-only per-job overrides, inherited from global when absent:
  Duration refresh_interval{};       // > 0. See EffectiveRefresh().
  bool respect_cache_headers = true;
  int64_t max_requests_per_hour = 0;  // >= 1.
  int64_t body_size_limit_bytes = 0;  // > 0 after resolution ("0" means the default).
  // Accepted Prometheus job keys not acted upon (e.g. track_timestamps_staleness), as
  // key -> scalar text.
  std::map<std::string, std::string> other_keys;

  // A stable digest (64 hex chars, SHA-256) of every field including secrets, so that a
  // reload can tell whether this job changed. Safe to log: it reveals no secret.
  std::string Fingerprint() const;
  bool operator==(const ScrapeConfig&) const = default;
};

// The minimum time between two upstream fetches of one target of `job`: refresh_interval.
// scrape_interval never lowers it; the scheduler may raise it further (cache headers).
Duration EffectiveRefresh(const ScrapeConfig& job);

// `remote_write[].queue_config:` block. Defaults as in Prometheus.
struct QueueConfig {
  int64_t capacity = 10000;           // Samples buffered per shard. Default 10000.
  int64_t max_shards = 50;            // Default 50.
  int64_t min_shards = 1;             // Default 1; <= max_shards.
  int64_t max_samples_per_send = 2000;  // Samples per request. Default 2000.
  Duration batch_send_deadline = std::chrono::seconds(5);  // Flush a partial batch after. 5s.
  Duration min_backoff = std::chrono::milliseconds(30);    // First retry delay. Default 30ms.
  Duration max_backoff = std::chrono::seconds(5);          // Retry delay cap. Default 5s.
  bool retry_on_http_429 = true;      // Retry 429 like 5xx (honouring Retry-After). Default true.
  Duration sample_age_limit{};        // Drop samples older than this; 0 = keep. Default 0.
  bool operator==(const QueueConfig&) const = default;
};

// `remote_write[].metadata_config:` block.
struct MetadataConfig {
  bool send = true;                                        // Send metric metadata. Default true.
  Duration send_interval = std::chrono::minutes(1);        // Default 1m.
  int64_t max_samples_per_send = 2000;                     // Default 2000.
  bool operator==(const MetadataConfig&) const = default;
};

// One `remote_write` entry.
struct RemoteWriteConfig : HttpClientConfig {
  std::string url;                                    // Required; http or https.
  std::string name;                                   // Optional, unique; for logs and metrics.
  Duration remote_timeout = std::chrono::seconds(30); // Per request. Default 30s.
  std::map<std::string, std::string> headers;         // Extra request headers (e.g.
                                                      // X-Scope-OrgID). Protocol-owned ones are
                                                      // rejected. Values of auth-looking names
                                                      // are masked in dumps.
  std::vector<RelabelConfig> write_relabel_configs;   // Applied before sending.
  std::string protobuf_message = "prometheus.WriteRequest";  // Or "io.prometheus.write.v2.Request".
  bool send_exemplars = false;          // Default false.
  bool send_native_histograms = false;  // Default false.
  bool round_robin_dns = false;         // Default false.
  QueueConfig queue_config;
  MetadataConfig metadata_config;
  // Bridge-only:
  Duration resend_interval = std::chrono::seconds(60);  // Re-send current values, stamped at
                                                        // send time, this often. Default 60s.
  Duration max_backfill = std::chrono::minutes(50);     // Never send samples older than this
                                                        // (receivers reject old data). 50m.

  // As ScrapeConfig::Fingerprint().
  std::string Fingerprint() const;
  bool operator==(const RemoteWriteConfig&) const = default;
};

// `recommendations.s3:` settings used by every s3:// source (see docs/s3.md).
// Credentials are not here: they come from the AWS environment variables or the shared
// credentials file (recommendations/aws_credentials.h).
struct RecommendationsS3Config {
  std::string endpoint;               // "" = AWS itself; else "http[s]://host[:port]" of an
                                      // S3-compatible store (MinIO, Ceph, s3rver...).
  std::string region = "us-east-1";   // Signing region (and the AWS host name).
  std::string profile;                // Shared-credentials profile; "" = AWS_ACCESS_KEY_ID...
                                      // from the environment, else AWS_PROFILE or "default".
  bool path_style = false;            // host/bucket/key instead of bucket.host/key.
  bool operator==(const RecommendationsS3Config&) const = default;
};

// `recommendations:` block (bridge-only; placeholder for the reports feature).
struct RecommendationsConfig {
  std::vector<std::string> sources;                      // Directories or s3:// URLs.
  Duration scan_interval = std::chrono::minutes(10);     // Default 10m.
  RecommendationsS3Config s3;                            // For the s3:// sources.
  bool operator==(const RecommendationsConfig&) const = default;
};

struct Config {
  GlobalConfig global;
  std::vector<ScrapeConfig> scrape_configs;     // Unique job_name, in file order.
  std::vector<RemoteWriteConfig> remote_write;  // In file order.
  RecommendationsConfig recommendations;
  bool operator==(const Config&) const = default;
};

// Parses `yaml_text`. `source_name` prefixes every error ("prometheus.yml:7:5: ...").
// Relative file paths (credentials_file, ca_file, ...) are kept as written.
// Returns InvalidArgument on the first syntax, type or validation error.
Result<Config> ParseConfig(std::string_view yaml_text, const std::string& source_name);

// Reads and parses the file at `path`; relative file paths inside it are resolved against
// the file's directory, as Prometheus does. Returns NotFound/IOError if it cannot be read,
// else as ParseConfig with source_name = path.
Result<Config> LoadConfigFile(const std::string& path);

// The effective config as YAML (defaults and inherited values spelled out). Every secret
// prints as "<secret>", as does the password in a URL and auth-looking header values.
std::string DumpConfig(const Config& config);

// Parses a Prometheus byte size: "0", "512B", "10KB"/"10KiB", "50MB", "1.5GiB", or a
// sequence like "1GB512MB". K/M/G/T/P/E are 1024-based with or without the "i", as in
// Prometheus (units.ParseBase2Bytes). "0" returns 0; the caller maps it to its default.
Result<int64_t> ParseByteSize(std::string_view text);

}  // namespace sb::config
