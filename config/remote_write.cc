// Parsing and validation of one `remote_write` entry (queue_config, metadata_config,
// headers, relabeling and the bridge's resend settings).
#include <cctype>

#include "config/blocks.h"

namespace sb::config::internal {
namespace {

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

Status ParseQueueConfig(const MapView& rw, QueueConfig* q) {
  static const KeySet kKeys{{"capacity", "max_shards", "min_shards", "max_samples_per_send",
                             "batch_send_deadline", "min_backoff", "max_backoff",
                             "retry_on_http_429", "sample_age_limit"}};
  SB_ASSIGN_OR_RETURN(MapView m, MapView::Open(rw.src(), rw.Get("queue_config"),
                                               rw.Child("queue_config"), kKeys));
  SB_RETURN_IF_ERROR(m.Int("capacity", &q->capacity, 1));
  SB_RETURN_IF_ERROR(m.Int("max_shards", &q->max_shards, 1));
  SB_RETURN_IF_ERROR(m.Int("min_shards", &q->min_shards, 1));
  SB_RETURN_IF_ERROR(m.Int("max_samples_per_send", &q->max_samples_per_send, 1));
  SB_RETURN_IF_ERROR(m.Dur("batch_send_deadline", &q->batch_send_deadline));
  SB_RETURN_IF_ERROR(m.Dur("min_backoff", &q->min_backoff));
  SB_RETURN_IF_ERROR(m.Dur("max_backoff", &q->max_backoff));
  SB_RETURN_IF_ERROR(m.Bool("retry_on_http_429", &q->retry_on_http_429));
  SB_RETURN_IF_ERROR(m.Dur("sample_age_limit", &q->sample_age_limit));
  if (q->min_shards > q->max_shards) {
    return m.KeyError("min_shards", "min_shards " + std::to_string(q->min_shards) +
                                        " is greater than max_shards " +
                                        std::to_string(q->max_shards));
  }
  if (q->batch_send_deadline.count() <= 0) return m.ValueError("batch_send_deadline", "must be > 0");
  if (q->min_backoff > q->max_backoff) {
    return m.KeyError("min_backoff", "min_backoff is greater than max_backoff");
  }
  return Status::OK();
}

Status ParseMetadataConfig(const MapView& rw, MetadataConfig* md) {
  static const KeySet kKeys{{"send", "send_interval", "max_samples_per_send"}};
  SB_ASSIGN_OR_RETURN(MapView m, MapView::Open(rw.src(), rw.Get("metadata_config"),
                                               rw.Child("metadata_config"), kKeys));
  SB_RETURN_IF_ERROR(m.Bool("send", &md->send));
  SB_RETURN_IF_ERROR(m.Dur("send_interval", &md->send_interval));
  SB_RETURN_IF_ERROR(m.Int("max_samples_per_send", &md->max_samples_per_send, 1));
  if (md->send_interval.count() <= 0) return m.ValueError("send_interval", "must be > 0");
  return Status::OK();
}

}  // namespace

Status ParseRemoteWrite(const MapView& m, RemoteWriteConfig* rw) {
  SB_RETURN_IF_ERROR(m.String("url", &rw->url));
  if (rw->url.empty()) {
    return m.src().ErrorAt(m.node(), "missing required key \"url\" in " + m.path());
  }
  // The URL is not echoed: it may carry a password.
  std::string problem = CheckHttpUrl(rw->url, /*allow_socks=*/false);
  if (!problem.empty()) return m.KeyError("url", "invalid URL (" + problem + ")");
  SB_RETURN_IF_ERROR(m.String("name", &rw->name));
  SB_RETURN_IF_ERROR(m.Dur("remote_timeout", &rw->remote_timeout));
  if (rw->remote_timeout.count() <= 0) return m.ValueError("remote_timeout", "must be > 0");
  SB_RETURN_IF_ERROR(m.StringMap("headers", &rw->headers));
  // As Prometheus: headers the protocol or the HTTP layer owns cannot be configured.
  static const std::set<std::string, std::less<>> kReserved = {
      "host", "content-encoding", "content-length", "content-type", "user-agent", "connection",
      "keep-alive", "proxy-authenticate", "proxy-authorization", "www-authenticate",
      "accept-encoding", "x-prometheus-remote-write-version", "x-prometheus-remote-read-version",
      "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"};
  for (const auto& [name, value] : rw->headers) {
    std::string lower(name);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (kReserved.count(lower) != 0) {
      return m.KeyError("headers", "header " + Quote(name) +
                                       " is owned by the remote-write protocol and cannot be set");
    }
    if (lower == "authorization") {
      return m.KeyError("headers", "header \"Authorization\" must be set through the "
                                   "authorization or basic_auth block, not");
    }
  }
  SB_RETURN_IF_ERROR(ParseRelabelList(m, "write_relabel_configs",
                                                &rw->write_relabel_configs));
  SB_RETURN_IF_ERROR(m.String("protobuf_message", &rw->protobuf_message));
  if (rw->protobuf_message != "prometheus.WriteRequest" &&
      rw->protobuf_message != "io.prometheus.write.v2.Request") {
    return m.KeyError("protobuf_message",
                      "unknown message " + Quote(rw->protobuf_message) +
                          " (use prometheus.WriteRequest or io.prometheus.write.v2.Request)");
  }
  SB_RETURN_IF_ERROR(m.Bool("send_exemplars", &rw->send_exemplars));
  SB_RETURN_IF_ERROR(m.Bool("send_native_histograms", &rw->send_native_histograms));
  SB_RETURN_IF_ERROR(m.Bool("round_robin_dns", &rw->round_robin_dns));
  SB_RETURN_IF_ERROR(ParseQueueConfig(m, &rw->queue_config));
  SB_RETURN_IF_ERROR(ParseMetadataConfig(m, &rw->metadata_config));
  SB_RETURN_IF_ERROR(ParseHttpClient(m, rw));
  SB_RETURN_IF_ERROR(m.Dur("resend_interval", &rw->resend_interval));
  if (rw->resend_interval.count() <= 0) return m.ValueError("resend_interval", "must be > 0");
  SB_RETURN_IF_ERROR(m.Dur("max_backfill", &rw->max_backfill));
  if (rw->max_backfill.count() <= 0) return m.ValueError("max_backfill", "must be > 0");
  return Status::OK();
}

const KeySet& RemoteWriteKeys() {
  static const KeySet k = [] {
    KeySet keys{{"url", "name", "remote_timeout", "headers", "write_relabel_configs",
                 "protobuf_message", "send_exemplars", "send_native_histograms",
                 "round_robin_dns", "queue_config", "metadata_config", "resend_interval",
                 "max_backfill"}};
    for (const char* key : {"sigv4", "azuread", "google_iam"}) {
      keys.unsupported[key] = "cloud-specific signing is not supported by scout-bridge";
    }
    AddHttpClientKeys(&keys);
    return keys;
  }();
  return k;
}

}  // namespace sb::config::internal
