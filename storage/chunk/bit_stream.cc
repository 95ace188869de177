#include "storage/chunk/bit_stream.h"

namespace sb::storage {

BitWriter& BitWriter::operator=(const BitWriter& other) {
  if (this == &other) return *this;
  FreeHeap();
  size_ = 0;
  if (other.on_heap()) {
    char* p = static_cast<char*>(std::malloc(Capacity(other.size_)));
    if (p == nullptr) std::abort();
    std::memcpy(p, other.heap(), other.size_);
    std::memcpy(buf_, &p, sizeof p);
  } else {
    std::memcpy(buf_, other.buf_, kInlineBytes);
  }
  size_ = other.size_;
  free_bits_ = other.free_bits_;
  return *this;
}

BitWriter& BitWriter::operator=(BitWriter&& other) noexcept {
  if (this == &other) return *this;
  FreeHeap();
  std::memcpy(buf_, other.buf_, kInlineBytes);  // the bytes, or the heap block's address
  size_ = other.size_;
  free_bits_ = other.free_bits_;
  other.size_ = 0;  // the block is ours now
  other.free_bits_ = 0;
  return *this;
}

void BitWriter::PushZeroByte() {
  if (size_ == Capacity(size_)) {  // full: move to the heap, or to a block twice as large
    const uint32_t cap = Capacity(size_ + 1);
    char* p = nullptr;
    if (on_heap()) {
      p = static_cast<char*>(std::realloc(heap(), cap));
    } else {
      p = static_cast<char*>(std::malloc(cap));
      if (p != nullptr) std::memcpy(p, buf_, size_);
    }
    if (p == nullptr) std::abort();  // as std::string would throw: out of memory
    std::memcpy(buf_, &p, sizeof p);
  }
  ++size_;
  data()[size_ - 1] = '\0';
  free_bits_ = 8;
}

void BitWriter::WriteBits(uint64_t value, int num_bits) {
  if (num_bits < 64) value &= (uint64_t{1} << num_bits) - 1;
  while (num_bits > 0) {
    if (free_bits_ == 0) PushZeroByte();
    // Place as many of the remaining high bits of `value` as fit in the last byte.
    const int take = num_bits < free_bits_ ? num_bits : free_bits_;
    const uint64_t chunk = (value >> (num_bits - take)) & ((uint64_t{1} << take) - 1);
    char& last = data()[size_ - 1];
    last = static_cast<char>(static_cast<uint8_t>(last) | (chunk << (free_bits_ - take)));
    free_bits_ = static_cast<uint8_t>(free_bits_ - take);
    num_bits -= take;
  }
}

bool BitReader::ReadBits(int num_bits, uint64_t* value) {
  if (static_cast<size_t>(num_bits) > remaining_bits()) return false;
  uint64_t out = 0;
  while (num_bits > 0) {
    const uint8_t byte = static_cast<uint8_t>(bytes_[pos_bits_ / 8]);
    const int avail = 8 - static_cast<int>(pos_bits_ % 8);
    const int take = num_bits < avail ? num_bits : avail;
    const uint8_t bits = static_cast<uint8_t>(byte >> (avail - take)) & ((1u << take) - 1);
    // take <= 8, so the shift below never reaches 64.
    out = (out << take) | bits;
    pos_bits_ += take;
    num_bits -= take;
  }
  *value = out;
  return true;
}

bool BitReader::ReadBit(bool* bit) {
  uint64_t v = 0;
  if (!ReadBits(1, &v)) return false;
  *bit = v != 0;
  return true;
}

}  // namespace sb::storage
