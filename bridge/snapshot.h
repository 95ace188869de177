// Snapshot: one successful upstream fetch, ready to serve. Immutable once built as far as
// readers can tell; shared by every request that serves it through
// std::shared_ptr<const Snapshot>. A new fetch builds a new Snapshot off the I/O threads and
// swaps it in atomically (see SnapshotSlot).
//
// Serving a scrape is: negotiate a Representation from Accept/Accept-Encoding, compare the
// ETag, and write the body. Bodies are rendered once per snapshot, not per request: at build
// time if they were asked for while the previous snapshot was served (RepresentationDemand),
// else on the first request that wants them. So a bridge nobody scrapes renders nothing (the
// store keeps the upstream's own gzip body), one scraped in one representation renders only
// that, and a steady scraper always finds its body ready. The parsed samples are not kept: a
// body rendered late is parsed again from the snapshot's source, the upstream body kept gzip.
//
// Thread-safety: Body() may be called concurrently; a late body is rendered exactly once
// (the first caller renders, concurrent callers wait). SnapshotSlot is safe for concurrent
// Load/Store.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "bridge/http_server.h"
#include "common/exposition/model.h"
#include "common/status.h"

namespace sb::bridge {

// Bodies at least this large are also put in a memfd and sent with sendfile(2): below it,
// one gathered write from memory is as cheap.
inline constexpr size_t kFileBodyMinBytes = 64 * 1024;

// zlib level of the gzip bodies this process makes (and of the stored body, when the upstream
// sent it uncompressed).
inline constexpr int kSnapshotGzipLevel = 1;

// The four representations: text 0.0.4 or OpenMetrics, each plain or gzip.
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

inline constexpr uint8_t RepresentationBit(Representation r) { return uint8_t{1} << static_cast<int>(r); }

// Which representations were served since the last build: a Target and its snapshots share
// one, and the next BuildSnapshot pre-renders what it holds.
class RepresentationDemand {
 public:
  void Note(Representation r) {
    const uint8_t bit = RepresentationBit(r);
    if ((bits_.load(std::memory_order_relaxed) & bit) == 0) bits_.fetch_or(bit, std::memory_order_relaxed);
  }
  uint8_t Take() { return bits_.exchange(0, std::memory_order_relaxed); }

 private:
  std::atomic<uint8_t> bits_{0};
};

struct SnapshotOptions {
  // Representations to render at build time (RepresentationBit).
  uint8_t prerender = 0;
  // Noted on every Body() call (may be null).
  std::shared_ptr<RepresentationDemand> demand;
  // The upstream's body, uncompressed, that `data` was parsed from (read only during the
  // build). When given, it is the snapshot's source: bodies not pre-rendered are rendered
  // from it when first asked for, the ETags hash it, and a text 0.0.4 one is what the store
  // keeps (StoredGzipBody). When absent, the text rendering of `data` is the source.
  std::optional<std::string_view> upstream_body;
  expo::Format upstream_format = expo::Format::kText004;
  // The upstream's own gzip of upstream_body (its Content-Encoding), kept instead of a
  // compression of ours. Null: compressed here (zlib level kSnapshotGzipLevel).
  std::shared_ptr<const std::string> upstream_gzip;
  // Set when `data` holds the families only, its samples (this many) having been streamed
  // elsewhere (expo::ParseOptions::on_sample). Requires upstream_body or upstream_digest:
  // what is pre-rendered is rendered from the source, parsed again.
  std::optional<size_t> streamed_sample_count;
  // Instead of upstream_body, for a body parsed as it was decompressed from upstream_gzip
  // (required then) and never held whole: its XXH3-64 and its size.
  struct Digest {
    uint64_t xxh3 = 0;
    size_t bytes = 0;
  };
  std::optional<Digest> upstream_digest;
};

struct Snapshot {
  std::string job;
  std::string instance;        // the upstream target, host:port
  int64_t fetch_time_ms = 0;   // when the upstream answered
  // XXH3-64 of the source (the upstream body, else the text rendering): equal bodies, equal
  // ETags, also across a restart (the store keeps the same body).
  uint64_t content_hash = 0;
  // The families with their HELP/TYPE/UNIT, for metadata (remote write, /api/v1/metadata).
  // Their samples are dropped once the pre-rendered bodies are made.
  expo::Exposition metadata;
  size_t sample_count = 0;
  size_t source_bytes = 0;     // size of the uncompressed source body
  std::shared_ptr<RepresentationDemand> demand;

  // The body for `r`, rendered now if it was not yet (which costs tens of milliseconds for a
  // 100k-series body, once per snapshot and representation). Notes the demand.
  const RenderedBody& Body(Representation r) const;
  // True if the body for `r` exists already (for tests and status).
  bool Rendered(Representation r) const;
  size_t SampleCount() const { return sample_count; }
  // The gzip of a text 0.0.4 body of this snapshot, for the store to keep (a warm restart
  // parses it back): the source when it is text 0.0.4, else the gzip text rendering.
  const std::string& StoredGzipBody() const;

 private:
  friend Result<std::shared_ptr<const Snapshot>> BuildSnapshot(std::string, std::string, int64_t,
                                                               expo::Exposition, const SnapshotOptions&);
  void RenderLate(Representation r) const;
  void Install(Representation r, std::string body) const;
  void InstallShared(Representation r, std::shared_ptr<const std::string> body) const;
  void InstallAs(Representation r, std::shared_ptr<const std::string> body, std::string_view content_type,
                 bool gzip) const;

  std::shared_ptr<const std::string> source_gzip_;  // the source body, gzip
  expo::Format source_format_ = expo::Format::kText004;
  bool source_is_text_rendering_ = false;  // source_gzip_ is the kTextGzip body itself
  mutable std::array<std::once_flag, 4> once_;
  mutable std::array<std::atomic<bool>, 4> ready_{};
  mutable std::array<RenderedBody, 4> bodies_;
};

// Makes a snapshot of `data`: hashes and compresses its source (see SnapshotOptions) and
// renders the representations options.prerender asks for. Costly for large bodies (tens of
// ms for 100k series): REQUIRES it is not called on an I/O thread.
Result<std::shared_ptr<const Snapshot>> BuildSnapshot(std::string job, std::string instance,
                                                      int64_t fetch_time_ms, expo::Exposition data,
                                                      const SnapshotOptions& options = {});

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
