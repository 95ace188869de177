// prometheus/prometheus.yaml of Docker's sample project for the Scout exporter
// (dockersamples/scout-metrics-exporter, also in ../shared/fixtures/scout-sample-project),
// verbatim: the job block a Scout user pastes into the bridge's config.
#pragma once

namespace sb::testing {

inline constexpr const char* kScoutSamplePrometheusYaml = R"(global:
  scrape_interval: 60s
  scrape_timeout: 40s
scrape_configs:
  - job_name: <ORG>
    metrics_path: /v1/exporter/org/<ORG>/metrics
    scheme: https
    static_configs:
      - targets:
          - api.scout.docker.com
    authorization:
      type: Bearer
      credentials_file: /etc/prometheus/token
)";

}  // namespace sb::testing
