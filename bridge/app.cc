#include "bridge/app.h"

#include <boost/json.hpp>
#include <cmath>
#include <ctime>
#include <filesystem>

#include "common/exposition/parser.h"
#include "promql-lite/api/api.h"

#include "common/duration.h"
#include "common/log.h"
#include "bridge/recommendations_service.h"

namespace sb::bridge {
namespace {

std::string Rfc3339(int64_t ms) {
  if (ms <= 0) return "0001-01-01T00:00:00Z";
  time_t t = ms / 1000;
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
           tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

// Prometheus prints JSON numbers plainly; Boost.JSON writes every double in exponent form
// (0E0). Integral values go out as integers, others at millisecond precision.
boost::json::value Num(double v) {
  double ms = std::round(v * 1000.0) / 1000.0;
  if (ms == std::floor(ms) && std::fabs(ms) < 1e15) return static_cast<int64_t>(ms);
  return ms;
}

// Refuses settings that the config format accepts but this bridge cannot act on yet, so
// that nothing is silently ignored.
Status CheckSupported(const config::Config& cfg) {
  for (const auto& job : cfg.scrape_configs) {
    const auto& tls = job.tls_config;
    if (!tls.ca.empty() || !tls.cert.empty() || !tls.key.empty()) {
      return Status::InvalidArgument("job \"" + job.job_name +
                                     "\": inline tls_config ca/cert/key are not supported; use ca_file, cert_file, key_file");
    }
    for (const std::string& v : {tls.min_version, tls.max_version}) {
      if (!v.empty() && v != "TLS12" && v != "TLS13") {
        return Status::InvalidArgument("job \"" + job.job_name + "\": TLS version " + v +
                                       " is not supported (the bridge speaks TLS 1.2 and 1.3)");
      }
    }
  }
  return Status::OK();
}

}  // namespace

App::App(AppOptions options) : options_(std::move(options)) {}

App::~App() { Stop(); }

Result<config::Config> App::LoadConfig() const {
  Result<config::Config> cfg = config::Config{};
  if (!options_.config_file.empty()) {
    cfg = config::LoadConfigFile(options_.config_file);
  } else if (options_.config) {
    cfg = *options_.config;
  }
  if (!cfg.ok()) return cfg;
  SB_RETURN_IF_ERROR(CheckSupported(*cfg));
  return cfg;
}

Status App::Start() {
  auto cfg = LoadConfig();
  if (!cfg.ok()) return cfg.status();
  for (const auto& job : cfg->scrape_configs) {
    if (!job.metric_relabel_configs.empty() || !job.relabel_configs.empty()) {
      LogWarn("relabel_configs and metric_relabel_configs are accepted but not applied yet", {{"job", job.job_name}});
    }
  }
  HttpServer::Options so;
  so.listen_address = options_.listen_address;
  so.threads = options_.io_threads;
  so.max_connections = options_.max_connections;
  so.idle_timeout = options_.idle_timeout;
  so.read_timeout = options_.read_timeout;
  so.tls_cert_file = options_.tls_cert_file;
  so.tls_key_file = options_.tls_key_file;
  server_ = std::make_unique<HttpServer>(so, [this](const Request& req) { return Route(req, *this); });
  server_->SetFastPath([this](const Request& req, PreparedResponse* out) { return RouteFast(req, *this, out); });
  work_ = std::make_unique<asio::thread_pool>(std::max(1, options_.work_threads));
  if (!options_.storage_path.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options_.storage_path, ec);
    if (ec) return Status::IOError("creating storage directory " + options_.storage_path + ": " + ec.message());
    storage::StoreOptions so_store;
    so_store.path = (std::filesystem::path(options_.storage_path) / "bridge.db").string();
    so_store.retention_time = options_.storage_retention_time;
    so_store.retention_size_bytes = options_.storage_retention_size_bytes;
    auto store = storage::Store::Open(so_store);
    if (!store.ok()) return store.status().Annotate("opening the store");
    store_ = std::move(store).value();
    {
      std::lock_guard<std::mutex> lock(retention_mu_);
      retention_timer_ = std::make_unique<asio::steady_timer>(work_->get_executor());
    }
    ScheduleRetention(std::chrono::milliseconds(0));  // once at start, then periodically
  }
  // The remote-write feeder: the store is its queue; it hears of every committed fetch.
  if (store_) {
    remote_write::FeederOptions fo;
    fo.store = store_.get();
    fo.db_path = (std::filesystem::path(options_.storage_path) / "bridge.db").string();
    fo.clock = options_.clock;
    fo.parsed_source = [this](const std::string& key) -> std::shared_ptr<const expo::Exposition> {
      std::lock_guard<std::mutex> lock(mu_);  // never held while calling into the feeder
      auto it = targets_.find(key);
      if (it == targets_.end()) return nullptr;
      auto s = it->second->snapshot();
      return s ? std::shared_ptr<const expo::Exposition>(s, &s->metadata) : nullptr;
    };
    auto feeder = remote_write::Feeder::Start(fo, *cfg);
    if (!feeder.ok()) return feeder.status();
    feeder_ = std::move(feeder).value();
    store_->SetCommitListener([f = feeder_.get()](const storage::Store::CommittedFetch& c) { f->OnCommit(c); });
  } else if (!cfg->remote_write.empty()) {
    return Status::InvalidArgument("remote_write needs the store: set --storage.path");
  }
  // API modules: each registers its paths here, before the server starts.
  if (store_) {  // the Prometheus query API (promql-lite/api/api.h)
    promql::api::ApiOptions ao;
    ao.engine = options_.query;
    if (!options_.query_lookback_delta_set) {
      Duration longest{0};
      for (const auto& job : cfg->scrape_configs) longest = std::max(longest, config::EffectiveRefresh(job));
      ao.engine.lookback_delta = promql::api::DefaultLookbackDelta(longest);
    }
    ao.clock = options_.clock;
    ao.metadata_source = [this] {  // HELP/TYPE/UNIT of the snapshots being served
      std::vector<std::shared_ptr<const expo::Exposition>> out;
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& [key, t] : targets_) {
        if (auto s = t->snapshot()) out.emplace_back(s, &s->metadata);
      }
      return out;
    };
    for (auto& r : promql::api::Api::Routes(std::make_shared<promql::api::Api>(store_.get(), std::move(ao)))) {
      RegisterApi(std::move(r.path), std::move(r.handler), r.prefix);
    }
  }
  {  // base-image recommendations: rescans report sources, serves JSON and metrics
    recommendations_ = std::make_shared<RecommendationsService>(
        server_->io_context(), *work_, options_.clock, store_.get(),
        store_ ? (std::filesystem::path(options_.storage_path) / "bridge.db").string() : std::string());
    SB_RETURN_IF_ERROR(recommendations_->Start(cfg->recommendations));
    auto service = recommendations_;
    RegisterApi(kRecommendationsApiPath, [service](const Request& req) { return service->HandleApi(req); });
    RegisterApi(kRecommendationsMetricsPath, [service](const Request& req) { return service->HandleMetrics(req); });
  }
  SB_RETURN_IF_ERROR(server_->Start());
  Apply(*cfg);
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_reload_ms_ = options_.clock->NowMs();
  }
  ready_ = true;
  LogInfo("scout-bridge listening", {{"address", options_.listen_address}, {"port", std::to_string(port())},
                                     {"targets", std::to_string(targets_.size())}});
  return Status::OK();
}

void App::ScheduleRetention(std::chrono::milliseconds delay) {
  std::lock_guard<std::mutex> lock(retention_mu_);
  if (retention_stopped_ || !retention_timer_) return;
  retention_timer_->expires_after(delay);
  retention_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled by Stop
    RunRetention();
    ScheduleRetention(std::chrono::minutes(5));
  });
}

void App::RunRetention() {
  auto r = store_->ApplyRetention(options_.clock->NowMs());
  if (!r.ok()) {
    LogWarn("storage retention failed", {{"error", r.status().ToString()}});
    return;
  }
  if (r->chunks_dropped > 0) {
    LogInfo("storage retention dropped old chunks",
            {{"chunks", std::to_string(r->chunks_dropped)}, {"samples", std::to_string(r->samples_dropped)},
             {"series_emptied", std::to_string(r->series_emptied)}, {"bytes_before", std::to_string(r->bytes_before)},
             {"bytes_after", std::to_string(r->bytes_after)}});
  }
  if (!r->size_limit_met) {
    LogWarn("storage is over --storage.retention.size with only the newest chunk of each series left",
            {{"bytes", std::to_string(r->bytes_after)}, {"limit", std::to_string(options_.storage_retention_size_bytes)}});
  }
}

void App::RegisterApi(std::string path, ApiHandler handler, bool prefix) {
  if (!prefix) {
    api_exact_[std::move(path)] = std::move(handler);
    return;
  }
  api_prefix_.emplace_back(std::move(path), std::move(handler));
  std::stable_sort(api_prefix_.begin(), api_prefix_.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
}

const ApiHandler* App::FindApi(std::string_view path) const {
  auto it = api_exact_.find(path);
  if (it != api_exact_.end()) return &it->second;
  for (const auto& [p, h] : api_prefix_) {
    if (path.substr(0, p.size()) == p) return &h;
  }
  return nullptr;
}

void App::Stop() {
  std::map<std::string, std::shared_ptr<Target>> targets;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    targets.swap(targets_);
  }
  ready_ = false;
  for (auto& [k, t] : targets) t->Stop();
  if (recommendations_) recommendations_->Stop();
  {
    std::lock_guard<std::mutex> lock(retention_mu_);
    retention_stopped_ = true;
    if (retention_timer_) retention_timer_->cancel();
  }
  if (work_) work_->join();
  if (server_) server_->Stop();
  if (feeder_) feeder_->Stop();
  feeder_.reset();
  store_.reset();
  routes_.store(nullptr);
}

void App::Apply(const config::Config& cfg) {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, std::shared_ptr<Target>> next;
  auto table = std::make_shared<RouteTable>();
  for (const auto& job : cfg.scrape_configs) {
    for (const auto& sc : job.static_configs) {
      for (const auto& address : sc.targets) {
        std::string key = job.job_name + "/" + address;
        if (next.count(key)) continue;  // the same target listed twice in one job
        std::shared_ptr<Target> target;
        auto old = targets_.find(key);
        if (old != targets_.end() && old->second->job().Fingerprint() == job.Fingerprint()) {
          target = old->second;  // unchanged: keeps snapshot and schedule
        } else {
          target = std::make_shared<Target>(server_->io_context(), *work_, options_.clock, job, address,
                                            options_.schedule_tuning, store_.get());
          std::optional<TargetCarryOver> carry;
          if (old != targets_.end()) {
            carry = old->second->CarryOver();
            old->second->Stop();
          } else {
            carry = StoredState(job.job_name, address, key);
          }
          target->Start(std::move(carry), std::nullopt);
        }
        next[key] = target;
        std::weak_ptr<Target> weak = target;
        Endpoint ep;
        ep.job = job.job_name;
        ep.instance = address;
        ep.snapshot = [weak]() -> std::shared_ptr<const Snapshot> {
          auto t = weak.lock();
          return t ? t->snapshot() : nullptr;
        };
        ep.not_ready_reason = [weak]() -> std::string {
          auto t = weak.lock();
          if (!t) return "target removed";
          TargetStatus s = t->status();
          return s.last_error.empty() ? "first fetch pending" : s.last_error;
        };
        table->by_path[job.metrics_path].push_back(std::move(ep));
      }
    }
  }
  for (auto& [key, t] : targets_) {
    if (!next.count(key)) t->Stop();
  }
  targets_.swap(next);
  routes_.store(std::move(table));
}

std::optional<TargetCarryOver> App::StoredState(const std::string& job, const std::string& instance,
                                                const std::string& key) {
  if (!store_) return std::nullopt;
  auto latest = store_->Latest(key);
  if (!latest.ok()) {
    LogError("reading the stored snapshot failed", {{"job", job}, {"err", latest.status().message()}});
    return std::nullopt;
  }
  if (!latest->has_value()) return std::nullopt;
  auto parsed = expo::ParseExposition((*latest)->body, expo::Format::kText004);
  if (!parsed.ok()) {
    LogError("stored snapshot does not parse", {{"job", job}, {"err", parsed.status().message()}});
    return std::nullopt;
  }
  SnapshotOptions so;
  so.demand = std::make_shared<RepresentationDemand>();  // the target adopts it
  so.upstream_body = (*latest)->body;  // the fetch's own source: same ETags as before the restart
  auto snap = BuildSnapshot(job, instance, (*latest)->fetch_time_ms, std::move(parsed).value(), so);
  if (!snap.ok()) return std::nullopt;
  TargetCarryOver carry;
  carry.snapshot = std::move(snap).value();
  carry.last_success_ms = (*latest)->fetch_time_ms;
  LogInfo("serving stored snapshot", {{"job", job}, {"instance", instance},
                                      {"age", std::to_string((options_.clock->NowMs() - (*latest)->fetch_time_ms) / 1000) + "s"}});
  return carry;
}

Status App::Reload() {
  auto cfg = LoadConfig();
  if (!cfg.ok()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      reloads_failed_++;
      last_reload_ok_ = false;
    }
    LogError("error reloading config", {{"err", cfg.status().message()}});
    return cfg.status();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return Status::Unavailable("the bridge is stopping");
  }
  Status rw = feeder_ ? feeder_->Reload(*cfg)
                      : (cfg->remote_write.empty() ? Status::OK()
                                                   : Status::InvalidArgument("remote_write needs the store: set --storage.path"));
  if (!rw.ok()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      reloads_failed_++;
      last_reload_ok_ = false;
    }
    LogError("error reloading config", {{"err", rw.message()}});
    return rw;
  }
  Apply(*cfg);
  if (recommendations_) recommendations_->Reconfigure(cfg->recommendations);
  {
    std::lock_guard<std::mutex> lock(mu_);
    reloads_ok_++;
    last_reload_ok_ = true;
    last_reload_ms_ = options_.clock->NowMs();
  }
  LogInfo("config reloaded", {{"targets", std::to_string(TargetStatuses().size())}});
  return Status::OK();
}

std::vector<TargetStatus> App::TargetStatuses() const {
  std::vector<std::shared_ptr<Target>> targets;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [k, t] : targets_) targets.push_back(t);
  }
  std::vector<TargetStatus> out;
  out.reserve(targets.size());
  for (const auto& t : targets) out.push_back(t->status());
  return out;
}

std::shared_ptr<Target> App::FindTarget(const std::string& job, const std::string& instance) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = targets_.find(job + "/" + instance);
  return it == targets_.end() ? nullptr : it->second;
}

std::string App::RenderSelfMetrics() const {
  SelfMetrics::ServerStats ss;
  if (server_) {
    ss.open_connections = server_->open_connections();
    ss.accepted_connections = server_->accepted_connections();
    ss.rejected_connections = server_->rejected_connections();
  }
  uint64_t ok, failed;
  bool last_ok;
  int64_t last_ms;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ok = reloads_ok_;
    failed = reloads_failed_;
    last_ok = last_reload_ok_;
    last_ms = last_reload_ms_;
  }
  std::string out = metrics_.Render(TargetStatuses(), ss, options_.clock->NowMs(), ok, failed, last_ok, last_ms);
  if (feeder_) out += feeder_->RenderMetrics();
  return out;
}

std::string App::TargetsJson() const {
  namespace json = boost::json;
  json::array active;
  int64_t now = options_.clock->NowMs();
  for (const auto& t : TargetStatuses()) {
    json::object o;
    o["discoveredLabels"] = json::object{{"__address__", t.instance}, {"__metrics_path__", t.metrics_path},
                                         {"job", t.job}};
    o["labels"] = json::object{{"instance", t.instance}, {"job", t.job}};
    o["scrapePool"] = t.job;
    o["scrapeUrl"] = t.scrape_url;
    o["globalUrl"] = t.scrape_url;
    o["lastError"] = t.last_error;
    o["lastScrape"] = Rfc3339(t.last_attempt_ms.value_or(0));
    o["lastScrapeDuration"] = Num(t.last_duration_seconds);
    o["health"] = t.health == TargetHealth::kUp ? "up" : t.health == TargetHealth::kUnknown ? "unknown" : "down";
    o["state"] = std::string(TargetHealthName(t.health));
    o["lastSuccess"] = Rfc3339(t.last_success_ms.value_or(0));
    o["dataAgeSeconds"] = Num(t.last_success_ms ? (now - *t.last_success_ms) / 1000.0 : -1.0);
    o["nextFetch"] = t.next_fetch_ms == INT64_MAX ? std::string("in flight") : Rfc3339(t.next_fetch_ms);
    o["nextFetchReason"] = t.next_fetch_reason;
    o["samples"] = t.samples;
    o["requestsLastHour"] = t.requests_last_hour;
    o["maxRequestsPerHour"] = t.max_requests_per_hour;
    active.push_back(std::move(o));
  }
  json::object root{{"status", "success"},
                    {"data", json::object{{"activeTargets", std::move(active)}, {"droppedTargets", json::array{}}}}};
  return json::serialize(root);
}

}  // namespace sb::bridge
