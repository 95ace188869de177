// Sender: delivers one compressed remote-write payload to one endpoint, blocking the
// calling thread, with the retry policy of the remote-write spec:
//
//   2xx                     delivered.
//   5xx, network errors,    retried with exponential backoff and full jitter above a floor:
//   429 (retry_on_http_429) the k-th wait is uniform in [min_backoff, min(max_backoff,
//                           min_backoff * 2^k)]; a Retry-After header (seconds or HTTP date,
//                           capped at kMaxRetryAfter) replaces the wait when longer.
//   415 on protocol 2.0     kUnsupported: the caller falls back to 1.0 and re-encodes.
//   other 4xx               dropped: never retried. The receiver's body (truncated to
//                           kMaxLoggedBody bytes) is logged; credentials never are.
//
// Retries are unbounded in count (data is never given up on while the receiver may come
// back) but bounded in rate by the backoff, and stop at once when `stop` becomes true.
//
// Connections: for plain http without a proxy, one keep-alive connection is reused from
// request to request (the receiver may close it; a request that fails on a reused
// connection before any answer is re-tried once at once on a new one, which is not counted
// as an attempt). https and proxied requests use one connection each (bridge::AsyncFetch).
//
// Thread-safety: one Sender per thread (it owns an io_context that it runs itself).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>

#include "bridge/asio.h"
#include "bridge/http_client.h"
#include "config/config.h"
#include "remote_write/encode.h"

namespace sb::remote_write {

inline constexpr std::chrono::seconds kMaxRetryAfter{300};
inline constexpr size_t kMaxLoggedBody = 512;

struct SendResult {
  enum class Kind { kOk, kDropped, kUnsupported, kStopped };
  Kind kind = Kind::kOk;
  unsigned http_status = 0;   // of the last attempt; 0 for a network error
  int attempts = 0;           // HTTP requests made
  // From the 2.0 response headers X-Prometheus-Remote-Write-Samples-Written; -1 if absent.
  int64_t samples_written = -1;
  std::string error;          // for kDropped: "HTTP 400: <body>" (truncated)
};

// Observes each attempt, for metrics: (attempt number from 1, HTTP status or 0, seconds).
using AttemptObserver = std::function<void(int attempt, unsigned status, double seconds)>;

class Sender {
 public:
  // REQUIRES: cfg.url was validated by the config loader. `stop` must outlive the Sender.
  Sender(const config::RemoteWriteConfig& cfg, const std::atomic<bool>* stop);
  ~Sender();

  // Sends `compressed` (snappy of a serialized request of `protocol`). Blocks until it is
  // delivered, dropped, refused with 415 (2.0 only), or stop is set.
  SendResult Send(const std::string& compressed, Protocol protocol, const AttemptObserver& observe = {});

  // Validates the URL and credentials files up front. Errors: InvalidArgument naming the
  // endpoint (never a secret).
  static Status Check(const config::RemoteWriteConfig& cfg);

 private:
  // One HTTP attempt; runs the io_context until the response or stop.
  bool Attempt(const std::string& compressed, Protocol protocol, Status* st, bridge::FetchResponse* resp);
  // The same over the kept-alive connection (plain http, no proxy).
  bool AttemptKeepAlive(const bridge::FetchRequest& req, Status* st, bridge::FetchResponse* resp);
  // Runs the io_context until *done or stop; false if stopped (the connection is closed).
  bool RunUntil(const bool* done);
  // Sleeps `d` unless stop is set first. Returns false if stopped.
  bool Sleep(std::chrono::milliseconds d);

  config::RemoteWriteConfig cfg_;
  const std::atomic<bool>* stop_;
  bridge::asio::io_context ioc_;
  std::mt19937_64 rng_;
  std::string scheme_, host_, target_;
  uint16_t port_ = 0;
  struct Connection;
  std::unique_ptr<Connection> conn_;  // the kept-alive connection, if open
};

}  // namespace sb::remote_write
