#include "bridge/target.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <xxhash.h>

#include "bridge/proxy.h"
#include "common/exposition/parser.h"
#include "common/exposition/render.h"
#include "common/gzip.h"
#include "common/log.h"

namespace sb::bridge {
namespace {

// The error of a gzip body that does not decode, worded as the HTTP client words it.
std::string GzipError(const Status& st, size_t max_body_bytes) {
  if (st.code() == Status::Code::kResourceExhausted) {
    return "decoded (gzip) body exceeds max_body_bytes=" + std::to_string(max_body_bytes);
  }
  return "bad gzip body: " + st.message();
}

// An upstream body, parsed (its samples streamed through ParseOptions::on_sample).
struct ParsedBody {
  expo::Exposition data;
  // For a gzip body parsed as it was decompressed: its XXH3 and size (the body is not kept).
  std::optional<SnapshotOptions::Digest> digest;
};

// Parses resp's body. A gzip one (FetchRequest::keep_gzip_encoded) is decompressed as it is
// parsed (GzipDecompressStream, StreamParser): the decompressed body (11 MB at 100k series)
// is never held whole, and its digest, the snapshot's ETag hash, is computed on the way.
// With `whole` (something is to be pre-rendered from it) it is decompressed into resp->body
// first, and parsed from there. Errors are worded for the target's last error.
Result<ParsedBody> ParseUpstreamBody(FetchResponse* resp, expo::Format format, const expo::ParseOptions& popts,
                                     bool whole, size_t max_body_bytes) {
  auto parse_error = [](const Status& st) { return Status::InvalidArgument("parsing upstream body: " + st.message()); };
  if (resp->body.empty() && !resp->gzip_body.empty()) {
    if (whole) {
      auto body = GzipDecompress(resp->gzip_body, max_body_bytes);
      if (!body.ok()) return Status::Unavailable(GzipError(body.status(), max_body_bytes));
      resp->body = std::move(body).value();
    } else {
      expo::StreamParser parser(format, popts);
      std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> hash(XXH3_createState(), &XXH3_freeState);
      if (hash == nullptr) return Status::Internal("out of memory");
      XXH3_64bits_reset(hash.get());
      size_t bytes = 0;
      bool parse_failed = false;
      Status st = GzipDecompressStream(resp->gzip_body, max_body_bytes, [&](std::string_view piece) {
        XXH3_64bits_update(hash.get(), piece.data(), piece.size());
        bytes += piece.size();
        Status fed = parser.Feed(piece);
        parse_failed = !fed.ok();
        return fed;
      });
      if (!st.ok()) return parse_failed ? parse_error(st) : Status::Unavailable(GzipError(st, max_body_bytes));
      auto data = parser.Finish();
      if (!data.ok()) return parse_error(data.status());
      return ParsedBody{std::move(data).value(), SnapshotOptions::Digest{XXH3_64bits_digest(hash.get()), bytes}};
    }
  }
  auto data = expo::ParseExposition(resp->body, format, popts);
  if (!data.ok()) return parse_error(data.status());
  return ParsedBody{std::move(data).value(), std::nullopt};
}

ScheduleOptions OptionsFor(const config::ScrapeConfig& job, ScheduleOptions o) {
  o.refresh_interval = config::EffectiveRefresh(job);
  o.respect_cache_headers = job.respect_cache_headers;
  o.max_requests_per_hour = static_cast<int>(job.max_requests_per_hour);
  return o;
}

uint64_t SeedFor(const std::string& key) { return Fnv1a64(key) ^ 0x5eed5eed5eedULL; }

std::string PercentEncode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// Reads a credentials file, trimming trailing whitespace as Prometheus does.
Result<std::string> ReadSecretFile(const std::string& path, const char* what) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::IOError(std::string("cannot read ") + what + " file " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  if (s.empty()) return Status::InvalidArgument(std::string(what) + " file " + path + " is empty");
  return s;
}

// The Authorization header for a job, reading credential files now (so a rotated token is
// picked up by the next request). Returns "" when the job has no auth.
Result<std::string> AuthorizationHeader(const config::ScrapeConfig& job) {
  if (job.authorization) {
    const auto& a = *job.authorization;
    std::string token;
    if (!a.credentials_file.empty()) {
      SB_ASSIGN_OR_RETURN(token, ReadSecretFile(a.credentials_file, "credentials"));
    } else {
      token = a.credentials.Reveal();
    }
    if (token.empty()) return std::string();
    return a.type + " " + token;
  }
  if (job.basic_auth) {
    const auto& b = *job.basic_auth;
    std::string user = b.username, password = b.password.Reveal();
    if (!b.username_file.empty()) { SB_ASSIGN_OR_RETURN(user, ReadSecretFile(b.username_file, "username")); }
    if (!b.password_file.empty()) { SB_ASSIGN_OR_RETURN(password, ReadSecretFile(b.password_file, "password")); }
    return "Basic " + Base64Encode(user + ":" + password);
  }
  return std::string();
}

}  // namespace

void AppendSeriesSample(const expo::Sample& s, const std::string& job, const std::string& instance,
                        bool honor_labels, std::vector<storage::LabelView>* scratch,
                        std::vector<storage::SeriesSample>* out, const std::vector<std::string_view>* known,
                        std::string* key_buf) {
  // The canonical key is written straight from the parsed labels (views into them,
  // storage::EncodeLabelViews): one string per sample instead of a vector of label strings.
  // The store checks a key it does not know yet as it checks labels (a bad name or a
  // repeated one refuses the fetch).
  static const std::string kExportedJob = "exported_job", kExportedInstance = "exported_instance";
  std::vector<storage::LabelView>& labels = *scratch;
  labels.clear();
  labels.emplace_back("__name__", s.name);
  bool has_job = false, has_instance = false;
  for (const auto& l : s.labels) {
    if (l.name == "job" || l.name == "instance") {
      const bool is_job = l.name == "job";
      (is_job ? has_job : has_instance) = true;
      labels.emplace_back(honor_labels ? std::string_view(l.name)
                                       : std::string_view(is_job ? kExportedJob : kExportedInstance),
                          l.value);
    } else {
      labels.emplace_back(l.name, l.value);
    }
  }
  if (!honor_labels || !has_job) labels.emplace_back("job", job);
  if (!honor_labels || !has_instance) labels.emplace_back("instance", instance);
  const size_t i = out->size();
  storage::SeriesSample& ss = out->emplace_back();
  ss.value = s.value;
  if (known == nullptr || key_buf == nullptr || i >= known->size()) {
    storage::EncodeLabelViews(&labels, &ss.key);
    return;
  }
  storage::EncodeLabelViews(&labels, key_buf);
  if ((*known)[i] == *key_buf) {
    ss.stored_key = (*known)[i];  // the same series at the same place: no copy
  } else {
    ss.key = *key_buf;
  }
}

std::vector<storage::SeriesSample> ToSeriesSamples(const expo::Exposition& data, const std::string& job,
                                                   const std::string& instance, bool honor_labels) {
  std::vector<storage::LabelView> labels;
  std::vector<storage::SeriesSample> out;
  out.reserve(data.SampleCount());
  for (const auto& family : data.families) {
    for (const auto& s : family.samples) AppendSeriesSample(s, job, instance, honor_labels, &labels, &out);
  }
  return out;
}

std::string ProxyFor(const config::ScrapeConfig& job, const std::string& host) {
  return ChooseProxy(job.proxy_url, job.no_proxy, job.proxy_from_environment, job.scheme, host);
}

bool SplitHostPort(const std::string& address, const std::string& scheme, std::string* host, uint16_t* port) {
  uint16_t default_port = scheme == "https" ? 443 : 80;
  std::string h, p;
  if (!address.empty() && address[0] == '[') {
    size_t close = address.find(']');
    if (close == std::string::npos) return false;
    h = address.substr(1, close - 1);
    if (close + 1 < address.size()) {
      if (address[close + 1] != ':') return false;
      p = address.substr(close + 2);
    }
  } else {
    size_t colon = address.rfind(':');
    if (colon != std::string::npos && address.find(':') == colon) {
      h = address.substr(0, colon);
      p = address.substr(colon + 1);
    } else if (colon == std::string::npos) {
      h = address;
    } else {
      return false;  // bare IPv6 without brackets
    }
  }
  if (h.empty()) return false;
  *host = h;
  if (p.empty()) { *port = default_port; return true; }
  char* end = nullptr;
  long v = std::strtol(p.c_str(), &end, 10);
  if (*end != '\0' || v <= 0 || v > 65535) return false;
  *port = static_cast<uint16_t>(v);
  return true;
}

std::string BuildRequestTarget(const config::ScrapeConfig& job) {
  std::string target = job.metrics_path;
  bool first = target.find('?') == std::string::npos;
  for (const auto& [name, values] : job.params) {
    for (const auto& v : values) {
      target += first ? '?' : '&';
      first = false;
      target += PercentEncode(name) + "=" + PercentEncode(v);
    }
  }
  return target;
}

Target::Target(asio::io_context& io, asio::thread_pool& work, Clock* clock, config::ScrapeConfig job,
               std::string address, const ScheduleOptions& tuning, storage::Store* store)
    : io_(io),
      work_(work),
      store_(store),
      clock_(clock),
      job_(std::move(job)),
      address_(std::move(address)),
      key_(job_.job_name + "/" + address_),
      request_target_(BuildRequestTarget(job_)),
      strand_(asio::make_strand(io)),
      timer_(strand_),
      schedule_(key_, OptionsFor(job_, tuning), SeedFor(key_)) {
  if (!SplitHostPort(address_, job_.scheme, &host_, &port_)) {
    host_ = address_;
    port_ = 0;  // the fetch fails with a clear InvalidArgument
  }
}

void Target::Start(std::optional<TargetCarryOver> carry, std::optional<int64_t> last_success_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  if (carry) {
    if (carry->snapshot) {
      slot_.Store(carry->snapshot);
      if (carry->snapshot->demand) demand_ = carry->snapshot->demand;
    }
    requests_by_code_ = carry->requests_by_code;
    if (carry->last_success_ms) last_success_ms = carry->last_success_ms;
    schedule_.RestoreAttempts(carry->attempts_ms);
  }
  schedule_.Start(clock_->NowMs(), last_success_ms);
  LogInfo("target started", {{"job", job_.job_name}, {"instance", address_},
                             {"next_fetch_in", std::to_string((schedule_.NextFetchMs() - clock_->NowMs()) / 1000) + "s"}});
  asio::post(strand_, [self = shared_from_this()] { self->ArmTimer(); });
}

void Target::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
  }
  asio::post(strand_, [self = shared_from_this()] { self->timer_.cancel(); });
}

void Target::ArmTimer() {
  int64_t wait_ms;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    int64_t next = schedule_.NextFetchMs();
    if (next == INT64_MAX) return;  // an attempt is in flight; its completion re-arms
    wait_ms = next - clock_->NowMs();
  }
  // Wake at least hourly to re-check against the wall clock (suspend, clock steps).
  wait_ms = std::clamp<int64_t>(wait_ms, 0, 3'600'000);
  timer_.expires_after(std::chrono::milliseconds(wait_ms));
  timer_.async_wait(asio::bind_executor(strand_, [self = shared_from_this()](error_code ec) { self->OnTimer(ec); }));
}

void Target::OnTimer(error_code ec) {
  if (ec) return;  // cancelled: Stop() or a re-arm
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    if (!schedule_.BeginAttempt(clock_->NowMs())) {
      // Not due (woken early, or the budget is full): the schedule said no, so no request.
    } else {
      asio::post(work_, [self = shared_from_this()] { self->BeginFetch(); });
      return;
    }
  }
  ArmTimer();
}

void Target::BeginFetch() {
  int64_t started_ms = clock_->NowMs();
  FetchRequest req;
  req.scheme = job_.scheme;
  req.host = host_;
  req.port = port_;
  req.target = request_target_;
  req.proxy_url = ProxyFor(job_, host_);
  req.timeout = job_.scrape_timeout;
  req.max_body_bytes = max_body_bytes();
  req.keep_gzip_encoded = true;  // decompressed while it is parsed, see OnFetched
  req.tls.ca_file = job_.tls_config.ca_file;
  req.tls.cert_file = job_.tls_config.cert_file;
  req.tls.key_file = job_.tls_config.key_file;
  req.tls.server_name = job_.tls_config.server_name;
  req.tls.insecure_skip_verify = job_.tls_config.insecure_skip_verify;
  req.headers.emplace_back("Accept", std::string(kPrometheusAccept));
  req.headers.emplace_back("Accept-Encoding", job_.enable_compression ? "gzip" : "identity");
  req.headers.emplace_back("X-Prometheus-Scrape-Timeout-Seconds",
                           std::to_string(job_.scrape_timeout.count() / 1000.0));
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& h : schedule_.ConditionalHeaders()) req.headers.push_back(std::move(h));
  }
  // Credentials are read for every request: a rotated token file needs no restart.
  auto auth = AuthorizationHeader(job_);
  if (!auth.ok()) {
    // The message names the file, never its content.
    asio::post(strand_, [self = shared_from_this(), st = auth.status(), started_ms] {
      self->Finish(self->clock_->NowMs(), 0, {}, false, false, st.message(), nullptr, started_ms);
    });
    return;
  }
  if (!auth->empty()) req.headers.emplace_back("Authorization", std::move(auth).value());
  AsyncFetch(io_, std::move(req), [self = shared_from_this(), started_ms](Status st, FetchResponse resp) {
    self->OnFetched(std::move(st), std::move(resp), started_ms);
  });
}

void Target::OnFetched(Status st, FetchResponse resp, int64_t started_ms) {
  auto self = shared_from_this();
  if (!st.ok()) {
    asio::post(strand_, [self, st, resp = std::move(resp), started_ms] {
      self->Finish(self->clock_->NowMs(), 0, resp.headers, false, false, st.message(), nullptr, started_ms);
    });
    return;
  }
  if (resp.status == 304) {
    asio::post(strand_, [self, resp = std::move(resp), started_ms] {
      self->Finish(self->clock_->NowMs(), 304, resp.headers, true, true, "", nullptr, started_ms);
    });
    return;
  }
  if (resp.status < 200 || resp.status >= 300) {
    std::string err = "server returned HTTP status " + std::to_string(resp.status);
    asio::post(strand_, [self, resp = std::move(resp), err, started_ms] {
      self->Finish(self->clock_->NowMs(), static_cast<int>(resp.status), resp.headers, false, false, err, nullptr, started_ms);
    });
    return;
  }
  // Parsing and rendering a large body takes tens of milliseconds: not on an I/O thread.
  asio::post(work_, [self, resp = std::move(resp), started_ms]() mutable {
    int64_t now = self->clock_->NowMs();
    expo::ParseOptions popts;
    if (self->job_.sample_limit > 0) popts.max_samples = self->job_.sample_limit;
    if (self->job_.label_limit > 0) popts.max_label_count = self->job_.label_limit;
    const expo::Format format = expo::FormatFromContentType(resp.content_type);
    // The parse streams: each sample becomes the store's key and value at once, and the
    // parsed model (hundreds of bytes per sample) is never built. The result keeps the
    // families' HELP/TYPE/UNIT for the snapshot.
    std::vector<storage::SeriesSample> samples;
    if (auto current = self->slot_.Load(); current && self->store_) samples.reserve(current->sample_count);
    std::vector<storage::LabelView> scratch;
    // The keys of the target's last fetch: a body lists the same series in the same order
    // fetch after fetch, and such a sample then carries a view of the store's key, not a copy
    // (~15 MB less at 100k series).
    std::vector<std::string_view> known;
    if (self->store_) known = self->store_->LastFetchKeys(self->key_);
    std::string key_buf;
    size_t sample_count = 0;
    popts.on_sample = [&](const expo::Sample& s) {
      ++sample_count;
      if (self->store_) {
        AppendSeriesSample(s, self->job_.job_name, self->address_, self->job_.honor_labels, &scratch, &samples,
                           &known, &key_buf);
      }
      return Status::OK();
    };
    const uint8_t prerender = self->demand_->Take();
    auto parsed = ParseUpstreamBody(&resp, format, popts, /*whole=*/prerender != 0, self->max_body_bytes());
    std::shared_ptr<const Snapshot> snap;
    std::string err;
    if (!parsed.ok()) {
      err = parsed.status().message();
    } else {
      // The upstream body (kept gzip: the upstream's own, if it sent one) is the snapshot's
      // source: what nobody asks for is never rendered.
      SnapshotOptions so;
      so.streamed_sample_count = sample_count;
      so.demand = self->demand_;
      so.prerender = prerender;
      if (parsed->digest.has_value()) so.upstream_digest = parsed->digest;
      else so.upstream_body = resp.body;
      so.upstream_format = format;
      if (!resp.gzip_body.empty()) so.upstream_gzip = std::make_shared<const std::string>(std::move(resp.gzip_body));
      auto built = BuildSnapshot(self->job_.job_name, self->address_, now, std::move(parsed->data), so);
      std::string().swap(resp.body);  // parsed, hashed and compressed: not needed any more
      if (built.ok()) {
        snap = std::move(built).value();
      } else {
        err = built.status().message();
      }
      if (self->store_ && snap != nullptr) {
        // One transaction per fetch; a refused fetch (e.g. a series exposed twice) is logged
        // and the data is still served. The stored body is the snapshot's gzip text 0.0.4
        // source (the upstream's own body and gzip when it sent text), so a warm restart
        // rebuilds the same snapshot with the same ETags; it is stored as is, not
        // compressed again. (A fetch whose snapshot could not be built counts as failed,
        // and is not stored.)
        Status st = self->store_->AppendFetchGzipBodyAndReleaseKeys(self->key_, now, &samples, snap->StoredGzipBody());
        if (!st.ok()) LogError("storing fetch failed", {{"job", self->job_.job_name}, {"err", st.message()}});
        std::vector<storage::SeriesSample>().swap(samples);
      }
    }
    int status = static_cast<int>(resp.status);
    asio::post(self->strand_, [self, now, status, headers = std::move(resp.headers), snap, err, started_ms] {
      self->Finish(now, status, headers, snap != nullptr, false, err, snap, started_ms);
    });
    if (self->store_) {
      // Every head_log_max_fetches fetches, the open chunks go to their rows: after the
      // snapshot is served, on this worker thread, in short steps.
      Status fl = self->store_->MaybeFlush();
      if (!fl.ok()) LogError("flushing the store's head log failed", {{"err", fl.message()}});
    }
  });
}

void Target::Finish(int64_t now_ms, int http_status, const HeaderList& headers, bool success,
                    bool not_modified, std::string error, std::shared_ptr<const Snapshot> snap,
                    int64_t started_ms) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    requests_by_code_[http_status == 0 ? "error" : std::to_string(http_status)]++;
    last_duration_seconds_ = (clock_->NowMs() - started_ms) / 1000.0;
    if (stopped_) return;
    if (success) {
      if (snap) slot_.Store(std::move(snap));
      schedule_.OnSuccess(now_ms, headers, not_modified);
      last_error_.clear();
    } else {
      // A 200 with a bad body is reported to the schedule as a failure (0: not an HTTP error).
      schedule_.OnFailure(now_ms, http_status >= 200 && http_status < 300 ? 0 : http_status, headers);
      last_error_ = error;
    }
  }
  if (success) {
    LogDebug("upstream fetch succeeded", {{"job", job_.job_name}, {"instance", address_},
                                          {"status", std::to_string(http_status)}});
  } else {
    LogWarn("upstream fetch failed", {{"job", job_.job_name}, {"instance", address_}, {"err", error}});
  }
  ArmTimer();
}

TargetStatus Target::status() const {
  TargetStatus s;
  s.job = job_.job_name;
  s.instance = address_;
  s.metrics_path = job_.metrics_path;
  s.scrape_url = job_.scheme + "://" + address_ + request_target_;
  auto snap = slot_.Load();
  if (snap) {
    s.data_time_ms = snap->fetch_time_ms;
    s.samples = snap->SampleCount();
    s.body_bytes = snap->source_bytes;
  }
  std::lock_guard<std::mutex> lock(mu_);
  s.health = schedule_.health();
  s.last_error = last_error_;
  s.last_success_ms = schedule_.last_success_ms();
  s.last_attempt_ms = schedule_.last_attempt_ms();
  s.next_fetch_ms = schedule_.NextFetchMs();
  s.next_fetch_reason = std::string(WaitReasonName(schedule_.next_fetch_reason()));
  s.last_duration_seconds = last_duration_seconds_;
  s.requests_by_code = requests_by_code_;
  s.requests_last_hour = schedule_.RequestsInLastHour(clock_->NowMs());
  s.max_requests_per_hour = static_cast<int>(job_.max_requests_per_hour);
  return s;
}

TargetCarryOver Target::CarryOver() const {
  TargetCarryOver c;
  c.snapshot = slot_.Load();
  std::lock_guard<std::mutex> lock(mu_);
  c.last_success_ms = schedule_.last_success_ms();
  c.requests_by_code = requests_by_code_;
  c.attempts_ms = schedule_.RecentAttemptsMs();
  return c;
}

}  // namespace sb::bridge
