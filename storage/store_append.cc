// Store::AppendFetch, the hot path: one fetch of up to ~100k series in one transaction.
//
// Shape (see store.cc for the invariants it keeps):
//  1. Validate everything, touching nothing: each sample's labels are encoded to their
//     canonical key in a reused buffer (EncodeCanonical: no label-set copy), looked up
//     without allocation (transparent hash), checked for repeats with a per-fetch epoch
//     mark per series id, and checked for order against SeriesState::max_t (the time of
//     the series' last sample; no chunk is read for that). Stale markers are planned for
//     the previous fetch's series that are missing now.
//     A body large enough to gzip starts compressing on a helper thread meanwhile.
//  2. BEGIN IMMEDIATE; insert the new series; write the fetch's samples as ONE head_log
//     row (storage/head_log.h: ~2-3 bytes per Scout sample); where a series' open chunk
//     is full, write that chunk's row as it stands (it becomes a closed chunk). Then the
//     target row and the fetch log. COMMIT.
//  3. Committed: append each sample to its series' open chunk in memory (heads_), and
//     publish the new series and times to the in-memory index.
// The chunk rows of the open chunks are written later, for many fetches at once, by
// Flush (store_flush.cc). Before, every fetch rewrote ~100k chunk rows: 300-400 ms for a
// 100k-series fetch; one head_log row instead is a few ms of SQLite.
// Nothing in memory changes before COMMIT except the fetch log's cached open chunk
// (written through): on failure that cache is dropped and re-read on next use.
#include "storage/store.h"

#include <sqlite3.h>

#include <algorithm>
#include <bit>
#include <future>

#include "common/gzip.h"
#include "storage/head_log.h"

namespace sb::storage {

// One series' part of a fetch being written.
struct Store::Planned {
  int64_t id = 0;                 // 0 for a new series until it is inserted
  int32_t created = -1;           // index into the fetch's new series, or -1
  double value = 0;
  SeriesState* state = nullptr;   // null for a new series
  HeadState* head = nullptr;      // its open chunk (null for a new series)
  bool cut = false;               // the open chunk is full: start a new one
};

// A series that a fetch creates.
struct Store::NewSeries {
  // Its key (encoded canonical labels): the sample's own (SeriesSample::key or stored_key,
  // which outlive the call: no copy of 100k keys at a target's first fetch), else, for a
  // sample given by labels, a view of the key encoded from them into the fetch's owned_keys_
  // buffer (made once that buffer stopped growing; until then owned_at / owned_size).
  std::string_view key;
  uint32_t owned_at = 0, owned_size = 0;
  uint32_t hash = 0;  // KeyIdTable::Hash(key)
  uint32_t sample = 0;  // its index in the fetch's samples
  int64_t id = 0;
};

namespace {

constexpr int kBodyIdentity = 0;
constexpr int kBodyGzip = 1;
// Bodies at least this large are gzip'd on a helper thread while the samples are
// validated and written; smaller ones inline.
constexpr size_t kAsyncGzipMinBytes = 256 << 10;
// zlib level for stored bodies: level 1 is ~4x faster than the default 6 on exposition
// text and only ~15% larger (11 MB body: 58 ms -> 638 KB vs 274 ms -> 536 KB).
constexpr int kBodyGzipLevel = 1;

struct StoredBody {
  int encoding = kBodyIdentity;
  std::string bytes;
};

StoredBody EncodeBody(std::string_view body, size_t min_bytes) {
  StoredBody out;
  if (body.size() >= min_bytes) {
    Result<std::string> gz = GzipCompress(body, kBodyGzipLevel);
    if (gz.ok() && gz->size() < body.size()) {
      out.encoding = kBodyGzip;
      out.bytes = std::move(gz).value();
      return out;
    }
  }
  out.bytes.assign(body);
  return out;
}

}  // namespace

Status Store::AppendFetch(const std::string& target_key, int64_t fetch_time_ms,
                          const std::vector<SeriesSample>& samples,
                          std::string_view raw_body_for_snapshot) {
  return AppendFetchBody(target_key, fetch_time_ms, samples, raw_body_for_snapshot, false);
}

Status Store::AppendFetchGzipBody(const std::string& target_key, int64_t fetch_time_ms,
                                  const std::vector<SeriesSample>& samples,
                                  std::string_view gzipped_body_for_snapshot) {
  return AppendFetchBody(target_key, fetch_time_ms, samples, gzipped_body_for_snapshot, true);
}

Status Store::AppendFetchGzipBodyAndReleaseKeys(const std::string& target_key, int64_t fetch_time_ms,
                                                std::vector<SeriesSample>* samples,
                                                std::string_view gzipped_body_for_snapshot) {
  return AppendFetchBody(target_key, fetch_time_ms, *samples, gzipped_body_for_snapshot, true, samples);
}

std::vector<std::string_view> Store::LastFetchKeys(const std::string& target_key) {
  std::lock_guard write_lock(write_mu_);  // target_order_ changes under it
  std::vector<std::string_view> keys;
  auto it = target_order_.find(target_key);
  if (it == target_order_.end()) return keys;
  keys.reserve(it->second.ids.size());
  for (int64_t id : it->second.ids) keys.push_back(series_[id].key());  // never move
  return keys;
}

Status Store::AppendFetchBody(const std::string& target_key, int64_t fetch_time_ms,
                              const std::vector<SeriesSample>& samples, std::string_view body,
                              bool gzipped, std::vector<SeriesSample>* release) {
  bool backlog = false;
  {
    std::lock_guard write_lock(write_mu_);
    SB_RETURN_IF_ERROR(AppendFetchLocked(target_key, fetch_time_ms, samples, body, gzipped, release));
    backlog = HeadLogOver(2);
  }
  // A backstop for callers that never call MaybeFlush: the head log stays bounded. The
  // fetch is committed either way; a failed flush is retried by the next call.
  if (backlog) (void)Flush();
  return Status::OK();
}

Status Store::AppendFetchLocked(const std::string& target_key, int64_t fetch_time_ms,
                                const std::vector<SeriesSample>& samples,
                                std::string_view raw_body_for_snapshot, bool gzipped,
                                std::vector<SeriesSample>* release) {
  auto last = target_last_ms_.find(target_key);
  const int64_t previous_fetch_ms = last != target_last_ms_.end() ? last->second : -1;
  if (last != target_last_ms_.end() && fetch_time_ms <= last->second) {
    return Status::InvalidArgument(
        "fetch of target \"" + target_key + "\" at " + std::to_string(fetch_time_ms) +
        " is not after its previous fetch at " + std::to_string(last->second));
  }
  // The body does not depend on validation: compress it meanwhile. The future is
  // always waited for (its destructor blocks) before raw_body_for_snapshot goes away.
  std::future<StoredBody> async_body;
  std::optional<StoredBody> body;
  if (gzipped) {  // the caller's own gzip of the body (the bridge serves it too)
    body = StoredBody{kBodyGzip, std::string(raw_body_for_snapshot)};
  } else if (raw_body_for_snapshot.size() >= kAsyncGzipMinBytes) {
    async_body = std::async(std::launch::async, EncodeBody, raw_body_for_snapshot,
                            options_.compress_body_min_bytes);
  } else {
    body = EncodeBody(raw_body_for_snapshot, options_.compress_body_min_bytes);
  }

  // 1. Validate everything; nothing is written yet.
  if (++epoch_ == 0) {  // wrapped: clear the marks
    std::fill(seen_epoch_.begin(), seen_epoch_.end(), 0);
    epoch_ = 1;
  }
  std::vector<Planned> plan;
  plan.reserve(samples.size());
  std::vector<NewSeries> created;
  std::string owned_keys;  // the keys of new series given by labels (NewSeries::key)
  std::string& key = key_buf_;
  uint32_t hash = 0;
  // Fast path: a target's body lists its series in the same order fetch after fetch, so
  // sample i is usually series i of the previous fetch. Its key is compared with that
  // one's (sequential memory) instead of being looked up in ids_ (a few cache misses per
  // series: the largest cost of a 100k-series fetch). A matching key belongs to a series
  // validated before, so the names need no check again. From the first mismatch on, the
  // fetch takes the general path, and the new order is recorded after COMMIT.
  auto order_it = target_order_.find(target_key);
  const TargetOrder* order = order_it != target_order_.end() ? &order_it->second : nullptr;
  size_t matched = 0;
  bool diverged = false;
  for (size_t i = 0; i < samples.size(); ++i) {
    const SeriesSample& s = samples[i];
    Planned p;
    p.value = s.value;
    if (!diverged && order != nullptr && i < order->ids.size() &&
        (s.key.empty() && s.stored_key.empty()
             ? EncodeCanonicalUnchecked(s.labels, &key) && key == series_[order->ids[i]].key()
             : s.stored_key.data() == series_[order->ids[i]].key().data() ||
                   s.GivenKey() == series_[order->ids[i]].key())) {
      p.id = order->ids[i];
      p.state = &series_[p.id];
      ++matched;
    } else {
      diverged = true;
      if (s.key.empty() && s.stored_key.empty()) {
        SB_RETURN_IF_ERROR(EncodeCanonical(s.labels, &key));
      } else {
        SB_RETURN_IF_ERROR(CheckCanonicalKey(s.GivenKey()));
        key.assign(s.GivenKey());
      }
      hash = KeyIdTable::Hash(key);
      p.id = FindId(key, hash);  // ids_ only changes under write_mu_
      if (p.id != 0) p.state = &series_[p.id];
    }
    if (p.state != nullptr) {
      if (static_cast<size_t>(p.id) >= seen_epoch_.size()) {
        seen_epoch_.resize(std::max<size_t>(p.id + 1, 2 * seen_epoch_.size()), 0);
      }
      const bool repeated = seen_epoch_[p.id] == epoch_;
      seen_epoch_[p.id] = epoch_;
      if (repeated) {
        return Status::InvalidArgument("series " + LabelsToString(LabelsOf(*p.state)) +
                                       " appears twice in one fetch");
      }
      if (fetch_time_ms <= p.state->max_t) {
        return Status::InvalidArgument(
            "out-of-order sample for series " + LabelsToString(LabelsOf(*p.state)) + ": time " +
            std::to_string(fetch_time_ms) + " is not after its last sample at " +
            std::to_string(p.state->max_t));
      }
    } else {
      if (created.empty()) created.reserve(samples.size() - plan.size());
      NewSeries& n = created.emplace_back();
      if (s.key.empty() && s.stored_key.empty()) {
        n.owned_at = static_cast<uint32_t>(owned_keys.size());
        n.owned_size = static_cast<uint32_t>(key.size());
        owned_keys.append(key);
      } else {
        n.key = s.GivenKey();
      }
      n.hash = hash;
      n.sample = static_cast<uint32_t>(i);
      p.created = static_cast<int32_t>(created.size() - 1);
    }
    plan.push_back(p);
  }
  for (NewSeries& n : created) {
    if (n.key.empty()) n.key = std::string_view(owned_keys).substr(n.owned_at, n.owned_size);
  }
  // A new series given twice: found by sorting views of the new keys (a set of 100k keys,
  // at a target's first fetch, would cost a node each).
  if (created.size() > 1) {
    std::vector<const NewSeries*> by_key;
    by_key.reserve(created.size());
    for (const NewSeries& n : created) by_key.push_back(&n);
    std::sort(by_key.begin(), by_key.end(), [](const NewSeries* a, const NewSeries* b) {
      return a->hash != b->hash ? a->hash < b->hash : a->key < b->key;
    });
    for (size_t i = 1; i < by_key.size(); ++i) {
      if (by_key[i]->hash == by_key[i - 1]->hash && by_key[i]->key == by_key[i - 1]->key) {
        return Status::InvalidArgument("series " + LabelsToString(DecodeLabels(by_key[i]->key).value()) +
                                       " appears twice in one fetch");
      }
    }
  }
  const bool same_order = !diverged && order != nullptr && matched == order->ids.size();
  const size_t num_given = plan.size();
  // Stale markers for series of the previous fetch that are gone now.
  auto target = targets_.find(target_key);
  if (target != targets_.end()) {
    // The previous fetch's series: its recorded order when this process appended it (the
    // same ids as the targets row's last_series), else read back from that row.
    std::vector<int64_t> read_back;
    if (order == nullptr) { SB_ASSIGN_OR_RETURN(read_back, PreviousSeries(target->second)); }
    const std::vector<int64_t>& previous = order != nullptr ? order->ids : read_back;
    for (int64_t id : previous) {
      if (static_cast<size_t>(id) < seen_epoch_.size() && seen_epoch_[id] == epoch_) continue;
      SeriesState* st = FindSeries(id);
      if (st == nullptr) continue;
      // A series shared with another target may already be past this time: skip it.
      if (fetch_time_ms <= st->max_t) continue;
      Planned p;
      p.id = id;
      p.value = std::bit_cast<double>(kStaleMarkerBits);
      p.state = st;
      plan.push_back(p);
    }
  }
  if (!body.has_value()) body = async_body.get();

  // 2. Write, in one transaction.
  SB_RETURN_IF_ERROR(writer_->Exec("BEGIN IMMEDIATE"));
  int64_t target_id = 0;
  int64_t log_seq = 0;
  Status s = WriteFetch(target_key, fetch_time_ms, &plan, &created, num_given, body->encoding,
                        body->bytes, &target_id, &log_seq);
  // Readers hold heads_mu_ (shared) while they read, so from COMMIT until the samples are
  // in memory (step 3) none can see the fetch in the fetch log yet miss its samples,
  // which are in no chunk row until a flush.
  std::unique_lock heads_lock(heads_mu_, std::defer_lock);
  if (s.ok()) {
    heads_lock.lock();
    s = writer_->Exec("COMMIT");
  }
  if (!s.ok()) {
    (void)writer_->Exec("ROLLBACK");
    fetch_heads_.clear();  // appended to in place; re-read on next use
    return s;
  }
  // 3. Committed: update memory.
  bool append_failed = false;
  {
    for (Planned& p : plan) {
      HeadState& h = p.head != nullptr ? *p.head : heads_.Put(p.id, HeadState());
      p.head = &h;
      if (p.cut) h = HeadState();  // the closed chunk's row was written in the transaction
      // Cannot fail (order was validated, a full chunk was cut); if it did, memory would
      // no longer mirror the head log: it is rebuilt from the database below.
      if (!h.app.Append(fetch_time_ms, p.value).ok()) append_failed = true;
    }
  }
  log_rows_.push_back(LogRow{log_seq, static_cast<int64_t>(log_buf_.size()),
                             static_cast<int64_t>(plan.size())});
  log_bytes_ += log_rows_.back().bytes;
  log_samples_ += log_rows_.back().samples;
  pending_fetches_.store(log_rows_.size());
  std::unique_lock index_lock(index_mu_);
  for (NewSeries& n : created) {
    AddSeries(n.id, n.key, n.hash, DecodeLabels(n.key).value());  // checked above
    // The store has its own copy now; giving the caller's back as we go lets the allocator
    // reuse it for the store's (a first fetch of 100k series: ~15 MB less at its peak).
    if (release != nullptr) std::string().swap((*release)[n.sample].key);
  }
  for (Planned& p : plan) {
    if (p.state == nullptr) p.state = &series_[p.id];  // a new series, added just above
    SeriesState& st = *p.state;
    st.min_t = std::min(st.min_t, fetch_time_ms);
    st.max_t = std::max(st.max_t, fetch_time_ms);
    st.head_min_t = p.head->app.first_timestamp_ms();
  }
  targets_[target_key] = target_id;
  target_last_ms_[target_key] = fetch_time_ms;
  index_lock.unlock();
  heads_lock.unlock();
  if (!same_order) {  // record this fetch's order for the next one
    TargetOrder next_order;
    next_order.ids.reserve(num_given);
    for (size_t i = 0; i < num_given; ++i) next_order.ids.push_back(plan[i].id);
    target_order_[target_key] = std::move(next_order);
  }
  if (append_failed) {
    SB_RETURN_IF_ERROR(ReloadHeads());
  }
  if (commit_listener_) {
    std::vector<std::string_view> keys;
    std::vector<double> values;
    keys.reserve(plan.size());
    values.reserve(plan.size());
    for (const Planned& p : plan) {
      keys.push_back(p.state->key());  // its bytes in keys_: they never move
      values.push_back(p.value);
    }
    commit_listener_(CommittedFetch{target_key, fetch_time_ms, previous_fetch_ms, keys, values, num_given});
  }
  return Status::OK();
}

Status Store::WriteHeadRow(Log log, int64_t id, const HeadState& head) {
  const XorChunkAppender& app = head.app;
  app.EncodeTo(&chunk_buf_);
  const int li = log == Log::kSeries ? 0 : 1;
  if (head.flushed_t != INT64_MIN) {  // the chunk has a row: rewrite it in place
    if (!update_chunk_stmt_[li].has_value()) {
      SB_ASSIGN_OR_RETURN(update_chunk_stmt_[li], writer_->Prepare(
          li == 0 ? "UPDATE chunks SET max_t = ?3, num_samples = ?4, data = ?5 "
                    "WHERE series_id = ?1 AND min_t = ?2"
                  : "UPDATE fetches SET max_t = ?3, num_fetches = ?4, data = ?5 "
                    "WHERE target_id = ?1 AND min_t = ?2"));
    }
    Stmt& st = *update_chunk_stmt_[li];
    st.Bind(1, id)
        .Bind(2, app.first_timestamp_ms())
        .Bind(3, app.last_timestamp_ms())
        .Bind(4, static_cast<int64_t>(app.num_samples()))
        .BindBlobNoCopy(5, chunk_buf_);
    SB_RETURN_IF_ERROR(st.Run());
    if (sqlite3_changes(writer_->raw()) == 1) return Status::OK();
    // No row to update (e.g. dropped by retention meanwhile): insert it.
  }
  if (!insert_chunk_stmt_[li].has_value()) {
    SB_ASSIGN_OR_RETURN(insert_chunk_stmt_[li], writer_->Prepare(
        li == 0 ? "INSERT OR REPLACE INTO chunks (series_id, min_t, max_t, num_samples, data) "
                  "VALUES (?, ?, ?, ?, ?)"
                : "INSERT OR REPLACE INTO fetches (target_id, min_t, max_t, num_fetches, data) "
                  "VALUES (?, ?, ?, ?, ?)"));
  }
  Stmt& st = *insert_chunk_stmt_[li];
  st.Bind(1, id)
      .Bind(2, app.first_timestamp_ms())
      .Bind(3, app.last_timestamp_ms())
      .Bind(4, static_cast<int64_t>(app.num_samples()))
      .BindBlobNoCopy(5, chunk_buf_);
  return st.Run();
}

Status Store::PutFetchLogSample(int64_t target_id, HeadState* head, int64_t t, double v) {
  if (NeedsCut(head->app, t)) *head = HeadState();  // cut: the old row stays as it is
  SB_RETURN_IF_ERROR(head->app.Append(t, v));
  SB_RETURN_IF_ERROR(WriteHeadRow(Log::kFetches, target_id, *head));
  head->flushed_t = t;  // on rollback the caller forgets fetch_heads_
  return Status::OK();
}

bool Store::NeedsCut(const XorChunkAppender& app, int64_t t) const {
  return app.num_samples() > 0 &&
         (app.num_samples() >= options_.chunk_max_samples ||
          t - app.first_timestamp_ms() > options_.chunk_max_span.count() ||
          app.EncodedSize() >= options_.chunk_max_bytes);
}

Status Store::WriteFetch(const std::string& target_key, int64_t fetch_time_ms,
                         std::vector<Planned>* plan, std::vector<NewSeries>* created,
                         size_t num_given, int body_encoding, std::string_view body,
                         int64_t* target_id_out, int64_t* log_seq_out) {
  Db* db = writer_.get();
  if (!put_series_stmt_.has_value()) {
    SB_ASSIGN_OR_RETURN(put_series_stmt_,
                        db->Prepare("INSERT INTO series (labels_hash, labels) VALUES (?, ?)"));
  }
  for (NewSeries& n : *created) {
    put_series_stmt_->Bind(1, HashLabels(n.key)).BindBlobNoCopy(2, n.key);
    SB_RETURN_IF_ERROR(put_series_stmt_->Run());
    n.id = db->LastInsertRowid();
    if (n.id < 1 || n.id > kMaxSeriesId) {  // the in-memory index holds 32-bit ids
      return Status::ResourceExhausted("series id " + std::to_string(n.id) + " out of range");
    }
  }
  std::vector<int64_t> ids;
  ids.reserve(num_given);
  HeadLogWriter log(&log_buf_);
  for (size_t i = 0; i < plan->size(); ++i) {
    Planned& p = (*plan)[i];
    if (p.created >= 0) p.id = (*created)[p.created].id;
    if (i < num_given) ids.push_back(p.id);
    if (p.created < 0) {  // a new series has no chunk yet
      SB_ASSIGN_OR_RETURN(p.head, Head(Log::kSeries, p.id));
      if (NeedsCut(p.head->app, fetch_time_ms)) {
        p.cut = true;
        // The full chunk becomes a closed one: make its row complete now (it may hold
        // samples so far only in head_log rows). Memory changes after COMMIT.
        if (p.head->dirty()) SB_RETURN_IF_ERROR(WriteHeadRow(Log::kSeries, p.id, *p.head));
      }
    }
    log.Add(p.id, p.value);
  }
  log.Finish();
  if (!put_log_stmt_.has_value()) {
    SB_ASSIGN_OR_RETURN(put_log_stmt_, db->Prepare(
        "INSERT INTO head_log (fetch_time_ms, num_series, data) VALUES (?, ?, ?)"));
  }
  put_log_stmt_->Bind(1, fetch_time_ms).Bind(2, log.count()).BindBlobNoCopy(3, log_buf_);
  SB_RETURN_IF_ERROR(put_log_stmt_->Run());
  *log_seq_out = db->LastInsertRowid();
  std::sort(ids.begin(), ids.end());
  if (!put_target_stmt_.has_value()) {
    SB_ASSIGN_OR_RETURN(put_target_stmt_, db->Prepare(
        "INSERT INTO targets (target_key, last_fetch_ms, last_series, body_encoding, body) "
        "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (target_key) DO UPDATE SET "
        "last_fetch_ms = ?2, last_series = ?3, body_encoding = ?4, body = ?5 "
        "RETURNING id"));
  }
  Stmt& put_target = *put_target_stmt_;
  const std::string encoded_ids = EncodeIds(ids);
  put_target.BindText(1, target_key).Bind(2, fetch_time_ms).BindBlobNoCopy(3, encoded_ids)
      .Bind(4, body_encoding).BindBlobNoCopy(5, body);
  Result<bool> row = put_target.Step();
  if (!row.ok()) return row.status();
  if (!*row) {
    put_target.Reset();
    return Status::Internal("targets upsert returned no id");
  }
  const int64_t target_id = put_target.ColumnInt(0);
  Result<bool> done = put_target.Step();  // finish the statement before resetting
  put_target.Reset();
  if (!done.ok()) return done.status();
  SB_ASSIGN_OR_RETURN(HeadState * fetch_head, Head(Log::kFetches, target_id));
  SB_RETURN_IF_ERROR(PutFetchLogSample(target_id, fetch_head, fetch_time_ms,
                                       static_cast<double>(num_given)));
  *target_id_out = target_id;
  return Status::OK();
}

}  // namespace sb::storage
