#include "remote_write/endpoint.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <pthread.h>
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

const storage::Labels kNoLabels;

double StaleNaN() {
  double v;
  uint64_t bits = storage::kStaleMarkerBits;
  std::memcpy(&v, &bits, sizeof v);
  return v;
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

// The current values of a target: the samples of its last real fetch, shared with its
// FetchEvent (not copied). A re-send skips the stale markers and the series the rules drop.
struct CurrentSet {
  std::shared_ptr<const std::vector<EventSample>> samples;  // null: none
  size_t live = 0;  // the samples a re-send sends
  bool empty() const { return live == 0; }
  size_t size() const { return live; }
};
using EventSamples = std::shared_ptr<const std::vector<EventSample>>;

// One series of a segment and its samples, in time order. Most segments are one fetch: the
// one sample is kept inline (no allocation per series).
struct SegSeries {
  SeriesRef series;
  size_t count = 0;
  storage::Sample first;  // the only sample while count == 1
  std::unique_ptr<std::vector<storage::Sample>> more;  // all the samples once count > 1
  void Add(storage::Sample s) {
    if (count == 0) {
      first = s;
    } else {
      if (count == 1) more = std::make_unique<std::vector<storage::Sample>>(1, first);
      more->push_back(s);
    }
    ++count;
  }
  const storage::Sample* data() const { return count > 1 ? more->data() : &first; }
  const storage::Sample& back() const { return data()[count - 1]; }
};

struct Endpoint::TargetState {
  explicit TargetState(const Relabeler* relabeler) : cache(relabeler) {}
  std::string key, job, instance;
  bool loaded = false;
  int64_t cursor = 0;            // last acknowledged real fetch (or the virtual start)
  bool cursor_is_real = false;   // false: no cursor row yet; cursor = now - max_backfill
  int64_t last_ts = 0;           // last timestamp delivered for this target
  std::shared_ptr<const CurrentSet> current;  // null: not known yet
  std::deque<std::shared_ptr<const FetchEvent>> live;
  bool need_catchup = true;
  bool removed = false;
  bool done = false;  // removed and its stale markers delivered
  int64_t store_pending = 0;  // samples in the store after the cursor, at the last catch-up
  int64_t next_poll_ms = 0;   // when to look into the store even without an event
  PreparedCache cache;        // this target's series, relabelled and serialized once
};

// A batch queued to a shard, and the segment it belongs to.
struct Endpoint::SegmentDone {
  std::mutex mu;
  std::condition_variable cv;
  size_t pending = 0;  // batches queued and not yet finished
  bool failed = false;  // a batch was abandoned (stop)
};
struct Endpoint::Job {
  std::vector<BatchSeries> batch;
  size_t samples = 0;
  SegmentDone* done = nullptr;
};

// A persistent sender thread with its queue of batches, bounded by queue_config.capacity
// samples (a batch bigger than the bound is still accepted into an empty queue).
struct Endpoint::Shard {
  Shard(const config::RemoteWriteConfig& cfg, const std::atomic<bool>* stop) : sender(cfg, stop) {}
  Sender sender;
  Encoder encoder;
  std::string raw, compressed;  // reused between batches
  std::thread thread;
  std::mutex mu;  // guards the three below
  std::condition_variable cv;
  std::deque<Job> jobs;
  size_t queued_samples = 0;
  bool quit = false;
};

// Builds one segment in time order, on top of a target's state, without changing it.
// A segment of one time point (the common case: one fetch, no re-sends) needs no index;
// the series index (final labels -> position) is built only when a second point comes.
// Samples older than `min_t` (sample_age_limit) are left out and counted as dropped.
class SegmentBuilder {
 public:
  SegmentBuilder(PreparedCache* cache, EndpointMetrics* metrics, int64_t last_ts,
                 std::shared_ptr<const CurrentSet> current, int64_t min_t)
      : cache_(cache), metrics_(metrics), last_ts_(last_ts), current_(std::move(current)), min_t_(min_t) {}
  ~SegmentBuilder() {
    if (dropped_) metrics_->dropped_samples += dropped_;
  }

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
      if (points_ == 1) out_.reserve(current_->live);
      SeriesRef ref;
      for (const auto& s : *current_->samples) {
        if (!IsStale(s.value) && cache_->Get(s.key, &ref)) Add(ref, p, s.value);
      }
      grid_ = p;
      last_ts_ = p;
    }
  }

  // One real fetch at `t`. Samples not after the last delivered timestamp are dropped and
  // counted (they would break per-series order).
  void Real(int64_t t, const EventSamples& series) {
    if (t <= last_ts_) {
      dropped_ += series->size();
      LogWarn("remote write: fetch not after the last sent timestamp; dropped",
              {{"fetch_ms", std::to_string(t)}, {"last_sent_ms", std::to_string(last_ts_)}});
      return;
    }
    NextPoint();
    if (points_ == 1) out_.reserve(series->size());
    size_t live = 0;
    SeriesRef ref;
    for (const auto& s : *series) {
      if (!cache_->Get(s.key, &ref)) {
        ++dropped_;  // by write_relabel_configs
        continue;
      }
      Add(ref, t, s.value);
      if (!IsStale(s.value)) ++live;
    }
    current_ = std::make_shared<CurrentSet>(CurrentSet{series, live});
    last_ts_ = t;
    grid_ = t;
    ++real_;
  }

  // Stale markers at `t` for every current series (a removed target).
  void StaleAll(int64_t t) {
    if (!current_) return;
    NextPoint();
    SeriesRef ref;
    if (current_->samples) {
      for (const auto& s : *current_->samples) {
        if (!IsStale(s.value) && cache_->Get(s.key, &ref)) Add(ref, t, StaleNaN());
      }
    }
    current_ = std::make_shared<CurrentSet>();
    last_ts_ = t;
  }

  // Sets the base values (the fetch at the cursor) without sending them.
  void Base(const EventSamples& series) {
    size_t live = 0;
    SeriesRef ref;
    for (const auto& s : *series) {
      if (!IsStale(s.value) && cache_->Get(s.key, &ref)) ++live;
    }
    current_ = std::make_shared<CurrentSet>(CurrentSet{series, live});
  }

  void SetGrid(int64_t g) { grid_ = g; }
  bool empty() const { return out_.empty(); }
  size_t real_fetches() const { return real_; }
  int64_t last_ts() const { return last_ts_; }
  const std::shared_ptr<const CurrentSet>& current() const { return current_; }
  std::vector<SegSeries> Take() { return std::move(out_); }

 private:
  // Starts a new time point; from the second one on, series are matched by labels.
  void NextPoint() {
    if (++points_ != 2) return;
    index_.reserve(out_.size() * 2);
    for (size_t i = 0; i < out_.size(); ++i) index_.emplace(IndexKey(out_[i].series), i);
  }
  // A series' identity in the segment: its final labels when prepared; else its store key
  // (a target's endpoint sends either all its series prepared or none).
  static std::string_view IndexKey(const SeriesRef& s) { return s.prepared != nullptr ? s.prepared->pb_labels : s.key; }
  void Add(const SeriesRef& series, int64_t t, double v) {
    if (t < min_t_) {
      ++dropped_;  // older than sample_age_limit
      return;
    }
    if (points_ <= 1) {
      out_.emplace_back().series = series;
      out_.back().Add({t, v});
      return;
    }
    auto [it, inserted] = index_.try_emplace(IndexKey(series), out_.size());
    if (inserted) out_.emplace_back().series = series;
    out_[it->second].Add({t, v});
  }

  PreparedCache* cache_;
  EndpointMetrics* metrics_;
  int64_t last_ts_;
  int64_t grid_ = 0;  // the last grid point (real fetch or re-send) the next re-send counts from
  std::shared_ptr<const CurrentSet> current_;
  const int64_t min_t_;
  uint64_t dropped_ = 0;
  int points_ = 0;
  // By IndexKey: a series read from the store and the same one from memory are one series
  // of the segment.
  std::unordered_map<std::string_view, size_t> index_;
  std::vector<SegSeries> out_;
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
        auto t = std::make_unique<TargetState>(relabeler_.get());
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
  StopShards();
}

bool Endpoint::Idle() const { return idle_.load(); }

void Endpoint::Run() {
  pthread_setname_np(pthread_self(), "rw-endpoint");  // for top -H and bench/remote_write
  while (!stop_.load()) {
    const int64_t now = clock_->NowMs();
    {
      std::lock_guard<std::mutex> lock(mu_);
      wake_ = false;
      configured_view_ = configured_;
      for (const auto& k : configured_) {
        auto& t = targets_[k];
        if (!t) {
          t = std::make_unique<TargetState>(relabeler_.get());
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
  const int64_t age_limit = cfg_.queue_config.sample_age_limit.count();
  SegmentBuilder b(&t->cache, &metrics_, t->last_ts, t->current, age_limit > 0 ? now - age_limit : INT64_MIN);
  b.SetGrid(t->last_ts);
  int64_t new_cursor = t->cursor;
  bool caught_up_after = !t->need_catchup;
  bool based = false;
  // Samples read from the store, by fetch time.
  std::map<int64_t, std::shared_ptr<std::vector<EventSample>>> by_time;
  size_t live_used = 0;

  bool chain = t->current && !t->need_catchup && !t->live.empty() && t->live.front()->prev_fetch_ms == t->cursor;
  if (chain) {
    // Live path: consecutive events straight from memory.
    int64_t prev = t->cursor;
    for (const auto& ev : t->live) {
      if (ev->prev_fetch_ms != prev) break;
      b.Resends(interval, ev->fetch_time_ms, now, oldest);
      b.Real(ev->fetch_time_ms, ev->series);
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
    // Fetches still queued in memory are used as they are: reading 100k series back from
    // the store costs far more. An event is complete, stale markers included, also for the
    // first fetch after a restart: the store computes them from its record of the previous
    // fetch.
    std::map<int64_t, const FetchEvent*> from_memory;
    for (const auto& ev : t->live) from_memory[ev->fetch_time_ms] = ev.get();
    std::vector<int64_t> from_store;
    for (int64_t ft : times) {
      if (!from_memory.count(ft)) from_store.push_back(ft);
    }
    if (!from_store.empty() || need_base) {
      LogInfo("remote write: reading fetches back from the store",
              {{"remote_name", cfg_.name}, {"target", t->key}, {"fetches", std::to_string(from_store.size())},
               {"base", need_base ? "yes" : "no"}});
      int64_t lo = need_base ? t->cursor : from_store.front();
      int64_t hi = from_store.empty() ? t->cursor : from_store.back();
      // The target's series: those with its job and instance labels, and those whose
      // job/instance pair is no configured target's (honor_labels kept an exposed job or
      // instance). Of the latter only samples at this target's fetch times are used.
      auto refs = store_->Select({}, lo, hi);
      if (!refs.ok()) {
        LogError("remote write: reading the store failed", {{"remote_name", cfg_.name}, {"err", refs.status().message()}});
        return false;
      }
      for (int64_t ft : from_store) by_time[ft] = std::make_shared<std::vector<EventSample>>();
      if (need_base) by_time[t->cursor] = std::make_shared<std::vector<EventSample>>();
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
        const std::optional<std::string_view> key = store_->SeriesKeyOf(ref.id);  // the store's own
        if (!key) continue;  // not reached: Select returns known series
        for (const auto& s : *samples) {
          auto it = by_time.find(s.timestamp_ms);
          if (it == by_time.end()) continue;
          it->second->push_back(EventSample{*key, s.value});
        }
      }
      if (need_base) b.Base(by_time[t->cursor]);
      based = need_base;
    }
    for (int64_t ft : times) {
      b.Resends(interval, ft, now, oldest);
      auto mem = from_memory.find(ft);
      b.Real(ft, mem != from_memory.end() ? mem->second->series : EventSamples(by_time[ft]));
      new_cursor = ft;
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
    if (based) t->cache.Sweep();
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
  if (b.real_fetches() > 0 || based) t->cache.Sweep();  // forget the series that are gone
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

void Endpoint::ShardLoop(Shard* sh) {
  pthread_setname_np(pthread_self(), "rw-shard");
  while (true) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(sh->mu);
      sh->cv.wait(lock, [sh] { return sh->quit || !sh->jobs.empty(); });
      if (sh->jobs.empty()) return;  // quit
      job = std::move(sh->jobs.front());
      sh->jobs.pop_front();
      sh->queued_samples -= job.samples;
    }
    sh->cv.notify_all();  // room for the producer
    bool ok = !stop_.load() && SendBatch(sh, job);
    {
      // The buffers are reused while batches keep coming; between segments (every fetch,
      // ~10 s) they are given back: 4 shards hold ~1 MB each, which the next fetch's parse
      // can use instead.
      std::lock_guard<std::mutex> lock(sh->mu);
      if (sh->jobs.empty()) {
        std::string().swap(sh->raw);
        std::string().swap(sh->compressed);
      }
    }
    std::lock_guard<std::mutex> lock(job.done->mu);
    if (!ok) job.done->failed = true;
    if (--job.done->pending == 0) job.done->cv.notify_all();
  }
}

bool Endpoint::SendBatch(Shard* sh, const Job& job) {
  const size_t n_samples = job.samples;
  const bool v2 = v2_.load();
  const storage::Labels& external = relabeler_ ? relabeler_->external() : kNoLabels;
  if (v2) sh->encoder.EncodeBatchV2(job.batch, external, metadata_, &sh->raw);
  else Encoder::EncodeBatchV1(job.batch, external, &sh->raw);
  Compress(sh->raw, &sh->compressed);
  auto observe = [&](int attempt, unsigned, double secs) {
    metrics_.attempts++;
    metrics_.ObserveBatchDuration(secs);
    if (attempt > 1) metrics_.retried_samples += n_samples;
  };
  SendResult r = sh->sender.Send(sh->compressed, v2 ? Protocol::kV2 : Protocol::kV1, observe);
  if (r.kind == SendResult::Kind::kUnsupported) {
    metrics_.fallbacks++;
    v2_ = false;
    LogWarn("remote write: receiver does not accept 2.0 (415); falling back to 1.0", {{"remote_name", cfg_.name}});
    Encoder::EncodeBatchV1(job.batch, external, &sh->raw);
    Compress(sh->raw, &sh->compressed);
    r = sh->sender.Send(sh->compressed, Protocol::kV1, observe);
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
  return true;
}

bool Endpoint::Enqueue(Shard* sh, Job job) {
  const size_t capacity = static_cast<size_t>(std::max<int64_t>(1, cfg_.queue_config.capacity));
  std::unique_lock<std::mutex> lock(sh->mu);
  // queue_config.capacity: wait while the shard holds that many samples (a batch always
  // fits into an empty queue). Wakes every 50 ms to notice Stop.
  while (!sh->jobs.empty() && sh->queued_samples + job.samples > capacity) {
    if (stop_.load()) return false;
    sh->cv.wait_for(lock, std::chrono::milliseconds(50));
  }
  sh->queued_samples += job.samples;
  {
    std::lock_guard<std::mutex> dl(job.done->mu);
    ++job.done->pending;
  }
  sh->jobs.push_back(std::move(job));
  sh->cv.notify_all();
  return true;
}

void Endpoint::StopShards() {
  for (auto& sh : shards_) {
    {
      std::lock_guard<std::mutex> lock(sh->mu);
      sh->quit = true;
    }
    sh->cv.notify_all();
  }
  for (auto& sh : shards_) {
    if (sh->thread.joinable()) sh->thread.join();
  }
  shards_.clear();
}

bool Endpoint::SendSegment(std::vector<SegSeries> series) {
  size_t total = 0;
  int64_t max_t = INT64_MIN;
  for (const auto& s : series) {
    total += s.count;
    if (s.count > 0) max_t = std::max(max_t, s.back().timestamp_ms);
  }
  if (total == 0) return true;
  // 2.0 carries metadata with each series. If none was known when the loop last asked (the
  // fetch being sent was read back from the store after that), ask again now; the shards
  // are idle between segments, so nothing reads metadata_ meanwhile.
  if (v2_.load() && metadata_.empty() && metadata_source_) metadata_ = metadata_source_();
  const size_t per_send = static_cast<size_t>(std::max<int64_t>(1, cfg_.queue_config.max_samples_per_send));
  const int64_t batches = static_cast<int64_t>((total + per_send - 1) / per_send);
  int n = static_cast<int>(std::clamp<int64_t>(batches, std::max<int64_t>(1, cfg_.queue_config.min_shards),
                                               std::max<int64_t>(1, std::min<int64_t>(cfg_.queue_config.max_shards,
                                                                                      kMaxParallelShards))));
  while (static_cast<int>(shards_.size()) < n) {
    shards_.push_back(std::make_unique<Shard>(cfg_, &stop_));
    Shard* sh = shards_.back().get();
    sh->thread = std::thread([this, sh] { ShardLoop(sh); });
  }
  // Each series goes to one shard (its batches are queued there in time order, and a shard
  // sends one batch after the other: per-series order holds). A shard's batch is queued
  // once it holds max_samples_per_send samples, and the partial batches at the end of the
  // segment right away: a batch never waits (batch_send_deadline is met by construction).
  SegmentDone done;
  std::vector<Job> building(n);
  bool queued_all = true;
  auto flush = [&](int i) {
    Job& j = building[i];
    if (j.batch.empty()) return true;
    j.done = &done;
    bool ok = Enqueue(shards_[i].get(), std::move(j));
    building[i] = Job{};
    return ok;
  };
  for (const auto& s : series) {
    if (!queued_all) break;
    const int i = static_cast<int>(ShardHash(s.series) % static_cast<uint64_t>(n));
    const size_t size = s.count;
    if (size <= per_send) {
      if (building[i].samples + size > per_send && !flush(i)) {
        queued_all = false;
        break;
      }
      building[i].batch.push_back(BatchSeries{s.series, s.data(), size});
      building[i].samples += size;
      continue;
    }
    // Longer than a batch: pieces of max_samples_per_send, each starting a batch.
    for (size_t off = 0; off < size && queued_all; off += per_send) {
      if (!flush(i)) {
        queued_all = false;
        break;
      }
      const size_t take = std::min(per_send, size - off);
      building[i].batch.push_back(BatchSeries{s.series, s.data() + off, take});
      building[i].samples = take;
    }
  }
  for (int i = 0; i < n && queued_all; ++i) queued_all = flush(i);
  {
    std::unique_lock<std::mutex> lock(done.mu);
    done.cv.wait(lock, [&] { return done.pending == 0; });
  }
  if (!queued_all || done.failed) return false;
  metrics_.NoteSent(max_t);
  return true;
}

bool Endpoint::SendMetadata() {
  if (!metadata_sender_) metadata_sender_ = std::make_unique<Sender>(cfg_, &stop_);
  std::vector<OutMetadata> all;
  for (const auto& [k, md] : metadata_) all.push_back(md);
  Encoder encoder;
  const size_t per = static_cast<size_t>(std::max<int64_t>(1, cfg_.metadata_config.max_samples_per_send));
  for (size_t off = 0; off < all.size(); off += per) {
    std::vector<OutMetadata> part(all.begin() + off, all.begin() + std::min(all.size(), off + per));
    auto observe = [&](int, unsigned, double secs) {
      metrics_.attempts++;
      metrics_.ObserveBatchDuration(secs);
    };
    SendResult r = metadata_sender_->Send(Compress(encoder.EncodeV1({}, part)), Protocol::kV1, observe);
    if (r.kind == SendResult::Kind::kStopped) return false;
    if (r.kind == SendResult::Kind::kOk) metrics_.metadata += part.size();
  }
  return true;
}

}  // namespace sb::remote_write
