// The head log: one row per AppendFetch in table head_log, holding that fetch's samples
// (series id, value) compactly. A fetch is durable once its head_log row is committed; the
// series' chunk rows are brought up to date later, for many fetches at once, by
// Store::Flush (which then deletes the rows it covered). Open replays the rows left.
// Format, with a worked example: docs/format/schema.md, "head_log".
//
//   data  = entry* crc32
//   entry = uvarint(zigzag(id - previous id))  value      (previous id starts at 0)
//   value = uvarint(2 * n)                   for n a non-negative integer < 2^53, stored
//                                            exactly (its double has those bits: not -0)
//         | 0x01  8 bytes (IEEE-754 bits, little endian)   any other value, bit for bit
//   crc32 = CRC-32 (zlib's) of every preceding byte, 4 bytes little endian
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sb::storage {

struct HeadLogEntry {
  int64_t series_id = 0;
  double value = 0;
};

// Appends entries to a head_log blob under construction; Finish() adds the CRC.
class HeadLogWriter {
 public:
  explicit HeadLogWriter(std::string* out) : out_(out) { out_->clear(); }
  void Add(int64_t series_id, double value);
  // Appends the CRC. The blob is complete; Add must not be called again.
  void Finish();
  int64_t count() const { return count_; }

 private:
  std::string* out_;
  int64_t prev_id_ = 0;
  int64_t count_ = 0;
};

// Decodes a head_log blob of `num_series` entries into *out (cleared first).
// Errors: Corruption naming the byte offset (truncated entry, bad CRC, bad value tag, more
// or fewer entries than num_series, an id <= 0).
Status DecodeHeadLog(std::string_view data, int64_t num_series, std::vector<HeadLogEntry>* out);

}  // namespace sb::storage
