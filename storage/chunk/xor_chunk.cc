// XOR chunk encoding: design notes. The normative byte format is docs/format/chunks.md;
// this essay explains why it looks the way it does.
//
// Data shape. The bridge stores one sample per series per upstream fetch. Scout fetches
// are hourly, a few hundred series, and a value changes in roughly 3% of fetches. Plain
// Gorilla/Prometheus XOR spends at least 2 bits on every sample (1 bit "delta-of-delta is
// zero", 1 bit "XOR is zero"), i.e. 0.25 B/sample before any change is paid for. Here a
// sample that repeats both the previous interval and the previous value is folded into a
// run, written once as "00" plus an Elias-gamma run length, so a run of 33 repeats costs
// 13 bits instead of 66. Everything else keeps the Gorilla costs: a changed value at an
// unchanged interval costs "01" plus the XOR body, exactly Prometheus's 2 control bits.
//
// Layout. Header: magic "SX", version, uvarint sample count, then the first sample in
// bytes (zigzag varint timestamp, 8-byte little-endian IEEE-754 bits). Samples 2..n follow
// as one MSB-first bit stream (storage/chunk/bit_stream.h), zero-padded to a byte, then a
// CRC32 (zlib polynomial) of every preceding byte, little endian. The chunk is therefore
// self-delimiting given its length, which the container (a SQLite BLOB) records.
//
// Arithmetic. Intervals and delta-of-deltas are computed modulo 2^64 on uint64 and
// reinterpreted as int64 only to pick a size bucket; the 64-bit bucket carries any value.
// So any strictly increasing int64 sequence round-trips, including INT64_MIN..INT64_MAX
// jumps whose interval does not fit in int64. Values are handled purely as bit patterns:
// NaN payloads, the stale marker 0x7ff0000000000002, infinities and -0.0 survive exactly.
//
// Invariants the appender keeps and the iterator checks:
//   - timestamps strictly increase (iterator: Corruption if a decoded one does not);
//   - the stream never encodes a zero XOR as a changed value, nor a zero-length run;
//   - a run never extends past the header's sample count;
//   - after the last sample only zero padding (< 8 bits) remains.
// The CRC catches accidental damage (every single-bit flip, truncation); the checks above
// keep a crafted blob with a valid CRC from causing anything worse than a Corruption error.
// Nothing is ever read outside the blob: every field read is bounds-checked by BitReader.
//
// Crash semantics: a chunk is an immutable value. The appender keeps no pending state
// outside its object; Bytes() materialises the pending run into a copy, so a head can
// persist snapshots of an open chunk and continue appending.
#include "storage/chunk/xor_chunk.h"

#include <zlib.h>

#include <bit>
#include <cstdio>
#include <cstring>

namespace sb::storage {
namespace {

constexpr size_t kCrcBytes = 4;
constexpr int kMaxLeading = 31;  // Leading-zero count is stored in 5 bits.

uint64_t DoubleBits(double v) { return std::bit_cast<uint64_t>(v); }

// Signed delta-of-delta buckets after the '1' control bit: prefix, payload bits.
//   0   + 7 bits  two's complement   [-64, 63]
//   10  + 14 bits                    [-8192, 8191]
//   110 + 24 bits                    [-2^23, 2^23 - 1]
//   111 + 64 bits                    anything
bool FitsSigned(int64_t v, int bits) {
  const int64_t lo = -(int64_t{1} << (bits - 1));
  const int64_t hi = (int64_t{1} << (bits - 1)) - 1;
  return v >= lo && v <= hi;
}

void WriteDod(BitWriter* w, uint64_t dod_bits) {
  const int64_t dod = static_cast<int64_t>(dod_bits);
  if (FitsSigned(dod, 7)) {
    w->WriteBits(0b0, 1);
    w->WriteBits(dod_bits, 7);
  } else if (FitsSigned(dod, 14)) {
    w->WriteBits(0b10, 2);
    w->WriteBits(dod_bits, 14);
  } else if (FitsSigned(dod, 24)) {
    w->WriteBits(0b110, 3);
    w->WriteBits(dod_bits, 24);
  } else {
    w->WriteBits(0b111, 3);
    w->WriteBits(dod_bits, 64);
  }
}

// Elias gamma code of k >= 1: floor(log2 k) zero bits, then k in binary.
int GammaBits(uint64_t k) { return 2 * (std::bit_width(k) - 1) + 1; }
template <typename Writer>
void WriteGamma(Writer* w, uint64_t k) {
  const int n = std::bit_width(k) - 1;
  w->WriteBits(0, n);
  w->WriteBits(k, n + 1);
}

void PutUvarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}
size_t UvarintSize(uint64_t v) { return v == 0 ? 1 : (std::bit_width(v) + 6) / 7; }
uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1)); }

// Reads a uvarint of at most 10 bytes from *in; advances it. False on truncation/overlong.
bool GetUvarint(std::string_view* in, uint64_t* v) {
  uint64_t out = 0;
  for (int i = 0; i < 10; ++i) {
    if (in->empty()) return false;
    const uint8_t b = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    if (i == 9 && b > 1) return false;  // Would overflow 64 bits.
    out |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if (b < 0x80) {
      *v = out;
      return true;
    }
  }
  return false;
}

uint32_t Crc32(std::string_view bytes) {
  return static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

std::string Hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%04llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

Status XorChunkAppender::Append(int64_t t_ms, double v) {
  if (count_ >= kXorChunkMaxSamples) {
    return Status::ResourceExhausted("xor chunk is full (" + std::to_string(count_) + " samples)");
  }
  const uint64_t vb = DoubleBits(v);
  if (count_ == 0) {
    first_t_ = t_ = t_ms;
    first_v_bits_ = v_bits_ = vb;
    count_ = 1;
    return Status::OK();
  }
  if (t_ms <= t_) {
    return Status::InvalidArgument(
        std::string(t_ms == t_ ? "duplicate" : "out-of-order") + " sample: timestamp " +
        std::to_string(t_ms) + " is not after the last appended timestamp " + std::to_string(t_));
  }
  const uint64_t delta = static_cast<uint64_t>(t_ms) - static_cast<uint64_t>(t_);
  const uint64_t dod = delta - delta_;
  const uint64_t x = vb ^ v_bits_;
  if (dod == 0 && x == 0) {
    ++run_;
  } else {
    WriteRun(&stream_);
    run_ = 0;
    if (dod == 0) {
      stream_.WriteBits(0b01, 2);
    } else {
      stream_.WriteBit(true);
      WriteDod(&stream_, dod);
      stream_.WriteBit(x != 0);
    }
    if (x != 0) {
      int lead = std::countl_zero(x);
      const int trail = std::countr_zero(x);
      if (lead > kMaxLeading) lead = kMaxLeading;
      if (leading_ != 0xff && lead >= leading_ && trail >= trailing_) {
        stream_.WriteBit(false);  // Reuse the previous window.
        stream_.WriteBits(x >> trailing_, 64 - leading_ - trailing_);
      } else {
        const int sig = 64 - lead - trail;  // 1..64
        stream_.WriteBit(true);
        stream_.WriteBits(static_cast<uint64_t>(lead), 5);
        stream_.WriteBits(static_cast<uint64_t>(sig - 1), 6);
        stream_.WriteBits(x >> trail, sig);
        leading_ = static_cast<uint8_t>(lead);
        trailing_ = static_cast<uint8_t>(trail);
      }
    }
  }
  t_ = t_ms;
  v_bits_ = vb;
  delta_ = delta;
  ++count_;
  return Status::OK();
}

namespace {

// Writes bits after the end of an encoding being built in a std::string, whose last byte
// has `free_bits` unused low bits: where EncodeTo puts the pending run, without copying
// the appender's stream first. Same bit order as BitWriter.
class TailBitWriter {
 public:
  TailBitWriter(std::string* out, int free_bits) : out_(out), free_bits_(free_bits) {}
  void WriteBits(uint64_t value, int num_bits) {
    if (num_bits < 64) value &= (uint64_t{1} << num_bits) - 1;
    while (num_bits > 0) {
      if (free_bits_ == 0) {
        out_->push_back('\0');
        free_bits_ = 8;
      }
      const int take = num_bits < free_bits_ ? num_bits : free_bits_;
      const uint64_t chunk = (value >> (num_bits - take)) & ((uint64_t{1} << take) - 1);
      out_->back() = static_cast<char>(static_cast<uint8_t>(out_->back()) |
                                       (chunk << (free_bits_ - take)));
      free_bits_ -= take;
      num_bits -= take;
    }
  }

 private:
  std::string* out_;
  int free_bits_;
};

}  // namespace

template <typename Writer>
void XorChunkAppender::WriteRun(Writer* w) const {
  if (run_ == 0) return;
  w->WriteBits(0b00, 2);
  WriteGamma(w, run_);
}

size_t XorChunkAppender::EncodedSize() const {
  size_t header = 3 + UvarintSize(count_);
  if (count_ > 0) header += UvarintSize(ZigZag(first_t_)) + 8;
  size_t bits = stream_.num_bits();
  if (run_ > 0) bits += 2 + GammaBits(run_);
  return header + (bits + 7) / 8 + kCrcBytes;
}

std::string XorChunkAppender::Bytes() const {
  std::string out;
  EncodeTo(&out);
  return out;
}

void XorChunkAppender::EncodeTo(std::string* out_ptr) const {
  std::string& out = *out_ptr;
  out.clear();
  out.reserve(EncodedSize());
  out.push_back(static_cast<char>(kXorChunkMagic0));
  out.push_back(static_cast<char>(kXorChunkMagic1));
  out.push_back(static_cast<char>(kXorChunkVersion));
  PutUvarint(&out, count_);
  if (count_ > 0) {
    PutUvarint(&out, ZigZag(first_t_));
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(first_v_bits_ >> (8 * i)));
  }
  out += stream_.bytes();
  if (run_ > 0) {
    // The pending run goes after the stream's last bit, in the output buffer itself.
    TailBitWriter tail(&out, stream_.free_bits());
    WriteRun(&tail);
  }
  const uint32_t crc = Crc32(out);
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(crc >> (8 * i)));
}

Result<XorChunkIterator> XorChunkIterator::Open(std::string_view blob) {
  constexpr size_t kMinBytes = 3 + 1 + kCrcBytes;
  if (blob.size() < kMinBytes) {
    return Status::Corruption("xor chunk: truncated: " + std::to_string(blob.size()) +
                              " bytes, a chunk has at least " + std::to_string(kMinBytes));
  }
  if (static_cast<uint8_t>(blob[0]) != kXorChunkMagic0 ||
      static_cast<uint8_t>(blob[1]) != kXorChunkMagic1) {
    const unsigned magic = (static_cast<uint8_t>(blob[0]) << 8) | static_cast<uint8_t>(blob[1]);
    return Status::Corruption("xor chunk: bad magic " + Hex(magic) + ", want 0x5358 (\"SX\")");
  }
  if (static_cast<uint8_t>(blob[2]) != kXorChunkVersion) {
    return Status::Corruption("xor chunk: unsupported version " +
                              std::to_string(static_cast<uint8_t>(blob[2])));
  }
  std::string_view body = blob.substr(0, blob.size() - kCrcBytes);
  uint32_t stored = 0;
  for (int i = 0; i < 4; ++i) {
    stored |= static_cast<uint32_t>(static_cast<uint8_t>(blob[body.size() + i])) << (8 * i);
  }
  const uint32_t computed = Crc32(body);
  if (stored != computed) {
    return Status::Corruption("xor chunk: checksum mismatch over " + std::to_string(blob.size()) +
                              " bytes (stored " + Hex(stored) + ", computed " + Hex(computed) +
                              "): truncated or damaged");
  }
  std::string_view in = body.substr(3);
  uint64_t count = 0;
  if (!GetUvarint(&in, &count)) return Status::Corruption("xor chunk: bad sample count varint");
  if (count > kXorChunkMaxSamples) {
    return Status::Corruption("xor chunk: sample count " + std::to_string(count) +
                              " exceeds the limit " + std::to_string(kXorChunkMaxSamples));
  }
  int64_t first_t = 0;
  uint64_t first_v = 0;
  if (count > 0) {
    uint64_t zz = 0;
    if (!GetUvarint(&in, &zz)) return Status::Corruption("xor chunk: bad first timestamp varint");
    first_t = UnZigZag(zz);
    if (in.size() < 8) return Status::Corruption("xor chunk: header truncated in first value");
    for (int i = 0; i < 8; ++i) {
      first_v |= static_cast<uint64_t>(static_cast<uint8_t>(in[i])) << (8 * i);
    }
    in.remove_prefix(8);
  }
  if (count <= 1 && !in.empty()) {
    return Status::Corruption("xor chunk: " + std::to_string(in.size()) +
                              " unexpected bytes after the header of a chunk of " +
                              std::to_string(count) + " samples");
  }
  return XorChunkIterator(in, count, first_t, first_v);
}

double XorChunkIterator::v() const { return std::bit_cast<double>(v_bits_); }

bool XorChunkIterator::Fail(std::string what) {
  status_ = Status::Corruption("xor chunk: sample " + std::to_string(read_ + 1) + " of " +
                               std::to_string(count_) + ": " + what);
  done_ = true;
  return false;
}

bool XorChunkIterator::ReadDod(uint64_t* dod) {
  static constexpr int kPayload[4] = {7, 14, 24, 64};
  int bucket = 0;
  for (; bucket < 3; ++bucket) {
    bool b = false;
    if (!reader_.ReadBit(&b)) return false;
    if (!b) break;
  }
  const int bits = kPayload[bucket];
  uint64_t raw = 0;
  if (!reader_.ReadBits(bits, &raw)) return false;
  if (bits < 64 && (raw >> (bits - 1)) != 0) raw |= ~uint64_t{0} << bits;  // Sign-extend.
  *dod = raw;
  return true;
}

bool XorChunkIterator::ReadXor(uint64_t* x) {
  bool new_window = false;
  if (!reader_.ReadBit(&new_window)) return Fail("stream ends inside a value");
  if (new_window) {
    uint64_t lead = 0, sig_minus_1 = 0;
    if (!reader_.ReadBits(5, &lead) || !reader_.ReadBits(6, &sig_minus_1)) {
      return Fail("stream ends inside a value window");
    }
    const uint64_t sig = sig_minus_1 + 1;
    if (lead + sig > 64) return Fail("value window exceeds 64 bits");
    leading_ = static_cast<uint8_t>(lead);
    trailing_ = static_cast<uint8_t>(64 - lead - sig);
  } else if (leading_ == 0xff) {
    return Fail("value reuses a window before one was set");
  }
  uint64_t bits = 0;
  if (!reader_.ReadBits(64 - leading_ - trailing_, &bits)) {
    return Fail("stream ends inside a value");
  }
  *x = trailing_ >= 64 ? 0 : bits << trailing_;
  if (*x == 0) return Fail("changed value with a zero XOR");
  return true;
}

bool XorChunkIterator::CheckEnd() {
  done_ = true;
  uint64_t pad = 0;
  const size_t left = reader_.remaining_bits();
  if (left >= 8) return Fail(std::to_string(left / 8) + " trailing bytes after the last sample");
  if (!reader_.ReadBits(static_cast<int>(left), &pad) || pad != 0) return Fail("non-zero padding");
  return false;
}

bool XorChunkIterator::Next() {
  if (done_) return false;
  if (read_ == count_) return CheckEnd();
  if (read_ == 0) {  // First sample comes from the header.
    ++read_;
    return true;
  }
  uint64_t dod = 0;
  uint64_t x = 0;
  if (run_left_ > 0) {
    --run_left_;
  } else {
    bool irregular = false;
    if (!reader_.ReadBit(&irregular)) return Fail("stream ends before the sample");
    if (!irregular) {
      bool changed = false;
      if (!reader_.ReadBit(&changed)) return Fail("stream ends inside a sample");
      if (changed) {
        if (!ReadXor(&x)) return false;
      } else {
        // Repeat run: gamma code, zeros then the length's binary digits.
        int zeros = 0;
        bool b = false;
        for (;;) {
          if (!reader_.ReadBit(&b)) return Fail("stream ends inside a run length");
          if (b) break;
          if (++zeros > 20) return Fail("run length too long");
        }
        uint64_t rest = 0;
        if (!reader_.ReadBits(zeros, &rest)) return Fail("stream ends inside a run length");
        const uint64_t run = (uint64_t{1} << zeros) | rest;
        if (run > count_ - read_) {
          return Fail("run of " + std::to_string(run) + " exceeds the " +
                      std::to_string(count_ - read_) + " samples left");
        }
        run_left_ = run - 1;
      }
    } else {
      if (!ReadDod(&dod)) return Fail("stream ends inside a timestamp");
      if (dod == 0) return Fail("irregular-interval sample with a zero delta-of-delta");
      bool changed = false;
      if (!reader_.ReadBit(&changed)) return Fail("stream ends inside a sample");
      if (changed && !ReadXor(&x)) return false;
    }
  }
  delta_ += dod;
  const int64_t next_t = static_cast<int64_t>(static_cast<uint64_t>(t_) + delta_);
  if (delta_ == 0 || next_t <= t_) {
    return Fail("timestamp does not increase after " + std::to_string(t_));
  }
  t_ = next_t;
  v_bits_ ^= x;
  ++read_;
  return true;
}

Result<std::vector<Sample>> DecodeAll(std::string_view blob) {
  SB_ASSIGN_OR_RETURN(XorChunkIterator it, XorChunkIterator::Open(blob));
  std::vector<Sample> out;
  out.reserve(it.num_samples());
  while (it.Next()) out.push_back(Sample{it.t(), it.v()});
  if (!it.status().ok()) return it.status();
  return out;
}

}  // namespace sb::storage
