// How an endpoint turns a store series into what it sends, without copying label sets:
//
//   No write_relabel_configs (the common case): a series is sent as the store's own key
//   plus the external labels, serialized while the request is written (encode.h's
//   SeriesRef). Nothing is kept per series: 100,000 series cost no memory here.
//   With rules: each series is relabelled and serialized once, at its first fetch, and kept
//   (PreparedSeries, ~250 bytes for a Scout series) until a round no longer uses it.
//
// Series are identified by the store's key view (storage::Store::CommittedFetch::keys,
// Store::SeriesKeyOf): one series always has the same view, so the cache is keyed by its
// address.
//
// Thread-safety: a PreparedCache belongs to one thread (its endpoint's).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <unordered_map>

#include "remote_write/encode.h"
#include "remote_write/relabel.h"

namespace sb::remote_write {

class PreparedCache {
 public:
  // `relabeler` must outlive the cache; nullptr means no rules and no external labels.
  explicit PreparedCache(const Relabeler* relabeler);

  // Whether series are sent as their store key (no rules to apply).
  bool direct() const { return direct_; }

  // How the series with store key `key` is sent: *out = {key, nullptr} when direct; else
  // {key, its prepared form}, relabelled on first use. The prepared form stays valid until a
  // Sweep after a round that did not use it. Returns false if the rules drop the series (or
  // the key is malformed, not reached: keys come from the store).
  bool Get(std::string_view key, SeriesRef* out);

  // Forgets the prepared series not used (Get) since the previous Sweep. The endpoint sweeps
  // after each sent real fetch, which Gets every series of it: a target's current values
  // (its last fetch) are always still here.
  void Sweep();

  size_t size() const { return map_.size(); }

 private:
  struct Entry {
    std::shared_ptr<const PreparedSeries> prepared;  // null: dropped by relabelling
    uint64_t used = 0;                               // epoch_ of the last Get
  };
  const Relabeler* relabeler_;
  const bool direct_;
  std::unordered_map<const char*, Entry> map_;  // by the address of the store's key
  uint64_t epoch_ = 1;
};

}  // namespace sb::remote_write
