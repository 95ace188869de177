#include "storage/head_log.h"

#include <zlib.h>

#include <bit>
#include <cstring>

#include "storage/series.h"

namespace sb::storage {
namespace {

constexpr uint64_t kMaxExactInt = uint64_t{1} << 53;

uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

uint32_t Crc(std::string_view bytes) {
  return static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

}  // namespace

void HeadLogWriter::Add(int64_t series_id, double value) {
  PutUvarint(out_, ZigZag(series_id - prev_id_));
  prev_id_ = series_id;
  ++count_;
  // An exact small non-negative integer (most Scout values: counts) takes 1-3 bytes.
  if (value >= 0 && value < static_cast<double>(kMaxExactInt)) {
    const uint64_t n = static_cast<uint64_t>(value);
    if (std::bit_cast<uint64_t>(static_cast<double>(n)) == std::bit_cast<uint64_t>(value)) {
      PutUvarint(out_, n << 1);
      return;
    }
  }
  out_->push_back('\x01');
  const uint64_t bits = std::bit_cast<uint64_t>(value);
  for (int i = 0; i < 8; ++i) out_->push_back(static_cast<char>(bits >> (8 * i)));
}

void HeadLogWriter::Finish() {
  const uint32_t crc = Crc(*out_);
  for (int i = 0; i < 4; ++i) out_->push_back(static_cast<char>(crc >> (8 * i)));
}

Status DecodeHeadLog(std::string_view data, int64_t num_series, std::vector<HeadLogEntry>* out) {
  out->clear();
  if (data.size() < 4) {
    return Status::Corruption("head_log blob of " + std::to_string(data.size()) +
                              " bytes is shorter than its CRC");
  }
  const std::string_view body = data.substr(0, data.size() - 4);
  uint32_t want = 0;
  for (int i = 0; i < 4; ++i) {
    want |= static_cast<uint32_t>(static_cast<unsigned char>(data[body.size() + i])) << (8 * i);
  }
  if (Crc(body) != want) return Status::Corruption("head_log blob: CRC mismatch");
  if (num_series < 0 || static_cast<uint64_t>(num_series) > body.size()) {
    return Status::Corruption("head_log blob: num_series " + std::to_string(num_series) +
                              " does not fit its " + std::to_string(body.size()) + " bytes");
  }
  out->reserve(static_cast<size_t>(num_series));
  size_t pos = 0;
  int64_t id = 0;
  while (pos < body.size()) {
    const size_t at = pos;
    uint64_t delta = 0, tag = 0;
    if (!GetUvarint(body, &pos, &delta) || !GetUvarint(body, &pos, &tag)) {
      return Status::Corruption("head_log blob: truncated entry at byte " + std::to_string(at));
    }
    id += UnZigZag(delta);
    if (id <= 0) {
      return Status::Corruption("head_log blob: series id " + std::to_string(id) +
                                " at byte " + std::to_string(at));
    }
    double v = 0;
    if ((tag & 1) == 0) {
      if ((tag >> 1) >= kMaxExactInt) {
        return Status::Corruption("head_log blob: integer value out of range at byte " +
                                  std::to_string(at));
      }
      v = static_cast<double>(tag >> 1);
    } else if (tag == 1) {
      if (body.size() - pos < 8) {
        return Status::Corruption("head_log blob: truncated value at byte " + std::to_string(at));
      }
      uint64_t bits = 0;
      for (int i = 0; i < 8; ++i) {
        bits |= static_cast<uint64_t>(static_cast<unsigned char>(body[pos + i])) << (8 * i);
      }
      pos += 8;
      v = std::bit_cast<double>(bits);
    } else {
      return Status::Corruption("head_log blob: bad value tag " + std::to_string(tag) +
                                " at byte " + std::to_string(at));
    }
    out->push_back(HeadLogEntry{id, v});
  }
  if (static_cast<int64_t>(out->size()) != num_series) {
    return Status::Corruption("head_log blob holds " + std::to_string(out->size()) +
                              " entries, its row says " + std::to_string(num_series));
  }
  return Status::OK();
}

}  // namespace sb::storage
