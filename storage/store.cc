// Store implementation. Design (see docs/format/schema.md for the tables):
//
// - The writer connection (writer_) does every write; AppendFetch validates all its input
//   first, then writes in one BEGIN IMMEDIATE ... COMMIT, then — only after COMMIT
//   succeeded — updates the in-memory state (ids_, postings_, series_, heads_, targets_).
//   (The one exception, the fetch log's open chunk, is written through and dropped on
//   failure.)
//   A failure at any step rolls back and leaves memory untouched, so memory always
//   mirrors what is committed.
// - The head of a series is its last chunk, in memory (heads_): AppendFetch commits a
//   fetch as one head_log row and appends to heads_ only after COMMIT; Flush
//   (store_flush.cc) writes changed heads to their chunk rows; Open replays the head_log
//   rows left. Readers merge a head's unflushed samples with the rows (ReadChunks).
// - Readers use reader_ (read-only, WAL snapshot per statement) under read_mu_, and the
//   index under a shared lock; they never wait for the writer's transaction.
#include "storage/store.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <unordered_set>
#include <utility>

#include "common/gzip.h"

namespace sb::storage {

namespace {

constexpr int kBodyIdentity = 0;
constexpr int kBodyGzip = 1;

}  // namespace

Result<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  if (options.path.empty()) return Status::InvalidArgument("store: empty path");
  if (options.chunk_max_samples == 0 || options.chunk_max_samples > kXorChunkMaxSamples) {
    return Status::InvalidArgument("store: chunk_max_samples must be in 1.." +
                                   std::to_string(kXorChunkMaxSamples));
  }
  if (options.chunk_max_span.count() <= 0 || options.chunk_max_bytes == 0) {
    return Status::InvalidArgument("store: chunk_max_span and chunk_max_bytes must be > 0");
  }
  std::unique_ptr<Store> store(new Store(options));
  DbSettings settings;
  settings.busy_timeout_ms = static_cast<int>(options.busy_timeout.count());
  settings.synchronous = options.synchronous;
  SB_ASSIGN_OR_RETURN(store->writer_, Db::Open(options.path, /*read_only=*/false));
  SB_RETURN_IF_ERROR(PrepareWriter(store->writer_.get(), settings).Annotate(options.path));
  SB_ASSIGN_OR_RETURN(store->reader_, Db::Open(options.path, /*read_only=*/true));
  SB_RETURN_IF_ERROR(PrepareReader(store->reader_.get(), settings).Annotate(options.path));
  SB_RETURN_IF_ERROR(store->Load().Annotate(options.path));
  return store;
}

Store::~Store() {
  // Best effort: a failed flush loses nothing, the head_log rows are replayed at Open.
  if (options_.flush_on_close && writer_ != nullptr && Flush().ok()) {
    // The flush freed the head_log rows' pages: give them back to the file system
    // (bounded: at most 4 MiB here; retention reclaims the rest in steps).
    (void)writer_->Exec("PRAGMA incremental_vacuum(1024)");
  }
  // Finalize every statement before the connections close: a connection closed with live
  // statements stays open, and then the last close does not checkpoint and remove the WAL.
  put_series_stmt_.reset();
  put_target_stmt_.reset();
  put_log_stmt_.reset();
  for (auto* st : {&update_chunk_stmt_[0], &update_chunk_stmt_[1], &insert_chunk_stmt_[0],
                   &insert_chunk_stmt_[1], &drop_select_stmt_, &drop_delete_stmt_,
                   &first_chunk_stmt_, &head_series_stmt_, &head_fetch_stmt_}) {
    st->reset();
  }
  read_chunks_stmt_[0].reset();
  read_chunks_stmt_[1].reset();
  reader_.reset();
  writer_.reset();
}

Status Store::Load() {
  Db* db = writer_.get();
  SB_ASSIGN_OR_RETURN(Stmt series, db->Prepare("SELECT id, labels FROM series ORDER BY id"));
  for (;;) {
    SB_ASSIGN_OR_RETURN(bool row, series.Step());
    if (!row) break;
    const int64_t id = series.ColumnInt(0);
    const std::string_view key = series.ColumnBlob(1);
    if (id < 1 || id > kMaxSeriesId) {
      return Status::Corruption("series id " + std::to_string(id) + " out of range 1.." +
                                std::to_string(kMaxSeriesId));
    }
    SB_ASSIGN_OR_RETURN(Labels labels, DecodeLabels(key));
    AddSeries(id, key, KeyIdTable::Hash(key), labels);
  }
  SB_ASSIGN_OR_RETURN(Stmt ranges, db->Prepare(
      "SELECT series_id, MIN(min_t), MAX(max_t), MAX(min_t) FROM chunks GROUP BY series_id"));
  for (;;) {
    SB_ASSIGN_OR_RETURN(bool row, ranges.Step());
    if (!row) break;
    SeriesState* st = FindSeries(ranges.ColumnInt(0));
    if (st == nullptr) continue;  // chunk of an unknown series: ignored
    st->min_t = ranges.ColumnInt(1);
    st->max_t = ranges.ColumnInt(2);
    st->head_min_t = ranges.ColumnInt(3);
  }
  SB_ASSIGN_OR_RETURN(Stmt targets,
                      db->Prepare("SELECT id, target_key, last_fetch_ms FROM targets"));
  for (;;) {
    SB_ASSIGN_OR_RETURN(bool row, targets.Step());
    if (!row) break;
    const std::string key(targets.ColumnBlob(1));
    targets_[key] = targets.ColumnInt(0);
    target_last_ms_[key] = targets.ColumnInt(2);
  }
  std::lock_guard write_lock(write_mu_);
  // One transaction for the replay: its ~100k head loads then take SQLite's file locks
  // once, not once per statement.
  SB_RETURN_IF_ERROR(db->Exec("BEGIN IMMEDIATE"));
  Status s = ReplayHeadLog();
  if (s.ok()) s = db->Exec("COMMIT");
  if (!s.ok()) (void)db->Exec("ROLLBACK");
  return s;
}

std::string Store::Describe(Log log, int64_t id) {
  if (log == Log::kFetches) return "fetch log of target id " + std::to_string(id);
  std::shared_lock lock(index_mu_);
  const SeriesState* st = FindSeries(id);
  return st == nullptr ? "series id " + std::to_string(id)
                       : "series " + LabelsToString(LabelsOf(*st));
}

void Store::AddSeries(int64_t id, std::string_view key, uint32_t hash, const Labels& labels) {
  series_.EnsureIndex(static_cast<size_t>(id));
  series_[static_cast<size_t>(id)].key_data = keys_.Add(key);
  // A second row with the same labels (not written by this code) stays a series of its
  // own, but the key keeps finding the first: as with the map this replaced.
  if (FindId(key, hash) == 0) ids_.Insert(hash, id);
  postings_.Add(id, labels);
}

Result<Store::HeadState*> Store::Head(Log log, int64_t id) {
  if (log == Log::kSeries) {
    if (HeadState* h = heads_.Find(id)) return h;
  } else if (auto it = fetch_heads_.find(id); it != fetch_heads_.end()) {
    return &it->second;
  }
  // Prepared once: a first fetch after Open loads the heads of all its series.
  std::optional<Stmt>& st = log == Log::kSeries ? head_series_stmt_ : head_fetch_stmt_;
  if (!st.has_value()) {
    SB_ASSIGN_OR_RETURN(st, writer_->Prepare(
        log == Log::kSeries
            ? "SELECT min_t, data FROM chunks WHERE series_id = ? ORDER BY min_t DESC LIMIT 1"
            : "SELECT min_t, data FROM fetches WHERE target_id = ? ORDER BY min_t DESC "
              "LIMIT 1"));
  }
  st->Bind(1, id);
  Result<bool> row = st->Step();
  if (!row.ok()) return row.status();  // Step reset the statement
  Result<std::vector<Sample>> samples = std::vector<Sample>{};
  int64_t min_t = 0;
  if (*row) {
    min_t = st->ColumnInt(0);
    samples = DecodeAll(st->ColumnBlob(1));
  }
  st->Reset();  // ends the statement's read; the blob view is dead from here on
  if (!samples.ok()) {
    return Status::Corruption(Describe(log, id) + ", chunk min_t=" + std::to_string(min_t) +
                              ": " + samples.status().message());
  }
  HeadState head;
  for (const Sample& s : *samples) SB_RETURN_IF_ERROR(head.app.Append(s.timestamp_ms, s.value));
  if (head.app.num_samples() > 0) head.flushed_t = head.app.last_timestamp_ms();
  if (log == Log::kFetches) return &fetch_heads_.emplace(id, std::move(head)).first->second;
  std::unique_lock heads_lock(heads_mu_);  // readers look series heads up
  return &heads_.Put(id, std::move(head));
}

Result<std::vector<int64_t>> Store::PreviousSeries(int64_t target_id) {
  SB_ASSIGN_OR_RETURN(Stmt st,
                      writer_->Prepare("SELECT last_series FROM targets WHERE id = ?"));
  st.Bind(1, target_id);
  SB_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::vector<int64_t>{};
  return DecodeIds(st.ColumnBlob(0));
}

std::optional<std::string_view> Store::SeriesKeyOf(int64_t id) const {
  std::shared_lock lock(index_mu_);
  const SeriesState* st = FindSeries(id);
  if (st == nullptr) return std::nullopt;
  return st->key();
}

std::optional<int64_t> Store::LastFetchMs(const std::string& target_key) const {
  std::shared_lock lock(index_mu_);  // target_last_ms_ changes with index_mu_ held
  auto it = target_last_ms_.find(target_key);
  if (it == target_last_ms_.end()) return std::nullopt;
  return it->second;
}

Result<std::optional<LatestSnapshot>> Store::Latest(const std::string& target_key) {
  std::lock_guard lock(read_mu_);
  SB_ASSIGN_OR_RETURN(Stmt st, reader_->Prepare(
      "SELECT last_fetch_ms, body_encoding, body FROM targets WHERE target_key = ?"));
  st.BindText(1, target_key);
  SB_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<LatestSnapshot>();
  LatestSnapshot snap;
  snap.fetch_time_ms = st.ColumnInt(0);
  const int64_t encoding = st.ColumnInt(1);
  std::string_view body = st.ColumnBlob(2);
  if (encoding == kBodyIdentity) {
    snap.body.assign(body);
  } else if (encoding == kBodyGzip) {
    Result<std::string> raw = GzipDecompress(body, options_.max_body_bytes);
    if (!raw.ok()) {
      return Status::Corruption("snapshot of target \"" + target_key +
                                "\": " + raw.status().message());
    }
    snap.body = std::move(raw).value();
  } else {
    return Status::Corruption("snapshot of target \"" + target_key +
                              "\": unknown body_encoding " + std::to_string(encoding));
  }
  return std::optional<LatestSnapshot>(std::move(snap));
}

Result<std::vector<SeriesRef>> Store::Select(const std::vector<Matcher>& matchers,
                                             int64_t mint, int64_t maxt) {
  std::shared_lock lock(index_mu_);
  std::vector<SeriesRef> out;
  for (int64_t id : postings_.Select(matchers)) {
    const SeriesState* st = FindSeries(id);
    // A series with no samples (all dropped by retention) has min_t > max_t: skipped.
    if (st == nullptr || st->min_t > st->max_t || st->max_t < mint || st->min_t > maxt) {
      continue;
    }
    out.push_back(SeriesRef{id, LabelsOf(*st)});
  }
  return out;
}

Result<std::vector<Sample>> Store::Samples(int64_t series_id, int64_t mint, int64_t maxt) {
  {
    std::shared_lock lock(index_mu_);
    if (FindSeries(series_id) == nullptr) {
      return Status::NotFound("no series with id " + std::to_string(series_id));
    }
  }
  return ReadChunks(Log::kSeries, series_id, mint, maxt);
}

Result<std::vector<Sample>> Store::FetchLog(const std::string& target_key, int64_t mint,
                                            int64_t maxt) {
  int64_t target_id = 0;
  {
    std::lock_guard lock(read_mu_);
    SB_ASSIGN_OR_RETURN(Stmt st,
                        reader_->Prepare("SELECT id FROM targets WHERE target_key = ?"));
    st.BindText(1, target_key);
    SB_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return std::vector<Sample>{};
    target_id = st.ColumnInt(0);
  }
  return ReadChunks(Log::kFetches, target_id, mint, maxt);
}

Result<std::vector<Sample>> Store::ReadChunks(Log log, int64_t id, int64_t mint,
                                              int64_t maxt) {
  // A series' samples not yet flushed are in its open chunk in memory only. Copy that
  // first, then read the rows: a Flush that commits in between only makes the rows hold
  // some of the copied samples too (merged below by time); the other order could miss
  // samples flushed and dropped from memory between the two reads.
  // heads_mu_ is held for the whole read: AppendFetch holds it exclusively from COMMIT
  // until the fetch's samples are in memory, so a reader never sees a fetch in the fetch
  // log whose samples it cannot read.
  std::shared_lock heads_lock(heads_mu_);
  std::string unflushed;
  if (log == Log::kSeries) {
    const HeadState* h = heads_.Find(id);
    if (h != nullptr && h->dirty() && h->app.last_timestamp_ms() >= mint &&
        h->app.first_timestamp_ms() <= maxt) {
      h->app.EncodeTo(&unflushed);
    }
  }
  std::lock_guard lock(read_mu_);
  // Prepared once per store: a dashboard query reads hundreds of series in a row.
  std::optional<Stmt>& st = read_chunks_stmt_[log == Log::kSeries ? 0 : 1];
  if (!st.has_value()) {
    SB_ASSIGN_OR_RETURN(st, reader_->Prepare(
        log == Log::kSeries
            ? "SELECT min_t, data FROM chunks WHERE series_id = ? AND max_t >= ? AND "
              "min_t <= ? ORDER BY min_t"
            : "SELECT min_t, data FROM fetches WHERE target_id = ? AND max_t >= ? AND "
              "min_t <= ? ORDER BY min_t"));
  }
  struct ResetOnExit {
    Stmt* st;
    ~ResetOnExit() { st->Reset(); }  // ends the read transaction and clears the bindings
  } reset{&*st};
  st->Bind(1, id).Bind(2, mint).Bind(3, maxt);
  std::vector<Sample> out;
  for (;;) {
    SB_ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    const int64_t min_t = st->ColumnInt(0);
    Result<XorChunkIterator> it = XorChunkIterator::Open(st->ColumnBlob(1));
    Status bad = it.status();
    if (it.ok()) {
      out.reserve(out.size() + it->num_samples());
      while (it->Next()) {
        if (it->t() >= mint && it->t() <= maxt) out.push_back(Sample{it->t(), it->v()});
      }
      bad = it->status();
    }
    if (!bad.ok()) {
      return Status::Corruption(Describe(log, id) + ", chunk min_t=" +
                                std::to_string(min_t) + ": " + bad.message());
    }
  }
  if (!unflushed.empty()) {
    Result<XorChunkIterator> it = XorChunkIterator::Open(unflushed);  // built by us just now
    if (!it.ok()) return it.status();
    const int64_t after = out.empty() ? INT64_MIN : out.back().timestamp_ms;
    while (it->Next()) {
      if (it->t() > after && it->t() >= mint && it->t() <= maxt) {
        out.push_back(Sample{it->t(), it->v()});
      }
    }
    SB_RETURN_IF_ERROR(it->status());
  }
  return out;
}

std::vector<std::string> Store::LabelNames() {
  std::shared_lock lock(index_mu_);
  return postings_.LabelNames();
}

std::vector<std::string> Store::LabelValues(const std::string& name) {
  std::shared_lock lock(index_mu_);
  return postings_.LabelValues(name);
}

}  // namespace sb::storage
