#include "remote_write/endpoint.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <unordered_map>

#include "common/log.h"
#include "remote_write/sender.h"

namespace sb::remote_write {
namespace {

bool IsStale(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return bits == storage::kStaleMarkerBits;
}

double StaleNaN() {
  double v;
  uint64_t bits = storage::kStaleMarkerBits;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

uint64_t HashLabelsFnv(const storage::Labels& ls) {
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&](const std::string& s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;
  };
  for (const auto& l : ls) {
    mix(l.name);
    mix(l.value);
  }
  return h;
}

}  // namespace

std::string EndpointKey(const config::RemoteWriteConfig& cfg) { return cfg.name + " " + cfg.url; }

void SplitTargetKey(const std::string& key, std::string* job, std::string* instance) {
  size_t slash = key.rfind('/');
  if (slash == std::string::npos) {
    *job = key;
    instance->clear();
    return;
  }
  *job = key.substr(0, slash);
  *instance = key.substr(slash + 1);
}

// The relabeled current values of a target: one entry per live series, holding its last
// real sample.
using Current = OutSeries;

struct Endpoint::TargetState {
  std::string key, job, instance;
  bool loaded = false;
  int64_t cursor = 0;            // last acknowledged real fetch (or the virtual start)
  bool cursor_is_real = false;   // false: no cursor row yet; cursor = now - max_backfill
  int64_t last_ts = 0;           // last timestamp delivered for this target
  std::shared_ptr<const std::vector<Current>> current;  // null: not known yet
  std::deque<std::shared_ptr<const FetchEvent>> live;
  bool need_catchup = true;
  bool removed = false;
  bool done = false;  // removed and its stale markers delivered
  int64_t store_pending = 0;  // samples in the store after the cursor, at the last catch-up
  int64_t next_poll_ms = 0;   // when to look into the store even without an event
};

struct Endpoint::Shard {
  Shard(const config::RemoteWriteConfig& cfg, const std::atomic<bool>* stop) : sender(cfg, stop) {}
  Sender sender;
  Encoder encoder;
};

// Builds one segment in time order, on top of a target's state, without changing it.
// A segment of one time point (the common case: one fetch, no re-sends) needs no index;
// the series index (encoded labels -> position) is built only when a second point comes.
class SegmentBuilder {
 public:
  SegmentBuilder(const Relabeler* relabeler, EndpointMetrics* metrics, int64_t last_ts,
                 std::shared_ptr<const std::vector<Current>> current)
      : relabeler_(relabeler), metrics_(metrics), last_ts_(last_ts), current_(std::move(current)) {}

  // Re-sends of the current values at last + k*interval for every grid point < until and
  // <= latest; those before `oldest` are skipped and counted.
  void Resends(int64_t interval_ms, int64_t until_exclusive, int64_t latest, int64_t oldest) {
    if (!current_ || current_->empty() || interval_ms <= 0) return;
    int64_t p = grid_ + interval_ms;
    if (p < oldest) {
      int64_t skip = (oldest - p + interval_ms - 1) / interval_ms;
      metrics_->skipped_resends += static_cast<uint64_t>(skip) * current_->size();
      p += skip * interval_ms;
    }
    for (; p < until_exclusive && p <= latest; p += interval_ms) {
      NextPoint();
      for (const auto& c : *current_) Add(c.labels, p, c.samples.back().value);
      grid_ = p;
      last_ts_ = p;
    }
  }

  // One real fetch at `t` (canonical, unrelabeled labels). Samples not after the last
  // delivered timestamp are dropped and counted (they would break per-series order).
  void Real(int64_t t, const std::vector<OutSeries>& series) {
    if (t <= last_ts_) {
      metrics_->dropped_samples += series.size();
      LogWarn("remote write: fetch not after the last sent timestamp; dropped",
              {{"fetch_ms", std::to_string(t)}, {"last_sent_ms", std::to_string(last_ts_)}});
      return;
    }
    NextPoint();
    auto next = std::make_shared<std::vector<Current>>();
    next->reserve(series.size());
    for (const auto& s : series) {
      double v = s.samples.back().value;
      if (relabeler_->empty()) {
        Add(s.labels, t, v);
        if (!IsStale(v)) next->push_back(Current{s.labels, {{t, v}}});
        continue;
      }
      storage::Labels labels = s.labels;
      if (!relabeler_->Apply(&labels)) {
        metrics_->dropped_samples++;
        continue;
      }
      Add(labels, t, v);
      if (!IsStale(v)) next->push_back(Current{std::move(labels), {{t, v}}});
    }
    current_ = std::move(next);
    last_ts_ = t;
    grid_ = t;
    ++real_;
  }

  // Stale markers at `t` for every current series (a removed target).
  void StaleAll(int64_t t) {
    if (!current_) return;
    NextPoint();
    for (const auto& c : *current_) Add(c.labels, t, StaleNaN());
    current_ = std::make_shared<std::vector<Current>>();
    last_ts_ = t;
  }

  // Sets the base values (the fetch at the cursor) without sending them.
  void Base(int64_t t, const std::vector<OutSeries>& series) {
    auto next = std::make_shared<std::vector<Current>>();
    for (const auto& s : series) {
      storage::Labels labels = s.labels;
      if (!relabeler_->empty() && !relabeler_->Apply(&labels)) continue;
      double v = s.samples.back().value;
      if (!IsStale(v)) next->push_back(Current{std::move(labels), {{t, v}}});
    }
    current_ = std::move(next);
  }

  void SetGrid(int64_t g) { grid_ = g; }
  bool empty() const { return out_.empty(); }
  size_t real_fetches() const { return real_; }
  int64_t last_ts() const { return last_ts_; }
  const std::shared_ptr<const std::vector<Current>>& current() const { return current_; }
  std::vector<OutSeries> Take() { return std::move(out_); }

 private:
  // Starts a new time point; from the second one on, series are matched by labels.
  void NextPoint() {
    if (++points_ != 2) return;
    index_.reserve(out_.size() * 2);
    for (size_t i = 0; i < out_.size(); ++i) index_.emplace(storage::EncodeLabels(out_[i].labels), i);
  }
  void Add(const storage::Labels& labels, int64_t t, double v) {
    if (points_ <= 1) {
      out_.push_back(OutSeries{labels, {{t, v}}});
      return;
    }
    auto [it, inserted] = index_.try_emplace(storage::EncodeLabels(labels), out_.size());
    if (inserted) out_.push_back(OutSeries{labels, {}});
    out_[it->second].samples.push_back({t, v});
  }

  const Relabeler* relabeler_;
  EndpointMetrics* metrics_;
  int64_t last_ts_;
  int64_t grid_ = 0;  // the last grid point (real fetch or re-send) the next re-send counts from
  std::shared_ptr<const std::vector<Current>> current_;
  int points_ = 0;
  std::unordered_map<std::string, size_t> index_;
  std::vector<OutSeries> out_;
  size_t real_ = 0;
};

Endpoint::Endpoint(const config::RemoteWriteConfig& cfg, const std::map<std::string, std::string>& external_labels,
                   std::shared_ptr<const Relabeler> relabeler, storage::Store* store, CursorDb* cursors, Clock* clock,
                   MetadataSource metadata)
    : cfg_(cfg),
      key_(EndpointKey(cfg)),
      relabeler_(std::move(relabeler)),
      store_(store),
      cursors_(cursors),
      clock_(clock),
      metadata_source_(std::move(metadata)),
      v2_(cfg.protobuf_message == "io.prometheus.write.v2.Request") {}

Endpoint::~Endpoint() { Stop(); }

void Endpoint::Start(const std::set<std::string>& targets) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    configured_ = targets;
  }
  // Cursors of targets no longer configured: they still get their pending data and stale
  // markers (the job was removed while the bridge was down).
  auto listed = cursors_->List(key_);
  if (listed.ok()) {
    for (const auto& [k, v] : *listed) {
      if (!targets.count(k)) {
        auto t = std::make_unique<TargetState>();
        t->key = k;
        SplitTargetKey(k, &t->job, &t->instance);
        t->removed = true;
        targets_[k] = std::move(t);
      }
    }
  } else {
    LogError("remote write: reading cursors failed", {{"remote_name", cfg_.name}, {"err", listed.status().message()}});
  }
  next_metadata_ms_ = clock_->NowMs();
  thread_ = std::thread([this] { Run(); });
}

void Endpoint::SetTargets(const std::set<std::string>& targets) {
  std::lock_guard<std::mutex> lock(mu_);
  configured_ = targets;
  wake_ = true;
  idle_ = false;
  cv_.notify_all();
}

void Endpoint::Push(std::shared_ptr<const FetchEvent> event) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!configured_.count(event->target_key)) return;
  auto& q = inbox_[event->target_key];
  q.push_back(std::move(event));
  wake_ = true;
  idle_ = false;
  cv_.notify_all();
}

void Endpoint::Poke() {
  std::lock_guard<std::mutex> lock(mu_);
  wake_ = true;
  idle_ = false;
  cv_.notify_all();
}

void Endpoint::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

bool Endpoint::Idle() const { return idle_.load(); }

void Endpoint::Run() {
  while (!stop_.load()) {
    const int64_t now = clock_->NowMs();
    {
      std::lock_guard<std::mutex> lock(mu_);
      wake_ = false;
      configured_view_ = configured_;
      for (const auto& k : configured_) {
        auto& t = targets_[k];
        if (!t) {
          t = std::make_unique<TargetState>();
          t->key = k;
          SplitTargetKey(k, &t->job, &t->instance);
        }
        t->removed = false;
        t->done = false;
      }
      for (auto& [k, t] : targets_) {
        if (!configured_.count(k)) t->removed = true;
        auto it = inbox_.find(k);
        if (it == inbox_.end()) continue;
        for (auto& ev : it->second) t->live.push_back(std::move(ev));
        inbox_.erase(it);
        while (t->live.size() > kMaxLiveEvents) {
          t->live.pop_front();  // the store has it; catch up from there
          t->need_catchup = true;
        }
      }
    }
    if (cfg_.metadata_config.send && now >= next_metadata_ms_ && !stop_.load()) {
      if (metadata_source_) metadata_ = metadata_source_();
      if (!v2_.load() && !metadata_.empty()) SendMetadata();
      next_metadata_ms_ = now + std::max<int64_t>(1000, cfg_.metadata_config.send_interval.count());
    } else if (metadata_.empty() && v2_.load() && metadata_source_) {
      metadata_ = metadata_source_();
    }
    bool worked = false;
    int64_t next_wake = now + 1000;
    for (auto& [k, t] : targets_) {
      if (stop_.load()) break;
      worked |= Step(t.get(), now, &next_wake);
    }
    std::erase_if(targets_, [](const auto& kv) { return kv.second->done; });
    if (cfg_.metadata_config.send) next_wake = std::min(next_wake, next_metadata_ms_);
    int64_t pending = 0;
    bool idle = true;
    for (auto& [k, t] : targets_) {
      pending += t->store_pending;
      if (t->store_pending == 0) for (const auto& ev : t->live) pending += static_cast<int64_t>(ev->series->size());
      if (!t->live.empty() || t->need_catchup || t->removed) idle = false;
    }
    metrics_.pending_samples = pending;
    if (worked) continue;
    std::unique_lock<std::mutex> lock(mu_);
    if (idle && inbox_.empty() && !wake_) idle_ = true;
    auto wait_ms = std::clamp<int64_t>(next_wake - clock_->NowMs(), 5, 1000);
    cv_.wait_for(lock, std::chrono::milliseconds(wait_ms), [this] { return wake_ || stop_.load(); });
  }
}

Status Endpoint::LoadCursor(TargetState* t, int64_t now_ms) {
  SB_ASSIGN_OR_RETURN(std::optional<int64_t> c, cursors_->Get(key_, t->key));
  if (c) {
    t->cursor = *c;
    t->cursor_is_real = true;
  } else {
    t->cursor = now_ms - cfg_.max_backfill.count();
    t->cursor_is_real = false;
  }
  t->last_ts = t->cursor;
  t->loaded = true;
  return Status::OK();
}

bool Endpoint::Step(TargetState* t, int64_t now, int64_t* next_wake) {
  if (!t->loaded) {
    Status st = LoadCursor(t, now);
    if (!st.ok()) {
      LogError("remote write: reading a cursor failed", {{"remote_name", cfg_.name}, {"err", st.message()}});
      return false;
    }
  }
  while (!t->live.empty() && t->live.front()->fetch_time_ms <= t->cursor) t->live.pop_front();
  // Fetches normally announce themselves (FetchEvent); a periodic look into the store also
  // finds any that did not (e.g. written by an import).
  if (t->live.empty() && now >= t->next_poll_ms) {
    t->need_catchup = true;
    t->next_poll_ms = now + kStorePollMs;
  }
  *next_wake = std::min(*next_wake, t->next_poll_ms);

  const int64_t interval = cfg_.resend_interval.count();
  const int64_t oldest = now - cfg_.max_backfill.count();
  SegmentBuilder b(relabeler_.get(), &metrics_, t->last_ts, t->current);
  b.SetGrid(t->last_ts);
  int64_t new_cursor = t->cursor;
  bool caught_up_after = !t->need_catchup;
  size_t live_used = 0;

  bool chain = t->current && !t->need_catchup && !t->live.empty() && t->live.front()->prev_fetch_ms == t->cursor;
  if (chain) {
    // Live path: consecutive events straight from memory.
    int64_t prev = t->cursor;
    for (const auto& ev : t->live) {
      if (ev->prev_fetch_ms != prev) break;
      b.Resends(interval, ev->fetch_time_ms, now, oldest);
      b.Real(ev->fetch_time_ms, *ev->series);
      prev = new_cursor = ev->fetch_time_ms;
      ++live_used;
    }
  } else if (t->need_catchup || !t->live.empty() || (!t->current && t->cursor_is_real)) {
    // Catch-up path: the fetches after the cursor, from the store.
    auto log = store_->FetchLog(t->key, t->cursor + 1, INT64_MAX);
    if (!log.ok()) {
      LogError("remote write: reading the fetch log failed", {{"remote_name", cfg_.name}, {"err", log.status().message()}});
      return false;
    }
    std::vector<int64_t> times;
    int64_t pending = 0;
    for (const auto& s : *log) {
      pending += static_cast<int64_t>(s.value);
      if (times.size() < kMaxCatchUpFetches) times.push_back(s.timestamp_ms);
    }
    t->store_pending = pending;
    caught_up_after = log->size() <= kMaxCatchUpFetches;
    const bool need_base = !t->current && t->cursor_is_real;
    if (!times.empty() || need_base) {
      int64_t lo = need_base ? t->cursor : times.front();
      int64_t hi = times.empty() ? t->cursor : times.back();
      // The target's series: those with its job and instance labels, and those whose
      // job/instance pair is no configured target's (honor_labels kept an exposed job or
      // instance). Of the latter only samples at this target's fetch times are used.
      auto refs = store_->Select({}, lo, hi);
      if (!refs.ok()) {
        LogError("remote write: reading the store failed", {{"remote_name", cfg_.name}, {"err", refs.status().message()}});
        return false;
      }
      std::map<int64_t, std::vector<OutSeries>> by_time;
      for (int64_t ft : times) by_time[ft];
      if (need_base) by_time[t->cursor];
      for (const auto& ref : *refs) {
        std::string job, instance;
        for (const auto& l : ref.labels) {
          if (l.name == "job") job = l.value;
          else if (l.name == "instance") instance = l.value;
        }
        if (!(job == t->job && instance == t->instance) && configured_view_.count(job + "/" + instance)) continue;
        auto samples = store_->Samples(ref.id, lo, hi);
        if (!samples.ok()) {
          LogError("remote write: reading samples failed", {{"remote_name", cfg_.name}, {"err", samples.status().message()}});
          return false;
        }
        for (const auto& s : *samples) {
          auto it = by_time.find(s.timestamp_ms);
          if (it != by_time.end()) it->second.push_back(OutSeries{ref.labels, {s}});
        }
      }
      if (need_base) b.Base(t->cursor, by_time[t->cursor]);
      for (int64_t ft : times) {
        b.Resends(interval, ft, now, oldest);
        b.Real(ft, by_time[ft]);
        new_cursor = ft;
      }
    }
  }
  if (b.empty() && b.real_fetches() == 0) {
    // Nothing real to send: re-send the current values when due.
    b.Resends(interval, INT64_MAX, now - kResendGuardMs, oldest);
    if (t->removed && !t->need_catchup && t->live.empty() && b.empty()) {
      b.StaleAll(std::max(now, t->last_ts + 1));
    }
  }
  if (b.empty() && b.real_fetches() == 0) {
    if (t->removed && !t->need_catchup && t->live.empty()) {
      Status st = cursors_->Delete(key_, t->key);
      if (!st.ok()) LogError("remote write: deleting a cursor failed", {{"err", st.message()}});
      t->done = true;
    }
    t->current = b.current();
    t->need_catchup = !caught_up_after;
    if (t->current && !t->current->empty() && interval > 0) {
      *next_wake = std::min(*next_wake, t->last_ts + interval + kResendGuardMs);
    }
    return false;
  }
  const bool stale_all = t->removed && b.real_fetches() == 0 && t->current && b.current() && b.current()->empty();
  if (!SendSegment(b.Take())) return true;  // stopped
  // Delivered (or dropped as unsendable): move on.
  if (new_cursor != t->cursor || !t->cursor_is_real) {
    if (b.real_fetches() > 0) {
      Status st = cursors_->Put(key_, t->key, new_cursor, clock_->NowMs());
      if (!st.ok()) LogError("remote write: writing a cursor failed", {{"err", st.message()}});
      t->cursor_is_real = true;
    }
    t->cursor = new_cursor;
  }
  t->last_ts = b.last_ts();
  t->current = b.current();
  for (size_t i = 0; i < live_used; ++i) t->live.pop_front();
  if (!chain) t->need_catchup = !caught_up_after;
  if (!t->need_catchup) t->store_pending = 0;
  if (stale_all) {
    Status st = cursors_->Delete(key_, t->key);
    if (!st.ok()) LogError("remote write: deleting a cursor failed", {{"err", st.message()}});
    t->done = true;
  }
  return true;
}

bool Endpoint::SendSegment(std::vector<OutSeries> series) {
  size_t total = 0;
  int64_t max_t = INT64_MIN;
  for (const auto& s : series) {
    total += s.samples.size();
    if (!s.samples.empty()) max_t = std::max(max_t, s.samples.back().timestamp_ms);
  }
  if (total == 0) return true;
  const size_t per_send = static_cast<size_t>(std::max<int64_t>(1, cfg_.queue_config.max_samples_per_send));
  const int64_t batches = static_cast<int64_t>((total + per_send - 1) / per_send);
  int n = static_cast<int>(std::clamp<int64_t>(batches, std::max<int64_t>(1, cfg_.queue_config.min_shards),
                                               std::max<int64_t>(1, std::min<int64_t>(cfg_.queue_config.max_shards,
                                                                                      kMaxParallelShards))));
  while (static_cast<int>(shards_.size()) < n) shards_.push_back(std::make_unique<Shard>(cfg_, &stop_));
  std::vector<std::vector<const OutSeries*>> assigned(n);
  for (const auto& s : series) assigned[HashLabelsFnv(s.labels) % n].push_back(&s);

  auto run_shard = [&](int i) -> bool {
    Shard& sh = *shards_[i];
    std::deque<OutSeries> split;  // pieces of series longer than per_send
    std::vector<const OutSeries*> batch;
    size_t in_batch = 0;
    auto flush = [&]() -> bool {
      if (batch.empty()) return true;
      size_t n_samples = in_batch;
      bool v2 = v2_.load();
      std::string raw = v2 ? sh.encoder.EncodeV2(batch, metadata_) : sh.encoder.EncodeV1(batch, {});
      auto observe = [&](int attempt, unsigned status, double secs) {
        metrics_.attempts++;
        metrics_.ObserveBatchDuration(secs);
        if (attempt > 1) metrics_.retried_samples += n_samples;
      };
      SendResult r = sh.sender.Send(Compress(raw), v2 ? Protocol::kV2 : Protocol::kV1, observe);
      if (r.kind == SendResult::Kind::kUnsupported) {
        metrics_.fallbacks++;
        v2_ = false;
        LogWarn("remote write: receiver does not accept 2.0 (415); falling back to 1.0", {{"remote_name", cfg_.name}});
        raw = sh.encoder.EncodeV1(batch, {});
        r = sh.sender.Send(Compress(raw), Protocol::kV1, observe);
      }
      if (r.kind == SendResult::Kind::kStopped) return false;
      if (r.kind == SendResult::Kind::kOk && r.samples_written >= 0 && static_cast<size_t>(r.samples_written) < n_samples) {
        // 2.0: the receiver says it stored fewer samples than were sent (a partial write).
        LogWarn("remote write: receiver wrote fewer samples than sent",
                {{"remote_name", cfg_.name}, {"sent", std::to_string(n_samples)},
                 {"written", std::to_string(r.samples_written)}});
      }
      if (r.kind == SendResult::Kind::kOk) metrics_.samples += n_samples;
      else metrics_.failed_samples += n_samples;
      batch.clear();
      split.clear();
      in_batch = 0;
      return true;
    };
    for (const OutSeries* s : assigned[i]) {
      if (s->samples.size() <= per_send) {
        if (in_batch + s->samples.size() > per_send && !flush()) return false;
        batch.push_back(s);
        in_batch += s->samples.size();
        continue;
      }
      for (size_t off = 0; off < s->samples.size(); off += per_send) {
        if (!flush()) return false;
        size_t end = std::min(s->samples.size(), off + per_send);
        split.push_back(OutSeries{s->labels, std::vector<storage::Sample>(s->samples.begin() + off, s->samples.begin() + end)});
        batch.push_back(&split.back());
        in_batch = end - off;
      }
    }
    return flush();
  };
  std::vector<std::thread> threads;
  std::vector<char> ok(n, 1);
  for (int i = 1; i < n; ++i) threads.emplace_back([&, i] { ok[i] = run_shard(i); });
  ok[0] = run_shard(0);
  for (auto& th : threads) th.join();
  for (char o : ok) if (!o) return false;
  metrics_.NoteSent(max_t);
  return true;
}

bool Endpoint::SendMetadata() {
  if (shards_.empty()) shards_.push_back(std::make_unique<Shard>(cfg_, &stop_));
  Shard& sh = *shards_[0];
  std::vector<OutMetadata> all;
  for (const auto& [k, md] : metadata_) all.push_back(md);
  const size_t per = static_cast<size_t>(std::max<int64_t>(1, cfg_.metadata_config.max_samples_per_send));
  for (size_t off = 0; off < all.size(); off += per) {
    std::vector<OutMetadata> part(all.begin() + off, all.begin() + std::min(all.size(), off + per));
    auto observe = [&](int, unsigned, double secs) {
      metrics_.attempts++;
      metrics_.ObserveBatchDuration(secs);
    };
    SendResult r = sh.sender.Send(Compress(sh.encoder.EncodeV1({}, part)), Protocol::kV1, observe);
    if (r.kind == SendResult::Kind::kStopped) return false;
    if (r.kind == SendResult::Kind::kOk) metrics_.metadata += part.size();
  }
  return true;
}

}  // namespace sb::remote_write
