// FakeReceiver: a remote-write receiver for tests, on 127.0.0.1. It decodes every request
// (snappy + protobuf, 1.0 or 2.0 by Content-Type), records it with its headers, and answers
// as a fault plan says: a status, an optional Retry-After, an optional delay before the
// answer. Only requests answered 2xx count as accepted.
#pragma once

#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bridge/http_server.h"
#include "remote_write/encode.h"
#include "storage/store.h"

namespace sb::rwtest {

struct Fault {
  unsigned status = 204;
  std::string retry_after;             // sent as Retry-After when non-empty
  std::chrono::milliseconds delay{0};  // before the answer
  std::string body;
  bool close = false;  // answer with "Connection: close"
};

struct ReceivedRequest {
  std::map<std::string, std::string> headers;  // lower-case names
  remote_write::Protocol protocol = remote_write::Protocol::kV1;
  remote_write::DecodedRequest decoded;
  std::string decode_error;
  unsigned answered = 0;
};

inline bool IsStaleMarker(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return bits == storage::kStaleMarkerBits;
}

class FakeReceiver {
 public:
  // `plan(n, request)` decides the answer to the n-th request (from 0). Default: 204.
  using Plan = std::function<Fault(int, const ReceivedRequest&)>;
  explicit FakeReceiver(Plan plan = {}) : plan_(std::move(plan)) {
    bridge::HttpServer::Options o;
    o.listen_address = "127.0.0.1:0";
    o.threads = 2;
    o.max_body_bytes = 64 << 20;
    server_ = std::make_unique<bridge::HttpServer>(
        o, bridge::HttpServer::AsyncHandler([this](const bridge::Request& req, bridge::Responder r) { Handle(req, r); }));
  }
  ~FakeReceiver() { server_->Stop(); }
  Status Start() { return server_->Start(); }
  void Stop() { server_->Stop(); }
  int port() const { return server_->port(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port()) + "/api/v1/write"; }

  std::vector<ReceivedRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  // TCP connections accepted so far.
  uint64_t connections() const { return server_->accepted_connections(); }
  int num_requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(requests_.size());
  }
  // Accepted samples per series (labels rendered), in arrival order.
  std::map<std::string, std::vector<storage::Sample>> accepted() const {
    std::lock_guard<std::mutex> lock(mu_);
    return accepted_;
  }
  size_t accepted_samples() const {
    std::lock_guard<std::mutex> lock(mu_);
    size_t n = 0;
    for (const auto& [k, v] : accepted_) n += v.size();
    return n;
  }
  // Accepted metadata entries.
  std::vector<remote_write::OutMetadata> metadata() const {
    std::lock_guard<std::mutex> lock(mu_);
    return metadata_;
  }

 private:
  void Handle(const bridge::Request& req, bridge::Responder responder) {
    ReceivedRequest rec;
    for (const auto& f : req) {
      std::string name(f.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      rec.headers[name] = std::string(f.value());
    }
    rec.protocol = rec.headers["content-type"].find("io.prometheus.write.v2.Request") != std::string::npos
                       ? remote_write::Protocol::kV2
                       : remote_write::Protocol::kV1;
    auto raw = remote_write::Decompress(req.body(), 64 << 20);
    if (!raw.ok()) {
      rec.decode_error = raw.status().ToString();
    } else {
      auto d = remote_write::Decode(*raw, rec.protocol);
      if (d.ok()) rec.decoded = std::move(d).value(); else rec.decode_error = d.status().ToString();
    }
    Fault f;
    int64_t v2_written = -1;
    {
      std::lock_guard<std::mutex> lock(mu_);
      int n = static_cast<int>(requests_.size());
      if (plan_) f = plan_(n, rec);
      if (!rec.decode_error.empty()) f.status = 400;
      rec.answered = f.status;
      if (rec.protocol == remote_write::Protocol::kV2 && f.status >= 200 && f.status < 300) {
        v2_written = 0;
        for (const auto& s : rec.decoded.series) v2_written += static_cast<int64_t>(s.samples.size());
      }
      if (f.status >= 200 && f.status < 300) {
        for (const auto& s : rec.decoded.series) {
          auto& v = accepted_[storage::LabelsToString(s.labels)];
          v.insert(v.end(), s.samples.begin(), s.samples.end());
        }
        metadata_.insert(metadata_.end(), rec.decoded.metadata.begin(), rec.decoded.metadata.end());
      }
      requests_.push_back(std::move(rec));
    }
    auto res = bridge::MakeResponse(req.version(), static_cast<bridge::http::status>(f.status), "text/plain",
                                    std::make_shared<const std::string>(f.body));
    if (!f.retry_after.empty()) res.set("Retry-After", f.retry_after);
    if (f.close) res.set("Connection", "close");
    if (v2_written >= 0) res.set("X-Prometheus-Remote-Write-Samples-Written", std::to_string(v2_written));
    bridge::Pacing p;
    p.delay_before_headers = f.delay;
    responder.Send(std::move(res), p);
  }

  Plan plan_;
  std::unique_ptr<bridge::HttpServer> server_;
  mutable std::mutex mu_;
  std::vector<ReceivedRequest> requests_;
  std::map<std::string, std::vector<storage::Sample>> accepted_;
  std::vector<remote_write::OutMetadata> metadata_;
};

}  // namespace sb::rwtest
