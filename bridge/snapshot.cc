#include "bridge/snapshot.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <vector>

#include <xxhash.h>

#include "common/exposition/parser.h"
#include "common/exposition/render.h"
#include "common/http_date.h"
#include "common/log.h"
#include "common/strings.h"
#include "common/gzip.h"

namespace sb::bridge {
namespace {

std::string_view Trim(std::string_view s) { return TrimOws(s); }

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

// Calls fn(media_type, params, q) for each element of a comma-separated header list such as
// Accept or Accept-Encoding. `params` excludes q.
template <typename Fn>
void ForEachRange(std::string_view header, Fn fn) {
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    size_t semi = item.find(';');
    std::string_view type = Trim(item.substr(0, semi));
    std::string_view params = semi == std::string_view::npos ? std::string_view() : item.substr(semi + 1);
    double q = 1.0;
    std::string_view rest = params;
    std::string other_params;
    while (!rest.empty()) {
      size_t s = rest.find(';');
      std::string_view p = Trim(rest.substr(0, s));
      rest = s == std::string_view::npos ? std::string_view() : rest.substr(s + 1);
      if (p.size() > 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
        q = std::strtod(std::string(p.substr(2)).c_str(), nullptr);
      } else if (!p.empty()) {
        other_params += std::string(p);
        other_params += ';';
      }
    }
    if (!type.empty()) fn(type, std::string_view(other_params), q);
  }
}

}  // namespace

Representation Negotiate(std::string_view accept, std::string_view accept_encoding) {
  double om_q = -1, text_q = -1, any_q = -1;
  ForEachRange(accept, [&](std::string_view type, std::string_view params, double q) {
    if (IEquals(type, "application/openmetrics-text")) {
      // version=1.0.0 and 0.0.1 are both served by our OpenMetrics 1.0 rendering.
      om_q = std::max(om_q, q);
    } else if (IEquals(type, "text/plain")) {
      if (params.find("version=") == std::string_view::npos || params.find("version=0.0.4") != std::string_view::npos) {
        text_q = std::max(text_q, q);
      }
    } else if (IEquals(type, "*/*") || IEquals(type, "text/*")) {
      any_q = std::max(any_q, q);
    }
  });
  if (text_q < 0) text_q = any_q;
  bool openmetrics = om_q > 0 && om_q > text_q;

  bool gzip = false;
  double identity_q = -1;
  ForEachRange(accept_encoding, [&](std::string_view coding, std::string_view, double q) {
    if (IEquals(coding, "gzip") || IEquals(coding, "x-gzip") || coding == "*") {
      if (q > 0) gzip = true;
    } else if (IEquals(coding, "identity")) {
      identity_q = q;
    }
  });
  (void)identity_q;
  if (openmetrics) return gzip ? Representation::kOpenMetricsGzip : Representation::kOpenMetrics;
  return gzip ? Representation::kTextGzip : Representation::kText;
}

namespace {

constexpr const char* kEtagSuffix[4] = {"-t", "-tz", "-o", "-oz"};

int Index(Representation r) { return static_cast<int>(r); }
bool IsOpenMetrics(Representation r) {
  return r == Representation::kOpenMetrics || r == Representation::kOpenMetricsGzip;
}
bool IsGzip(Representation r) { return r == Representation::kTextGzip || r == Representation::kOpenMetricsGzip; }

// Limits for re-parsing a body this process rendered itself (or already accepted from the
// upstream under the job's limits): only the sample count is known to bound it.
expo::ParseOptions TrustedParseOptions(size_t samples) {
  expo::ParseOptions o;
  o.max_samples = samples + 1;
  o.max_label_count = std::numeric_limits<size_t>::max();
  o.max_line_bytes = std::numeric_limits<size_t>::max();
  return o;
}

}  // namespace

void Snapshot::Install(Representation r, std::string body) const {
  InstallShared(r, std::make_shared<const std::string>(std::move(body)));
}

void Snapshot::InstallShared(Representation r, std::shared_ptr<const std::string> body) const {
  InstallAs(r, std::move(body), IsOpenMetrics(r) ? kOpenMetricsContentType : kTextContentType, IsGzip(r));
}

void Snapshot::InstallAs(Representation r, std::shared_ptr<const std::string> body,
                         std::string_view content_type, bool gzip) const {
  const int i = Index(r);
  RenderedBody& out = bodies_[i];
  out.body = std::move(body);
  char hash_hex[17];
  snprintf(hash_hex, sizeof hash_hex, "%016llx", static_cast<unsigned long long>(content_hash));
  out.etag = std::string("\"") + hash_hex + kEtagSuffix[i] + "\"";
  out.content_type = content_type;
  out.gzip = gzip;
  std::string head = "HTTP/1.1 200 OK\r\nContent-Type: " + std::string(out.content_type) +
                     "\r\nContent-Length: " + std::to_string(out.body->size()) + "\r\n";
  if (out.gzip) head += "Content-Encoding: gzip\r\n";
  head += "ETag: " + out.etag + "\r\nVary: Accept, Accept-Encoding\r\nLast-Modified: " +
          FormatHttpDate(fetch_time_ms) + "\r\n";
  out.head = std::make_shared<const std::string>(std::move(head));
  if (out.body->size() >= kFileBodyMinBytes) out.file = FileBody::Create(*out.body);
  ready_[i].store(true, std::memory_order_release);
}

const RenderedBody& Snapshot::Body(Representation r) const {
  const int i = Index(r);
  if (demand) demand->Note(r);
  if (!ready_[i].load(std::memory_order_acquire)) {
    std::call_once(once_[i], [&] {
      if (!ready_[i].load(std::memory_order_acquire)) RenderLate(r);
    });
  }
  return bodies_[i];
}

bool Snapshot::Rendered(Representation r) const { return ready_[Index(r)].load(std::memory_order_acquire); }

const std::string& Snapshot::StoredGzipBody() const {
  if (source_format_ == expo::Format::kText004) return *source_gzip_;
  return *Body(Representation::kTextGzip).body;
}

void Snapshot::RenderLate(Representation r) const {
  // Only bytes this process produced or already parsed are decoded here, so a failure means
  // a bug or no memory: it is logged, and this representation serves the gzip source as it
  // is (labelled with its own format), which a scraper can still read.
  auto fail = [&](const Status& st) {
    LogError("rendering a snapshot body failed; serving the gzip source instead",
             {{"job", job}, {"instance", instance}, {"err", st.message()}});
    InstallAs(r, source_gzip_,
              source_format_ == expo::Format::kOpenMetrics ? kOpenMetricsContentType : kTextContentType, true);
  };
  // An OpenMetrics gzip body reuses the plain one if that exists.
  if (r == Representation::kOpenMetricsGzip && ready_[Index(Representation::kOpenMetrics)].load(std::memory_order_acquire)) {
    auto gz = GzipCompress(*bodies_[Index(Representation::kOpenMetrics)].body, kSnapshotGzipLevel);
    if (!gz.ok()) return fail(gz.status());
    return Install(r, std::move(gz).value());
  }
  auto source = GzipDecompress(*source_gzip_, source_bytes);
  if (!source.ok()) return fail(source.status());
  if (source_is_text_rendering_ && r == Representation::kText) return Install(r, std::move(source).value());
  auto parsed = expo::ParseExposition(*source, source_format_, TrustedParseOptions(sample_count));
  if (!parsed.ok()) return fail(parsed.status());
  expo::RenderOptions opts;
  opts.with_timestamps = false;
  std::string plain = IsOpenMetrics(r) ? expo::RenderOpenMetrics(*parsed, opts) : expo::RenderText004(*parsed, opts);
  if (!IsGzip(r)) return Install(r, std::move(plain));
  auto gz = GzipCompress(plain, kSnapshotGzipLevel);
  if (!gz.ok()) return fail(gz.status());
  Install(r, std::move(gz).value());
}

Result<std::shared_ptr<const Snapshot>> BuildSnapshot(std::string job, std::string instance,
                                                      int64_t fetch_time_ms, expo::Exposition data,
                                                      const SnapshotOptions& options) {
  auto snap = std::make_shared<Snapshot>();
  snap->job = std::move(job);
  snap->instance = std::move(instance);
  snap->fetch_time_ms = fetch_time_ms;
  snap->demand = options.demand;
  snap->sample_count = options.streamed_sample_count.value_or(data.SampleCount());
  if (options.streamed_sample_count.has_value() && !options.upstream_body.has_value() &&
      !options.upstream_digest.has_value()) {
    return Status::InvalidArgument("a snapshot of streamed samples needs the upstream body");
  }
  if (options.upstream_digest.has_value() && !options.upstream_gzip) {
    return Status::InvalidArgument("a snapshot from an upstream digest needs the upstream gzip body");
  }

  expo::RenderOptions opts;
  opts.with_timestamps = false;
  // zlib level 1, as nginx's gzip_comp_level defaults to: on exposition text it is ~4x
  // faster than level 6 and ~15-20% larger (a 100k-series body of 10.9 MB: ~58 ms and 638
  // KB vs ~274 ms and 536 KB). Scout-sized bodies (tens of KB) differ by microseconds.
  std::string text;  // the text rendering, if made
  if (options.upstream_digest.has_value()) {
    snap->content_hash = options.upstream_digest->xxh3;
    snap->source_bytes = options.upstream_digest->bytes;
    snap->source_format_ = options.upstream_format;
    snap->source_gzip_ = options.upstream_gzip;
  } else if (options.upstream_body.has_value()) {
    const std::string_view body = *options.upstream_body;
    snap->content_hash = XXH3_64bits(body.data(), body.size());
    snap->source_bytes = body.size();
    snap->source_format_ = options.upstream_format;
    if (options.upstream_gzip) {
      snap->source_gzip_ = options.upstream_gzip;
    } else {
      auto gz = GzipCompress(body, kSnapshotGzipLevel);
      if (!gz.ok()) return gz.status().Annotate("compressing upstream body");
      snap->source_gzip_ = std::make_shared<const std::string>(std::move(gz).value());
    }
  } else {
    text = expo::RenderText004(data, opts);
    snap->content_hash = XXH3_64bits(text.data(), text.size());
    snap->source_bytes = text.size();
    auto gz = GzipCompress(text, kSnapshotGzipLevel);
    if (!gz.ok()) return gz.status().Annotate("compressing text body");
    snap->source_gzip_ = std::make_shared<const std::string>(std::move(gz).value());
    snap->source_is_text_rendering_ = true;
    snap->InstallShared(Representation::kTextGzip, snap->source_gzip_);
  }

  const uint8_t want = options.prerender & ~(snap->source_is_text_rendering_ ? RepresentationBit(Representation::kTextGzip) : 0);
  // Streamed samples are gone: what is pre-rendered comes from the source, parsed once more.
  std::optional<expo::Exposition> reparsed;
  if (want != 0 && options.streamed_sample_count.has_value()) {
    std::string inflated;  // the source, when only its digest was given
    if (!options.upstream_body.has_value()) {
      auto body = GzipDecompress(*snap->source_gzip_, snap->source_bytes);
      if (!body.ok()) return body.status().Annotate("inflating the upstream body again");
      inflated = std::move(body).value();
    }
    auto p = expo::ParseExposition(options.upstream_body.has_value() ? *options.upstream_body : std::string_view(inflated),
                                   options.upstream_format, TrustedParseOptions(snap->sample_count));
    if (!p.ok()) return p.status().Annotate("parsing the upstream body again");
    reparsed = std::move(p).value();
  }
  const expo::Exposition& samples = reparsed.has_value() ? *reparsed : data;
  constexpr uint8_t kTextBits = RepresentationBit(Representation::kText) | RepresentationBit(Representation::kTextGzip);
  constexpr uint8_t kOmBits = RepresentationBit(Representation::kOpenMetrics) | RepresentationBit(Representation::kOpenMetricsGzip);
  for (const uint8_t bits : {kTextBits, kOmBits}) {
    if ((want & bits) == 0) continue;
    const bool om = bits == kOmBits;
    std::string plain = om ? expo::RenderOpenMetrics(samples, opts) : text.empty() ? expo::RenderText004(samples, opts) : std::move(text);
    const Representation plain_r = om ? Representation::kOpenMetrics : Representation::kText;
    const Representation gzip_r = om ? Representation::kOpenMetricsGzip : Representation::kTextGzip;
    if (want & RepresentationBit(gzip_r)) {
      auto gz = GzipCompress(plain, kSnapshotGzipLevel);
      if (!gz.ok()) return gz.status().Annotate("compressing a body");
      snap->Install(gzip_r, std::move(gz).value());
    }
    if (want & RepresentationBit(plain_r)) snap->Install(plain_r, std::move(plain));
  }

  for (auto& f : data.families) std::vector<expo::Sample>().swap(f.samples);
  snap->metadata = std::move(data);
  return std::shared_ptr<const Snapshot>(std::move(snap));
}

bool EtagMatches(std::string_view if_none_match, std::string_view etag) {
  auto strip_weak = [](std::string_view t) {
    t = Trim(t);
    if (t.size() > 2 && (t[0] == 'W' || t[0] == 'w') && t[1] == '/') t.remove_prefix(2);
    return t;
  };
  std::string_view want = strip_weak(etag);
  while (!if_none_match.empty()) {
    size_t comma = if_none_match.find(',');
    std::string_view item = strip_weak(if_none_match.substr(0, comma));
    if (item == "*" || item == want) return true;
    if (comma == std::string_view::npos) break;
    if_none_match.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace sb::bridge
