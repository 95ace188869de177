// BitWriter and BitReader: the bit-granular buffer under the XOR chunk encoding
// (docs/format/chunks.md). Bits are packed most-significant-bit first: the first bit
// written is bit 7 of byte 0. A multi-bit field is written most significant bit first,
// so a field never depends on the host's byte order. The unused low bits of the last byte
// are zero.
//
// Ownership: a BitWriter owns its bytes. A BitReader only views bytes that the caller
// keeps alive and unchanged for the reader's lifetime.
// Thread-safety: neither class is thread-safe; distinct objects may be used concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <string_view>

namespace sb::storage {

class BitWriter {
 public:
  BitWriter() = default;
  BitWriter(const BitWriter& other) { *this = other; }
  BitWriter& operator=(const BitWriter& other);
  BitWriter(BitWriter&& other) noexcept { *this = std::move(other); }
  BitWriter& operator=(BitWriter&& other) noexcept;
  ~BitWriter() { FreeHeap(); }

  // Appends the low `num_bits` bits of `value`, most significant first.
  // REQUIRES: 0 <= num_bits <= 64. Bits of `value` above num_bits are ignored.
  void WriteBits(uint64_t value, int num_bits);
  void WriteBit(bool bit) { WriteBits(bit ? 1 : 0, 1); }

  // The bytes written so far; the last byte is zero-padded in its unused low bits. Valid
  // until the next write.
  std::string_view bytes() const { return std::string_view(data(), size_); }
  // Number of bits written so far.
  size_t num_bits() const { return size_t{size_} * 8 - free_bits_; }
  int free_bits() const { return free_bits_; }

 private:
  // The store keeps a writer per open chunk of every series (~100k), so a writer is 24
  // bytes: the bytes themselves while they fit in buf_ (most open chunks of hourly data
  // stay that small), else a heap block whose address is kept in buf_. Its capacity is
  // not stored: it is a function of size_ (Capacity), the block growing by doubling.
  static constexpr uint32_t kInlineBytes = 19;
  static uint32_t Capacity(uint32_t size) {
    if (size <= kInlineBytes) return kInlineBytes;
    uint32_t cap = 32;
    while (cap < size) cap *= 2;
    return cap;
  }
  bool on_heap() const { return size_ > kInlineBytes; }
  char* heap() const {
    char* p;
    std::memcpy(&p, buf_, sizeof p);
    return p;
  }
  const char* data() const { return on_heap() ? heap() : buf_; }
  char* data() { return on_heap() ? heap() : buf_; }
  void PushZeroByte();
  void FreeHeap() {
    if (on_heap()) std::free(heap());
  }

  uint32_t size_ = 0;
  uint8_t free_bits_ = 0;  // Unused low bits of the last byte; 0 when empty or full.
  char buf_[kInlineBytes] = {};
};
static_assert(sizeof(BitWriter) == 24);

class BitReader {
 public:
  explicit BitReader(std::string_view bytes) : bytes_(bytes) {}

  // Reads `num_bits` bits into the low bits of *value, most significant first.
  // Returns false, leaving the position and *value unspecified, if fewer than num_bits
  // bits remain. REQUIRES: 0 <= num_bits <= 64.
  bool ReadBits(int num_bits, uint64_t* value);
  bool ReadBit(bool* bit);

  // Bits not yet consumed.
  size_t remaining_bits() const { return bytes_.size() * 8 - pos_bits_; }

 private:
  std::string_view bytes_;
  size_t pos_bits_ = 0;
};

}  // namespace sb::storage
