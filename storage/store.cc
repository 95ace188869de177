// Store implementation. Design (see docs/format/schema.md for the tables):
//
// - The writer connection (writer_) does every write; AppendFetch validates all its input
//   first, then writes in one BEGIN IMMEDIATE ... COMMIT, then — only after COMMIT
//   succeeded — updates the in-memory state (ids_, postings_, series_, heads_, targets_).
//   A failure at any step rolls back and leaves memory untouched, so memory always
//   mirrors what is committed.
// - The head of a series is its last chunk row. heads_ caches its appender; a planned
//   append works on a copy, so a rolled-back fetch never leaves a longer appender behind.
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

// One series' part of a fetch being written.
struct Store::Planned {
  int64_t id = 0;           // 0 until a new series is inserted
  std::string key;          // encoded canonical labels
  Labels labels;
  double value = 0;
  XorChunkAppender head;    // copy of the open chunk, then appended to
};

namespace {

constexpr int kBodyIdentity = 0;
constexpr int kBodyGzip = 1;

double FromBits(uint64_t bits) { return std::bit_cast<double>(bits); }

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

Store::~Store() = default;

Status Store::Load() {
  Db* db = writer_.get();
  SB_ASSIGN_OR_RETURN(Stmt series, db->Prepare("SELECT id, labels FROM series ORDER BY id"));
  for (;;) {
    SB_ASSIGN_OR_RETURN(bool row, series.Step());
    if (!row) break;
    const int64_t id = series.ColumnInt(0);
    const std::string key(series.ColumnBlob(1));
    SB_ASSIGN_OR_RETURN(Labels labels, DecodeLabels(key));
    postings_.Add(id, labels);
    ids_.emplace(key, id);
    series_[id].labels = std::move(labels);
  }
  SB_ASSIGN_OR_RETURN(Stmt ranges, db->Prepare(
      "SELECT series_id, MIN(min_t), MAX(max_t), MAX(min_t) FROM chunks GROUP BY series_id"));
  for (;;) {
    SB_ASSIGN_OR_RETURN(bool row, ranges.Step());
    if (!row) break;
    auto it = series_.find(ranges.ColumnInt(0));
    if (it == series_.end()) continue;  // chunk of an unknown series: ignored
    it->second.min_t = ranges.ColumnInt(1);
    it->second.max_t = ranges.ColumnInt(2);
    it->second.head_min_t = ranges.ColumnInt(3);
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
  return Status::OK();
}

std::string Store::Describe(Log log, int64_t id) {
  if (log == Log::kFetches) return "fetch log of target id " + std::to_string(id);
  std::shared_lock lock(index_mu_);
  auto it = series_.find(id);
  return it == series_.end() ? "series id " + std::to_string(id)
                             : "series " + LabelsToString(it->second.labels);
}

Result<XorChunkAppender*> Store::Head(Log log, int64_t id) {
  auto& heads = log == Log::kSeries ? heads_ : fetch_heads_;
  auto it = heads.find(id);
  if (it != heads.end()) return &it->second;
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
  XorChunkAppender app;
  for (const Sample& s : *samples) SB_RETURN_IF_ERROR(app.Append(s.timestamp_ms, s.value));
  return &heads.emplace(id, std::move(app)).first->second;
}

Result<std::vector<int64_t>> Store::PreviousSeries(int64_t target_id) {
  SB_ASSIGN_OR_RETURN(Stmt st,
                      writer_->Prepare("SELECT last_series FROM targets WHERE id = ?"));
  st.Bind(1, target_id);
  SB_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::vector<int64_t>{};
  return DecodeIds(st.ColumnBlob(0));
}

Status Store::AppendFetch(const std::string& target_key, int64_t fetch_time_ms,
                          const std::vector<SeriesSample>& samples,
                          std::string_view raw_body_for_snapshot) {
  std::lock_guard write_lock(write_mu_);
  auto last = target_last_ms_.find(target_key);
  if (last != target_last_ms_.end() && fetch_time_ms <= last->second) {
    return Status::InvalidArgument(
        "fetch of target \"" + target_key + "\" at " + std::to_string(fetch_time_ms) +
        " is not after its previous fetch at " + std::to_string(last->second));
  }
  // 1. Validate everything; nothing is written yet.
  std::vector<Planned> plan;
  plan.reserve(samples.size());
  std::unordered_set<std::string> seen;
  std::unordered_set<int64_t> present;
  for (const SeriesSample& s : samples) {
    SB_ASSIGN_OR_RETURN(Labels labels, Canonicalize(s.labels));
    Planned p;
    p.key = EncodeLabels(labels);
    if (!seen.insert(p.key).second) {
      return Status::InvalidArgument("series " + LabelsToString(labels) +
                                     " appears twice in one fetch");
    }
    auto id = ids_.find(p.key);  // ids_ only changes under write_mu_, which we hold
    if (id != ids_.end()) {
      p.id = id->second;
      SB_ASSIGN_OR_RETURN(XorChunkAppender * head, Head(Log::kSeries, p.id));
      if (head->num_samples() > 0 && fetch_time_ms <= head->last_timestamp_ms()) {
        return Status::InvalidArgument(
            "out-of-order sample for series " + LabelsToString(labels) + ": time " +
            std::to_string(fetch_time_ms) + " is not after its last sample at " +
            std::to_string(head->last_timestamp_ms()));
      }
      p.head = *head;
      present.insert(p.id);
    }
    p.labels = std::move(labels);
    p.value = s.value;
    plan.push_back(std::move(p));
  }
  const size_t num_given = plan.size();
  // Stale markers for series of the previous fetch that are gone now.
  auto target = targets_.find(target_key);
  if (target != targets_.end()) {
    SB_ASSIGN_OR_RETURN(std::vector<int64_t> previous, PreviousSeries(target->second));
    for (int64_t id : previous) {
      if (present.count(id) != 0) continue;
      SB_ASSIGN_OR_RETURN(XorChunkAppender * head, Head(Log::kSeries, id));
      // A series shared with another target may already be past this time: skip it.
      if (head->num_samples() > 0 && fetch_time_ms <= head->last_timestamp_ms()) continue;
      Planned p;
      p.id = id;
      p.value = FromBits(kStaleMarkerBits);
      p.head = *head;
      plan.push_back(std::move(p));
    }
  }
  XorChunkAppender fetch_head;  // copy of the target's open fetch-log chunk
  if (target != targets_.end()) {
    SB_ASSIGN_OR_RETURN(XorChunkAppender * head, Head(Log::kFetches, target->second));
    fetch_head = *head;
  }
  // 2. Write, in one transaction.
  SB_RETURN_IF_ERROR(writer_->Exec("BEGIN IMMEDIATE"));
  int64_t target_id = 0;
  Status s = WriteFetch(target_key, fetch_time_ms, &plan, num_given, raw_body_for_snapshot,
                        &fetch_head, &target_id);
  if (s.ok()) s = writer_->Exec("COMMIT");
  if (!s.ok()) {
    (void)writer_->Exec("ROLLBACK");
    return s;
  }
  // 3. Committed: update memory.
  std::unique_lock index_lock(index_mu_);
  for (size_t i = 0; i < plan.size(); ++i) {
    Planned& p = plan[i];
    if (i < num_given && ids_.find(p.key) == ids_.end()) {
      ids_.emplace(p.key, p.id);
      postings_.Add(p.id, p.labels);
      series_[p.id].labels = p.labels;
    }
    SeriesState& st = series_[p.id];
    st.min_t = std::min(st.min_t, fetch_time_ms);
    st.max_t = std::max(st.max_t, fetch_time_ms);
    st.head_min_t = p.head.first_timestamp_ms();
    heads_.insert_or_assign(p.id, std::move(p.head));
  }
  fetch_heads_.insert_or_assign(target_id, std::move(fetch_head));
  targets_[target_key] = target_id;
  target_last_ms_[target_key] = fetch_time_ms;
  index_lock.unlock();
  if (commit_listener_) commit_listener_(target_key, fetch_time_ms, samples);
  return Status::OK();
}

Status Store::PutSample(Stmt* put_chunk, int64_t id, XorChunkAppender* head, int64_t t,
                        double v) {
  XorChunkAppender& app = *head;
  if (NeedsCut(app, t)) app = XorChunkAppender();  // cut: the old row stays as it is
  SB_RETURN_IF_ERROR(app.Append(t, v));
  put_chunk->Bind(1, id)
      .Bind(2, app.first_timestamp_ms())
      .Bind(3, app.last_timestamp_ms())
      .Bind(4, static_cast<int64_t>(app.num_samples()))
      .BindBlob(5, app.Bytes());
  return put_chunk->Run();
}

bool Store::NeedsCut(const XorChunkAppender& app, int64_t t) const {
  return app.num_samples() > 0 &&
         (app.num_samples() >= options_.chunk_max_samples ||
          t - app.first_timestamp_ms() > options_.chunk_max_span.count() ||
          app.EncodedSize() >= options_.chunk_max_bytes);
}

Status Store::WriteFetch(const std::string& target_key, int64_t fetch_time_ms,
                         std::vector<Planned>* plan, size_t num_given, std::string_view body,
                         XorChunkAppender* fetch_head, int64_t* target_id_out) {
  Db* db = writer_.get();
  SB_ASSIGN_OR_RETURN(Stmt put_series,
                      db->Prepare("INSERT INTO series (labels_hash, labels) VALUES (?, ?)"));
  SB_ASSIGN_OR_RETURN(Stmt put_chunk, db->Prepare(
      "INSERT OR REPLACE INTO chunks (series_id, min_t, max_t, num_samples, data) "
      "VALUES (?, ?, ?, ?, ?)"));
  std::vector<int64_t> ids;
  ids.reserve(num_given);
  for (size_t i = 0; i < plan->size(); ++i) {
    Planned& p = (*plan)[i];
    if (p.id == 0) {
      put_series.Bind(1, HashLabels(p.key)).BindBlob(2, p.key);
      SB_RETURN_IF_ERROR(put_series.Run());
      p.id = db->LastInsertRowid();
    }
    if (i < num_given) ids.push_back(p.id);
    SB_RETURN_IF_ERROR(PutSample(&put_chunk, p.id, &p.head, fetch_time_ms, p.value));
  }
  std::sort(ids.begin(), ids.end());
  int encoding = kBodyIdentity;
  std::string stored(body);
  if (body.size() >= options_.compress_body_min_bytes) {
    Result<std::string> gz = GzipCompress(body);
    if (gz.ok() && gz->size() < body.size()) {
      encoding = kBodyGzip;
      stored = std::move(gz).value();
    }
  }
  SB_ASSIGN_OR_RETURN(Stmt put_target, db->Prepare(
      "INSERT INTO targets (target_key, last_fetch_ms, last_series, body_encoding, body) "
      "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (target_key) DO UPDATE SET "
      "last_fetch_ms = ?2, last_series = ?3, body_encoding = ?4, body = ?5 "
      "RETURNING id"));
  put_target.BindText(1, target_key).Bind(2, fetch_time_ms).BindBlob(3, EncodeIds(ids))
      .Bind(4, encoding).BindBlob(5, stored);
  SB_ASSIGN_OR_RETURN(bool row, put_target.Step());
  if (!row) return Status::Internal("targets upsert returned no id");
  const int64_t target_id = put_target.ColumnInt(0);
  put_target.Reset();
  SB_ASSIGN_OR_RETURN(Stmt put_fetch, db->Prepare(
      "INSERT OR REPLACE INTO fetches (target_id, min_t, max_t, num_fetches, data) "
      "VALUES (?, ?, ?, ?, ?)"));
  SB_RETURN_IF_ERROR(PutSample(&put_fetch, target_id, fetch_head, fetch_time_ms,
                               static_cast<double>(num_given)));
  *target_id_out = target_id;
  return Status::OK();
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
    auto it = series_.find(id);
    // A series with no samples (all dropped by retention) has min_t > max_t: skipped.
    if (it == series_.end() || it->second.min_t > it->second.max_t ||
        it->second.max_t < mint || it->second.min_t > maxt) {
      continue;
    }
    out.push_back(SeriesRef{id, it->second.labels});
  }
  return out;
}

Result<std::vector<Sample>> Store::Samples(int64_t series_id, int64_t mint, int64_t maxt) {
  {
    std::shared_lock lock(index_mu_);
    if (series_.find(series_id) == series_.end()) {
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
  std::lock_guard lock(read_mu_);
  SB_ASSIGN_OR_RETURN(Stmt st, reader_->Prepare(
      log == Log::kSeries
          ? "SELECT min_t, data FROM chunks WHERE series_id = ? AND max_t >= ? AND "
            "min_t <= ? ORDER BY min_t"
          : "SELECT min_t, data FROM fetches WHERE target_id = ? AND max_t >= ? AND "
            "min_t <= ? ORDER BY min_t"));
  st.Bind(1, id).Bind(2, mint).Bind(3, maxt);
  std::vector<Sample> out;
  for (;;) {
    SB_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    const int64_t min_t = st.ColumnInt(0);
    Result<std::vector<Sample>> chunk = DecodeAll(st.ColumnBlob(1));
    if (!chunk.ok()) {
      return Status::Corruption(Describe(log, id) + ", chunk min_t=" +
                                std::to_string(min_t) + ": " + chunk.status().message());
    }
    for (const Sample& s : *chunk) {
      if (s.timestamp_ms >= mint && s.timestamp_ms <= maxt) out.push_back(s);
    }
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
