// Feeder: the remote-write side of the bridge. Owns one Endpoint per `remote_write` entry,
// the cursor table, and the bridge-wide view the endpoints share:
//
//   - OnCommit() is the store's commit listener: right after a fetch is durable, it hands it
//     to every endpoint as a FetchEvent: the store's own key of each series (a view, no
//     copy) and its value, then the stale markers the store wrote for the series the
//     target's previous fetch had and this one lacks. The feeder keeps nothing per series.
//     That is the live path; the store itself is the queue for everything else (see
//     Endpoint).
//   - Metric metadata (TYPE/HELP/UNIT) per target is taken from the bridge's parsed
//     snapshot (FeederOptions::parsed_source), or parsed from the stored snapshot body, once
//     per fetch, and offered to the endpoints.
//
// Lifetimes: the store must outlive the Feeder. Stop() before destroying the store.
// Thread-safety: every method may be called from any thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/exposition/model.h"
#include "config/config.h"
#include "remote_write/cursor_db.h"
#include "remote_write/endpoint.h"
#include "storage/store.h"

namespace sb::remote_write {

// The parsed data of a target's latest fetch, if the caller holds it in memory (the bridge's
// served snapshot), else nullptr. Called on an endpoint's thread.
using ParsedSource = std::function<std::shared_ptr<const expo::Exposition>(const std::string& target_key)>;

struct FeederOptions {
  storage::Store* store = nullptr;  // required
  std::string db_path;              // the store's SQLite file; the cursor table lives there
  Clock* clock = SystemClock::Default();
  // Optional. Metric metadata is taken from here when it has the target; otherwise the
  // stored snapshot body is inflated and parsed (costly for 100k series: ~0.1 s and tens
  // of MB at every metadata_config.send_interval).
  ParsedSource parsed_source;
};

// The store target keys ("<job>/<address>") of the configured targets, as the bridge
// names them.
std::set<std::string> TargetKeys(const config::Config& cfg);

class Feeder {
 public:
  // Opens the cursor table and starts an endpoint per cfg.remote_write entry.
  // Errors: InvalidArgument for a bad endpoint (URL, rules, unreadable credentials file:
  // named, never shown); IOError from the cursor table.
  static Result<std::unique_ptr<Feeder>> Start(const FeederOptions& options, const config::Config& cfg);
  ~Feeder();

  // Applies a new config: unchanged endpoints keep running with the new target set (removed
  // targets get stale markers); changed ones are restarted (they resume from their cursors);
  // removed ones are stopped (their cursors stay, for when they come back).
  // Errors: as Start, and then nothing changes.
  Status Reload(const config::Config& cfg);

  // The store's commit listener. REQUIRES: called in commit order per target, by the store
  // that outlives this feeder (its keys are kept as views).
  void OnCommit(const storage::Store::CommittedFetch& fetch);

  // Stops every endpoint. Idempotent.
  void Stop();

  // The scout_bridge_remote_storage_* families (empty without endpoints).
  std::string RenderMetrics() const;

  // Tests: whether every endpoint is caught up; wake them (after advancing a FakeClock).
  bool Idle() const;
  void Poke();
  size_t num_endpoints() const;

 private:
  struct MetadataCache {
    int64_t parsed_for_ms = -2;
    std::map<std::string, OutMetadata, std::less<>> families;
  };
  explicit Feeder(const FeederOptions& o) : options_(o) {}
  Result<std::shared_ptr<Endpoint>> MakeEndpoint(const config::RemoteWriteConfig& rw, const config::Config& cfg);
  std::map<std::string, OutMetadata, std::less<>> Metadata();

  FeederOptions options_;
  std::unique_ptr<CursorDb> cursors_;
  mutable std::mutex mu_;  // guards endpoints_, configs_, targets_
  std::vector<std::shared_ptr<Endpoint>> endpoints_;
  std::vector<std::string> configs_;  // per endpoint: fingerprint + external labels
  std::set<std::string> targets_;
  std::mutex md_mu_;      // guards metadata_
  std::map<std::string, MetadataCache> metadata_;
};

}  // namespace sb::remote_write
