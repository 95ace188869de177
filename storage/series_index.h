// Compact building blocks of the Store's in-memory index (storage/store.h), for ~100k
// series and more: per-series state in arrays indexed by series id instead of hash maps
// of nodes, series keys packed in large blocks instead of one heap string each, and an
// open-addressing table of ids for the lookup by key.
//
// Series ids are SQLite rowids of the series table: dense from 1, never reused, never
// erased (see docs/format/schema.md). So a series' state can sit at index `id` of an
// array; the ids this code takes are at most kMaxSeriesId (a store checks it).
//
// All three keep what they hold at a fixed address for as long as they live: an element
// of a BlockArray and the bytes of a KeyArena never move when more are added. The Store
// relies on that: its writer keeps pointers to series and open-chunk states across calls
// (TargetOrder, the commit listener's key views), and readers holding the index lock
// shared never see an element move under them (they cannot see the block table grow
// either: that happens only with the lock held exclusively).
//
// Thread-safety: none internally; the Store guards them with its mutexes.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

namespace sb::storage {

// Series ids go into 32-bit slots (KeyIdTable); SQLite hands out rowids from 1 up.
inline constexpr int64_t kMaxSeriesId = UINT32_MAX;

// A growable array of T whose elements never move: fixed-size blocks, allocated as the
// array grows (value-initialized), never reallocated.
template <typename T, size_t kPerBlock = 4096>
class BlockArray {
 public:
  static_assert((kPerBlock & (kPerBlock - 1)) == 0, "kPerBlock must be a power of two");

  size_t size() const { return blocks_.size() * kPerBlock; }  // elements that exist
  T& operator[](size_t i) { return blocks_[i / kPerBlock][i % kPerBlock]; }
  const T& operator[](size_t i) const { return blocks_[i / kPerBlock][i % kPerBlock]; }
  // Makes index i exist (and every one before it).
  void EnsureIndex(size_t i) {
    while (i >= size()) blocks_.push_back(std::make_unique<T[]>(kPerBlock));
  }
  void Clear() { blocks_.clear(); }

 private:
  std::vector<std::unique_ptr<T[]>> blocks_;
};

// Optional values by series id: a BlockArray and a bit per id saying whether it holds a
// value. Values never move while present. Erase resets a value to T() (freeing what it
// owns) and keeps its slot.
template <typename T>
class IdMap {
 public:
  T* Find(int64_t id) {
    return Present(id) ? &values_[static_cast<size_t>(id)] : nullptr;
  }
  const T* Find(int64_t id) const { return const_cast<IdMap*>(this)->Find(id); }
  // Inserts or assigns. REQUIRES: id >= 0.
  T& Put(int64_t id, T value) {
    const size_t i = static_cast<size_t>(id);
    values_.EnsureIndex(i);
    if (i / 64 >= present_.size()) present_.resize(values_.size() / 64 + 1, 0);
    present_[i / 64] |= uint64_t{1} << (i % 64);
    return values_[i] = std::move(value);
  }
  void Erase(int64_t id) {
    if (!Present(id)) return;
    const size_t i = static_cast<size_t>(id);
    present_[i / 64] &= ~(uint64_t{1} << (i % 64));
    values_[i] = T();
  }
  void Clear() {
    values_.Clear();
    present_.clear();
  }
  // Calls f(id, value) for every value, in id order.
  template <typename F>
  void ForEach(const F& f) const {
    for (size_t w = 0; w < present_.size(); ++w) {
      for (uint64_t bits = present_[w]; bits != 0; bits &= bits - 1) {
        const size_t i = w * 64 + static_cast<size_t>(std::countr_zero(bits));
        f(static_cast<int64_t>(i), values_[i]);
      }
    }
  }

 private:
  bool Present(int64_t id) const {
    const size_t i = static_cast<size_t>(id);
    return id >= 0 && i / 64 < present_.size() && ((present_[i / 64] >> (i % 64)) & 1) != 0;
  }

  BlockArray<T> values_;
  std::vector<uint64_t> present_;
};

// Append-only storage of series keys. Add copies a key into the current block (64 KiB;
// a large key gets a block of its own) behind a 4-byte length, and returns the address
// of its first byte: valid, unchanged, until the arena is destroyed.
class KeyArena {
 public:
  const char* Add(std::string_view key);
  // The key whose bytes start at `p` (a value Add returned).
  static std::string_view View(const char* p) {
    uint32_t n = 0;
    std::memcpy(&n, p - sizeof n, sizeof n);
    return std::string_view(p, n);
  }
  size_t bytes_allocated() const { return bytes_allocated_; }

 private:
  static constexpr size_t kBlockBytes = 64 << 10;
  std::vector<std::unique_ptr<char[]>> blocks_;
  char* next_ = nullptr;  // free space of the current block
  size_t left_ = 0;
  size_t bytes_allocated_ = 0;
};

// Series key -> series id, by open addressing (linear probing) over 8-byte slots: the id
// and 32 bits of the key's hash. The keys themselves are not held here: the caller
// resolves a candidate id to its key (`key_of(id)`), so a lookup touches one slot (two at
// the table's load) and one key, and allocates nothing. Grows by doubling at 3/4 full;
// the slot's hash gives the new position, so growing never reads keys.
class KeyIdTable {
 public:
  static uint32_t Hash(std::string_view key);

  // The id of `key` (whose Hash is `hash`), or 0 if absent.
  template <typename KeyOf>
  int64_t Find(std::string_view key, uint32_t hash, const KeyOf& key_of) const {
    if (slots_.empty()) return 0;
    const size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      const uint64_t slot = slots_[i];
      if (slot == 0) return 0;
      if (static_cast<uint32_t>(slot >> 32) == hash) {
        const int64_t id = static_cast<uint32_t>(slot);
        if (key_of(id) == key) return id;
      }
    }
  }
  // Adds `id` under `hash`. REQUIRES: 1 <= id <= kMaxSeriesId, its key not in the table.
  void Insert(uint32_t hash, int64_t id);

  size_t size() const { return size_; }
  size_t bytes_allocated() const { return slots_.capacity() * sizeof(uint64_t); }

 private:
  void Place(uint64_t slot);

  std::vector<uint64_t> slots_;  // (hash << 32) | id; 0 = empty (ids start at 1)
  size_t size_ = 0;
};

}  // namespace sb::storage
