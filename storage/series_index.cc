#include "storage/series_index.h"

#include <functional>

namespace sb::storage {

const char* KeyArena::Add(std::string_view key) {
  const uint32_t n = static_cast<uint32_t>(key.size());
  const size_t need = sizeof n + key.size();
  char* at = nullptr;
  if (need > kBlockBytes / 4) {
    // A key of its own block, kept before the current one so its free space stays in use.
    auto block = std::make_unique<char[]>(need);
    at = block.get();
    bytes_allocated_ += need;
    blocks_.insert(blocks_.empty() ? blocks_.end() : blocks_.end() - 1, std::move(block));
  } else {
    if (need > left_) {
      blocks_.push_back(std::make_unique<char[]>(kBlockBytes));
      bytes_allocated_ += kBlockBytes;
      next_ = blocks_.back().get();
      left_ = kBlockBytes;
    }
    at = next_;
    next_ += need;
    left_ -= need;
  }
  std::memcpy(at, &n, sizeof n);
  if (!key.empty()) std::memcpy(at + sizeof n, key.data(), key.size());
  return at + sizeof n;
}

uint32_t KeyIdTable::Hash(std::string_view key) {
  const uint64_t h = std::hash<std::string_view>{}(key);
  return static_cast<uint32_t>(h ^ (h >> 32));
}

void KeyIdTable::Insert(uint32_t hash, int64_t id) {
  if ((size_ + 1) * 4 > slots_.size() * 3) {
    std::vector<uint64_t> old;
    old.swap(slots_);
    slots_.assign(old.empty() ? 1024 : old.size() * 2, 0);
    for (uint64_t slot : old) {
      if (slot != 0) Place(slot);
    }
  }
  Place((static_cast<uint64_t>(hash) << 32) | static_cast<uint32_t>(id));
  ++size_;
}

void KeyIdTable::Place(uint64_t slot) {
  const size_t mask = slots_.size() - 1;
  size_t i = static_cast<uint32_t>(slot >> 32) & mask;
  while (slots_[i] != 0) i = (i + 1) & mask;
  slots_[i] = slot;
}

}  // namespace sb::storage
