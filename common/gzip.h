// Gzip (RFC 1952) compression and bounded decompression over zlib, for response bodies
// (pre-compressed snapshot bodies) and for upstream bodies that arrive Content-Encoding: gzip.
//
// Decompression is bounded before anything large is allocated: the output never grows past
// `max_output_bytes`, so a "zip bomb" costs at most that much memory.
//
// Thread-safety: free functions with no shared state; safe from any thread.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sb {

// Returns `data` compressed as a single gzip member (with header and CRC32 trailer).
// `level` is zlib's: 0 (store) .. 9 (best); 6 is zlib's default trade-off, -1 means 6.
// Errors: InvalidArgument for a level outside -1..9; Internal if zlib fails (out of memory).
Result<std::string> GzipCompress(std::string_view data, int level = 6);

// Returns the decompressed bytes of `data`. The wrapper is detected from the first bytes:
// gzip (1f 8b, possibly several concatenated members, as `cat a.gz b.gz` gives), zlib
// (RFC 1950 header), or else raw deflate (RFC 1951), which some servers send for
// "Content-Encoding: deflate".
// Errors:
//   ResourceExhausted  the output would exceed `max_output_bytes` (message names the limit);
//   Corruption         truncated input, a bad header, bad deflate data or a CRC mismatch;
//   InvalidArgument    empty input.
Result<std::string> GzipDecompress(std::string_view data, size_t max_output_bytes);

// The same, but the output is handed to `sink` in order, in pieces of at most 256 KiB, and
// never held whole: memory stays one piece whatever the output size. The bound is checked
// before a piece is handed over. Errors: as GzipDecompress (after the pieces before the
// error were handed over), or the first non-OK status `sink` returns, as is.
Status GzipDecompressStream(std::string_view data, size_t max_output_bytes,
                            const std::function<Status(std::string_view piece)>& sink);

}  // namespace sb
