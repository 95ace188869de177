#include "bridge/router.h"

#include "common/http_date.h"

#include <algorithm>
#include <ctime>

namespace sb::bridge {
namespace {

std::string_view PathOf(std::string_view target) {
  size_t q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

std::string_view QueryOf(std::string_view target) {
  size_t q = target.find('?');
  return q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') out += ' ';
    else if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else out += s[i];
  }
  return out;
}

// The first value of query parameter `name`, or "".
std::string QueryParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    size_t eq = kv.find('=');
    if (Unescape(kv.substr(0, eq)) == name) return eq == std::string_view::npos ? "" : Unescape(kv.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return "";
}

Response Finish(RouterContext& ctx, HandlerId h, Response res) {
  ctx.Metrics().CountHttp(h, res.result_int());
  return res;
}

Response Text(RouterContext& ctx, HandlerId h, const Request& req, http::status s, std::string text) {
  return Finish(ctx, h, MakeTextResponse(req, s, std::move(text)));
}

bool IsRead(const Request& req) { return req.method() == http::verb::get || req.method() == http::verb::head; }

Response MethodNotAllowed(RouterContext& ctx, HandlerId h, const Request& req, const char* allow) {
  Response res = MakeTextResponse(req, http::status::method_not_allowed, std::string("method not allowed; use ") + allow + "\n");
  res.set(http::field::allow, allow);
  return Finish(ctx, h, std::move(res));
}

Response Scrape(const Request& req, RouterContext& ctx, const std::vector<Endpoint>& candidates) {
  if (!IsRead(req)) return MethodNotAllowed(ctx, HandlerId::kScrape, req, "GET, HEAD");
  const Endpoint* ep = &candidates[0];
  if (candidates.size() > 1) {
    std::string_view query = QueryOf(req.target());
    std::string job = QueryParam(query, "job"), target = QueryParam(query, "target");
    ep = nullptr;
    int matches = 0;
    std::string choices;
    for (const auto& c : candidates) {
      choices += (choices.empty() ? "" : ", ") + std::string("job=") + c.job + "&target=" + c.instance;
      if ((job.empty() || c.job == job) && (target.empty() || c.instance == target)) {
        ep = &c;
        ++matches;
      }
    }
    if (matches != 1) {
      return Text(ctx, HandlerId::kScrape, req, matches == 0 ? http::status::not_found : http::status::bad_request,
                  "this path serves several targets; select one with ?job=...&target=... (" + choices + ")\n");
    }
  }
  std::shared_ptr<const Snapshot> snap = ep->snapshot();
  if (!snap) {
    return Text(ctx, HandlerId::kScrape, req, http::status::service_unavailable,
                "no data yet from upstream for job " + ep->job + ": " + ep->not_ready_reason() + "\n");
  }
  Representation rep = Negotiate(req[http::field::accept], req[http::field::accept_encoding]);
  const RenderedBody& body = snap->Body(rep);
  auto inm = req[http::field::if_none_match];
  if (!inm.empty() && EtagMatches(inm, body.etag)) {
    Response res = MakeResponse(req.version(), http::status::not_modified, std::string(body.content_type), nullptr);
    res.set(http::field::etag, body.etag);
    res.set(http::field::vary, "Accept, Accept-Encoding");
    res.keep_alive(req.keep_alive());
    return Finish(ctx, HandlerId::kScrape, std::move(res));
  }
  Response res = MakeResponse(req.version(), http::status::ok, std::string(body.content_type), body.body);
  if (body.gzip) res.set(http::field::content_encoding, "gzip");
  res.set(http::field::etag, body.etag);
  res.set(http::field::vary, "Accept, Accept-Encoding");
  res.set(http::field::last_modified, FormatHttpDate(snap->fetch_time_ms));
  res.keep_alive(req.keep_alive());
  return Finish(ctx, HandlerId::kScrape, std::move(res));
}

}  // namespace

bool RouteFast(const Request& req, RouterContext& ctx, PreparedResponse* out) {
  std::shared_ptr<const RouteTable> routes = ctx.Routes();
  if (!routes) return false;
  auto it = routes->by_path.find(PathOf(req.target()));
  if (it == routes->by_path.end() || it->second.size() != 1) return false;
  if (req.find(http::field::if_none_match) != req.end()) return false;
  std::shared_ptr<const Snapshot> snap = it->second[0].snapshot();
  if (!snap) return false;
  const RenderedBody& body = snap->Body(Negotiate(req[http::field::accept], req[http::field::accept_encoding]));
  out->head = body.head;
  out->body = body.body;
  out->file = body.file;
  ctx.Metrics().CountHttp(HandlerId::kScrape, 200);
  return true;
}

Response Route(const Request& req, RouterContext& ctx) {
  std::string_view path = PathOf(req.target());
  std::shared_ptr<const RouteTable> routes = ctx.Routes();
  if (routes) {
    auto it = routes->by_path.find(path);
    if (it != routes->by_path.end() && !it->second.empty()) return Scrape(req, ctx, it->second);
  }
  if (path == "/metrics") {
    if (!IsRead(req)) return MethodNotAllowed(ctx, HandlerId::kMetrics, req, "GET, HEAD");
    auto body = std::make_shared<const std::string>(ctx.RenderSelfMetrics());
    Response res = MakeResponse(req.version(), http::status::ok, std::string(kTextContentType), body);
    res.keep_alive(req.keep_alive());
    return Finish(ctx, HandlerId::kMetrics, std::move(res));
  }
  if (path == "/-/healthy") {
    if (!IsRead(req)) return MethodNotAllowed(ctx, HandlerId::kHealthy, req, "GET, HEAD");
    return Text(ctx, HandlerId::kHealthy, req, http::status::ok, "scout-bridge is Healthy.\n");
  }
  if (path == "/-/ready") {
    if (!IsRead(req)) return MethodNotAllowed(ctx, HandlerId::kReady, req, "GET, HEAD");
    if (!ctx.Ready()) return Text(ctx, HandlerId::kReady, req, http::status::service_unavailable, "scout-bridge is not ready.\n");
    return Text(ctx, HandlerId::kReady, req, http::status::ok, "scout-bridge is Ready.\n");
  }
  if (path == "/-/reload") {
    if (req.method() != http::verb::post && req.method() != http::verb::put) {
      return MethodNotAllowed(ctx, HandlerId::kReload, req, "POST, PUT");
    }
    Status st = ctx.Reload();
    if (!st.ok()) return Text(ctx, HandlerId::kReload, req, http::status::internal_server_error, "failed to reload config: " + st.message() + "\n");
    return Text(ctx, HandlerId::kReload, req, http::status::ok, "");
  }
  if (path == "/api/v1/targets") {
    if (!IsRead(req)) return MethodNotAllowed(ctx, HandlerId::kTargets, req, "GET, HEAD");
    auto body = std::make_shared<const std::string>(ctx.TargetsJson());
    Response res = MakeResponse(req.version(), http::status::ok, "application/json", body);
    res.keep_alive(req.keep_alive());
    return Finish(ctx, HandlerId::kTargets, std::move(res));
  }
  if (path == "/") {
    std::string text = "scout-bridge\n\nEndpoints:\n  /metrics          the bridge's own metrics\n"
                       "  /api/v1/targets   upstream targets and their state\n"
                       "  /-/healthy /-/ready /-/reload (POST)\n";
    if (ctx.FindApi("/api/v1/query")) {
      text += "  /api/v1/query, /api/v1/query_range, /api/v1/series, /api/v1/labels, ...\n"
              "                    the Prometheus query API over the stored history (docs/api.md)\n";
    }
    if (ctx.FindApi("/api/v1/recommendations")) {
      text += "  /api/v1/recommendations, /recommendations/metrics\n"
              "                    base-image recommendations (docs/recommendations.md)\n";
    }
    text += "\nServed upstream paths:\n";
    if (routes) {
      std::vector<std::string> lines;
      for (const auto& [p, eps] : routes->by_path)
        for (const auto& ep : eps) lines.push_back("  " + p + "   job=" + ep.job + " upstream=" + ep.instance + "\n");
      std::sort(lines.begin(), lines.end());
      for (const auto& l : lines) text += l;
    }
    return Text(ctx, HandlerId::kIndex, req, http::status::ok, std::move(text));
  }
  if (const ApiHandler* api = ctx.FindApi(path)) return (*api)(req);
  return Text(ctx, HandlerId::kNotFound, req, http::status::not_found, "404 page not found\n");
}

}  // namespace sb::bridge
