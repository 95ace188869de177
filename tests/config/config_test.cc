#include "config/config.h"

#include <set>
#include <string>

#include "tests/testing/scout_sample_job.h"
#include "tests/testing/testing.h"

namespace sb::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

constexpr const char* kSeedPrometheusYaml = testing::kScoutSamplePrometheusYaml;

// A realistic Mimir block as found in a prometheus.yml.
constexpr const char* kMimirRemoteWrite = R"(remote_write:
  - url: https://mimir.example.com/api/v1/push
    name: mimir-team-a
    remote_timeout: 20s
    headers:
      X-Scope-OrgID: team-a
    basic_auth:
      username: team-a
      password: mimir-password-123
    queue_config:
      capacity: 2500
      max_shards: 200
      min_shards: 2
      max_samples_per_send: 500
      batch_send_deadline: 10s
      min_backoff: 50ms
      max_backoff: 10s
      retry_on_http_429: false
    metadata_config:
      send: false
      send_interval: 2m
    write_relabel_configs:
      - source_labels: [__name__]
        regex: "go_.*|process_.*"
        action: drop
      - source_labels: [image, tag]
        separator: ":"
        target_label: image_ref
    tls_config:
      insecure_skip_verify: false
      min_version: TLS12
)";

Config MustParse(std::string_view text) {
  Result<Config> r = ParseConfig(text, "prometheus.yml");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : Config{};
}

std::string ErrorOf(std::string_view text) {
  Result<Config> r = ParseConfig(text, "prometheus.yml");
  EXPECT_FALSE(r.ok()) << "expected an error for:\n" << text;
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  return r.status().message();
}

TEST(ConfigTest, SeedJobBlockLoadsVerbatim) {
  Config c = MustParse(kSeedPrometheusYaml);
  EXPECT_EQ(c.global.scrape_interval, 60s);
  EXPECT_EQ(c.global.scrape_timeout, 40s);
  ASSERT_EQ(c.scrape_configs.size(), 1u);
  const ScrapeConfig& job = c.scrape_configs[0];
  EXPECT_EQ(job.job_name, "<ORG>");
  EXPECT_EQ(job.metrics_path, "/v1/exporter/org/<ORG>/metrics");
  EXPECT_EQ(job.scheme, "https");
  ASSERT_EQ(job.static_configs.size(), 1u);
  EXPECT_EQ(job.static_configs[0].targets, std::vector<std::string>{"api.scout.docker.com:443"});
  ASSERT_TRUE(job.authorization.has_value());
  EXPECT_EQ(job.authorization->type, "Bearer");
  EXPECT_TRUE(job.authorization->credentials.empty());
  EXPECT_EQ(job.authorization->credentials_file, "/etc/prometheus/token");
  EXPECT_FALSE(job.basic_auth.has_value());
  // Inherited from global (Prometheus semantics) and from the bridge defaults.
  EXPECT_EQ(job.scrape_interval, 60s);
  EXPECT_EQ(job.scrape_timeout, 40s);
  EXPECT_EQ(job.refresh_interval, 60min);
  EXPECT_EQ(EffectiveRefresh(job), 60min);
  EXPECT_TRUE(job.respect_cache_headers);
  EXPECT_EQ(job.max_requests_per_hour, 6);
  EXPECT_EQ(job.body_size_limit_bytes, 64 << 20);
  EXPECT_TRUE(job.honor_timestamps);
}

TEST(ConfigTest, EmptyFileGivesDefaults) {
  for (const char* text : {"", "\n", "# only a comment\n", "---\n"}) {
    Config c = MustParse(text);
    EXPECT_EQ(c, Config{}) << "text: " << text;
  }
  GlobalConfig g;
  EXPECT_EQ(g.scrape_interval, 1min);
  EXPECT_EQ(g.scrape_timeout, 10s);
  EXPECT_EQ(g.refresh_interval, 60min);
  EXPECT_TRUE(g.respect_cache_headers);
  EXPECT_EQ(g.max_requests_per_hour, 6);
  EXPECT_EQ(g.body_size_limit_bytes, 64 << 20);
  EXPECT_EQ(RecommendationsConfig{}.scan_interval, 10min);
}

TEST(ConfigTest, UnknownKeyIsRejectedWithLine) {
  EXPECT_EQ(ErrorOf("global:\n"
                    "  scrape_interval: 30s\n"
                    "scrape_configs:\n"
                    "  - job_name: a\n"
                    "    scrape_intervall: 5m\n"),
            "prometheus.yml:5:5: unknown key \"scrape_intervall\" in scrape_configs[0]");
  EXPECT_EQ(ErrorOf("globall: {}\n"), "prometheus.yml:1:1: unknown key \"globall\" at the top level");
  EXPECT_EQ(ErrorOf("scrape_configs:\n"
                    "  - job_name: a\n"
                    "    authorization:\n"
                    "      credential: x\n"),
            "prometheus.yml:4:7: unknown key \"credential\" in scrape_configs[0].authorization");
  EXPECT_EQ(ErrorOf("remote_write:\n"
                    "  - url: http://127.0.0.1:9/w\n"
                    "    queue_config: {capacity: 5, max_shard: 3}\n"),
            "prometheus.yml:3:33: unknown key \"max_shard\" in remote_write[0].queue_config");
}

TEST(ConfigTest, UnsupportedPrometheusKeysAreRejectedWithReason) {
  std::string err = ErrorOf("scrape_configs:\n"
                            "  - job_name: a\n"
                            "    file_sd_configs: [{files: [x.json]}]\n");
  EXPECT_THAT(err, HasSubstr("prometheus.yml:3:5: unsupported key \"file_sd_configs\""));
  EXPECT_THAT(err, HasSubstr("static_configs"));
  EXPECT_THAT(ErrorOf("rule_files: [a.yml]\n"), HasSubstr("1:1: unsupported key \"rule_files\""));
}

TEST(ConfigTest, BadDurationNamesKeyAndLine) {
  EXPECT_EQ(ErrorOf("scrape_configs:\n"
                    "  - job_name: a\n"
                    "    refresh_interval: 5x\n"),
            "prometheus.yml:3:23: invalid duration \"5x\" (use e.g. 30s, 5m, 1h30m) for key "
            "\"refresh_interval\" in scrape_configs[0]");
  EXPECT_THAT(ErrorOf("global:\n  scrape_timeout: ten\n"),
              HasSubstr("prometheus.yml:2:19: invalid duration \"ten\""));
}

TEST(ConfigTest, BadBooleanAndIntegerNameKeyAndLine) {
  EXPECT_THAT(ErrorOf("scrape_configs:\n  - job_name: a\n    honor_labels: maybe\n"),
              HasSubstr("3:19: invalid boolean \"maybe\" for key \"honor_labels\""));
  EXPECT_THAT(ErrorOf("global:\n  max_requests_per_hour: lots\n"),
              HasSubstr("2:26: invalid integer \"lots\" for key \"max_requests_per_hour\" in global"));
  EXPECT_THAT(ErrorOf("global:\n  sample_limit: [1]\n"),
              HasSubstr("expected an integer (got a sequence) for key \"sample_limit\""));
}

TEST(ConfigTest, YamlSyntaxErrorHasPosition) {
  EXPECT_THAT(ErrorOf("global:\n  scrape_interval: [1m\n"),
              ::testing::StartsWith("prometheus.yml:"));
  EXPECT_THAT(ErrorOf("global:\n  scrape_interval: [1m\n"), HasSubstr("YAML syntax error"));
}

TEST(ConfigTest, DuplicateKeyIsRejected) {
  EXPECT_THAT(ErrorOf("global:\n  scrape_interval: 1m\n  scrape_interval: 2m\n"),
              HasSubstr("3:3: duplicate key \"scrape_interval\" in global"));
}

TEST(ConfigTest, PerJobOverridesGlobal) {
  Config c = MustParse(R"(global:
  scrape_interval: 30s
  refresh_interval: 2h
  respect_cache_headers: false
  max_requests_per_hour: 3
  body_size_limit: 10MB
  sample_limit: 1000
scrape_configs:
  - job_name: inherits
  - job_name: overrides
    scrape_interval: 15s
    scrape_timeout: 5s
    refresh_interval: 30m
    respect_cache_headers: true
    max_requests_per_hour: 12
    body_size_limit: 1GiB
    sample_limit: 50
)");
  ASSERT_EQ(c.scrape_configs.size(), 2u);
  const ScrapeConfig& a = c.scrape_configs[0];
  EXPECT_EQ(a.scrape_interval, 30s);
  EXPECT_EQ(a.scrape_timeout, 10s);
  EXPECT_EQ(a.refresh_interval, 2h);
  EXPECT_FALSE(a.respect_cache_headers);
  EXPECT_EQ(a.max_requests_per_hour, 3);
  EXPECT_EQ(a.body_size_limit_bytes, 10 << 20);
  EXPECT_EQ(a.sample_limit, 1000u);
  const ScrapeConfig& b = c.scrape_configs[1];
  EXPECT_EQ(b.scrape_interval, 15s);
  EXPECT_EQ(b.scrape_timeout, 5s);
  EXPECT_EQ(b.refresh_interval, 30min);
  EXPECT_TRUE(b.respect_cache_headers);
  EXPECT_EQ(b.max_requests_per_hour, 12);
  EXPECT_EQ(b.body_size_limit_bytes, int64_t{1} << 30);
  EXPECT_EQ(b.sample_limit, 50u);
}

TEST(ConfigTest, InheritedTimeoutIsCappedAtJobInterval) {
  // Prometheus: a job with a 5s interval and no timeout gets min(global timeout, 5s).
  Config c = MustParse("scrape_configs:\n  - job_name: fast\n    scrape_interval: 5s\n");
  EXPECT_EQ(c.scrape_configs[0].scrape_timeout, 5s);
}

TEST(ConfigTest, ScrapeTimeoutAboveIntervalIsRejected) {
  EXPECT_THAT(ErrorOf("scrape_configs:\n  - job_name: a\n    scrape_interval: 10s\n"
                      "    scrape_timeout: 20s\n"),
              HasSubstr("4:21: scrape_timeout 20s is greater than scrape_interval 10s"));
  EXPECT_THAT(ErrorOf("global:\n  scrape_interval: 10s\n  scrape_timeout: 11s\n"),
              HasSubstr("in global"));
}

TEST(ConfigTest, ScrapeIntervalNeverLowersRefresh) {
  Config c = MustParse("scrape_configs:\n  - job_name: a\n    scrape_interval: 15s\n");
  EXPECT_EQ(c.scrape_configs[0].scrape_interval, 15s);
  EXPECT_EQ(EffectiveRefresh(c.scrape_configs[0]), 60min);
}

TEST(ConfigTest, BridgeBoundsAreValidated) {
  EXPECT_THAT(ErrorOf("scrape_configs:\n  - job_name: a\n    max_requests_per_hour: 0\n"),
              HasSubstr("3:28: value 0 out of range (>= 1) for key \"max_requests_per_hour\""));
  EXPECT_THAT(ErrorOf("scrape_configs:\n  - job_name: a\n    refresh_interval: 0s\n"),
              HasSubstr("3:23: value \"0s\" must be > 0 for key \"refresh_interval\" in scrape_configs[0]"));
  EXPECT_THAT(ErrorOf("global:\n  refresh_interval: 0\n"), HasSubstr("\"refresh_interval\" in global"));
}

TEST(ConfigTest, TargetsGetSchemeDefaultPortAndAreValidated) {
  Config c = MustParse(R"(scrape_configs:
  - job_name: plain
    static_configs:
      - targets: [a.example, "b.example:9100", "[::1]", "[::1]:8080", 10.0.0.1]
        labels: {env: prod}
)");
  EXPECT_EQ(c.scrape_configs[0].static_configs[0].targets,
            (std::vector<std::string>{"a.example:80", "b.example:9100", "[::1]:80",
                                      "[::1]:8080", "10.0.0.1:80"}));
  EXPECT_EQ(c.scrape_configs[0].static_configs[0].labels.at("env"), "prod");
  EXPECT_THAT(ErrorOf("scrape_configs:\n  - job_name: a\n    static_configs:\n"
                      "      - targets: [ok:1, 'https://x/metrics']\n"),
              HasSubstr("4:25: target \"https://x/metrics\" must be host[:port], not a URL"));
  EXPECT_THAT(ErrorOf("scrape_configs:\n  - job_name: a\n    static_configs:\n"
                      "      - targets: ['x:99999']\n"),
              HasSubstr("has an invalid port"));
  EXPECT_THAT(ErrorOf("scrape_configs:\n  - job_name: a\n    static_configs:\n"
                      "      - targets: ['::1']\n"),
              HasSubstr("brackets"));
  EXPECT_THAT(ErrorOf("scrape_configs:\n  - job_name: a\n    static_configs:\n"
                      "      - targets: [x]\n        labels: {1bad: v}\n"),
              HasSubstr("invalid label name \"1bad\""));
}

TEST(ConfigTest, SchemeAndMetricsPathAreValidated) {
  EXPECT_THAT(ErrorOf("scrape_configs:\n  - job_name: a\n    scheme: ftp\n"),
              HasSubstr("3:13: invalid scheme \"ftp\" (use http or https) for key \"scheme\""));
  EXPECT_THAT(ErrorOf("scrape_configs:\n  - job_name: a\n    metrics_path: metrics\n"),
              HasSubstr("3:19: path \"metrics\" must start with '/'"));
  EXPECT_THAT(ErrorOf("scrape_configs:\n  - scheme: http\n"),
              HasSubstr("2:5: missing required key \"job_name\" in scrape_configs[0]"));
}

TEST(ConfigTest, DuplicateJobNameIsRejected) {
  EXPECT_EQ(ErrorOf("scrape_configs:\n  - job_name: scout\n  - job_name: other\n"
                    "  - job_name: scout\n"),
            "prometheus.yml:4:15: duplicate job_name \"scout\" (first defined in "
            "scrape_configs[0]) for key \"job_name\" in scrape_configs[2]");
}

TEST(ConfigTest, CredentialsAndFileAreExclusive) {
  EXPECT_THAT(ErrorOf("scrape_configs:\n  - job_name: a\n    authorization:\n"
                      "      credentials: tok-123\n      credentials_file: /t\n"),
              HasSubstr("5:7: \"credentials\" and \"credentials_file\" are mutually exclusive in "
                        "scrape_configs[0].authorization"));
  EXPECT_THAT(ErrorOf("scrape_configs:\n  - job_name: a\n    basic_auth:\n"
                      "      username: u\n      password: p\n      password_file: /p\n"),
              HasSubstr("\"password\" and \"password_file\" are mutually exclusive"));
  EXPECT_THAT(ErrorOf("scrape_configs:\n  - job_name: a\n    authorization: {credentials: x}\n"
                      "    basic_auth: {username: u}\n"),
              HasSubstr("\"authorization\" and \"basic_auth\" are mutually exclusive"));
  EXPECT_THAT(ErrorOf("scrape_configs:\n  - job_name: a\n    authorization: {type: basic}\n"),
              HasSubstr("use basic_auth"));
  // The secret itself never appears in an error.
  EXPECT_THAT(ErrorOf("scrape_configs:\n  - job_name: a\n    authorization:\n"
                      "      credentials: tok-123\n      credentials_file: /t\n"),
              Not(HasSubstr("tok-123")));
}

TEST(ConfigTest, LegacyBearerTokenBecomesAuthorization) {
  Config c = MustParse("scrape_configs:\n  - job_name: a\n    bearer_token_file: /run/tok\n");
  ASSERT_TRUE(c.scrape_configs[0].authorization.has_value());
  EXPECT_EQ(c.scrape_configs[0].authorization->type, "Bearer");
  EXPECT_EQ(c.scrape_configs[0].authorization->credentials_file, "/run/tok");
  EXPECT_THAT(ErrorOf("scrape_configs:\n  - job_name: a\n    bearer_token: x\n"
                      "    authorization: {credentials: y}\n"),
              HasSubstr("mutually exclusive"));
}

TEST(ConfigTest, PastedPrometheusJobKeysAreKept) {
  Config c = MustParse(R"(scrape_configs:
  - job_name: full
    honor_labels: true
    honor_timestamps: false
    track_timestamps_staleness: true
    scrape_protocols: [OpenMetricsText1.0.0, PrometheusText0.0.4]
    fallback_scrape_protocol: PrometheusText0.0.4
    enable_compression: false
    follow_redirects: false
    enable_http2: false
    params:
      module: [http_2xx]
    tls_config:
      ca_file: ca.pem
      server_name: api.example
    proxy_url: http://user:proxy-pass@proxy.local:3128
    relabel_configs:
      - source_labels: [__address__]
        target_label: instance
    metric_relabel_configs:
      - action: hashmod
        source_labels: [instance]
        target_label: shard
        modulus: 4
      - action: labeldrop
        regex: tmp_.*
)");
  const ScrapeConfig& j = c.scrape_configs[0];
  EXPECT_TRUE(j.honor_labels);
  EXPECT_FALSE(j.honor_timestamps);
  EXPECT_EQ(j.scrape_protocols,
            (std::vector<std::string>{"OpenMetricsText1.0.0", "PrometheusText0.0.4"}));
  EXPECT_EQ(j.fallback_scrape_protocol, "PrometheusText0.0.4");
  EXPECT_FALSE(j.enable_compression);
  EXPECT_FALSE(j.follow_redirects);
  EXPECT_FALSE(j.enable_http2);
  EXPECT_EQ(j.params.at("module"), std::vector<std::string>{"http_2xx"});
  EXPECT_EQ(j.tls_config.ca_file, "ca.pem");
  EXPECT_EQ(j.tls_config.server_name, "api.example");
  EXPECT_EQ(j.other_keys.at("track_timestamps_staleness"), "true");
  ASSERT_EQ(j.relabel_configs.size(), 1u);
  EXPECT_EQ(j.relabel_configs[0].action, "replace");
  EXPECT_EQ(j.relabel_configs[0].regex, "(.*)");
  EXPECT_EQ(j.relabel_configs[0].replacement, "$1");
  EXPECT_EQ(j.relabel_configs[0].separator, ";");
  ASSERT_EQ(j.metric_relabel_configs.size(), 2u);
  EXPECT_EQ(j.metric_relabel_configs[0].modulus, 4u);
  EXPECT_EQ(j.metric_relabel_configs[1].action, "labeldrop");
}

TEST(ConfigTest, RelabelConfigsAreValidated) {
  EXPECT_THAT(ErrorOf("scrape_configs:\n  - job_name: a\n    relabel_configs:\n"
                      "      - regex: '(unclosed'\n        target_label: x\n"),
              HasSubstr("4:16: invalid regex \"(unclosed\""));
  EXPECT_THAT(ErrorOf("scrape_configs:\n  - job_name: a\n    relabel_configs:\n"
                      "      - action: hashmod\n        target_label: x\n"),
              HasSubstr("requires a non-zero modulus in scrape_configs[0].relabel_configs[0]"));
  EXPECT_THAT(ErrorOf("scrape_configs:\n  - job_name: a\n    metric_relabel_configs:\n"
                      "      - action: explode\n"),
              HasSubstr("unknown relabel action \"explode\""));
  EXPECT_THAT(ErrorOf("scrape_configs:\n  - job_name: a\n    relabel_configs:\n"
                      "      - source_labels: [a]\n"),
              HasSubstr("requires target_label"));
}

TEST(ConfigTest, RemoteWriteBlockFromPrometheusLoads) {
  Config c = MustParse(kMimirRemoteWrite);
  ASSERT_EQ(c.remote_write.size(), 1u);
  const RemoteWriteConfig& rw = c.remote_write[0];
  EXPECT_EQ(rw.url, "https://mimir.example.com/api/v1/push");
  EXPECT_EQ(rw.name, "mimir-team-a");
  EXPECT_EQ(rw.remote_timeout, 20s);
  EXPECT_EQ(rw.headers.at("X-Scope-OrgID"), "team-a");
  ASSERT_TRUE(rw.basic_auth.has_value());
  EXPECT_EQ(rw.basic_auth->username, "team-a");
  EXPECT_EQ(rw.basic_auth->password.Reveal(), "mimir-password-123");
  EXPECT_EQ(rw.queue_config.capacity, 2500);
  EXPECT_EQ(rw.queue_config.max_shards, 200);
  EXPECT_EQ(rw.queue_config.min_shards, 2);
  EXPECT_EQ(rw.queue_config.max_samples_per_send, 500);
  EXPECT_EQ(rw.queue_config.batch_send_deadline, 10s);
  EXPECT_EQ(rw.queue_config.min_backoff, 50ms);
  EXPECT_EQ(rw.queue_config.max_backoff, 10s);
  EXPECT_FALSE(rw.queue_config.retry_on_http_429);
  EXPECT_FALSE(rw.metadata_config.send);
  EXPECT_EQ(rw.metadata_config.send_interval, 2min);
  ASSERT_EQ(rw.write_relabel_configs.size(), 2u);
  EXPECT_EQ(rw.write_relabel_configs[0].action, "drop");
  EXPECT_EQ(rw.write_relabel_configs[0].regex, "go_.*|process_.*");
  EXPECT_EQ(rw.write_relabel_configs[1].separator, ":");
  EXPECT_EQ(rw.tls_config.min_version, "TLS12");
  EXPECT_EQ(rw.protobuf_message, "prometheus.WriteRequest");
  // Bridge-only defaults.
  EXPECT_EQ(rw.resend_interval, 60s);
  EXPECT_EQ(rw.max_backfill, 50min);
}

TEST(ConfigTest, RemoteWriteDefaultsMatchPrometheus) {
  Config c = MustParse("remote_write:\n  - url: http://127.0.0.1:9090/api/v1/write\n");
  const RemoteWriteConfig& rw = c.remote_write[0];
  EXPECT_EQ(rw.remote_timeout, 30s);
  EXPECT_EQ(rw.queue_config.max_samples_per_send, 2000);
  EXPECT_EQ(rw.queue_config.batch_send_deadline, 5s);
  EXPECT_EQ(rw.queue_config.min_backoff, 30ms);
  EXPECT_EQ(rw.queue_config.max_backoff, 5s);
  EXPECT_TRUE(rw.queue_config.retry_on_http_429);
  EXPECT_TRUE(rw.metadata_config.send);
  EXPECT_THAT(ErrorOf("remote_write:\n  - name: x\n"), HasSubstr("missing required key \"url\""));
  EXPECT_THAT(ErrorOf("remote_write:\n  - url: ftp://x/\n"), HasSubstr("unsupported URL scheme"));
  EXPECT_THAT(ErrorOf("remote_write:\n  - url: http://x/\n    protobuf_message: v3\n"),
              HasSubstr("unknown message \"v3\""));
  EXPECT_THAT(ErrorOf("remote_write:\n  - url: http://x/\n    name: a\n  - url: http://y/\n"
                      "    name: a\n"),
              HasSubstr("duplicate remote_write name \"a\""));
}

TEST(ConfigTest, ProtocolHeadersAreRejected) {
  for (const char* header : {"Content-Encoding", "Content-Type", "X-Prometheus-Remote-Write-Version",
                             "User-Agent", "content-type"}) {
    std::string text = std::string("remote_write:\n  - url: http://127.0.0.1:9/api/v1/write\n"
                                   "    headers:\n      ") + header + ": x\n";
    EXPECT_THAT(ErrorOf(text), HasSubstr("header \"" + std::string(header) +
                                         "\" is owned by the remote-write protocol"))
        << header;
    EXPECT_THAT(ErrorOf(text), ::testing::StartsWith("prometheus.yml:4:7: ")) << header;
  }
  EXPECT_THAT(ErrorOf("remote_write:\n  - url: http://x/\n    headers: {Authorization: Bearer x}\n"),
              HasSubstr("authorization or basic_auth block"));
}

TEST(ConfigTest, DumpMasksSecrets) {
  Config c = MustParse(std::string(R"(scrape_configs:
  - job_name: scout
    scheme: https
    authorization:
      credentials: dckr_pat_SUPERSECRET
    tls_config:
      cert: CERTTEXT
      key: PRIVATEKEYTEXT
    proxy_url: http://proxyuser:proxypass99@proxy:3128
    static_configs: [{targets: [api.scout.docker.com]}]
)") + std::string(kMimirRemoteWrite) + "    # second entry\n"
      "  - url: https://u:urlpass77@vm.example/api/v1/write\n"
      "    headers: {X-Api-Key: headerkey55, X-Scope-OrgID: visible-org}\n");
  std::string dump = DumpConfig(c);
  for (const char* secret : {"dckr_pat_SUPERSECRET", "PRIVATEKEYTEXT", "proxypass99",
                             "mimir-password-123", "urlpass77", "headerkey55"}) {
    EXPECT_THAT(dump, Not(HasSubstr(secret))) << dump;
  }
  EXPECT_THAT(dump, HasSubstr("credentials: <secret>"));
  EXPECT_THAT(dump, HasSubstr("password: <secret>"));
  EXPECT_THAT(dump, HasSubstr("http://proxyuser:<secret>@proxy:3128"));
  EXPECT_THAT(dump, HasSubstr("X-Scope-OrgID: visible-org"));
  EXPECT_THAT(dump, HasSubstr("api.scout.docker.com:443"));
  EXPECT_THAT(dump, HasSubstr("refresh_interval: 1h"));
}

TEST(ConfigTest, DumpParsesBackToTheSameConfig) {
  Config c = MustParse(std::string(kSeedPrometheusYaml) + std::string(kMimirRemoteWrite) + R"(recommendations:
  sources: [/var/lib/reports, s3://bucket/reports]
  scan_interval: 5m
)");
  // Secrets print as "<secret>", so the round trip holds for a config whose secrets are that text.
  c.remote_write[0].basic_auth->password = Secret("<secret>");
  Result<Config> back = ParseConfig(DumpConfig(c), "dump.yml");
  ASSERT_OK(back);
  EXPECT_EQ(*back, c) << DumpConfig(c);
}

TEST(ConfigTest, FingerprintChangesWhenBlockChanges) {
  auto job = [](const std::string& extra) {
    Config c = MustParse(std::string(kSeedPrometheusYaml) + extra);
    return c.scrape_configs.at(0);
  };
  ScrapeConfig base = job("");
  EXPECT_EQ(base.Fingerprint(), job("").Fingerprint());
  EXPECT_EQ(base.Fingerprint().size(), 64u);
  // Comments and key order are not part of the block's meaning.
  EXPECT_EQ(base.Fingerprint(), job("    # a comment\n").Fingerprint());
  // Neither are key order or duration spelling.
  Config reordered = MustParse(R"(global: {scrape_timeout: 40s, scrape_interval: 1m}
scrape_configs:
  - scheme: https
    authorization: {credentials_file: /etc/prometheus/token}
    static_configs: [{targets: ["api.scout.docker.com:443"]}]
    metrics_path: /v1/exporter/org/<ORG>/metrics
    job_name: <ORG>
    refresh_interval: 1h
)");
  EXPECT_EQ(base.Fingerprint(), reordered.scrape_configs.at(0).Fingerprint());
  std::set<std::string> seen = {base.Fingerprint()};
  for (const char* change : {"    refresh_interval: 30m\n", "    scrape_timeout: 30s\n",
                             "    honor_labels: true\n", "    params: {org: [x]}\n",
                             "    respect_cache_headers: false\n",
                             "    track_timestamps_staleness: true\n",
                             "    metric_relabel_configs: [{action: drop, regex: x}]\n"}) {
    EXPECT_TRUE(seen.insert(job(change).Fingerprint()).second) << change;
  }
  // A secret-only change is seen, but the fingerprint does not reveal the secret.
  Config a = MustParse("scrape_configs:\n  - job_name: a\n    authorization: {credentials: tokA}\n");
  Config b = MustParse("scrape_configs:\n  - job_name: a\n    authorization: {credentials: tokB}\n");
  EXPECT_NE(a.scrape_configs[0].Fingerprint(), b.scrape_configs[0].Fingerprint());
  EXPECT_THAT(a.scrape_configs[0].Fingerprint(), Not(HasSubstr("tokA")));
  // Remote write too.
  Config r1 = MustParse(kMimirRemoteWrite);
  Config r2 = MustParse(std::string(kMimirRemoteWrite) + "    resend_interval: 2m\n");
  EXPECT_NE(r1.remote_write[0].Fingerprint(), r2.remote_write[0].Fingerprint());
}

TEST(ConfigTest, BodySizeLimitParsesUnits) {
  struct Case { const char* text; int64_t bytes; };
  for (const Case& c : {Case{"0", 0}, Case{"512B", 512}, Case{"1KB", 1024}, Case{"1KiB", 1024},
                        Case{"50MB", 50LL << 20}, Case{"10MiB", 10LL << 20},
                        Case{"2GB", 2LL << 30}, Case{"1.5GiB", 3LL << 29},
                        Case{"1TB", 1LL << 40}, Case{"1GB512MB", (1LL << 30) + (512LL << 20)},
                        Case{"4EiB", 4LL << 60}}) {
    Result<int64_t> r = ParseByteSize(c.text);
    ASSERT_OK(r);
    EXPECT_EQ(*r, c.bytes) << c.text;
  }
  for (const char* bad : {"", "10", "5x", "10 MB", "-1MB", "1kB", "MB", "9EiB", "1.5"}) {
    EXPECT_FALSE(ParseByteSize(bad).ok()) << bad;
  }
  // In the config: "0" keeps the default, a bad unit names the key and line.
  Config c = MustParse("global:\n  body_size_limit: 0\nscrape_configs:\n  - job_name: a\n"
                       "    body_size_limit: 50MB\n");
  EXPECT_EQ(c.global.body_size_limit_bytes, kDefaultBodySizeLimitBytes);
  EXPECT_EQ(c.scrape_configs[0].body_size_limit_bytes, 50 << 20);
  EXPECT_THAT(ErrorOf("global:\n  body_size_limit: 5x\n"),
              HasSubstr("2:20: invalid size \"5x\""));
}

TEST(ConfigTest, LoadConfigFileResolvesRelativePaths) {
  sb::testing::TempDir dir;
  sb::testing::WriteFile(dir.File("bridge.yml"),
                         "scrape_configs:\n  - job_name: a\n    authorization:\n"
                         "      credentials_file: token\n    tls_config: {ca_file: /abs/ca.pem}\n");
  Result<Config> c = LoadConfigFile(dir.File("bridge.yml"));
  ASSERT_OK(c);
  EXPECT_EQ(c->scrape_configs[0].authorization->credentials_file, dir.File("token"));
  EXPECT_EQ(c->scrape_configs[0].tls_config.ca_file, "/abs/ca.pem");

  sb::testing::WriteFile(dir.File("bad.yml"), "global:\n  scrape_intervall: 1m\n");
  Result<Config> bad = LoadConfigFile(dir.File("bad.yml"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            dir.File("bad.yml") + ":2:3: unknown key \"scrape_intervall\" in global");
}

TEST(ConfigTest, MissingFileIsNotFound) {
  sb::testing::TempDir dir;
  Result<Config> c = LoadConfigFile(dir.File("absent.yml"));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Status::Code::kNotFound);
  EXPECT_THAT(c.status().message(), HasSubstr("absent.yml"));
}

TEST(ConfigTest, WrongShapesAreRejected) {
  EXPECT_THAT(ErrorOf("- a\n- b\n"), HasSubstr("1:1: expected a mapping at the top level"));
  EXPECT_THAT(ErrorOf("scrape_configs: {job_name: a}\n"),
              HasSubstr("expected a list for key \"scrape_configs\""));
  EXPECT_THAT(ErrorOf("scrape_configs:\n  - job_name: [a]\n"),
              HasSubstr("2:15: expected a string (got a sequence) for key \"job_name\""));
}

TEST(ConfigTest, RecommendationsS3SettingsParseDumpAndRoundTrip) {
  Config c = MustParse(R"(recommendations:
  sources: [s3://reports/ci/]
  s3:
    endpoint: http://127.0.0.1:4568
    region: eu-west-1
    profile: ci
    path_style: true
)");
  EXPECT_EQ(c.recommendations.s3.endpoint, "http://127.0.0.1:4568");
  EXPECT_EQ(c.recommendations.s3.region, "eu-west-1");
  EXPECT_EQ(c.recommendations.s3.profile, "ci");
  EXPECT_TRUE(c.recommendations.s3.path_style);
  Config defaults = MustParse("recommendations:\n  sources: [s3://reports]\n");
  EXPECT_EQ(defaults.recommendations.s3.endpoint, "");
  EXPECT_EQ(defaults.recommendations.s3.region, "us-east-1");
  EXPECT_FALSE(defaults.recommendations.s3.path_style);
  std::string dump = DumpConfig(c);
  EXPECT_THAT(dump, HasSubstr("endpoint: http://127.0.0.1:4568"));
  Result<Config> back = ParseConfig(dump, "dump.yml");
  ASSERT_OK(back);
  EXPECT_EQ(back->recommendations, c.recommendations) << dump;
}

TEST(ConfigTest, RecommendationsS3BadSettingsNameTheKeyAndLine) {
  auto err = [](const std::string& s3_block) {
    return ParseConfig("recommendations:\n  s3:\n" + s3_block, "p.yml").status().message();
  };
  EXPECT_THAT(err("    endpoint: ftp://x\n"), HasSubstr("p.yml:3:15: "));
  EXPECT_THAT(err("    endpoint: ftp://x\n"), HasSubstr("must start with http:// or https://"));
  EXPECT_THAT(err("    bucket: x\n"), HasSubstr("\"bucket\""));
  EXPECT_THAT(err("    path_style: maybe\n"), HasSubstr("path_style"));
  EXPECT_THAT(err("    region: \"\"\n"), HasSubstr("must not be empty"));
  std::string userinfo = err("    endpoint: http://key:hunter2@127.0.0.1:9000\n");
  EXPECT_THAT(userinfo, HasSubstr("must not contain user info"));
  EXPECT_THAT(userinfo, Not(HasSubstr("hunter2")));
}

}  // namespace
}  // namespace sb::config
