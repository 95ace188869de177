#include "remote_write/series_cache.h"

#include <iterator>

namespace sb::remote_write {

PreparedCache::PreparedCache(const Relabeler* relabeler)
    : relabeler_(relabeler), direct_(relabeler == nullptr || !relabeler->has_rules()) {}

bool PreparedCache::Get(std::string_view key, SeriesRef* out) {
  out->key = key;
  out->prepared = nullptr;
  if (direct_) return true;
  auto [it, inserted] = map_.try_emplace(key.data());
  Entry& e = it->second;
  e.used = epoch_;
  if (inserted) {
    auto labels = storage::DecodeLabels(key);
    if (labels.ok() && relabeler_->Apply(&*labels)) e.prepared = PrepareSeries(*labels);
  }
  out->prepared = e.prepared.get();
  return out->prepared != nullptr;
}

void PreparedCache::Sweep() {
  std::erase_if(map_, [this](const auto& kv) { return kv.second.used < epoch_; });
  ++epoch_;
}

}  // namespace sb::remote_write
