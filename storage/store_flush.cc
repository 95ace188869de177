// The head log's other half (see store_append.cc and storage/head_log.h): Flush writes
// the open chunks changed since the last flush to their chunk rows and deletes the
// head_log rows that covered them; ReplayHeadLog rebuilds the open chunks in memory from
// the rows left (at Open, after a crash or a close without flush).
//
// Why deleting rows up to seq S after flushing is safe: every series with a sample in a
// row <= S was dirty (had samples after flushed_t) when S was read, and each of them is
// written in some step afterwards, with all its samples so far. A series that becomes
// dirty during the flush does so from rows > S, which stay.
#include <sqlite3.h>

#include <algorithm>

#include "storage/head_log.h"
#include "storage/store.h"

namespace sb::storage {

namespace {
// Series written per flush transaction: ~1-2 µs each, so a concurrent AppendFetch waits
// at most a few ms for the writer lock.
constexpr size_t kFlushSeriesPerStep = 4096;
}  // namespace

size_t Store::PendingFetches() { return pending_fetches_.load(); }

bool Store::HeadLogOver(size_t factor) const {
  return log_rows_.size() >= factor * options_.head_log_max_fetches ||
         log_bytes_ >= static_cast<int64_t>(factor * options_.head_log_max_bytes) ||
         log_samples_ >= static_cast<int64_t>(factor * options_.head_log_max_samples);
}

Status Store::MaybeFlush() {
  {
    std::lock_guard write_lock(write_mu_);
    if (!HeadLogOver(1)) return Status::OK();
  }
  return Flush();
}

Status Store::Flush() {
  std::lock_guard flush_lock(flush_mu_);
  int64_t upto = 0;
  std::vector<int64_t> ids;
  {
    std::lock_guard write_lock(write_mu_);
    if (log_rows_.empty()) return Status::OK();  // nothing is dirty without a row
    upto = log_rows_.back().seq;
    heads_.ForEach([&ids](int64_t id, const HeadState& h) {
      if (h.dirty()) ids.push_back(id);
    });
  }
  std::sort(ids.begin(), ids.end());  // b-tree order
  std::vector<std::pair<HeadState*, int64_t>> done;
  for (size_t start = 0; start < ids.size(); start += kFlushSeriesPerStep) {
    const size_t end = std::min(ids.size(), start + kFlushSeriesPerStep);
    std::lock_guard write_lock(write_mu_);
    SB_RETURN_IF_ERROR(writer_->Exec("BEGIN IMMEDIATE"));
    done.clear();
    Status s;
    for (size_t i = start; i < end && s.ok(); ++i) {
      HeadState* h = heads_.Find(ids[i]);  // pointers stay valid while write_mu_ is held
      if (h == nullptr || !h->dirty()) continue;
      s = WriteHeadRow(Log::kSeries, ids[i], *h);
      done.emplace_back(h, h->app.last_timestamp_ms());
    }
    if (s.ok()) s = writer_->Exec("COMMIT");
    if (!s.ok()) {
      (void)writer_->Exec("ROLLBACK");  // memory unchanged: those heads stay dirty
      return s;
    }
    std::unique_lock heads_lock(heads_mu_);
    for (auto [head, t] : done) head->flushed_t = t;
  }
  std::lock_guard write_lock(write_mu_);
  SB_RETURN_IF_ERROR(writer_->Exec("BEGIN IMMEDIATE"));
  Status s = writer_->Exec("DELETE FROM head_log WHERE seq <= " + std::to_string(upto));
  if (s.ok()) s = writer_->Exec("COMMIT");
  if (!s.ok()) {
    (void)writer_->Exec("ROLLBACK");
    return s;
  }
  auto covered = std::find_if(log_rows_.begin(), log_rows_.end(),
                              [upto](const LogRow& row) { return row.seq > upto; });
  for (auto it = log_rows_.begin(); it != covered; ++it) {
    log_bytes_ -= it->bytes;
    log_samples_ -= it->samples;
  }
  log_rows_.erase(log_rows_.begin(), covered);
  pending_fetches_.store(log_rows_.size());
  return Status::OK();
}

Status Store::ReplayHeadLog() {
  log_rows_.clear();
  log_bytes_ = 0;
  log_samples_ = 0;
  SB_RETURN_IF_ERROR(PreloadHeadsForReplay());
  SB_ASSIGN_OR_RETURN(Stmt next, writer_->Prepare(
      "SELECT seq, fetch_time_ms, num_series, data FROM head_log WHERE seq > ? "
      "ORDER BY seq LIMIT 1"));
  std::vector<HeadLogEntry> entries;
  std::vector<std::pair<HeadState*, SeriesState*>> heads;  // of entries[i]
  std::string blob;
  int64_t seq = 0;
  for (;;) {
    // One row at a time, the statement reset before any other statement runs.
    next.Bind(1, seq);
    SB_ASSIGN_OR_RETURN(bool row, next.Step());
    if (!row) break;
    seq = next.ColumnInt(0);
    const int64_t t = next.ColumnInt(1);
    const int64_t num_series = next.ColumnInt(2);
    blob.assign(next.ColumnBlob(3));
    next.Reset();
    const std::string where = "head_log row seq=" + std::to_string(seq) + " (fetch at " +
                              std::to_string(t) + ")";
    Status decoded = DecodeHeadLog(blob, num_series, &entries);
    if (!decoded.ok()) return Status::Corruption(where + ": " + decoded.message());
    // First load every open chunk the row needs (Head() locks for its own insert), then
    // apply the row under one lock of each kind.
    heads.clear();
    for (const HeadLogEntry& e : entries) {
      SeriesState* st = FindSeries(e.series_id);
      if (st == nullptr) {
        return Status::Corruption(where + ": unknown series id " + std::to_string(e.series_id));
      }
      SB_ASSIGN_OR_RETURN(HeadState * h, Head(Log::kSeries, e.series_id));
      heads.emplace_back(h, st);
    }
    std::unique_lock heads_lock(heads_mu_);
    std::unique_lock index_lock(index_mu_);
    for (size_t i = 0; i < entries.size(); ++i) {
      auto [h, state] = heads[i];
      // Already in the chunk rows (flushed, or written when its chunk was closed).
      if (h->app.num_samples() > 0 && t <= h->app.last_timestamp_ms()) continue;
      if (NeedsCut(h->app, t)) {
        // Rare: the replayed open chunk is full. Close it as AppendFetch would have.
        if (h->dirty()) SB_RETURN_IF_ERROR(WriteHeadRow(Log::kSeries, entries[i].series_id, *h));
        *h = HeadState();
      }
      Status a = h->app.Append(t, entries[i].value);
      if (!a.ok()) {
        return Status::Corruption(where + ", " + LabelsToString(LabelsOf(*state)) + ": " +
                                  a.message());
      }
      state->min_t = std::min(state->min_t, t);
      state->max_t = std::max(state->max_t, t);
      state->head_min_t = h->app.first_timestamp_ms();
    }
    index_lock.unlock();
    heads_lock.unlock();
    log_rows_.push_back(LogRow{seq, static_cast<int64_t>(blob.size()), num_series});
    log_bytes_ += log_rows_.back().bytes;
    log_samples_ += num_series;
  }
  pending_fetches_.store(log_rows_.size());
  return Status::OK();
}

Status Store::PreloadHeadsForReplay() {
  // The series the head log names (a cheap pass: the rows are decoded again below).
  std::vector<bool> needed;
  size_t count = 0;
  {
    SB_ASSIGN_OR_RETURN(Stmt rows, writer_->Prepare(
        "SELECT num_series, data FROM head_log ORDER BY seq"));
    std::vector<HeadLogEntry> entries;
    for (;;) {
      SB_ASSIGN_OR_RETURN(bool row, rows.Step());
      if (!row) break;
      // A damaged row is reported, with its seq, by the replay itself.
      if (!DecodeHeadLog(rows.ColumnBlob(1), rows.ColumnInt(0), &entries).ok()) continue;
      for (const HeadLogEntry& e : entries) {
        const size_t id = static_cast<size_t>(e.series_id);
        if (id >= needed.size()) needed.resize(id + 1, false);
        if (!needed[id]) ++count;
        needed[id] = true;
      }
    }
  }
  // Loading open chunks one SELECT each costs ~3 µs a series; past a few thousand, one
  // pass over the chunk rows (in key order, blobs read only for the last chunks) is
  // cheaper: ~0.1 s instead of ~0.3 s for 100k series.
  if (count < 4096) return Status::OK();
  SB_ASSIGN_OR_RETURN(Stmt scan, writer_->Prepare("SELECT series_id, min_t, data FROM chunks"));
  for (;;) {
    SB_ASSIGN_OR_RETURN(bool row, scan.Step());
    if (!row) break;
    const int64_t id = scan.ColumnInt(0);
    if (id <= 0 || static_cast<size_t>(id) >= needed.size() || !needed[id]) continue;
    const SeriesState* st = FindSeries(id);
    if (st == nullptr || scan.ColumnInt(1) != st->head_min_t) continue;
    if (heads_.Find(id) != nullptr) continue;
    Result<std::vector<Sample>> samples = DecodeAll(scan.ColumnBlob(2));
    if (!samples.ok()) continue;  // left to Head(), which reports it with its chunk
    HeadState head;
    bool ok = true;
    for (const Sample& smp : *samples) ok = ok && head.app.Append(smp.timestamp_ms, smp.value).ok();
    if (!ok) continue;
    if (head.app.num_samples() > 0) head.flushed_t = head.app.last_timestamp_ms();
    std::unique_lock heads_lock(heads_mu_);
    heads_.Put(id, std::move(head));
  }
  return Status::OK();
}

Status Store::ReloadHeads() {
  {
    std::unique_lock heads_lock(heads_mu_);
    heads_.Clear();
  }
  fetch_heads_.clear();
  return ReplayHeadLog();
}

}  // namespace sb::storage
