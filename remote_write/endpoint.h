// Endpoint: the queue manager of one `remote_write` entry. It owns one thread that moves a
// per-target cursor forward through the store:
//
//   cursor(target) = fetch time of the last real fetch the receiver acknowledged (2xx) or
//                    that was dropped as unsendable (other 4xx). Durable (CursorDb).
//
// Each round, for each target, the thread builds one *segment* (every series' samples in
// time order) and sends it; only when the whole segment is delivered does the cursor move.
// A segment holds, in time order:
//   - re-sends of the target's current values on a grid last_sent + k * resend_interval
//     (all grid points up to the next real fetch or up to now - kResendGuard), skipping and
//     counting those older than now - max_backfill;
//   - the next real fetch(es): from memory (the FetchEvent the Feeder passes right after the
//     store committed it) when the cursor is exactly at the event's previous fetch, or else
//     read from the store (after a restart, an outage, or a queue overflow), at most
//     kMaxCatchUpFetches per round.
// Stale markers come with the fetch that lost a series (the store writes them; the Feeder
// adds them to live events). A target removed from the config is caught up, then gets stale
// markers for all its current series, then its cursor is deleted.
//
// Sending: series are hashed to shards (per-series order holds, since a series always goes
// to the same shard and each shard sends its batches one after the other); shards are
// persistent threads ("rw-shard") with a queue of batches bounded by queue_config.capacity
// samples, and send in parallel; batches hold at most max_samples_per_send samples and
// point into the segment (no copies). The endpoint thread waits until every batch of a
// segment is done before it moves the cursor. See Sender for retries.
//
// Series are never copied as label vectors: a FetchEvent carries the store's own keys, which
// are sent as they are (plus the external labels) or, with write_relabel_configs, relabelled
// and serialized once per series by the target's PreparedCache (series_cache.h).
//
// A new endpoint (no cursor) starts at now - max_backfill.
//
// Thread-safety: Push/SetTargets/Stop/RenderMetrics from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "config/config.h"
#include "remote_write/cursor_db.h"
#include "remote_write/encode.h"
#include "remote_write/metrics.h"
#include "remote_write/relabel.h"
#include "remote_write/series_cache.h"
#include "storage/store.h"

namespace sb::remote_write {

// Resends are sent this long after their grid time, so that a fetch whose commit is still
// under way (its time is taken before it is parsed) never lands behind a re-send.
inline constexpr int64_t kResendGuardMs = 5000;
inline constexpr size_t kMaxCatchUpFetches = 64;
inline constexpr size_t kMaxLiveEvents = 8;       // per target; more falls back to the store
inline constexpr int kMaxParallelShards = 4;
inline constexpr int64_t kStorePollMs = 10000;  // see Endpoint::Step

class Sender;
struct SegSeries;

// One sample of a fetch: the series' key as the store holds it (a view that stays valid while
// the store is open; one series always has the same view) and the value.
struct EventSample {
  std::string_view key;
  double value = 0;
};

// One committed fetch, as the Feeder hands it to every endpoint.
struct FetchEvent {
  std::string target_key;
  int64_t fetch_time_ms = 0;
  // The target's previous fetch (the store's, also from before a restart), or -1 if none.
  // The stale markers in `series` are those of the series it had and this one lacks.
  int64_t prev_fetch_ms = -1;
  // One sample per series at fetch_time_ms, stale markers included.
  std::shared_ptr<const std::vector<EventSample>> series;
};

// "<name> <url>": the key of an endpoint's cursors. Stays the same across config edits
// other than url and name.
std::string EndpointKey(const config::RemoteWriteConfig& cfg);

// Splits a store target key "<job>/<address>" at the last '/'.
void SplitTargetKey(const std::string& key, std::string* job, std::string* instance);

// Supplies the metric metadata (family -> metadata) of all targets; called on the
// endpoint's thread.
using MetadataSource = std::function<std::map<std::string, OutMetadata, std::less<>>()>;

class Endpoint {
 public:
  Endpoint(const config::RemoteWriteConfig& cfg, const std::map<std::string, std::string>& external_labels,
           std::shared_ptr<const Relabeler> relabeler, storage::Store* store, CursorDb* cursors, Clock* clock,
           MetadataSource metadata);
  ~Endpoint();

  // Starts the thread. `targets`: the store target keys of the configured targets.
  void Start(const std::set<std::string>& targets);
  // Replaces the configured targets; targets no longer listed get stale markers.
  void SetTargets(const std::set<std::string>& targets);
  // Queues a committed fetch (of a configured target; others are ignored).
  void Push(std::shared_ptr<const FetchEvent> event);
  // Wakes the thread (a FakeClock was advanced). Tests only.
  void Poke();
  // Stops the thread; an in-flight request is abandoned (its fetch is re-sent after the
  // restart: at-least-once). Idempotent.
  void Stop();

  const config::RemoteWriteConfig& config() const { return cfg_; }
  EndpointMetrics& metrics() { return metrics_; }

  // True when every target's cursor is at its latest known fetch and no event is queued.
  // Tests use it to wait for quiescence.
  bool Idle() const;

 private:
  struct TargetState;
  struct Shard;
  struct Job;
  struct SegmentDone;
  void Run();
  // Does one step for `t`; returns true if something was sent or attempted.
  bool Step(TargetState* t, int64_t now_ms, int64_t* next_wake_ms);
  Status LoadCursor(TargetState* t, int64_t now_ms);
  // Sends the segment through the shards; false if stopped before it was delivered.
  bool SendSegment(std::vector<SegSeries> series);
  // Queues a batch to a shard, waiting while the shard holds queue_config.capacity
  // samples; false if stopped first.
  bool Enqueue(Shard* shard, Job job);
  // A shard's thread: sends its queued batches one after the other.
  void ShardLoop(Shard* shard);
  // Encodes, compresses and sends one batch (with the 415 fallback); false if stopped.
  bool SendBatch(Shard* shard, const Job& job);
  void StopShards();
  bool SendMetadata();

  const config::RemoteWriteConfig cfg_;
  const std::string key_;
  std::shared_ptr<const Relabeler> relabeler_;
  storage::Store* store_;
  CursorDb* cursors_;
  Clock* clock_;
  MetadataSource metadata_source_;
  EndpointMetrics metrics_;

  std::atomic<bool> stop_{false};
  std::atomic<bool> v2_;  // protobuf_message is 2.0 and no 415 was seen
  std::thread thread_;
  mutable std::mutex mu_;  // guards the three below and wake_
  std::condition_variable cv_;
  std::set<std::string> configured_;
  std::map<std::string, std::deque<std::shared_ptr<const FetchEvent>>> inbox_;
  bool wake_ = false;
  std::atomic<bool> idle_{false};

  // Owned by the thread:
  std::map<std::string, std::unique_ptr<TargetState>> targets_;
  std::set<std::string> configured_view_;  // copy of configured_
  std::vector<std::unique_ptr<Shard>> shards_;  // persistent sender threads, started on demand
  std::unique_ptr<Sender> metadata_sender_;
  std::map<std::string, OutMetadata, std::less<>> metadata_;
  int64_t next_metadata_ms_ = 0;
};

}  // namespace sb::remote_write
