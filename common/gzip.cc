#include "common/gzip.h"

#include <zlib.h>

#include <algorithm>
#include <functional>
#include <limits>

namespace sb {
namespace {

// zlib counts in uInt; feed larger buffers in slices of this size.
constexpr size_t kMaxSlice = size_t{1} << 30;
// GzipDecompressStream hands the output over in pieces of at most this size.
constexpr size_t kStreamPieceBytes = size_t{256} << 10;

enum class Wrapper { kGzip, kZlib, kRaw };

Wrapper DetectWrapper(std::string_view data) {
  const auto b0 = static_cast<unsigned char>(data[0]);
  if (data.size() >= 2) {
    const auto b1 = static_cast<unsigned char>(data[1]);
    if (b0 == 0x1f && b1 == 0x8b) return Wrapper::kGzip;
    // RFC 1950: CM = 8 (deflate), CINFO <= 7, and the 16-bit header is a multiple of 31.
    if ((b0 & 0x0f) == 8 && (b0 >> 4) <= 7 && ((b0 << 8) | b1) % 31 == 0) return Wrapper::kZlib;
  }
  return Wrapper::kRaw;
}

int WindowBits(Wrapper w) {
  switch (w) {
    case Wrapper::kGzip: return 16 + MAX_WBITS;
    case Wrapper::kZlib: return MAX_WBITS;
    case Wrapper::kRaw: return -MAX_WBITS;
  }
  return MAX_WBITS;
}

const char* WrapperName(Wrapper w) {
  switch (w) {
    case Wrapper::kGzip: return "gzip";
    case Wrapper::kZlib: return "zlib";
    case Wrapper::kRaw: return "deflate";
  }
  return "?";
}

// Owns a z_stream set up for inflate; ends it on destruction.
class Inflater {
 public:
  Inflater() = default;
  ~Inflater() { if (initialized_) inflateEnd(&zs_); }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;
  int Init(int window_bits) {
    int rc = inflateInit2(&zs_, window_bits);
    initialized_ = rc == Z_OK;
    return rc;
  }
  z_stream* stream() { return &zs_; }

 private:
  z_stream zs_{};
  bool initialized_ = false;
};

}  // namespace

Result<std::string> GzipCompress(std::string_view data, int level) {
  if (level < -1 || level > 9) {
    return Status::InvalidArgument("gzip: compression level " + std::to_string(level) +
                                   " outside -1..9");
  }
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return Status::Internal("gzip: deflateInit2 failed");
  }
  // Deflate into a small scratch buffer and append: the output is usually a small fraction
  // of the input (exposition text: ~6%), so sizing it by deflateBound would zero-fill and
  // keep resident a buffer the size of the input for as long as the body lives.
  std::string out;
  out.reserve(std::min<size_t>(data.size() / 8 + 64, size_t{16} << 20));
  std::string scratch(size_t{64} << 10, '\0');
  size_t in_pos = 0;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    const size_t in_len = std::min(data.size() - in_pos, kMaxSlice);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + in_pos));
    zs.avail_in = static_cast<uInt>(in_len);
    const bool last = in_pos + in_len == data.size();
    do {
      zs.next_out = reinterpret_cast<Bytef*>(scratch.data());
      zs.avail_out = static_cast<uInt>(scratch.size());
      rc = deflate(&zs, last ? Z_FINISH : Z_NO_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
        deflateEnd(&zs);
        return Status::Internal("gzip: deflate failed with code " + std::to_string(rc));
      }
      out.append(scratch.data(), scratch.size() - zs.avail_out);
    } while (zs.avail_out == 0 && rc != Z_STREAM_END);
    in_pos += in_len - zs.avail_in;
  }
  deflateEnd(&zs);
  out.shrink_to_fit();
  return out;
}

Status GzipDecompressStream(std::string_view data, size_t max_output_bytes,
                            const std::function<Status(std::string_view)>& sink) {
  if (data.empty()) return Status::InvalidArgument("gzip: empty input");
  const Wrapper wrapper = DetectWrapper(data);
  const char* name = WrapperName(wrapper);
  Inflater inflater;
  if (inflater.Init(WindowBits(wrapper)) != Z_OK) {
    return Status::Internal("gzip: inflateInit2 failed");
  }
  z_stream* zs = inflater.stream();
  std::string piece(kStreamPieceBytes, '\0');
  size_t in_pos = 0;
  size_t total = 0;
  for (;;) {
    const size_t in_len = std::min(data.size() - in_pos, kMaxSlice);
    zs->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + in_pos));
    zs->avail_in = static_cast<uInt>(in_len);
    zs->next_out = reinterpret_cast<Bytef*>(piece.data());
    zs->avail_out = static_cast<uInt>(piece.size());
    const int rc = inflate(zs, Z_NO_FLUSH);
    in_pos += in_len - zs->avail_in;
    const size_t produced = piece.size() - zs->avail_out;
    total += produced;
    // Checked before the piece is handed over: nothing past the limit reaches the sink.
    if (total > max_output_bytes) {
      return Status::ResourceExhausted(std::string(name) + ": decompressed size exceeds the limit of " +
                                       std::to_string(max_output_bytes) + " bytes");
    }
    if (produced > 0) SB_RETURN_IF_ERROR(sink(std::string_view(piece.data(), produced)));
    if (rc == Z_STREAM_END) {
      if (in_pos == data.size()) return Status::OK();
      // gzip allows concatenated members; anything else after the end is garbage.
      const std::string_view rest = data.substr(in_pos);
      if (wrapper == Wrapper::kGzip && rest.size() >= 2 &&
          static_cast<unsigned char>(rest[0]) == 0x1f &&
          static_cast<unsigned char>(rest[1]) == 0x8b) {
        inflateReset(zs);
        continue;
      }
      return Status::Corruption(std::string(name) + ": " + std::to_string(rest.size()) +
                                " bytes of trailing garbage after the end of the stream");
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      std::string what = zs->msg != nullptr ? zs->msg : ("zlib code " + std::to_string(rc));
      if (rc == Z_MEM_ERROR) return Status::Internal(std::string(name) + ": out of memory");
      return Status::Corruption(std::string(name) + ": invalid compressed data at input byte " +
                                std::to_string(in_pos) + ": " + what);
    }
    if ((in_pos == data.size() && zs->avail_out != 0) || (produced == 0 && zs->avail_in == in_len)) {
      // zlib consumed everything, had room to write, and did not reach the end (or made no
      // progress at all: Z_BUF_ERROR).
      return Status::Corruption(std::string(name) + ": truncated input (stream ended after " +
                                std::to_string(data.size()) + " bytes without its end marker)");
    }
  }
}

Result<std::string> GzipDecompress(std::string_view data, size_t max_output_bytes) {
  if (data.empty()) return Status::InvalidArgument("gzip: empty input");
  // A gzip stream ends with ISIZE, the uncompressed size mod 2^32: with a single member that
  // is the exact output size, so the buffer is allocated once. It is only a hint (a damaged
  // or multi-member stream may lie): appending still grows as needed.
  size_t initial = std::max<size_t>(data.size() * 4, 4096);
  if (DetectWrapper(data) == Wrapper::kGzip && data.size() >= 18) {
    const auto* t = reinterpret_cast<const unsigned char*>(data.data() + data.size() - 4);
    const size_t isize = t[0] | (t[1] << 8) | (t[2] << 16) | (static_cast<size_t>(t[3]) << 24);
    // Deflate cannot expand more than ~1032:1, which bounds what a lying trailer can cost.
    if (isize > 0) initial = std::min(isize, data.size() * 1032 + 64);
  }
  std::string out;
  out.reserve(std::min(max_output_bytes, initial));
  SB_RETURN_IF_ERROR(GzipDecompressStream(data, max_output_bytes, [&out](std::string_view piece) {
    out.append(piece);
    return Status::OK();
  }));
  return out;
}

}  // namespace sb
