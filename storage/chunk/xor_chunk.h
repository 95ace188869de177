// XOR chunks: a compressed, checksummed run of (timestamp_ms, value) samples of one series,
// in the Gorilla / Prometheus-XOR family with run-length coding added for samples that
// repeat both the previous interval and the previous value (the common case for Scout data:
// hourly fetches whose values change in a few percent of fetches). The byte format is
// specified in docs/format/chunks.md and frozen by golden tests; change both together.
//
//   XorChunkAppender app;
//   SB_RETURN_IF_ERROR(app.Append(t_ms, v));       // timestamps strictly increasing
//   std::string blob = app.Bytes();                 // self-contained, CRC32-protected
//   SB_ASSIGN_OR_RETURN(XorChunkIterator it, XorChunkIterator::Open(blob));
//   while (it.Next()) Use(it.t(), it.v());
//   SB_RETURN_IF_ERROR(it.status());
//
// Values round-trip bit for bit (NaN payloads such as the Prometheus stale marker, +-Inf,
// -0.0). Timestamps may be any int64 values as long as they strictly increase.
//
// Ownership: the appender owns its buffer. An iterator views a blob the caller keeps alive
// and unchanged while the iterator is in use.
// Thread-safety: none internally. Distinct objects may be used from distinct threads; a
// finished blob is plain bytes and can be shared freely.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "storage/chunk/bit_stream.h"

namespace sb::storage {

// One decoded sample.
struct Sample {
  int64_t timestamp_ms = 0;
  double value = 0;
};

// Format constants (docs/format/chunks.md, "Header").
inline constexpr uint8_t kXorChunkMagic0 = 'S';
inline constexpr uint8_t kXorChunkMagic1 = 'X';
inline constexpr uint8_t kXorChunkVersion = 1;
// Upper bound on samples per chunk. It bounds what a decoder may be asked to produce
// (a run of a million repeats costs only ~41 bits), so it is part of the format.
inline constexpr uint64_t kXorChunkMaxSamples = uint64_t{1} << 20;

class XorChunkAppender {
 public:
  XorChunkAppender() = default;

  // Appends one sample.
  // Errors: InvalidArgument if t_ms is not strictly greater than the last appended
  // timestamp (the message names both timestamps); ResourceExhausted once the chunk holds
  // kXorChunkMaxSamples samples. On error the appender is unchanged.
  Status Append(int64_t t_ms, double v);

  size_t num_samples() const { return static_cast<size_t>(count_); }
  // REQUIRES: num_samples() > 0.
  int64_t first_timestamp_ms() const { return first_t_; }
  int64_t last_timestamp_ms() const { return t_; }

  // Returns the complete encoded chunk (header, bit stream, CRC32) for the samples appended
  // so far. Does not change the appender: more samples may be appended afterwards, and a
  // later call returns a longer chunk. Cost: O(size of the chunk).
  std::string Bytes() const;
  // Bytes(), written into *out (replacing its contents, reusing its capacity).
  void EncodeTo(std::string* out) const;

  // Size Bytes() would return, without building it. Cost: O(1).
  size_t EncodedSize() const;

 private:
  // Writes the pending repeat run, if any, to a BitWriter or the tail of an encoding.
  template <typename Writer>
  void WriteRun(Writer* w) const;

  // 72 bytes: the store holds one appender per series (the open chunk), ~100k of them.
  // count_ and run_ are at most kXorChunkMaxSamples (2^20), so 24 bits each.
  int64_t first_t_ = 0;
  uint64_t first_v_bits_ = 0;
  int64_t t_ = 0;            // Last timestamp.
  uint64_t v_bits_ = 0;      // Last value's bits.
  uint64_t delta_ = 0;       // Last interval t_i - t_{i-1}, modulo 2^64.
  uint32_t count_ : 24 = 0;
  uint32_t leading_ : 8 = 0xff;  // XOR window: leading zeros; 0xff until one is set.
  uint32_t run_ : 24 = 0;    // Samples pending in the current repeat run (not yet written).
  uint32_t trailing_ : 8 = 0;    // XOR window: trailing zeros.
  BitWriter stream_;         // Samples 2..n except the pending run.
};
static_assert(kXorChunkMaxSamples < (uint64_t{1} << 24));

class XorChunkIterator {
 public:
  // Validates the blob's framing: length, magic, version, CRC32, header fields.
  // Errors: Corruption with a message starting "xor chunk: " that says what is wrong.
  // The blob must outlive the iterator and every copy of it.
  static Result<XorChunkIterator> Open(std::string_view blob);

  // Number of samples the header announces.
  size_t num_samples() const { return static_cast<size_t>(count_); }

  // Advances to the next sample. Returns false at the end or on error; then status()
  // tells which. Corruption found mid-stream (a field running past the end, a
  // non-increasing timestamp, a run longer than the samples left, non-zero padding) ends
  // the iteration with a Corruption status; it never reads out of bounds.
  bool Next();

  // The current sample. REQUIRES: the last Next() returned true.
  int64_t t() const { return t_; }
  double v() const;

  // OK while iterating and after a clean end; the first error otherwise.
  const Status& status() const { return status_; }

 private:
  XorChunkIterator(std::string_view stream, uint64_t count, int64_t first_t,
                   uint64_t first_v_bits)
      : reader_(stream), count_(count), t_(first_t), v_bits_(first_v_bits) {}
  bool Fail(std::string what);
  bool ReadDod(uint64_t* dod);
  bool ReadXor(uint64_t* x);
  bool CheckEnd();

  BitReader reader_;
  uint64_t count_ = 0;
  uint64_t read_ = 0;        // Samples returned so far.
  int64_t t_ = 0;
  uint64_t v_bits_ = 0;
  uint64_t delta_ = 0;
  uint8_t leading_ = 0xff;
  uint8_t trailing_ = 0;
  uint64_t run_left_ = 0;    // Repeats still to return from the current run.
  bool done_ = false;
  Status status_;
};

// Decodes a whole chunk. Errors: as XorChunkIterator::Open and Next. Reserves room for the
// announced count up front (at most kXorChunkMaxSamples * 16 bytes = 16 MiB).
Result<std::vector<Sample>> DecodeAll(std::string_view blob);

}  // namespace sb::storage
