#include "remote_write/series_cache.h"

#include <functional>

namespace sb::remote_write {

size_t HashBlob(std::string_view blob) { return std::hash<std::string_view>{}(blob); }

std::shared_ptr<const SeriesKey> MakeSeriesKey(std::string blob) {
  const size_t h = HashBlob(blob);
  return std::make_shared<SeriesKey>(std::move(blob), h);
}

namespace {
std::atomic<uint64_t> next_token{1};
}  // namespace

PreparedCache::PreparedCache(const Relabeler* relabeler) : relabeler_(relabeler), token_(next_token++) {}

std::shared_ptr<const PreparedSeries> PreparedCache::Prepare(const SeriesKey& key) const {
  auto labels = storage::DecodeLabels(key.blob);
  if (labels.ok() && (relabeler_ == nullptr || relabeler_->empty() || relabeler_->Apply(&*labels))) {
    return PrepareSeries(*labels);
  }
  return nullptr;  // dropped by the rules (or a corrupt blob, not reached)
}

const std::shared_ptr<const PreparedSeries>& PreparedCache::Get(const std::shared_ptr<const SeriesKey>& key) {
  uint64_t owner = key->owner.load(std::memory_order_acquire);
  if (owner == token_) return key->prepared;
  if (owner == 0 && key->owner.compare_exchange_strong(owner, token_, std::memory_order_acq_rel)) {
    key->prepared = Prepare(*key);
    return key->prepared;
  }
  auto [it, inserted] = map_.try_emplace(BlobRef{key->blob, key->hash});
  Entry& e = it->second;
  e.used = epoch_;
  if (!inserted) return e.prepared;
  e.key = key;  // the map's BlobRef views key->blob, kept alive here
  e.prepared = Prepare(*key);
  return e.prepared;
}

std::shared_ptr<const SeriesKey> PreparedCache::Intern(const storage::Labels& labels) {
  scratch_ = storage::EncodeLabels(labels);
  const size_t h = HashBlob(scratch_);
  auto it = map_.find(BlobRef{scratch_, h});
  if (it != map_.end()) return it->second.key;
  return MakeSeriesKey(scratch_);
}

void PreparedCache::Sweep() {
  std::erase_if(map_, [this](const auto& kv) { return kv.second.used < epoch_; });
  ++epoch_;
}

}  // namespace sb::remote_write
