// Store: the bridge's embedded time-series store, one SQLite file (WAL mode) holding every
// fetch of every target: series, compressed chunks of samples (docs/format/chunks.md), the
// fetch log, and the latest snapshot (raw body) per target. Schema: docs/format/schema.md.
//
//   StoreOptions opts;
//   opts.path = "data/scout-bridge.db";
//   SB_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, Store::Open(opts));
//   SB_RETURN_IF_ERROR(store->AppendFetch("scout/acme", t_ms, samples, body));
//   SB_ASSIGN_OR_RETURN(auto latest, store->Latest("scout/acme"));  // after a restart too
//
// Durability: AppendFetch is one SQLite transaction; with synchronous = "FULL" (the
// default) it is on disk when the call returns, so a kill -9 or power cut cannot lose it,
// and a crash mid-call leaves no part of it. (Its samples are one head_log row until a
// Flush writes the open chunks; Open replays the rows left. See docs/format/schema.md.)
//
// Thread-safety: the writer methods (AppendFetch) may be called from one thread at a time
// (calls are serialized by an internal mutex anyway; the design has one writer thread).
// The reader methods (Latest, Select, Samples, LabelNames, LabelValues) are safe from any
// thread, concurrently with the writer: they use a separate read-only connection (WAL
// readers never block the writer) and a shared lock on the in-memory index.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "storage/chunk/xor_chunk.h"
#include "storage/postings.h"
#include "storage/schema.h"
#include "storage/series.h"
#include "storage/series_index.h"

namespace sb::storage {

// The Prometheus stale marker: a NaN with this exact bit pattern.
inline constexpr uint64_t kStaleMarkerBits = 0x7ff0000000000002ULL;

struct StoreOptions {
  // Path of the SQLite database file; created if missing. Its "-wal" and "-shm" files sit
  // next to it. Required.
  std::string path;

  // A chunk is cut (a new one started) when the open one holds this many samples. Larger
  // chunks cost less per sample (a chunk has ~24 bytes of header, CRC and row overhead)
  // but retention drops whole chunks. At most kXorChunkMaxSamples.
  size_t chunk_max_samples = 4096;

  // ... or when the next sample is more than this after the chunk's first sample. Bounds
  // how late retention can drop old data (up to one span after the limit). 90 days =
  // 2160 hourly samples per chunk: with 30 days, a 90-day Scout-like history took 0.325
  // bytes/sample on disk, with 90 days 0.29 (the per-chunk cost is ~36 bytes).
  std::chrono::milliseconds chunk_max_span = std::chrono::hours(24 * 90);

  // ... or when the open chunk has grown to at least this many bytes. The open chunk's row
  // is rewritten at every flush, so this bounds the write amplification for busy series.
  // It must also keep a chunk row (blob + ~20 bytes of key and header, + one more sample
  // of at most ~10 bytes) under SQLite's largest in-page payload of a WITHOUT ROWID table,
  // 1002 bytes with 4 KiB pages: a larger row spills into a 4 KiB overflow page (1024 here
  // made busy series cost 28 bytes/sample instead of ~7).
  size_t chunk_max_bytes = 960;

  // How long a connection waits for a lock held by another (e.g. a checkpoint) before
  // failing with IOError "database is locked".
  std::chrono::milliseconds busy_timeout = std::chrono::seconds(5);

  // PRAGMA synchronous: "FULL" (default) fsyncs the WAL at every commit, so once
  // AppendFetch returns a kill -9 or a power cut cannot lose it. "NORMAL" is faster and
  // still safe against process crashes, but may lose the last commits on power loss.
  // "OFF" is for tests and bulk imports only.
  std::string synchronous = "FULL";

  // Snapshot bodies at least this large are stored gzip'd (when that is smaller).
  size_t compress_body_min_bytes = 256;

  // Latest() refuses to inflate a stored body past this many bytes (corruption guard).
  size_t max_body_bytes = 256u << 20;

  // The head log (storage/head_log.h): AppendFetch commits a fetch as one compact
  // head_log row and appends to the series' open chunks in memory only; Flush writes the
  // changed open chunks to their rows and deletes the head_log rows it covered. MaybeFlush
  // flushes once this many fetches, or this many bytes of head_log rows, are pending.
  // More = fewer chunk-row rewrites per fetch, but a longer replay after a crash (Open
  // replays the rows left) and more rows in the database meanwhile.
  size_t head_log_max_fetches = 32;
  size_t head_log_max_bytes = 64u << 20;
  // ... or this many samples (entries of head_log rows): bounds the replay after a crash
  // to ~0.5 s (16 fetches of 100k series), whatever the fetch size.
  size_t head_log_max_samples = 1'600'000;
  // Whether the destructor flushes (tests set false to leave rows for Open to replay).
  bool flush_on_close = true;

  // Retention, applied by ApplyRetention (the bridge calls it every 5 minutes).
  // Time: whole chunks whose newest sample is older than now - retention_time are
  // dropped; 0 = keep forever. The bridge's --storage.retention.time (default 365d).
  std::chrono::milliseconds retention_time{0};
  // Size: the oldest chunks are dropped until the database (and its WAL, checkpointed)
  // takes at most this many bytes; a series' last chunk is never dropped for size.
  // 0 = no limit. The bridge's --storage.retention.size (default 0).
  int64_t retention_size_bytes = 0;
};

// One sample of one series in a fetch.
struct SeriesSample {
  Labels labels;  // including __name__; any order
  double value = 0;
  // Or, instead of `labels` (then left empty): the series' canonical key, as EncodeLabels
  // writes canonical labels (sorted names, no empty value). A producer that can write it
  // directly (the bridge, from the parsed body) saves building a label vector per sample;
  // AppendFetch checks a key it does not already know exactly as it checks labels.
  std::string key;
  // Or, instead of `key` (then left empty): a view of the store's own key of the series
  // (LastFetchKeys), when the producer found its canonical key equal to it. Saves a copy of
  // every key of a fetch that lists the same series as the last one.
  std::string_view stored_key;
  std::string_view GivenKey() const { return stored_key.empty() ? std::string_view(key) : stored_key; }
};


// The last successful fetch of a target.
struct LatestSnapshot {
  int64_t fetch_time_ms = 0;
  std::string body;  // the raw exposition body, as given to AppendFetch
};

// Samples of one series for Store::AppendSamples (bulk import, tests).
struct SeriesSamples {
  Labels labels;                // including __name__; any order
  std::vector<Sample> samples;  // strictly increasing timestamps
};

// What one AppendSamples call did.
struct ImportStats {
  int64_t series = 0;           // series in the batch
  int64_t series_created = 0;   // of which new to the store
  int64_t samples_added = 0;
  int64_t samples_skipped = 0;  // at or before the series' last stored sample
};

// What one ApplyRetention call did.
struct RetentionStats {
  int64_t chunks_dropped = 0;   // series chunks (fetch-log chunks not counted)
  int64_t samples_dropped = 0;
  int64_t chunk_bytes_dropped = 0;  // sum of the dropped chunk blobs' sizes
  int64_t series_emptied = 0;   // series left with no chunk (kept, see ApplyRetention)
  int64_t bytes_before = 0;     // database + WAL file sizes on disk before the call
  int64_t bytes_after = 0;      // ... and after (freed pages returned, WAL truncated)
  // False when retention_size_bytes could not be met without dropping the last chunk of
  // a series (or within the call's time budget).
  bool size_limit_met = true;
};

// A series selected by Select().
struct SeriesRef {
  int64_t id = 0;
  Labels labels;  // canonical: sorted by name, __name__ included
};

class Store {
 public:
  // Opens or creates the store at options.path, migrates its schema forward, and rebuilds
  // the in-memory index from the series table.
  // Errors: InvalidArgument for bad options; Unimplemented "schema version N is newer
  // than this binary's M" for a file written by a newer binary; IOError/Corruption from
  // SQLite (the message names the path or statement).
  static Result<std::unique_ptr<Store>> Open(const StoreOptions& options);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Records one successful fetch of `target_key` in one transaction (one head_log row, see
  // StoreOptions::head_log_max_fetches): appends one sample per
  // series at fetch_time_ms (new series are created), appends the stale marker at
  // fetch_time_ms to every series that was in this target's previous fetch but is not in
  // this one, logs the fetch, and makes `raw_body_for_snapshot` the target's latest
  // snapshot.
  // Errors, before anything is written (the store is unchanged): InvalidArgument for bad
  // labels (see Canonicalize: empty or duplicate names, missing __name__), for a series
  // given twice, for fetch_time_ms not after the target's previous fetch, or not after
  // the last sample of one of the series (the message names the series and both times).
  // Corruption (before anything is written) if the open chunk of a series to append to
  // does not decode; the message names the series and the chunk's min_t.
  // IOError/Corruption from SQLite: then the transaction is rolled back and the store and
  // its in-memory state are as before the call.
  // Series are keyed by label set only: a series given by two targets is one series, and
  // its out-of-order rule spans both (the bridge adds target labels to keep them apart);
  // such a series gets no stale marker from a target that is behind the other.
  Status AppendFetch(const std::string& target_key, int64_t fetch_time_ms,
                     const std::vector<SeriesSample>& samples,
                     std::string_view raw_body_for_snapshot);

  // Writes the open chunks changed since the last flush to their chunk rows and deletes
  // the head_log rows that this covers. Works in steps of a few thousand series (each one
  // transaction, releasing the writer lock between them), so a concurrent AppendFetch
  // waits at most one step. Readers see the same samples before, during and after.
  // Errors: IOError/Corruption from SQLite (the step is rolled back; nothing is lost, the
  // head_log rows stay until a later Flush succeeds).
  Status Flush();
  // Flush() if the head_log holds at least head_log_max_fetches rows, head_log_max_bytes
  // bytes or head_log_max_samples samples; otherwise nothing. The bridge calls it after each fetch, off the request path.
  // (AppendFetch itself flushes, after its commit, once twice those limits are pending:
  // a backstop, so a caller that never calls MaybeFlush still has a bounded head log.)
  Status MaybeFlush();
  // Fetches (head_log rows) committed but not yet flushed into chunk rows.
  size_t PendingFetches();

  // AppendFetch with the snapshot body already gzip'd by the caller (the bridge compresses
  // it to serve it anyway): stored as is, saving a second compression. Latest() returns it
  // inflated (Corruption if it does not inflate). Otherwise as AppendFetch.
  Status AppendFetchGzipBody(const std::string& target_key, int64_t fetch_time_ms,
                             const std::vector<SeriesSample>& samples,
                             std::string_view gzipped_body_for_snapshot);
  // AppendFetchGzipBody that also releases the key of each series the fetch creates
  // ((*samples)[i].key is emptied) as soon as the store holds its own copy: a fetch of many
  // new series (a target's first) then holds each key about once at its peak, not twice.
  // The samples are otherwise unchanged, and on error nothing is released.
  Status AppendFetchGzipBodyAndReleaseKeys(const std::string& target_key, int64_t fetch_time_ms,
                                           std::vector<SeriesSample>* samples,
                                           std::string_view gzipped_body_for_snapshot);

  // What a committed AppendFetch did, as its commit listener sees it: one entry per series
  // the fetch gave, in the order given, then one per series that got a stale marker (it was
  // in the target's previous fetch and is not in this one). `keys[i]` is the canonical key
  // of entry i's series as the store holds it: valid for as long as the store is open
  // (series are never erased, and a series' key never moves), so a listener may keep the
  // view instead of a copy; the same series always has the same view.
  struct CommittedFetch {
    const std::string& target_key;
    int64_t fetch_time_ms = 0;
    // The target's fetch before this one (also one from before a restart), or -1 if none:
    // the stale markers here are complete with respect to it.
    int64_t previous_fetch_ms = -1;
    const std::vector<std::string_view>& keys;
    const std::vector<double>& values;  // same length as keys; stale markers at the end
    size_t num_given = 0;               // entries [0, num_given) are the fetch's samples
  };
  // Called after every committed AppendFetch, on the caller's thread and still under the
  // writer lock, so calls come in commit order (the remote-write feeder's live path). It
  // must not call the store's writer methods; readers are fine. Set it before the first
  // AppendFetch: it is not synchronized with writers.
  using CommitListener = std::function<void(const CommittedFetch&)>;
  void SetCommitListener(CommitListener listener) { commit_listener_ = std::move(listener); }

  // Appends samples to series (created as needed) in ONE transaction, for imports and
  // tests. Samples at or before a series' last stored timestamp are skipped (counted in
  // samples_skipped), so importing the same data twice adds nothing. Values are stored bit
  // for bit (NaN payloads, stale markers). Touches no target: no snapshot, no fetch log,
  // no stale markers. Chunks are cut as in AppendFetch.
  // Errors, before anything is written: InvalidArgument for bad labels (as AppendFetch),
  // for a series given twice in the batch, or for timestamps that do not strictly increase
  // within a series (the message names the series and both times). IOError/Corruption
  // from SQLite: rolled back, the store is as before.
  Result<ImportStats> AppendSamples(const std::vector<SeriesSamples>& batch);

  // The canonical keys of the series of `target_key`'s last fetch appended by this process,
  // in its order (empty if none): views of the store's own keys, valid while it is open. A
  // producer whose next fetch lists the same series passes them as SeriesSample::stored_key.
  std::vector<std::string_view> LastFetchKeys(const std::string& target_key);

  // The time of the latest fetch of `target_key` recorded in memory, or nullopt if none.
  // Cheap (no SQLite): for caches keyed by "which fetch was this".
  std::optional<int64_t> LastFetchMs(const std::string& target_key) const;

  // The latest snapshot of `target_key`, or nullopt if it was never fetched.
  // Errors: Corruption if the stored body does not inflate; IOError from SQLite.
  Result<std::optional<LatestSnapshot>> Latest(const std::string& target_key);

  // Series matching all `matchers` that have at least one sample in [mint, maxt]
  // (inclusive), sorted by id. No matchers selects every series.
  Result<std::vector<SeriesRef>> Select(const std::vector<Matcher>& matchers, int64_t mint,
                                        int64_t maxt);

  // The samples of one series with mint <= t <= maxt, in time order (chunks and the head).
  // Errors: NotFound for an unknown id; Corruption for a chunk that fails to decode (the
  // message names the series' labels and the chunk's min_t); IOError from SQLite.
  Result<std::vector<Sample>> Samples(int64_t series_id, int64_t mint, int64_t maxt);

  // The fetch log of `target_key`: one sample per recorded fetch, timestamp = fetch time,
  // value = number of samples the fetch gave (stale markers not counted). Empty for an
  // unknown target. Errors: as Samples.
  Result<std::vector<Sample>> FetchLog(const std::string& target_key, int64_t mint,
                                       int64_t maxt);

  // Applies the retention of the options at time now_ms: drops every chunk (of series and
  // of the fetch log) whose newest sample is older than now_ms - retention_time; then,
  // with a size limit, drops the oldest remaining chunks (smallest min_t first, never a
  // series' last chunk) until the database's pages in use fit the limit; then returns
  // freed pages to the file system (PRAGMA incremental_vacuum, in small steps) and
  // truncates the WAL. Works in small transactions (at most a few hundred series each),
  // releasing the writer lock between them, so a concurrent AppendFetch waits at most
  // one step. A series whose chunks are all dropped keeps its id and labels (ids are
  // never reused) but has no samples: Select no longer returns it; a later sample
  // starts it again. Bounded: at most 60 s per call, then it returns what it did.
  // Errors: IOError/Corruption from SQLite (the current step is rolled back; earlier
  // steps stay committed and the in-memory state matches what is committed).
  Result<RetentionStats> ApplyRetention(int64_t now_ms);

  // The canonical key (EncodeLabels) of series `id` as the store holds it, or nullopt for
  // an unknown id. The view stays valid while the store is open and is the same one the
  // commit listener passes for that series.
  std::optional<std::string_view> SeriesKeyOf(int64_t id) const;

  // Label names in use (sorted), and the values of one name (sorted).
  std::vector<std::string> LabelNames();
  std::vector<std::string> LabelValues(const std::string& name);

 private:
  // The open (last) chunk of a series or fetch log, in memory. For a series it may hold
  // samples that are only in head_log rows so far: those after flushed_t.
  struct HeadState {
    XorChunkAppender app;
    // The chunk row (series_id, app.first_timestamp_ms()) holds this chunk's samples up to
    // flushed_t; INT64_MIN when there is no such row yet.
    int64_t flushed_t = INT64_MIN;
    bool dirty() const { return app.num_samples() > 0 && app.last_timestamp_ms() > flushed_t; }
  };
  // In-memory state of one series, at series_[id].
  struct SeriesState {
    // Its canonical labels, encoded (EncodeLabels): bytes in keys_, which never move (the
    // commit listener and SeriesKeyOf hand out views of them); null for an id with no
    // series. The one copy of the label set in memory: ids_ finds a key through it, and
    // LabelsOf() decodes it.
    const char* key_data = nullptr;
    int64_t min_t = INT64_MAX;  // of all its samples; INT64_MAX while it has none
    int64_t max_t = INT64_MIN;
    int64_t head_min_t = INT64_MIN;  // min_t of its last chunk; INT64_MIN while none
    bool exists() const { return key_data != nullptr; }
    std::string_view key() const { return KeyArena::View(key_data); }
  };
  static Labels LabelsOf(const SeriesState& st) {
    return st.exists() ? DecodeLabels(st.key()).value() : Labels{};  // encoded by us
  }
  // The series with this id, or null. Caller holds index_mu_ (or write_mu_).
  SeriesState* FindSeries(int64_t id) {
    if (id <= 0 || static_cast<size_t>(id) >= series_.size()) return nullptr;
    SeriesState& st = series_[static_cast<size_t>(id)];
    return st.exists() ? &st : nullptr;
  }
  const SeriesState* FindSeries(int64_t id) const {
    return const_cast<Store*>(this)->FindSeries(id);
  }
  // The id of the series with canonical key `key` (KeyIdTable::Hash(key) = hash), or 0.
  // Caller holds index_mu_ (or write_mu_).
  int64_t FindId(std::string_view key, uint32_t hash) const {
    return ids_.Find(key, hash, [this](int64_t id) { return series_[id].key(); });
  }
  // Publishes a new series to the index (keys_, ids_, series_, postings_). Caller holds
  // write_mu_ and index_mu_ exclusively. REQUIRES: 1 <= id <= kMaxSeriesId, id new.
  void AddSeries(int64_t id, std::string_view key, uint32_t hash, const Labels& labels);
  struct Planned;    // one series' part of a fetch, see store_append.cc
  struct NewSeries;  // a series a fetch creates
  explicit Store(const StoreOptions& options) : options_(options) {}
  // `release`: null, or `samples` itself, whose new series' keys are released once copied.
  Status AppendFetchBody(const std::string& target_key, int64_t fetch_time_ms,
                         const std::vector<SeriesSample>& samples, std::string_view body,
                         bool gzipped, std::vector<SeriesSample>* release = nullptr);
  // AppendFetch with write_mu_ held.
  Status AppendFetchLocked(const std::string& target_key, int64_t fetch_time_ms,
                           const std::vector<SeriesSample>& samples,
                           std::string_view raw_body_for_snapshot, bool gzipped,
                           std::vector<SeriesSample>* release);
  Status Load();
  enum class Log { kSeries, kFetches };  // which chunk table: chunks or fetches
  // The open chunk of a series (Log::kSeries) or fetch log, loaded from its last chunk
  // row on first use. Caller holds write_mu_.
  Result<HeadState*> Head(Log log, int64_t id);
  // Writes `head`'s chunk row (UPDATE in place, or INSERT for a chunk with no row yet) in
  // the caller's transaction. Does not change head->flushed_t (the caller sets it once
  // the transaction committed).
  Status WriteHeadRow(Log log, int64_t id, const HeadState& head);
  // Replays the head_log rows into the open chunks in memory (Open; and after a failed
  // transaction, from a cleared heads_). Caller holds write_mu_.
  Status ReplayHeadLog();
  // Before a replay: loads the open chunks of the series the head log names, in one pass
  // over the chunk rows when they are many (ReplayHeadLog's Head() calls then find them).
  Status PreloadHeadsForReplay();
  // After a failed transaction: forgets every cached open chunk and replays the head log
  // from the database, so memory mirrors what is committed again.
  Status ReloadHeads();
  Result<std::vector<Sample>> ReadChunks(Log log, int64_t id, int64_t mint, int64_t maxt);
  Result<std::vector<int64_t>> PreviousSeries(int64_t target_id);
  Status WriteFetch(const std::string& target_key, int64_t fetch_time_ms,
                    std::vector<Planned>* plan, std::vector<NewSeries>* created,
                    size_t num_given, int body_encoding, std::string_view body,
                    int64_t* target_id_out, int64_t* log_seq_out);
  // Appends (t, v) to the fetch log's open chunk in place, cutting a new chunk first if the
  // open one is full, and writes its row (the fetch log is written through, not logged).
  Status PutFetchLogSample(int64_t target_id, HeadState* head, int64_t t, double v);
  // AppendFetch's reused state (guarded by write_mu_): statements, buffers, and the
  // per-fetch "seen" mark of each series id.
  std::optional<Stmt> put_series_stmt_, put_target_stmt_, put_log_stmt_;
  std::optional<Stmt> update_chunk_stmt_[2], insert_chunk_stmt_[2];  // [chunks, fetches]
  std::string key_buf_, chunk_buf_, log_buf_;
  std::vector<uint32_t> seen_epoch_;
  uint32_t epoch_ = 0;
  // Whether the open chunk `app` must be cut before appending a sample at `t`.
  bool NeedsCut(const XorChunkAppender& app, int64_t t) const;
  struct ImportPlan;  // one series' part of an AppendSamples batch, see store_import.cc
  Status WriteImport(std::vector<ImportPlan>* plan);
  // Retention steps, see store_retention.cc.
  Status DropOlderThan(int64_t cutoff_ms, int64_t deadline_ns, RetentionStats* stats);
  Status DropForSize(int64_t limit_bytes, int64_t deadline_ns, RetentionStats* stats);
  Status ReclaimSpace(int64_t deadline_ns);
  Result<int64_t> PagesInUseBytes();
  // Deletes the chunks of series `id` with min_t < below_min_t and max_t < cutoff (up to
  // `limit` of them, oldest first), and updates `stats`. Returns the series' new min_t
  // (INT64_MAX if it has no chunk left). Caller holds write_mu_ in a transaction.
  Result<int64_t> DropChunks(int64_t id, int64_t below_min_t, int64_t cutoff, int64_t limit,
                             RetentionStats* stats);
  // Publishes new min_t values after a committed retention step.
  void ApplyDrops(const std::vector<std::pair<int64_t, int64_t>>& new_min_t);
  // Ends a retention step's transaction: with `s` OK, commits, publishes `new_min_t` and
  // adds `step` to `stats`; otherwise (or if COMMIT fails) rolls back and returns the error.
  Status FinishDropStep(Status s, const std::vector<std::pair<int64_t, int64_t>>& new_min_t,
                        const RetentionStats& step, RetentionStats* stats);
  std::optional<Stmt> drop_select_stmt_, drop_delete_stmt_, first_chunk_stmt_;
  std::string Describe(Log log, int64_t id);

  StoreOptions options_;
  CommitListener commit_listener_;  // see SetCommitListener
  // Serializes writers; guards writer_ and the four maps below. keys_, ids_, postings_
  // and series_ are changed only with both write_mu_ and index_mu_ held, so a writer may read
  // them holding write_mu_ alone.
  std::mutex write_mu_;
  std::unique_ptr<Db> writer_;
  std::unordered_map<std::string, int64_t> targets_;  // target_key -> targets.id
  // The series of a target's last fetch, in the fetch's order (AppendFetch's fast path).
  // Their states are series_[ids[i]]: series are never erased, and never move.
  struct TargetOrder {
    std::vector<int64_t> ids;
  };
  std::unordered_map<std::string, TargetOrder> target_order_;
  std::unordered_map<std::string, int64_t> target_last_ms_;
  // Open (last) chunk of each series, loaded from its chunk row on first append; changed
  // (and inserted into) only with write_mu_ and heads_mu_ held, so readers may look up a
  // series' unflushed samples holding heads_mu_ shared.
  // By series id; a HeadState never moves while present (see series_index.h), until
  // ReloadHeads clears them all.
  IdMap<HeadState> heads_;
  std::unordered_map<int64_t, HeadState> fetch_heads_;  // by targets.id; write_mu_ only
  mutable std::shared_mutex heads_mu_;
  std::mutex flush_mu_;  // one Flush at a time (taken before write_mu_)
  // head_log rows not yet flushed, oldest first, and their totals. write_mu_.
  struct LogRow {
    int64_t seq = 0;
    int64_t bytes = 0;
    int64_t samples = 0;
  };
  std::vector<LogRow> log_rows_;
  int64_t log_bytes_ = 0;
  int64_t log_samples_ = 0;
  // Whether the pending head_log rows reach `factor` times a head_log_max_* limit.
  bool HeadLogOver(size_t factor) const;
  std::atomic<size_t> pending_fetches_{0};
  std::optional<Stmt> head_series_stmt_;  // Head()'s queries, prepared on first use
  std::optional<Stmt> head_fetch_stmt_;

  std::mutex read_mu_;                    // guards reader_ and read_chunks_stmt_
  std::unique_ptr<Db> reader_;
  std::optional<Stmt> read_chunks_stmt_[2];  // ReadChunks' queries by Log, prepared on first use

  mutable std::shared_mutex index_mu_;    // guards the four below
  PostingsIndex postings_;
  KeyArena keys_;     // every series' key (SeriesState::key_data), never moved or freed
  KeyIdTable ids_;    // key -> id, the keys being those of series_
  // By id (series_[0] is never a series). Elements never move (see series_index.h).
  BlockArray<SeriesState> series_;
};

}  // namespace sb::storage
