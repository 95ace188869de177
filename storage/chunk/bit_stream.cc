#include "storage/chunk/bit_stream.h"

namespace sb::storage {

void BitWriter::WriteBits(uint64_t value, int num_bits) {
  if (num_bits < 64) value &= (uint64_t{1} << num_bits) - 1;
  while (num_bits > 0) {
    if (free_bits_ == 0) {
      bytes_.push_back('\0');
      free_bits_ = 8;
    }
    // Place as many of the remaining high bits of `value` as fit in the last byte.
    const int take = num_bits < free_bits_ ? num_bits : free_bits_;
    const uint64_t chunk = (value >> (num_bits - take)) & ((uint64_t{1} << take) - 1);
    bytes_.back() = static_cast<char>(static_cast<uint8_t>(bytes_.back()) |
                                      (chunk << (free_bits_ - take)));
    free_bits_ -= take;
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
