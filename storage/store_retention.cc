// Store::ApplyRetention: dropping whole chunks by age and by size, and giving the space
// back. Design notes:
//
// - Which series have old data is known in memory (SeriesState::min_t), so the time pass
//   touches only those series, each through its primary key (series_id, min_t): no table
//   scan and no extra index on max_t (which would cost ~20 bytes per chunk on disk).
// - Chunks of one series never overlap in time and are cut in order, so "max_t < cutoff"
//   always selects a prefix of a series' chunks; the last (head) chunk goes only when all
//   of them go, i.e. when the series has no sample newer than the cutoff.
// - Size retention never drops a series' last chunk: the head holds the current values
//   that the bridge serves and appends to. Series are taken oldest first by min_t, one
//   chunk each per round, until the pages in use fit the limit.
// - Every step is a short transaction under write_mu_ (at most kSeriesPerStep series);
//   the lock is released between steps so fetches are not stalled. Memory is updated
//   after each COMMIT, so it always mirrors what is committed.
// - Freed pages are returned with PRAGMA incremental_vacuum in steps of kVacuumPages
//   (the database is created with auto_vacuum = INCREMENTAL), then the WAL is truncated
//   with a TRUNCATE checkpoint.
#include "storage/store.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

namespace sb::storage {
namespace {

constexpr size_t kSeriesPerStep = 256;
constexpr int kVacuumPages = 256;  // 1 MiB of 4 KiB pages per vacuum step
constexpr int kMaxRounds = 100000;
constexpr auto kTimeBudget = std::chrono::seconds(60);
// Estimated bytes a chunk row costs besides its blob (key, header, cell pointer).
constexpr int64_t kRowOverheadBytes = 24;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t FileBytes(const std::string& path) {
  std::error_code ec;
  const auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<int64_t>(n);
}

}  // namespace

Result<RetentionStats> Store::ApplyRetention(int64_t now_ms) {
  RetentionStats stats;
  const int64_t deadline = NowNs() + std::chrono::nanoseconds(kTimeBudget).count();
  stats.bytes_before = FileBytes(options_.path) + FileBytes(options_.path + "-wal");
  // Open chunks into their rows first, so the rows tell every chunk's real extent (and the
  // head_log rows are gone before sizes are measured).
  SB_RETURN_IF_ERROR(Flush());
  if (options_.retention_time.count() > 0) {
    const int64_t ret = options_.retention_time.count();
    const int64_t cutoff = now_ms > INT64_MIN + ret ? now_ms - ret : INT64_MIN;
    SB_RETURN_IF_ERROR(DropOlderThan(cutoff, deadline, &stats));
  }
  if (options_.retention_size_bytes > 0) {
    SB_RETURN_IF_ERROR(DropForSize(options_.retention_size_bytes, deadline, &stats));
  }
  SB_RETURN_IF_ERROR(ReclaimSpace(deadline));
  stats.bytes_after = FileBytes(options_.path) + FileBytes(options_.path + "-wal");
  if (options_.retention_size_bytes > 0 && stats.bytes_after > options_.retention_size_bytes) {
    stats.size_limit_met = false;
  }
  return stats;
}

Result<int64_t> Store::DropChunks(int64_t id, int64_t below_min_t, int64_t cutoff,
                                  int64_t limit, RetentionStats* stats) {
  if (!drop_select_stmt_.has_value()) {
    SB_ASSIGN_OR_RETURN(drop_select_stmt_, writer_->Prepare(
        "SELECT min_t, num_samples, length(data) FROM chunks WHERE series_id = ?1 AND min_t < ?2 AND "
        "max_t < ?3 ORDER BY min_t LIMIT ?4"));
    SB_ASSIGN_OR_RETURN(drop_delete_stmt_, writer_->Prepare(
        "DELETE FROM chunks WHERE series_id = ? AND min_t = ?"));
    SB_ASSIGN_OR_RETURN(first_chunk_stmt_, writer_->Prepare(
        "SELECT min_t FROM chunks WHERE series_id = ? ORDER BY min_t LIMIT 1"));
  }
  Stmt& sel = *drop_select_stmt_;
  sel.Bind(1, id).Bind(2, below_min_t).Bind(3, cutoff).Bind(4, limit);
  std::vector<int64_t> victims;
  int64_t samples = 0, bytes = 0;
  for (;;) {
    Result<bool> row = sel.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    victims.push_back(sel.ColumnInt(0));
    samples += sel.ColumnInt(1);
    bytes += sel.ColumnInt(2);
  }
  sel.Reset();
  for (int64_t min_t : victims) {
    SB_RETURN_IF_ERROR(drop_delete_stmt_->Bind(1, id).Bind(2, min_t).Run());
  }
  Stmt& first = *first_chunk_stmt_;
  first.Bind(1, id);
  Result<bool> row = first.Step();
  if (!row.ok()) return row.status();
  const int64_t new_min_t = *row ? first.ColumnInt(0) : INT64_MAX;
  first.Reset();
  stats->chunks_dropped += static_cast<int64_t>(victims.size());
  stats->samples_dropped += samples;
  stats->chunk_bytes_dropped += bytes;
  if (new_min_t == INT64_MAX && !victims.empty()) ++stats->series_emptied;
  return new_min_t;
}

Status Store::FinishDropStep(Status s, const std::vector<std::pair<int64_t, int64_t>>& new_min_t,
                             const RetentionStats& step, RetentionStats* stats) {
  if (s.ok()) s = writer_->Exec("COMMIT");
  if (!s.ok()) {
    (void)writer_->Exec("ROLLBACK");
    return s;
  }
  ApplyDrops(new_min_t);
  stats->chunks_dropped += step.chunks_dropped;
  stats->samples_dropped += step.samples_dropped;
  stats->chunk_bytes_dropped += step.chunk_bytes_dropped;
  stats->series_emptied += step.series_emptied;
  return Status::OK();
}

void Store::ApplyDrops(const std::vector<std::pair<int64_t, int64_t>>& new_min_t) {
  std::unique_lock heads_lock(heads_mu_);
  std::unique_lock index_lock(index_mu_);
  for (const auto& [id, min_t] : new_min_t) {
    SeriesState* found = FindSeries(id);
    if (found == nullptr) continue;
    SeriesState& st = *found;
    st.min_t = min_t;
    HeadState* h = heads_.Find(id);
    if (h != nullptr && h->dirty()) {
      // An open chunk not yet flushed (maybe with no row yet) keeps the series alive.
      st.min_t = std::min(st.min_t, h->app.first_timestamp_ms());
    } else if (min_t == INT64_MAX) {  // no chunk left: forget the head, it was deleted
      st.max_t = INT64_MIN;
      st.head_min_t = INT64_MIN;
      heads_.Erase(id);
    }
  }
}

Status Store::DropOlderThan(int64_t cutoff_ms, int64_t deadline_ns, RetentionStats* stats) {
  std::vector<int64_t> ids;
  {
    std::lock_guard write_lock(write_mu_);
    for (size_t id = 1; id < series_.size(); ++id) {
      const SeriesState& st = series_[id];
      if (st.exists() && st.min_t != INT64_MAX && st.min_t < cutoff_ms) ids.push_back(id);
    }
    // The fetch log: few rows per target, one short step.
    SB_RETURN_IF_ERROR(writer_->Exec("BEGIN IMMEDIATE"));
    Status s;
    std::vector<int64_t> changed;
    {
      Result<Stmt> del = writer_->Prepare(
          "DELETE FROM fetches WHERE target_id = ? AND min_t < ?2 AND max_t < ?2");
      if (!del.ok()) s = del.status();
      for (const auto& [key, target_id] : targets_) {
        if (!s.ok()) break;
        s = del->Bind(1, target_id).Bind(2, cutoff_ms).Run();
        if (s.ok() && sqlite3_changes(writer_->raw()) > 0) changed.push_back(target_id);
      }
    }
    if (s.ok()) s = writer_->Exec("COMMIT");
    if (!s.ok()) {
      (void)writer_->Exec("ROLLBACK");
      return s;
    }
    // The cached open fetch-log chunk may have been deleted: reload it on next use.
    for (int64_t target_id : changed) fetch_heads_.erase(target_id);
  }
  std::sort(ids.begin(), ids.end());
  for (size_t start = 0; start < ids.size() && NowNs() < deadline_ns; start += kSeriesPerStep) {
    const size_t end = std::min(ids.size(), start + kSeriesPerStep);
    std::lock_guard write_lock(write_mu_);
    SB_RETURN_IF_ERROR(writer_->Exec("BEGIN IMMEDIATE"));
    std::vector<std::pair<int64_t, int64_t>> new_min_t;
    RetentionStats step;
    Status s;
    for (size_t i = start; i < end && s.ok(); ++i) {
      // Never the row of an open chunk with samples not yet flushed (appended since the
      // Flush above): its row's max_t understates it.
      int64_t below = cutoff_ms;
      if (const HeadState* h = heads_.Find(ids[i]); h != nullptr && h->dirty()) {
        below = std::min(below, h->app.first_timestamp_ms());
      }
      Result<int64_t> m = DropChunks(ids[i], below, cutoff_ms, INT64_MAX, &step);
      if (m.ok()) new_min_t.emplace_back(ids[i], *m);
      else s = m.status();
    }
    SB_RETURN_IF_ERROR(FinishDropStep(s, new_min_t, step, stats));
  }
  return Status::OK();
}

Result<int64_t> Store::PagesInUseBytes() {
  SB_ASSIGN_OR_RETURN(int64_t pages, writer_->QueryInt("PRAGMA page_count"));
  SB_ASSIGN_OR_RETURN(int64_t free_pages, writer_->QueryInt("PRAGMA freelist_count"));
  SB_ASSIGN_OR_RETURN(int64_t page_size, writer_->QueryInt("PRAGMA page_size"));
  return (pages - free_pages) * page_size;
}

Status Store::DropForSize(int64_t limit_bytes, int64_t deadline_ns, RetentionStats* stats) {
  for (int round = 0; round < kMaxRounds; ++round) {
    if (NowNs() >= deadline_ns) {
      stats->size_limit_met = false;
      return Status::OK();
    }
    std::lock_guard write_lock(write_mu_);
    SB_ASSIGN_OR_RETURN(int64_t used, PagesInUseBytes());
    if (used <= limit_bytes) return Status::OK();
    // Series with more than one chunk, oldest first chunk first.
    std::vector<std::pair<int64_t, int64_t>> candidates;  // (min_t, id)
    for (size_t id = 1; id < series_.size(); ++id) {
      const SeriesState& st = series_[id];
      if (st.exists() && st.min_t != INT64_MAX && st.min_t < st.head_min_t) {
        candidates.emplace_back(st.min_t, id);
      }
    }
    if (candidates.empty()) {
      stats->size_limit_met = false;
      return Status::OK();
    }
    const size_t n = std::min(candidates.size(), kSeriesPerStep);
    std::partial_sort(candidates.begin(), candidates.begin() + n, candidates.end());
    // Drop about as much as is over the limit in this step (at least one chunk); pages
    // only come free once emptied, so later rounds re-measure and go on if needed.
    const int64_t excess = used - limit_bytes;
    SB_RETURN_IF_ERROR(writer_->Exec("BEGIN IMMEDIATE"));
    std::vector<std::pair<int64_t, int64_t>> new_min_t;
    RetentionStats step;
    Status s;
    int64_t freed = 0;
    for (size_t i = 0; i < n && s.ok() && freed < excess; ++i) {
      const int64_t id = candidates[i].second;
      const int64_t before = step.chunk_bytes_dropped;
      Result<int64_t> m = DropChunks(id, series_[id].head_min_t, INT64_MAX, 1, &step);
      if (!m.ok()) {
        s = m.status();
        break;
      }
      new_min_t.emplace_back(id, *m);
      freed += kRowOverheadBytes + (step.chunk_bytes_dropped - before);
    }
    SB_RETURN_IF_ERROR(FinishDropStep(s, new_min_t, step, stats));
  }
  stats->size_limit_met = false;
  return Status::OK();
}

Status Store::ReclaimSpace(int64_t deadline_ns) {
  for (int round = 0; round < kMaxRounds && NowNs() < deadline_ns; ++round) {
    std::lock_guard write_lock(write_mu_);
    SB_ASSIGN_OR_RETURN(int64_t free_pages, writer_->QueryInt("PRAGMA freelist_count"));
    if (free_pages == 0) break;
    SB_RETURN_IF_ERROR(
        writer_->Exec("PRAGMA incremental_vacuum(" + std::to_string(kVacuumPages) + ")"));
  }
  std::lock_guard write_lock(write_mu_);
  // Best effort: with a reader in the way the checkpoint stops early, and the WAL is
  // truncated on a later pass.
  return writer_->Exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

}  // namespace sb::storage
