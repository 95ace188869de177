#include "remote_write/feeder.h"

#include "common/exposition/parser.h"
#include "common/log.h"
#include "remote_write/sender.h"

namespace sb::remote_write {
namespace {

std::string ConfigIdentity(const config::RemoteWriteConfig& rw, const config::Config& cfg) {
  std::string id = rw.Fingerprint();
  for (const auto& [k, v] : cfg.global.external_labels) id += "\n" + k + "=" + v;
  return id;
}

}  // namespace

std::set<std::string> TargetKeys(const config::Config& cfg) {
  std::set<std::string> out;
  for (const auto& job : cfg.scrape_configs) {
    for (const auto& sc : job.static_configs) {
      for (const auto& a : sc.targets) out.insert(job.job_name + "/" + a);
    }
  }
  return out;
}

Result<std::shared_ptr<Endpoint>> Feeder::MakeEndpoint(const config::RemoteWriteConfig& rw, const config::Config& cfg) {
  SB_RETURN_IF_ERROR(Sender::Check(rw));
  auto relabeler = Relabeler::Make(rw.write_relabel_configs, cfg.global.external_labels);
  if (!relabeler.ok()) return relabeler.status().Annotate("remote_write \"" + rw.name + "\"");
  return std::make_shared<Endpoint>(rw, cfg.global.external_labels, std::move(relabeler).value(), options_.store,
                                    cursors_.get(), options_.clock, [this] { return Metadata(); });
}

Result<std::unique_ptr<Feeder>> Feeder::Start(const FeederOptions& options, const config::Config& cfg) {
  if (options.store == nullptr) return Status::InvalidArgument("remote_write needs the store (--storage.path)");
  std::unique_ptr<Feeder> f(new Feeder(options));
  SB_ASSIGN_OR_RETURN(f->cursors_, CursorDb::Open(options.db_path));
  SB_RETURN_IF_ERROR(f->Reload(cfg));
  return f;
}

Feeder::~Feeder() { Stop(); }

Status Feeder::Reload(const config::Config& cfg) {
  // Build everything first, so that an error changes nothing.
  std::set<std::string> keys;
  std::vector<std::string> ids;
  for (const auto& rw : cfg.remote_write) {
    if (!keys.insert(EndpointKey(rw)).second) {
      return Status::InvalidArgument("remote_write: two entries with the same name and url \"" + RedactUrl(rw.url) + "\"");
    }
    SB_RETURN_IF_ERROR(Sender::Check(rw));
    SB_RETURN_IF_ERROR(Relabeler::Make(rw.write_relabel_configs, cfg.global.external_labels).status());
    ids.push_back(ConfigIdentity(rw, cfg));
  }
  std::set<std::string> targets = TargetKeys(cfg);
  std::vector<std::shared_ptr<Endpoint>> next, to_stop, to_start;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<bool> reused(endpoints_.size(), false);
    for (size_t i = 0; i < cfg.remote_write.size(); ++i) {
      const auto& rw = cfg.remote_write[i];
      std::shared_ptr<Endpoint> ep;
      for (size_t j = 0; j < endpoints_.size(); ++j) {
        if (!reused[j] && configs_[j] == ids[i] && EndpointKey(endpoints_[j]->config()) == EndpointKey(rw)) {
          ep = endpoints_[j];
          reused[j] = true;
          break;
        }
      }
      if (!ep) {
        auto made = MakeEndpoint(rw, cfg);
        if (!made.ok()) return made.status();
        ep = std::move(made).value();
        to_start.push_back(ep);
      }
      next.push_back(ep);
    }
    for (size_t j = 0; j < endpoints_.size(); ++j) {
      if (!reused[j]) to_stop.push_back(endpoints_[j]);
    }
    endpoints_ = next;
    configs_ = ids;
    targets_ = targets;
  }
  // A changed endpoint is stopped before its successor starts, so that one cursor never has
  // two writers.
  for (auto& ep : to_stop) ep->Stop();
  for (auto& ep : next) {
    if (std::find(to_start.begin(), to_start.end(), ep) != to_start.end()) ep->Start(targets);
    else ep->SetTargets(targets);
  }
  return Status::OK();
}

void Feeder::OnCommit(const storage::Store::CommittedFetch& fetch) {
  if (fetch.values.size() != fetch.keys.size()) {  // not reached: the store gives one value per key
    LogError("remote write: a commit without one value per key was ignored", {{"target", fetch.target_key}});
    return;
  }
  std::vector<std::shared_ptr<Endpoint>> eps;
  {
    std::lock_guard<std::mutex> lock(mu_);
    eps = endpoints_;
  }
  if (eps.empty()) return;
  // The store's own keys (valid while it is open) and the stale markers it wrote: the
  // feeder keeps nothing per series.
  auto ev = std::make_shared<FetchEvent>();
  ev->target_key = fetch.target_key;
  ev->fetch_time_ms = fetch.fetch_time_ms;
  ev->prev_fetch_ms = fetch.previous_fetch_ms;
  auto series = std::make_shared<std::vector<EventSample>>();
  series->reserve(fetch.keys.size());
  for (size_t i = 0; i < fetch.keys.size(); ++i) series->push_back(EventSample{fetch.keys[i], fetch.values[i]});
  ev->series = std::move(series);
  for (auto& ep : eps) ep->Push(ev);
}

std::map<std::string, OutMetadata, std::less<>> Feeder::Metadata() {
  std::set<std::string> targets;
  {
    std::lock_guard<std::mutex> lock(mu_);
    targets = targets_;
  }
  std::lock_guard<std::mutex> lock(md_mu_);
  std::map<std::string, OutMetadata, std::less<>> out;
  for (const auto& t : targets) {
    MetadataCache& c = metadata_[t];
    // Parse once per stored fetch, keyed by the store's own latest fetch time: an endpoint
    // that reads a fetch back from the store before the commit listener has run (a race
    // at start) then still finds its metadata.
    const int64_t last = options_.store->LastFetchMs(t).value_or(-1);
    if (c.parsed_for_ms != last) {
      c.parsed_for_ms = last;
      c.families.clear();
      auto add = [&](const expo::Exposition& data) {
        for (const auto& f : data.families) c.families[f.name] = OutMetadata{f.name, f.type, f.help, f.unit};
      };
      std::shared_ptr<const expo::Exposition> in_memory;
      if (options_.parsed_source) in_memory = options_.parsed_source(t);
      if (in_memory) {
        add(*in_memory);
      } else {
        auto latest = options_.store->Latest(t);
        if (latest.ok() && latest->has_value()) {
          auto parsed = expo::ParseExposition((*latest)->body, expo::Format::kText004);
          if (parsed.ok()) add(*parsed);
        }
      }
    }
    for (const auto& [k, v] : c.families) out.emplace(k, v);
  }
  return out;
}

void Feeder::Stop() {
  std::vector<std::shared_ptr<Endpoint>> eps;
  {
    std::lock_guard<std::mutex> lock(mu_);
    eps = endpoints_;
  }
  for (auto& ep : eps) ep->Stop();
}

std::string Feeder::RenderMetrics() const {
  std::vector<std::shared_ptr<Endpoint>> eps;
  {
    std::lock_guard<std::mutex> lock(mu_);
    eps = endpoints_;
  }
  std::vector<EndpointView> views;
  for (auto& ep : eps) views.push_back({ep->config().name, RedactUrl(ep->config().url), &ep->metrics()});
  return remote_write::RenderMetrics(views);
}

bool Feeder::Idle() const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& ep : endpoints_) if (!ep->Idle()) return false;
  return true;
}

void Feeder::Poke() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& ep : endpoints_) ep->Poke();
}

size_t Feeder::num_endpoints() const {
  std::lock_guard<std::mutex> lock(mu_);
  return endpoints_.size();
}

}  // namespace sb::remote_write
