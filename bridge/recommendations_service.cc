#include "bridge/recommendations_service.h"

#include "common/log.h"
#include "recommendations/api.h"
#include "recommendations/make_source.h"
#include "recommendations/metrics.h"

namespace sb::bridge {
namespace rec = sb::recommendations;

RecommendationsService::RecommendationsService(asio::io_context& io, asio::thread_pool& work, Clock* clock,
                                               storage::Store* store, std::string db_path)
    : io_(io), work_(work), clock_(clock), store_(store), db_path_(std::move(db_path)), timer_(io) {}

Status RecommendationsService::Start(const config::RecommendationsConfig& config) {
  auto scanner = rec::Scanner::Open({db_path_.empty() ? ":memory:" : db_path_, clock_});
  if (!scanner.ok()) return scanner.status().Annotate("opening the recommendation tables");
  scanner_ = std::move(scanner).value();
  Reconfigure(config);
  {
    std::lock_guard<std::mutex> lock(mu_);
    started_ = true;
  }
  Arm(std::chrono::milliseconds(0));
  return Status::OK();
}

void RecommendationsService::Reconfigure(const config::RecommendationsConfig& config) {
  bool scan_now = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    bool changed = specs_ != config.sources;
    specs_ = config.sources;
    s3_ = config.s3;
    interval_ = std::chrono::duration_cast<std::chrono::milliseconds>(config.scan_interval);
    if (interval_ < std::chrono::seconds(1)) interval_ = std::chrono::seconds(1);
    // New sources are scanned at once (after the scan in progress, if any).
    if (changed && started_ && !stopped_) {
      if (scanning_) {
        rescan_requested_ = true;
      } else {
        scan_now = true;
      }
    }
  }
  if (scan_now) Arm(std::chrono::milliseconds(0));
}

void RecommendationsService::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
  }
  asio::post(io_, [self = shared_from_this()] { self->timer_.cancel(); });
}

void RecommendationsService::Arm(std::chrono::milliseconds wait) {
  asio::post(io_, [self = shared_from_this(), wait] {
    self->timer_.expires_after(wait);
    self->timer_.async_wait([self](const error_code& ec) {
      if (ec) return;  // cancelled
      asio::post(self->work_, [self] { self->RunScan(); });
    });
  });
}

void RecommendationsService::RunScan() {
  std::vector<std::string> specs;
  std::chrono::milliseconds interval;
  config::RecommendationsS3Config s3;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_ || scanning_) return;
    scanning_ = true;
    specs = specs_;
    interval = interval_;
    s3 = s3_;
  }
  if (!specs.empty()) {
    std::vector<std::unique_ptr<rec::ReportSource>> owned;
    std::vector<rec::ReportSource*> sources;
    // recommendations.s3 in the config, over the AWS_* environment defaults.
    rec::SourceSettings settings = rec::SourceSettingsFromEnv();
    if (!s3.endpoint.empty()) settings.s3_endpoint = s3.endpoint;
    if (!s3.profile.empty()) settings.s3_profile = s3.profile;
    if (s3.region != config::RecommendationsS3Config{}.region || settings.s3_region.empty()) {
      settings.s3_region = s3.region;
    }
    settings.s3_path_style = s3.path_style;
    for (const auto& spec : specs) {
      auto source = rec::MakeSource(spec, settings);
      if (!source.ok()) {
        LogWarn("recommendations: bad source", {{"source", spec}, {"error", source.status().ToString()}});
        continue;
      }
      sources.push_back(source->get());
      owned.push_back(std::move(source).value());
    }
    rec::ScanSummary summary = scanner_->Scan(sources);
    if (summary.ok()) {
      LogInfo("recommendations scan", {{"summary", summary.ToString()}});
    } else {
      LogWarn("recommendations scan", {{"summary", summary.ToString()}});
    }
    auto view = scanner_->View();
    if (store_ && view) {
      std::vector<storage::SeriesSample> samples = rec::ToSeriesSamples(*view->metrics);
      for (auto& h : rec::ToSeriesSamples(view->health)) samples.push_back(std::move(h));
      Status s = store_->AppendFetch(rec::kMetricsTargetKey, clock_->NowMs(), samples, view->metrics_text);
      if (!s.ok()) LogWarn("recommendations: storing metrics failed", {{"error", s.ToString()}});
      s = store_->MaybeFlush();
      if (!s.ok()) LogWarn("recommendations: flushing the store's head log failed", {{"error", s.ToString()}});
    }
  }
  bool stopped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    scanning_ = false;
    stopped = stopped_;
    if (rescan_requested_) interval = std::chrono::milliseconds(0);
    rescan_requested_ = false;
  }
  if (!stopped) Arm(interval);
}

Response RecommendationsService::HandleMetrics(const Request& req) const {
  auto view = scanner_ ? scanner_->View() : nullptr;
  std::shared_ptr<const std::string> body =
      view ? std::shared_ptr<const std::string>(view, &view->metrics_text) : std::make_shared<const std::string>();
  return MakeResponse(req.version(), http::status::ok, "text/plain; version=0.0.4; charset=utf-8", std::move(body));
}

Response RecommendationsService::HandleApi(const Request& req) const {
  std::string_view target(req.target().data(), req.target().size());
  size_t q = target.find('?');
  std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  auto view = scanner_ ? scanner_->View() : nullptr;
  rec::ApiAnswer a = rec::RecommendationsApi(view.get(), query);
  return MakeResponse(req.version(), static_cast<http::status>(a.http_status), "application/json",
                      std::make_shared<const std::string>(std::move(a.body)));
}

}  // namespace sb::bridge
