#include "remote_write/series_cache.h"

#include <functional>

namespace sb::remote_write {

size_t HashBlob(std::string_view blob) { return std::hash<std::string_view>{}(blob); }

std::shared_ptr<const SeriesKey> MakeSeriesKey(std::string blob) {
  auto k = std::make_shared<SeriesKey>();
  k->hash = HashBlob(blob);
  k->blob = std::move(blob);
  return k;
}

const std::shared_ptr<const PreparedSeries>& PreparedCache::Get(const std::shared_ptr<const SeriesKey>& key) {
  auto [it, inserted] = map_.try_emplace(BlobRef{key->blob, key->hash});
  Entry& e = it->second;
  e.used = epoch_;
  if (!inserted) return e.prepared;
  e.key = key;  // the map's BlobRef views key->blob, kept alive here
  auto labels = storage::DecodeLabels(key->blob);
  if (labels.ok() && (relabeler_ == nullptr || relabeler_->empty() || relabeler_->Apply(&*labels))) {
    e.prepared = PrepareSeries(*labels);
  }
  return e.prepared;
}

std::shared_ptr<const SeriesKey> PreparedCache::Intern(const storage::Labels& labels) {
  scratch_ = storage::EncodeLabels(labels);
  auto it = map_.find(BlobRef{scratch_, HashBlob(scratch_)});
  if (it != map_.end()) return it->second.key;
  return MakeSeriesKey(scratch_);
}

void PreparedCache::Sweep() {
  std::erase_if(map_, [this](const auto& kv) { return kv.second.used + 1 < epoch_; });
  ++epoch_;
}

}  // namespace sb::remote_write
