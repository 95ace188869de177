// Store::AppendSamples: bulk appends for imports (`tsdb import`) and tests (the PromQL
// test runner's `load`). Same shape as AppendFetch (store.cc): validate everything, write
// in one BEGIN IMMEDIATE ... COMMIT, and only after COMMIT update the in-memory state, so
// memory always mirrors what is committed.
//
// Unlike AppendFetch, which writes one sample per series and so rewrites the open chunk
// row once per sample, an import appends many samples per series: each chunk row is
// written once, when it is cut or at the end of the series' samples.
#include "storage/store.h"

#include <algorithm>
#include <unordered_set>
#include <utility>

namespace sb::storage {

// One series' part of an AppendSamples batch.
struct Store::ImportPlan {
  int64_t id = 0;                    // 0 until a new series is inserted
  std::string key;                   // encoded canonical labels
  uint32_t hash = 0;                 // KeyIdTable::Hash(key)
  Labels labels;
  const std::vector<Sample>* samples = nullptr;
  size_t first = 0;                  // index of the first sample to append (after skips)
  XorChunkAppender head;             // copy of the open chunk, then appended to
  bool head_dirty = false;           // the open chunk holds samples its row lacks
};

Result<ImportStats> Store::AppendSamples(const std::vector<SeriesSamples>& batch) {
  std::lock_guard write_lock(write_mu_);
  ImportStats stats;
  std::vector<ImportPlan> plan;
  plan.reserve(batch.size());
  std::unordered_set<std::string> seen;
  seen.reserve(batch.size());
  // 1. Validate everything; nothing is written yet.
  for (const SeriesSamples& in : batch) {
    SB_ASSIGN_OR_RETURN(Labels labels, Canonicalize(in.labels));
    ImportPlan p;
    p.key = EncodeLabels(labels);
    if (!seen.insert(p.key).second) {
      return Status::InvalidArgument("series " + LabelsToString(labels) +
                                     " appears twice in one batch");
    }
    for (size_t i = 1; i < in.samples.size(); ++i) {
      if (in.samples[i].timestamp_ms <= in.samples[i - 1].timestamp_ms) {
        return Status::InvalidArgument(
            "samples of series " + LabelsToString(labels) + " out of order: time " +
            std::to_string(in.samples[i].timestamp_ms) + " is not after " +
            std::to_string(in.samples[i - 1].timestamp_ms));
      }
    }
    p.hash = KeyIdTable::Hash(p.key);
    p.id = FindId(p.key, p.hash);  // ids_ only changes under write_mu_, which we hold
    if (p.id != 0) {
      SB_ASSIGN_OR_RETURN(HeadState * head, Head(Log::kSeries, p.id));
      // The head is the last chunk; with no chunk at all, nothing is skipped.
      if (head->app.num_samples() > 0) {
        const int64_t last = head->app.last_timestamp_ms();
        while (p.first < in.samples.size() && in.samples[p.first].timestamp_ms <= last) {
          ++p.first;
        }
      }
      p.head = head->app;
      p.head_dirty = head->dirty();
    } else {
      ++stats.series_created;
    }
    ++stats.series;
    stats.samples_skipped += static_cast<int64_t>(p.first);
    stats.samples_added += static_cast<int64_t>(in.samples.size() - p.first);
    p.labels = std::move(labels);
    p.samples = &in.samples;
    plan.push_back(std::move(p));
  }
  // 2. Write, in one transaction.
  SB_RETURN_IF_ERROR(writer_->Exec("BEGIN IMMEDIATE"));
  Status s = WriteImport(&plan);
  if (s.ok()) s = writer_->Exec("COMMIT");
  if (!s.ok()) {
    (void)writer_->Exec("ROLLBACK");
    return s;
  }
  // 3. Committed: update memory.
  std::unique_lock heads_lock(heads_mu_);
  std::unique_lock index_lock(index_mu_);
  for (ImportPlan& p : plan) {
    if (FindSeries(p.id) == nullptr) AddSeries(p.id, p.key, p.hash, p.labels);
    if (p.first == p.samples->size()) continue;  // nothing appended
    SeriesState& st = series_[p.id];
    st.min_t = std::min(st.min_t, (*p.samples)[p.first].timestamp_ms);
    st.max_t = std::max(st.max_t, p.samples->back().timestamp_ms);
    st.head_min_t = p.head.first_timestamp_ms();
    // Its row was written with every sample, including any only in head_log rows before.
    HeadState h;
    h.flushed_t = p.head.last_timestamp_ms();
    h.app = std::move(p.head);
    heads_.Put(p.id, std::move(h));
  }
  return stats;
}

Status Store::WriteImport(std::vector<ImportPlan>* plan) {
  Db* db = writer_.get();
  SB_ASSIGN_OR_RETURN(Stmt put_series,
                      db->Prepare("INSERT INTO series (labels_hash, labels) VALUES (?, ?)"));
  SB_ASSIGN_OR_RETURN(Stmt put_chunk, db->Prepare(
      "INSERT OR REPLACE INTO chunks (series_id, min_t, max_t, num_samples, data) "
      "VALUES (?, ?, ?, ?, ?)"));
  auto put = [&](int64_t id, const XorChunkAppender& app) {
    put_chunk.Bind(1, id)
        .Bind(2, app.first_timestamp_ms())
        .Bind(3, app.last_timestamp_ms())
        .Bind(4, static_cast<int64_t>(app.num_samples()))
        .BindBlob(5, app.Bytes());
    return put_chunk.Run();
  };
  for (ImportPlan& p : *plan) {
    if (p.id == 0) {
      put_series.Bind(1, HashLabels(p.key)).BindBlob(2, p.key);
      SB_RETURN_IF_ERROR(put_series.Run());
      p.id = db->LastInsertRowid();
      if (p.id < 1 || p.id > kMaxSeriesId) {  // the in-memory index holds 32-bit ids
        return Status::ResourceExhausted("series id " + std::to_string(p.id) + " out of range");
      }
    }
    const std::vector<Sample>& samples = *p.samples;
    if (p.first == samples.size()) continue;
    bool dirty = p.head_dirty;  // the head holds samples not yet written
    for (size_t i = p.first; i < samples.size(); ++i) {
      const Sample& smp = samples[i];
      if (NeedsCut(p.head, smp.timestamp_ms)) {
        if (dirty) SB_RETURN_IF_ERROR(put(p.id, p.head));
        p.head = XorChunkAppender();
      }
      SB_RETURN_IF_ERROR(p.head.Append(smp.timestamp_ms, smp.value));
      dirty = true;
    }
    SB_RETURN_IF_ERROR(put(p.id, p.head));
  }
  return Status::OK();
}

}  // namespace sb::storage
