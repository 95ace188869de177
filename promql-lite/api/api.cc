#include "promql-lite/api/api.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>
#include <set>

#include "common/gzip.h"
#include "promql-lite/api/json.h"
#include "storage/store.h"

namespace sb::promql::api {
namespace {

constexpr std::string_view kPrefix = "/api/v1/";
constexpr std::string_view kLabelPrefix = "/api/v1/label/";

bool ValidLabelName(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// Percent-decoding of a path segment ('+' stays '+'); nullopt on a bad escape.
std::optional<std::string> UnescapePath(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

// Newer Prometheus's parseLimitParam: "" is no limit; otherwise a positive integer.
Result<size_t> LimitParam(const Form& f) {
  std::string s = f.Value("limit");
  if (s.empty()) return size_t{0};
  int64_t v = 0;
  bool ok = !s.empty() && s.size() <= 18;
  size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  ok = ok && i < s.size();
  for (; ok && i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') ok = false;
    else v = v * 10 + (s[i] - '0');
  }
  if (!ok) return Status::InvalidArgument(InvalidParam("limit", "cannot parse \"" + s + "\" to a valid limit"));
  if (s[0] == '-' || v <= 0) return Status::InvalidArgument(InvalidParam("limit", "limit must be positive"));
  return static_cast<size_t>(v);
}

// The start, end and limit parameters shared by /series, /labels and /label/<n>/values;
// `bound` is the limit, or `default_bound` when none was given.
struct ListParams {
  int64_t start = kMinTimeMs;
  int64_t end = kMaxTimeMs;
  size_t bound = 0;
};

Result<ListParams> ReadListParams(const Form& f, size_t default_bound) {
  ListParams p;
  SB_ASSIGN_OR_RETURN(p.start, TimeParam(f, "start", kMinTimeMs));
  SB_ASSIGN_OR_RETURN(p.end, TimeParam(f, "end", kMaxTimeMs));
  SB_ASSIGN_OR_RETURN(size_t limit, LimitParam(f));
  p.bound = limit ? limit : default_bound;
  return p;
}

const char* kTruncated = "results truncated due to limit";

// Answers at least this large are gzip'd for clients that accept it (Grafana does); below,
// the header costs more than compression saves.
constexpr size_t kGzipMinBytes = 1024;

// Whether an Accept-Encoding value allows gzip: "gzip" or "*" listed without q=0.
bool AcceptsGzip(std::string_view header) {
  size_t pos = 0;
  for (int guard = 0; guard < 64 && pos <= header.size(); ++guard) {
    size_t comma = header.find(',', pos);
    std::string_view item = header.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    pos = comma == std::string_view::npos ? header.size() + 1 : comma + 1;
    size_t semi = item.find(';');
    std::string_view coding = item.substr(0, semi);
    while (!coding.empty() && (coding.front() == ' ' || coding.front() == '\t')) coding.remove_prefix(1);
    while (!coding.empty() && (coding.back() == ' ' || coding.back() == '\t')) coding.remove_suffix(1);
    std::string lower;
    for (char c : coding) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    if (lower != "gzip" && lower != "*") continue;
    bool q_zero = false;
    if (semi != std::string_view::npos) {
      std::string_view params = item.substr(semi + 1);
      size_t q = params.find("q=");
      if (q != std::string_view::npos) {
        std::string v(params.substr(q + 2));
        q_zero = std::strtod(v.c_str(), nullptr) <= 0;
      }
    }
    if (!q_zero) return true;
  }
  return false;
}

}  // namespace

std::chrono::milliseconds DefaultLookbackDelta(std::chrono::milliseconds longest_refresh) {
  return std::max<std::chrono::milliseconds>(kDefaultLookbackDelta, longest_refresh + std::chrono::minutes(5));
}

Api::Api(storage::Store* store, ApiOptions options)
    : store_(store), options_(std::move(options)), queryable_(store) {}

std::vector<ApiRoute> Api::Routes(std::shared_ptr<Api> api) {
  std::vector<ApiRoute> routes;
  Handler h = [api](const bridge::Request& req) { return api->Handle(req); };
  for (const char* p : {"query", "query_range", "series", "labels", "metadata", "status/buildinfo",
                        "format_query", "query_exemplars", "rules"}) {
    routes.push_back({std::string(kPrefix) + p, h, false});
  }
  routes.push_back({std::string(kLabelPrefix), h, true});
  return routes;
}

bridge::Response Api::Handle(const bridge::Request& req) {
  namespace http = boost::beast::http;
  auto method = req.method();
  if (method != http::verb::get && method != http::verb::head && method != http::verb::post) {
    auto r = bridge::MakeTextResponse(req, http::status::method_not_allowed, "Method Not Allowed\n");
    r.set(http::field::allow, "GET, HEAD, POST");
    return r;
  }
  std::string_view target(req.target().data(), req.target().size());
  size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  bool form_body = false;
  if (method == http::verb::post) {
    auto ct = req[http::field::content_type];
    std::string_view ctv(ct.data(), ct.size());
    ctv = ctv.substr(0, ctv.find(';'));
    while (!ctv.empty() && ctv.back() == ' ') ctv.remove_suffix(1);
    form_body = ctv == "application/x-www-form-urlencoded";
  }
  Reply reply;
  auto form = Form::Parse(query, form_body ? std::string_view(req.body()) : std::string_view(), form_body);
  if (!form.ok()) {
    reply = {400, ErrorBody(ErrorType::kBadData, "error parsing form values: " + form.status().message())};
  } else if (path == "/api/v1/query") {
    reply = Query(*form);
  } else if (path == "/api/v1/query_range") {
    reply = QueryRange(*form);
  } else if (path == "/api/v1/series") {
    reply = Series(*form);
  } else if (path == "/api/v1/labels") {
    reply = Labels(*form);
  } else if (path == "/api/v1/metadata") {
    reply = Metadata(*form);
  } else if (path == "/api/v1/status/buildinfo") {
    reply = BuildInfo();
  } else if (path == "/api/v1/format_query") {
    reply = Format(*form);
  } else if (path == "/api/v1/query_exemplars") {
    reply = Exemplars(*form);
  } else if (path == "/api/v1/rules") {
    reply = Rules(*form);
  } else if (path.substr(0, kLabelPrefix.size()) == kLabelPrefix && path.size() > kLabelPrefix.size() + 7 &&
             path.substr(path.size() - 7) == "/values") {
    std::string_view raw = path.substr(kLabelPrefix.size(), path.size() - kLabelPrefix.size() - 7);
    auto name = UnescapePath(raw);
    if (!name || name->find('/') != std::string::npos) {
      return bridge::MakeTextResponse(req, http::status::not_found, "404 page not found\n");
    }
    reply = LabelValues(*form, *name);
  } else {
    return bridge::MakeTextResponse(req, http::status::not_found, "404 page not found\n");
  }
  bool gzip = false;
  const bool large = reply.body.size() >= kGzipMinBytes;
  if (large) {
    auto ae = req[http::field::accept_encoding];
    if (AcceptsGzip(std::string_view(ae.data(), ae.size()))) {
      auto z = GzipCompress(reply.body, 1);
      if (z.ok()) {
        reply.body = std::move(z).value();
        gzip = true;
      }
    }
  }
  auto response = bridge::MakeResponse(req.version(), static_cast<http::status>(reply.status), "application/json",
                                       std::make_shared<const std::string>(std::move(reply.body)));
  if (gzip) response.set(http::field::content_encoding, "gzip");
  if (large) response.set(http::field::vary, "Accept-Encoding");
  return response;
}

Result<EngineOptions> Api::RequestOptions(const Form& f) const {
  EngineOptions o = options_.engine;
  std::string to = f.Value("timeout");
  if (!to.empty()) {
    auto ns = ParseDurationNs(to);
    if (!ns.ok()) return Status::InvalidArgument(InvalidParam("timeout", ns.status().message()));
    auto requested = std::chrono::milliseconds(*ns / 1000000);
    if (requested.count() > 0 && requested < o.timeout) o.timeout = requested;
  }
  return o;
}

Api::Reply Api::EngineError(const Status& st) {
  switch (st.code()) {
    case Status::Code::kUnavailable:
      return {503, ErrorBody(ErrorType::kTimeout, st.message())};
    case Status::Code::kResourceExhausted:
    case Status::Code::kUnimplemented:
    case Status::Code::kInvalidArgument:  // the query parsed (CheckQuery): an evaluation error
      return {422, ErrorBody(ErrorType::kExecution, st.message())};
    default:
      return {500, ErrorBody(ErrorType::kInternal, st.message())};
  }
}

Api::Reply Api::Query(const Form& f) {
  auto t = TimeParam(f, "time", options_.clock->NowMs());
  if (!t.ok()) return {400, ErrorBody(ErrorType::kBadData, t.status().message())};
  auto opts = RequestOptions(f);
  if (!opts.ok()) return {400, ErrorBody(ErrorType::kBadData, opts.status().message())};
  if (Status st = CheckQuery(f.Value("query"), /*range_query=*/false); !st.ok()) {
    if (st.code() != Status::Code::kInvalidArgument) return EngineError(st);
    return {400, ErrorBody(ErrorType::kBadData, InvalidParam("query", st.message()))};
  }
  Engine engine(&queryable_, *opts);
  auto r = engine.Instant(f.Value("query"), *t);
  if (!r.ok()) return EngineError(r.status());
  std::string data;
  AppendQueryData(&data, r->value);
  return {200, SuccessBody(data, r->warnings)};
}

Api::Reply Api::QueryRange(const Form& f) {
  auto bad = [](std::string msg) { return Reply{400, ErrorBody(ErrorType::kBadData, msg)}; };
  auto start = ParseTime(f.Value("start"));
  if (!start.ok()) return bad(InvalidParam("start", start.status().message()));
  auto end = ParseTime(f.Value("end"));
  if (!end.ok()) return bad(InvalidParam("end", end.status().message()));
  if (*end < *start) return bad(InvalidParam("end", "end timestamp must not be before start time"));
  auto step = ParseDurationNs(f.Value("step"));
  if (!step.ok()) return bad(InvalidParam("step", step.status().message()));
  if (*step <= 0) {
    return bad(InvalidParam("step", "zero or negative query resolution step widths are not accepted. Try a positive integer"));
  }
  __int128 span_ns = static_cast<__int128>(*end - *start) * 1000000;
  if (span_ns / *step > 11000) {
    return bad("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)");
  }
  int64_t step_ms = *step / 1000000;
  if (step_ms <= 0) return bad(InvalidParam("step", "steps below one millisecond are not supported"));
  auto opts = RequestOptions(f);
  if (!opts.ok()) return bad(opts.status().message());
  if (Status st = CheckQuery(f.Value("query"), /*range_query=*/true); !st.ok()) {
    if (st.code() != Status::Code::kInvalidArgument) return EngineError(st);
    return {400, ErrorBody(ErrorType::kBadData, InvalidParam("query", st.message()))};
  }
  Engine engine(&queryable_, *opts);
  auto r = engine.Range(f.Value("query"), *start, *end, step_ms);
  if (!r.ok()) return EngineError(r.status());
  std::string data;
  AppendQueryData(&data, r->value);
  return {200, SuccessBody(data, r->warnings)};
}

Result<std::vector<storage::Labels>> Api::MatchSeries(const std::vector<std::string>& selectors, int64_t start,
                                                      int64_t end, size_t limit, bool wrap_errors,
                                                      bool* truncated) {
  std::set<int64_t> seen;
  std::vector<storage::Labels> out;
  for (const std::string& sel : selectors) {
    auto matchers = ParseSeriesSelector(sel);
    if (!matchers.ok()) {
      return Status::InvalidArgument(wrap_errors ? InvalidParam("match[]", matchers.status().message())
                                                 : matchers.status().message());
    }
    SB_ASSIGN_OR_RETURN(std::vector<storage::SeriesRef> refs, store_->Select(*matchers, start, end));
    for (auto& ref : refs) {
      if (seen.insert(ref.id).second) out.push_back(std::move(ref.labels));
    }
  }
  std::sort(out.begin(), out.end(), LabelsLess);
  *truncated = false;
  if (limit > 0 && out.size() > limit) {
    out.resize(limit);
    *truncated = true;
  }
  return out;
}

namespace {

Api::Reply StatusReply(const Status& st) {
  if (st.code() == Status::Code::kInvalidArgument) {
    return {400, ErrorBody(ErrorType::kBadData, st.message())};
  }
  return {500, ErrorBody(ErrorType::kInternal, st.message())};
}

// The answer to a label names or values request: `items` as a JSON array, cut to `bound`
// entries (0: no bound) with the truncation warning when cut.
Api::Reply BoundedStringArray(std::vector<std::string> items, size_t bound) {
  std::vector<std::string> warnings;
  if (bound > 0 && items.size() > bound) {
    items.resize(bound);
    warnings.push_back(kTruncated);
  }
  return {200, SuccessBody(StringArray(items), warnings)};
}

}  // namespace

Api::Reply Api::Series(const Form& f) {
  std::vector<std::string> selectors = f.Values("match[]");
  if (selectors.empty()) return {400, ErrorBody(ErrorType::kBadData, "no match[] parameter provided")};
  auto params = ReadListParams(f, options_.max_series_results);
  if (!params.ok()) return StatusReply(params.status());
  bool truncated = false;
  auto series = MatchSeries(selectors, params->start, params->end, params->bound, /*wrap_errors=*/true, &truncated);
  if (!series.ok()) return StatusReply(series.status());
  std::string data = "[";
  for (size_t i = 0; i < series->size(); ++i) {
    if (i) data.push_back(',');
    AppendLabels(&data, (*series)[i]);
  }
  data.push_back(']');
  std::vector<std::string> warnings;
  if (truncated) warnings.push_back(kTruncated);
  return {200, SuccessBody(data, warnings)};
}

Api::Reply Api::Labels(const Form& f) {
  auto params = ReadListParams(f, options_.max_series_results);
  if (!params.ok()) return StatusReply(params.status());
  std::vector<std::string> selectors = f.Values("match[]");
  std::vector<std::string> names;
  if (selectors.empty() && params->start == kMinTimeMs && params->end == kMaxTimeMs) {
    names = store_->LabelNames();
  } else {
    if (selectors.empty()) selectors.push_back("{__name__=~\".+\"}");
    bool truncated;
    auto series = MatchSeries(selectors, params->start, params->end, 0, /*wrap_errors=*/false, &truncated);
    if (!series.ok()) return StatusReply(series.status());
    std::set<std::string> set;
    for (const auto& labels : *series) {
      for (const auto& l : labels) set.insert(l.name);
    }
    names.assign(set.begin(), set.end());
  }
  return BoundedStringArray(std::move(names), params->bound);
}

Api::Reply Api::LabelValues(const Form& f, std::string_view name) {
  if (!ValidLabelName(name)) {
    std::string quoted;
    AppendJsonString(&quoted, name);  // Go's %q, close enough for names
    return {400, ErrorBody(ErrorType::kBadData, "invalid label name: " + quoted)};
  }
  auto params = ReadListParams(f, options_.max_series_results);
  if (!params.ok()) return StatusReply(params.status());
  std::vector<std::string> selectors = f.Values("match[]");
  std::vector<std::string> values;
  std::string label(name);
  if (selectors.empty() && params->start == kMinTimeMs && params->end == kMaxTimeMs) {
    values = store_->LabelValues(label);
  } else {
    if (selectors.empty()) selectors.push_back("{" + label + "=~\".+\"}");
    bool truncated;
    auto series = MatchSeries(selectors, params->start, params->end, 0, /*wrap_errors=*/false, &truncated);
    if (!series.ok()) return StatusReply(series.status());
    std::set<std::string> set;
    for (const auto& labels : *series) {
      for (const auto& l : labels) {
        if (l.name == label) set.insert(l.value);
      }
    }
    values.assign(set.begin(), set.end());
  }
  return BoundedStringArray(std::move(values), params->bound);
}

Api::Reply Api::Metadata(const Form& f) {
  int64_t limit = -1;
  std::string ls = f.Value("limit");
  if (!ls.empty()) {
    char* endp = nullptr;
    errno = 0;
    long long v = std::strtoll(ls.c_str(), &endp, 10);
    if (endp != ls.c_str() + ls.size() || errno != 0 || ls[0] == ' ') {
      return {400, ErrorBody(ErrorType::kBadData, "limit must be a number")};
    }
    limit = v;
  }
  std::string metric = f.Value("metric");
  struct Entry {
    std::string type, help, unit;
    bool operator<(const Entry& o) const { return std::tie(type, help, unit) < std::tie(o.type, o.help, o.unit); }
  };
  std::map<std::string, std::set<Entry>> by_name;  // Go's encoding sorts map keys
  if (options_.metadata_source) {
    for (const auto& exp : options_.metadata_source()) {
      if (!exp) continue;
      for (const auto& fam : exp->families) {
        if (!metric.empty() && fam.name != metric) continue;
        by_name[fam.name].insert({expo::MetricTypeName(fam.type, /*openmetrics=*/true), fam.help, fam.unit});
      }
    }
  }
  std::string data = "{";
  int64_t n = 0;
  for (const auto& [name, entries] : by_name) {
    if (limit >= 0 && n >= limit) break;
    if (n++) data.push_back(',');
    AppendJsonString(&data, name);
    data.append(":[");
    bool first = true;
    for (const auto& e : entries) {
      if (!first) data.push_back(',');
      first = false;
      data.append("{\"type\":");
      AppendJsonString(&data, e.type);
      data.append(",\"help\":");
      AppendJsonString(&data, e.help);
      data.append(",\"unit\":");
      AppendJsonString(&data, e.unit);
      data.push_back('}');
    }
    data.push_back(']');
  }
  data.push_back('}');
  return {200, SuccessBody(data)};
}

Api::Reply Api::BuildInfo() {
  std::string data = "{\"version\":\"2.42.0\",\"revision\":";
  AppendJsonString(&data, "scout-bridge " + options_.bridge_version);
  data.append(",\"branch\":\"\",\"buildUser\":\"\",\"buildDate\":\"\",\"goVersion\":\"\"}");
  return {200, SuccessBody(data)};
}

Api::Reply Api::Format(const Form& f) {
  auto r = promql::FormatQuery(f.Value("query"));
  if (!r.ok()) return {400, ErrorBody(ErrorType::kBadData, InvalidParam("query", r.status().message()))};
  std::string data;
  AppendJsonString(&data, *r);
  return {200, SuccessBody(data)};
}

Api::Reply Api::Exemplars(const Form& f) {
  auto start = TimeParam(f, "start", kMinTimeMs);
  if (!start.ok()) return StatusReply(start.status());
  auto end = TimeParam(f, "end", kMaxTimeMs);
  if (!end.ok()) return StatusReply(end.status());
  if (*end < *start) return {400, ErrorBody(ErrorType::kBadData, "end timestamp must not be before start timestamp")};
  auto r = promql::FormatQuery(f.Value("query"));
  if (!r.ok()) return {400, ErrorBody(ErrorType::kBadData, r.status().message())};
  return {200, SuccessBody("[]")};
}

Api::Reply Api::Rules(const Form& f) {
  std::string type = f.Value("type");
  if (!type.empty() && type != "alert" && type != "record") {
    return {400, ErrorBody(ErrorType::kBadData, "not supported value \"" + type + "\"")};
  }
  return {200, SuccessBody("{\"groups\":[]}")};
}

}  // namespace sb::promql::api
