// Label sets interned once per series, so that a fetch of 100,000 series costs no label
// copies on the remote-write path:
//
//   SeriesKey      a series' canonical label set in the store's byte encoding
//                  (storage::EncodeLabels) plus its hash. The Feeder interns one per series
//                  per target (the same object every fetch) and every endpoint shares it.
//   PreparedCache  per endpoint and target: SeriesKey -> PreparedSeries, the series after
//                  external labels and write_relabel_configs, already serialized as
//                  protobuf Label fields (encode.h). Relabelling and serializing happen once
//                  per series, at its first fetch, not at every fetch.
//
// The first cache to see a SeriesKey keeps its PreparedSeries in the key itself (no lookup
// at all on the live path); any other endpoint, or a restarted one, uses its map.
//
// Memory: one SeriesKey (the encoded labels, ~130 bytes for a Scout series) per live series
// per target, plus one PreparedSeries (the protobuf labels) per endpoint. Entries of series
// that are gone are swept (PreparedCache::Sweep).
//
// Thread-safety: SeriesKey is immutable (share it freely); a PreparedCache belongs to one
// thread (the endpoint's).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "remote_write/encode.h"
#include "remote_write/relabel.h"
#include "storage/series.h"

namespace sb::remote_write {

struct SeriesKey {
  SeriesKey(std::string b, size_t h) : owned(std::move(b)), blob(owned), hash(h) {}
  // A view of bytes that outlive the key: the store's own copy (Store::CommitListener).
  struct Borrowed {};
  SeriesKey(Borrowed, std::string_view b, size_t h) : blob(b), hash(h) {}
  SeriesKey(const SeriesKey&) = delete;  // blob may view owned
  SeriesKey& operator=(const SeriesKey&) = delete;

  std::string owned;      // the bytes, when the key holds them itself
  std::string_view blob;  // storage::EncodeLabels of the canonical labels
  size_t hash = 0;        // HashBlob(blob)

  // A one-entry cache of the prepared form, for the first PreparedCache that claims it
  // (owner = that cache's unique token, never reused): the common single-endpoint case
  // then needs no map lookup at all. `prepared` is read and written only by the owner's
  // thread; other caches only read `owner`.
  mutable std::atomic<uint64_t> owner{0};
  mutable std::shared_ptr<const PreparedSeries> prepared;
};

size_t HashBlob(std::string_view blob);
std::shared_ptr<const SeriesKey> MakeSeriesKey(std::string blob);

// A map key that views a blob whose hash is known (the map never re-hashes the bytes).
struct BlobRef {
  std::string_view blob;
  size_t hash = 0;
  bool operator==(const BlobRef& o) const { return hash == o.hash && blob == o.blob; }
};
struct BlobRefHash {
  size_t operator()(const BlobRef& r) const { return r.hash; }
};

class PreparedCache {
 public:
  // `relabeler` must outlive the cache.
  explicit PreparedCache(const Relabeler* relabeler);

  // The prepared form of `key` (relabelled on first use), or nullptr if the rules drop the
  // series. The reference stays valid until the next Sweep().
  const std::shared_ptr<const PreparedSeries>& Get(const std::shared_ptr<const SeriesKey>& key);
  // The interned key of canonical `labels` (as the store returns them, on the catch-up
  // path): the one in the map if known there, else a new one (prepared anew at its first
  // Get; a series prepared through the one-entry slot is not found here).
  std::shared_ptr<const SeriesKey> Intern(const storage::Labels& labels);

  // Forgets the series not used (Get) since the previous Sweep. The endpoint sweeps after
  // each sent real fetch, which Gets every live series. Callers that keep a series longer
  // (the current values of a target) hold its shared_ptr.
  void Sweep();

  size_t size() const { return map_.size(); }

 private:
  struct Entry {
    std::shared_ptr<const SeriesKey> key;
    std::shared_ptr<const PreparedSeries> prepared;  // null: dropped by relabelling
    uint64_t used = 0;                               // epoch_ of the last Get
  };
  std::shared_ptr<const PreparedSeries> Prepare(const SeriesKey& key) const;

  const Relabeler* relabeler_;
  const uint64_t token_;  // this cache's identity in SeriesKey::owner
  std::unordered_map<BlobRef, Entry, BlobRefHash> map_;
  uint64_t epoch_ = 1;
  std::string scratch_;
};

}  // namespace sb::remote_write
