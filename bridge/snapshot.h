// Snapshot: one successful upstream fetch, parsed and pre-rendered. Immutable once built;
// shared by every request that serves it through std::shared_ptr<const Snapshot>. A new fetch
// builds a new Snapshot off the I/O threads and swaps it in atomically (see SnapshotSlot).
//
// Serving a scrape is: negotiate a Representation from Accept/Accept-Encoding, compare the
// ETag, and write the pre-rendered body. Nothing is rendered per request.
//
// Thread-safety: Snapshot is immutable. SnapshotSlot is safe for concurrent Load/Store.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "bridge/http_server.h"
#include "common/exposition/model.h"
#include "common/status.h"

namespace sb::bridge {

// Bodies at least this large are also put in a memfd and sent with sendfile(2): below it,
// one gathered write from memory is as cheap.
inline constexpr size_t kFileBodyMinBytes = 64 * 1024;

// zlib level of the pre-rendered gzip bodies (and so of the body the store keeps).
inline constexpr int kSnapshotGzipLevel = 1;

// The four pre-rendered bodies: text 0.0.4 or OpenMetrics, each plain or gzip.
enum class Representation { kText = 0, kTextGzip = 1, kOpenMetrics = 2, kOpenMetricsGzip = 3 };

inline constexpr std::string_view kTextContentType = "text/plain; version=0.0.4; charset=utf-8";
inline constexpr std::string_view kOpenMetricsContentType =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

// Picks the representation as Prometheus's client libraries negotiate: OpenMetrics when the
// Accept header ranks application/openmetrics-text above text/plain (by q-value), text
// otherwise (including no Accept header); gzip when Accept-Encoding allows gzip with q > 0.
Representation Negotiate(std::string_view accept, std::string_view accept_encoding);

struct RenderedBody {
  std::shared_ptr<const std::string> body;
  // The full HTTP/1.1 200 head for this body (status line, Content-Type, Content-Length,
  // Content-Encoding, ETag, Vary, Last-Modified; each line CRLF-terminated; no Date and no
  // blank line), pre-serialized for HttpServer's fast path.
  std::shared_ptr<const std::string> head;
  // The body in a memfd for sendfile(2); only for bodies of at least kFileBodyMinBytes.
  std::shared_ptr<const FileBody> file;
  std::string etag;          // strong ETag, quoted, distinct per representation
  std::string_view content_type;
  bool gzip = false;
};

struct Snapshot {
  std::string job;
  std::string instance;        // the upstream target, host:port
  int64_t fetch_time_ms = 0;   // when the upstream answered
  uint64_t content_hash = 0;   // of the text rendering; equal data -> equal hash
  expo::Exposition data;       // parsed upstream data (upstream timestamps kept)
  std::array<RenderedBody, 4> bodies;

  const RenderedBody& Body(Representation r) const { return bodies[static_cast<int>(r)]; }
  size_t SampleCount() const { return data.SampleCount(); }
};

// Renders and compresses the four bodies (values without timestamps) and computes ETags.
// Costly for large bodies (tens to hundreds of ms for 100k series): REQUIRES it is not called
// on an I/O thread.
Result<std::shared_ptr<const Snapshot>> BuildSnapshot(std::string job, std::string instance,
                                                      int64_t fetch_time_ms, expo::Exposition data);

// True if an If-None-Match header value matches `etag` (a list, weak comparison, or "*").
bool EtagMatches(std::string_view if_none_match, std::string_view etag);

// An atomically replaceable pointer to the current snapshot of one target (null before the
// first success).
class SnapshotSlot {
 public:
  std::shared_ptr<const Snapshot> Load() const { return current_.load(std::memory_order_acquire); }
  void Store(std::shared_ptr<const Snapshot> s) { current_.store(std::move(s), std::memory_order_release); }

 private:
  std::atomic<std::shared_ptr<const Snapshot>> current_;
};

}  // namespace sb::bridge
