#include "bridge/snapshot.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <vector>

#include <xxhash.h>

#include "bridge/schedule.h"
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
  const int i = Index(r);
  RenderedBody& out = bodies_[i];
  out.body = std::make_shared<const std::string>(std::move(body));
  char hash_hex[17];
  snprintf(hash_hex, sizeof hash_hex, "%016llx", static_cast<unsigned long long>(content_hash));
  out.etag = std::string("\"") + hash_hex + kEtagSuffix[i] + "\"";
  out.content_type = IsOpenMetrics(r) ? kOpenMetricsContentType : kTextContentType;
  out.gzip = IsGzip(r);
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

void Snapshot::RenderLate(Representation r) const {
  // Only our own bytes are decoded here, so a failure means a bug or no memory: it is
  // logged, and the request gets the gzip text body, which always exists.
  auto fail = [&](const Status& st) {
    LogError("rendering a snapshot body failed; serving gzip text instead",
             {{"job", job}, {"instance", instance}, {"err", st.message()}});
    bodies_[Index(r)] = bodies_[Index(Representation::kTextGzip)];
    ready_[Index(r)].store(true, std::memory_order_release);
  };
  const std::string& text_gz = *bodies_[Index(Representation::kTextGzip)].body;
  auto text = [&]() -> Result<std::string> { return GzipDecompress(text_gz, text_bytes); };
  if (r == Representation::kText) {
    auto t = text();
    if (!t.ok()) return fail(t.status());
    return Install(r, std::move(t).value());
  }
  // OpenMetrics, plain or gzip: from the plain OpenMetrics body if it exists, else parsed
  // again from the upstream's OpenMetrics body or from the text body, and rendered.
  std::string om;
  if (ready_[Index(Representation::kOpenMetrics)].load(std::memory_order_acquire)) {
    om = *bodies_[Index(Representation::kOpenMetrics)].body;
  } else {
    Result<expo::Exposition> parsed = Status::Internal("unset");
    if (openmetrics_source_) {
      parsed = expo::ParseExposition(*openmetrics_source_, expo::Format::kOpenMetrics,
                                     TrustedParseOptions(sample_count));
    } else {
      auto t = text();
      if (!t.ok()) return fail(t.status());
      parsed = expo::ParseExposition(*t, expo::Format::kText004, TrustedParseOptions(sample_count));
    }
    if (!parsed.ok()) return fail(parsed.status());
    expo::RenderOptions opts;
    opts.with_timestamps = false;
    om = expo::RenderOpenMetrics(*parsed, opts);
  }
  if (r == Representation::kOpenMetrics) return Install(r, std::move(om));
  auto gz = GzipCompress(om, kSnapshotGzipLevel);
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
  snap->openmetrics_source_ = options.openmetrics_source;
  snap->sample_count = data.SampleCount();

  expo::RenderOptions opts;
  opts.with_timestamps = false;
  std::string text = expo::RenderText004(data, opts);
  snap->content_hash = XXH3_64bits(text.data(), text.size());
  snap->text_bytes = text.size();
  // zlib level 1, as nginx's gzip_comp_level defaults to: on exposition text it is ~4x
  // faster than level 6 and ~15-20% larger (a 100k-series body of 10.9 MB: ~58 ms and 638
  // KB vs ~274 ms and 536 KB). Scout-sized bodies (tens of KB) differ by microseconds.
  auto text_gz = GzipCompress(text, kSnapshotGzipLevel);
  if (!text_gz.ok()) return text_gz.status().Annotate("compressing text body");
  snap->Install(Representation::kTextGzip, std::move(text_gz).value());

  const uint8_t want = options.prerender;
  if (want & (RepresentationBit(Representation::kOpenMetrics) | RepresentationBit(Representation::kOpenMetricsGzip))) {
    std::string om = expo::RenderOpenMetrics(data, opts);
    if (want & RepresentationBit(Representation::kOpenMetricsGzip)) {
      auto om_gz = GzipCompress(om, kSnapshotGzipLevel);
      if (!om_gz.ok()) return om_gz.status().Annotate("compressing OpenMetrics body");
      snap->Install(Representation::kOpenMetricsGzip, std::move(om_gz).value());
    }
    if (want & RepresentationBit(Representation::kOpenMetrics)) snap->Install(Representation::kOpenMetrics, std::move(om));
  }
  if (want & RepresentationBit(Representation::kText)) snap->Install(Representation::kText, std::move(text));

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
