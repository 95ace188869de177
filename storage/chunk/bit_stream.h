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
#include <string>
#include <utility>
#include <string_view>

namespace sb::storage {

class BitWriter {
 public:
  BitWriter() = default;
  // Continues writing after `bytes`, whose last byte has `free_bits` unused low bits
  // (0 if it is full). Used to add bits to a copy without copying twice.
  BitWriter(std::string bytes, int free_bits) : bytes_(std::move(bytes)), free_bits_(free_bits) {}

  // Appends the low `num_bits` bits of `value`, most significant first.
  // REQUIRES: 0 <= num_bits <= 64. Bits of `value` above num_bits are ignored.
  void WriteBits(uint64_t value, int num_bits);
  void WriteBit(bool bit) { WriteBits(bit ? 1 : 0, 1); }

  // The bytes written so far; the last byte is zero-padded in its unused low bits.
  const std::string& bytes() const { return bytes_; }
  // Number of bits written so far.
  size_t num_bits() const { return bytes_.size() * 8 - free_bits_; }
  int free_bits() const { return free_bits_; }
  // Hands the bytes over, leaving the writer empty.
  std::string Release() {
    free_bits_ = 0;
    return std::move(bytes_);
  }

 private:
  std::string bytes_;
  int free_bits_ = 0;  // Unused low bits in bytes_.back(); 0 when bytes_ is empty or full.
};

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
