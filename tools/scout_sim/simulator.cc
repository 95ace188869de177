#include "tools/scout_sim/simulator.h"

#include "bridge/cache_headers.h"
#include "common/http_date.h"
#include "common/strings.h"

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <cstdio>
#include <ctime>
#include <utility>

#include "common/gzip.h"

namespace sb::sim {

using bridge::MakeResponse;
using bridge::MakeTextResponse;
using bridge::Request;
using bridge::Response;
namespace http = bridge::http;

namespace {

constexpr const char* kExpositionType = "text/plain; version=0.0.4; charset=utf-8";
constexpr std::string_view kExporterPrefix = "/v1/exporter/org/";

using sb::AsciiLower;

std::string_view Trim(std::string_view s) { return TrimOws(s); }
std::string Lower(std::string_view s) { return AsciiLower(s); }

bool ParseInt(std::string_view s, int64_t* out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && ec == std::errc() && ptr == s.data() + s.size();
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// True if Accept-Encoding lists gzip with a non-zero q.
bool AcceptsGzip(std::string_view header) {
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view item = Trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    size_t semi = item.find(';');
    if (Lower(Trim(item.substr(0, semi))) != "gzip") continue;
    if (semi == std::string_view::npos) return true;
    std::string params = Lower(item.substr(semi + 1));
    size_t q = params.find("q=");
    if (q == std::string::npos) return true;
    return std::strtod(params.c_str() + q + 2, nullptr) > 0;
  }
  return false;
}

// True if an If-None-Match value matches `etag` (weak comparison, or "*").
bool EtagMatches(std::string_view header, const std::string& etag) {
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view item = Trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    if (item.substr(0, 2) == "W/") item.remove_prefix(2);
    if (item == "*" || item == etag) return true;
  }
  return false;
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out.push_back(c);
    }
  }
  return out + "\"";
}

const char* FaultModeName(FaultMode m) {
  switch (m) {
    case FaultMode::kNone: return "none";
    case FaultMode::kStatus: return "status";
    case FaultMode::kTooManyRequests: return "429";
    case FaultMode::kSlowBody: return "slow";
    case FaultMode::kTruncatedBody: return "truncated";
    case FaultMode::kGarbageBody: return "garbage";
  }
  return "?";
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Free functions

Result<Fault> ParseFaultQuery(std::string_view query) {
  Fault f;
  bool have_mode = false;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string key = PercentDecode(pair.substr(0, eq));
    std::string value = eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1));
    int64_t n = 0;
    if (key == "mode") {
      have_mode = true;
      if (value == "none") f.mode = FaultMode::kNone;
      else if (value == "status") f.mode = FaultMode::kStatus;
      else if (value == "429") f.mode = FaultMode::kTooManyRequests;
      else if (value == "slow") f.mode = FaultMode::kSlowBody;
      else if (value == "truncated") f.mode = FaultMode::kTruncatedBody;
      else if (value == "garbage") f.mode = FaultMode::kGarbageBody;
      else return Status::InvalidArgument("mode: unknown fault mode \"" + value + "\"");
    } else if (key == "code") {
      if (!ParseInt(value, &n) || n < 100 || n > 599) {
        return Status::InvalidArgument("code: want a status 100..599, got \"" + value + "\"");
      }
      f.status = static_cast<int>(n);
    } else if (key == "retry_after") {
      f.retry_after = value;
    } else if (key == "delay_ms") {
      if (!ParseInt(value, &n) || n < 0) return Status::InvalidArgument("delay_ms: bad value");
      f.slow_delay = Duration(n);
    } else if (key == "chunk_bytes") {
      if (!ParseInt(value, &n) || n < 1) return Status::InvalidArgument("chunk_bytes: bad value");
      f.slow_chunk_bytes = static_cast<size_t>(n);
    } else if (key == "count") {
      if (!ParseInt(value, &n)) return Status::InvalidArgument("count: bad value");
      f.count = n;
    } else {
      return Status::InvalidArgument("unknown parameter \"" + key + "\"");
    }
  }
  if (!have_mode) return Status::InvalidArgument("mode: missing");
  return f;
}

// ---------------------------------------------------------------------------------------
// ScoutSimulator

ScoutSimulator::ScoutSimulator(Options options)
    : options_(std::move(options)),
      clock_(options_.clock ? options_.clock : SystemClock::Default()) {
  if (options_.window.count() <= 0) options_.window = std::chrono::minutes(60);
  for (const auto& [org, cfg] : options_.orgs) {
    specs_[org] = SpecForSeriesCount(org, cfg.approx_series);
    org_by_token_[cfg.token] = org;
  }
}

ScoutSimulator::~ScoutSimulator() { Stop(); }

Status ScoutSimulator::Start() {
  bridge::HttpServer::Options o;
  o.listen_address = options_.listen_address;
  o.tls_cert_file = options_.tls_cert_file;
  o.tls_key_file = options_.tls_key_file;
  o.threads = options_.threads;
  server_ = std::make_unique<bridge::HttpServer>(
      o, [this](const Request& req, bridge::Responder responder) {
        Reply reply = Handle(req);
        responder.Send(std::move(reply.response), reply.pacing);
      });
  return server_->Start();
}

void ScoutSimulator::Stop() {
  if (server_) server_->Stop();
}

int ScoutSimulator::port() const { return server_ ? server_->port() : 0; }

void ScoutSimulator::SetFault(Fault fault) {
  std::lock_guard<std::mutex> lock(mu_);
  fault_ = std::move(fault);
}

Fault ScoutSimulator::fault() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fault_;
}

Fault ScoutSimulator::TakeFault() {
  std::lock_guard<std::mutex> lock(mu_);
  Fault f = fault_;
  if (fault_.mode != FaultMode::kNone && fault_.count > 0 && --fault_.count == 0) {
    fault_ = Fault{};
  }
  return f;
}

uint64_t ScoutSimulator::RequestCount(const std::string& org) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = counts_.find(org);
  return it == counts_.end() ? 0 : it->second;
}

uint64_t ScoutSimulator::TotalRequests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return total_;
}

int64_t ScoutSimulator::WindowIndex() const { return clock_->NowMs() / options_.window.count(); }

std::string ScoutSimulator::ExpectedBody(const std::string& org) const {
  if (!specs_.count(org)) return "";
  return *BodiesFor(org, WindowIndex()).plain;
}

ScoutSimulator::Bodies ScoutSimulator::BodiesFor(const std::string& org, int64_t window) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = bodies_.find(org);
    if (it != bodies_.end() && it->second.window == window) return it->second;
  }
  // Render outside the lock: a 100k-series body takes a while.
  Bodies b;
  b.window = window;
  b.plain = std::make_shared<const std::string>(RenderOrgMetrics(specs_.at(org), window));
  auto gz = GzipCompress(*b.plain);
  if (gz.ok()) b.gzip = std::make_shared<const std::string>(std::move(gz).value());
  std::lock_guard<std::mutex> lock(mu_);
  bodies_[org] = b;
  return b;
}

ScoutSimulator::Reply ScoutSimulator::Handle(const Request& req) {
  std::string_view target = req.target();
  size_t qmark = target.find('?');
  std::string_view path = target.substr(0, qmark);
  std::string_view query = qmark == std::string_view::npos ? "" : target.substr(qmark + 1);

  if (path.substr(0, kExporterPrefix.size()) == kExporterPrefix) {
    std::string_view rest = path.substr(kExporterPrefix.size());
    if (rest.size() > 8 && rest.substr(rest.size() - 8) == "/metrics") {
      rest.remove_suffix(8);
    }
    if (!rest.empty() && rest.find('/') == std::string_view::npos) {
      return HandleExporter(req, std::string(rest));
    }
  }
  if (path == "/sim/fault") {
    if (req.method() != http::verb::post) {
      return {MakeTextResponse(req, http::status::method_not_allowed, "use POST"), {}};
    }
    return HandleFault(req, query);
  }
  if (path == "/sim/stats") return HandleStats(req);
  return {MakeTextResponse(req, http::status::not_found, "not found"), {}};
}

ScoutSimulator::Reply ScoutSimulator::HandleExporter(const Request& req, const std::string& org) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++total_;
    ++counts_[org];
  }
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    return {MakeTextResponse(req, http::status::method_not_allowed, "use GET"), {}};
  }
  const Fault fault = TakeFault();
  switch (fault.mode) {
    case FaultMode::kStatus:
      return {MakeTextResponse(req, static_cast<http::status>(fault.status),
                               "simulated failure " + std::to_string(fault.status)),
              {}};
    case FaultMode::kTooManyRequests: {
      Response res = MakeTextResponse(req, http::status::too_many_requests, "slow down");
      res.set(http::field::retry_after, fault.retry_after);
      return {std::move(res), {}};
    }
    case FaultMode::kGarbageBody: {
      static constexpr char kJunk[] = "\x00\x01\xfe\xff{{ not exposition\nscout_metric{ 1 2 3\n\x80\x81";
      static const auto junk = std::make_shared<const std::string>(kJunk, sizeof(kJunk) - 1);
      return {MakeResponse(req.version(), http::status::ok, kExpositionType, junk), {}};
    }
    default:
      break;  // Slow and truncated alter the normal response below.
  }

  // Authentication and authorization.
  std::string_view auth = req[http::field::authorization];
  std::string token;
  if (auth.size() > 7 && Lower(auth.substr(0, 7)) == "bearer ") token = Trim(auth.substr(7));
  auto token_it = org_by_token_.find(token);
  if (token.empty() || token_it == org_by_token_.end()) {
    Response res = MakeTextResponse(req, http::status::unauthorized, "missing or invalid token");
    res.set(http::field::www_authenticate, "Bearer");
    return {std::move(res), {}};
  }
  if (!specs_.count(org)) {
    return {MakeTextResponse(req, http::status::not_found, "unknown organization"), {}};
  }
  if (token_it->second != org) {
    return {MakeTextResponse(req, http::status::forbidden, "token does not grant this org"), {}};
  }

  const int64_t now_ms = clock_->NowMs();
  const int64_t window_ms = options_.window.count();
  const int64_t window = now_ms / window_ms;
  const int64_t window_start_ms = window * window_ms;
  const std::string etag = "\"" + org + "-" + std::to_string(window) + "\"";
  const std::string last_modified = FormatHttpDate(window_start_ms);
  auto add_cache_headers = [&](Response& res) {
    if (!options_.cache_headers) return;
    const int64_t left_s = (window_start_ms + window_ms - now_ms + 999) / 1000;
    res.set(http::field::cache_control, "max-age=" + std::to_string(left_s));
    res.set(http::field::etag, etag);
    res.set(http::field::last_modified, last_modified);
  };

  if (options_.cache_headers) {
    bool not_modified = false;
    auto inm = req.find(http::field::if_none_match);
    if (inm != req.end()) {
      not_modified = EtagMatches(inm->value(), etag);
    } else if (auto ims = req.find(http::field::if_modified_since); ims != req.end()) {
      int64_t ims_ms = 0;
      const auto parsed_ims = bridge::ParseHttpDate(ims->value());
      if (parsed_ims) ims_ms = *parsed_ims;
      not_modified = parsed_ims.has_value() && window_start_ms / 1000 <= ims_ms / 1000;
    }
    if (not_modified) {
      Response res(http::status::not_modified, req.version());
      add_cache_headers(res);
      return {std::move(res), {}};
    }
  }

  Bodies bodies = BodiesFor(org, window);
  const bool gzip = bodies.gzip && AcceptsGzip(req[http::field::accept_encoding]);
  Response res = MakeResponse(req.version(), http::status::ok, kExpositionType,
                              gzip ? bodies.gzip : bodies.plain);
  if (gzip) res.set(http::field::content_encoding, "gzip");
  res.set(http::field::vary, "Accept-Encoding");
  add_cache_headers(res);

  bridge::Pacing pacing;
  if (fault.mode == FaultMode::kSlowBody) {
    pacing.delay_before_headers = fault.slow_delay;
    pacing.chunk_bytes = fault.slow_chunk_bytes;
    pacing.delay_between_chunks = fault.slow_delay;
  } else if (fault.mode == FaultMode::kTruncatedBody) {
    const auto& full = res.body();
    const size_t full_size = full ? full->size() : 0;
    res.body() = std::make_shared<const std::string>(full ? full->substr(0, full_size / 2) : "");
    res.content_length(full_size);  // Promises more than is sent ...
    res.keep_alive(false);          // ... then the connection closes.
  }
  return {std::move(res), pacing};
}

ScoutSimulator::Reply ScoutSimulator::HandleFault(const Request& req, std::string_view query) {
  Result<Fault> fault = ParseFaultQuery(query);
  if (!fault.ok()) {
    return {MakeTextResponse(req, http::status::bad_request, fault.status().message()), {}};
  }
  std::string mode = FaultModeName(fault->mode);
  SetFault(std::move(fault).value());
  return {MakeTextResponse(req, http::status::ok, "fault mode=" + mode), {}};
}

ScoutSimulator::Reply ScoutSimulator::HandleStats(const Request& req) {
  std::string json;
  {
    std::lock_guard<std::mutex> lock(mu_);
    json = "{\"total\":" + std::to_string(total_) + ",\"orgs\":{";
    bool first = true;
    for (const auto& [org, n] : counts_) {
      if (!first) json += ",";
      first = false;
      json += JsonString(org) + ":" + std::to_string(n);
    }
    json += "},\"fault\":" + JsonString(FaultModeName(fault_.mode));
  }
  json += ",\"window_index\":" + std::to_string(WindowIndex()) + "}\n";
  return {MakeResponse(req.version(), http::status::ok, "application/json",
                       std::make_shared<const std::string>(std::move(json))),
          {}};
}

}  // namespace sb::sim
