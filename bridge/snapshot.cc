#include "bridge/snapshot.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <vector>

#include "bridge/schedule.h"
#include "common/exposition/render.h"
#include "common/http_date.h"
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

Result<std::shared_ptr<const Snapshot>> BuildSnapshot(std::string job, std::string instance,
                                                      int64_t fetch_time_ms, expo::Exposition data) {
  auto snap = std::make_shared<Snapshot>();
  snap->job = std::move(job);
  snap->instance = std::move(instance);
  snap->fetch_time_ms = fetch_time_ms;
  snap->data = std::move(data);

  expo::RenderOptions opts;
  opts.with_timestamps = false;
  auto text = std::make_shared<const std::string>(expo::RenderText004(snap->data, opts));
  auto om = std::make_shared<const std::string>(expo::RenderOpenMetrics(snap->data, opts));
  // zlib level 1, as nginx's gzip_comp_level defaults to: on exposition text it is ~4x
  // faster than level 6 and ~15-20% larger (a 100k-series body of 10.9 MB: ~58 ms and 638
  // KB vs ~274 ms and 536 KB). Two bodies per fetch made level 6 the largest CPU cost of
  // a 100k-series fetch; Scout-sized bodies (tens of KB) differ by microseconds.
  auto text_gz = GzipCompress(*text, kSnapshotGzipLevel);
  if (!text_gz.ok()) return text_gz.status().Annotate("compressing text body");
  auto om_gz = GzipCompress(*om, kSnapshotGzipLevel);
  if (!om_gz.ok()) return om_gz.status().Annotate("compressing OpenMetrics body");

  snap->content_hash = Fnv1a64(*text);
  char hash_hex[17];
  snprintf(hash_hex, sizeof hash_hex, "%016llx", static_cast<unsigned long long>(snap->content_hash));
  auto make = [&](std::shared_ptr<const std::string> body, const char* suffix,
                  std::string_view content_type, bool gzip) {
    RenderedBody r;
    r.body = std::move(body);
    r.etag = std::string("\"") + hash_hex + suffix + "\"";
    r.content_type = content_type;
    r.gzip = gzip;
    std::string head = "HTTP/1.1 200 OK\r\nContent-Type: " + std::string(content_type) +
                       "\r\nContent-Length: " + std::to_string(r.body->size()) + "\r\n";
    if (gzip) head += "Content-Encoding: gzip\r\n";
    head += "ETag: " + r.etag + "\r\nVary: Accept, Accept-Encoding\r\nLast-Modified: " +
            FormatHttpDate(snap->fetch_time_ms) + "\r\n";
    r.head = std::make_shared<const std::string>(std::move(head));
    if (r.body->size() >= kFileBodyMinBytes) r.file = FileBody::Create(*r.body);
    return r;
  };
  snap->bodies[0] = make(text, "-t", kTextContentType, false);
  snap->bodies[1] = make(std::make_shared<const std::string>(std::move(text_gz).value()), "-tz", kTextContentType, true);
  snap->bodies[2] = make(om, "-o", kOpenMetricsContentType, false);
  snap->bodies[3] = make(std::make_shared<const std::string>(std::move(om_gz).value()), "-oz", kOpenMetricsContentType, true);
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
