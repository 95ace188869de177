#include "common/gzip.h"

#include <zlib.h>

#include <random>
#include <string>

#include "tests/testing/testing.h"

namespace sb {
namespace {

std::string RandomText(uint32_t seed, size_t n) {
  std::mt19937 rng(seed);
  std::string s;
  s.reserve(n);
  const char alphabet[] = "abcdefghij_{}=\",\n0123456789 ";
  for (size_t i = 0; i < n; ++i) s.push_back(alphabet[rng() % (sizeof(alphabet) - 1)]);
  return s;
}

// Compresses with zlib's compress2 (zlib wrapper) or raw deflate, to test auto-detection.
std::string DeflateWith(std::string_view data, int window_bits) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, data.size()) + 16, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = data.size();
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = out.size();
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

TEST(GzipTest, RoundTripsRandomDataAtEveryLevel) {
  for (int level = -1; level <= 9; ++level) {
    const std::string input = RandomText(100 + level, 50000 + level * 1000);
    auto gz = GzipCompress(input, level);
    ASSERT_OK(gz);
    ASSERT_GE(gz->size(), 18u);
    EXPECT_EQ(static_cast<unsigned char>((*gz)[0]), 0x1f);
    EXPECT_EQ(static_cast<unsigned char>((*gz)[1]), 0x8b);
    auto back = GzipDecompress(*gz, input.size());
    ASSERT_OK(back);
    EXPECT_EQ(*back, input) << "level " << level;
  }
}

TEST(GzipTest, RoundTripsEmptyInput) {
  auto gz = GzipCompress("");
  ASSERT_OK(gz);
  auto back = GzipDecompress(*gz, 0);
  ASSERT_OK(back);
  EXPECT_EQ(*back, "");
}

TEST(GzipTest, CompressedOutputIsReadableByZlib) {
  const std::string input = RandomText(7, 10000);
  auto gz = GzipCompress(input, 9);
  ASSERT_OK(gz);
  z_stream zs{};
  ASSERT_EQ(inflateInit2(&zs, 16 + MAX_WBITS), Z_OK);
  std::string out(input.size() + 10, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(gz->data());
  zs.avail_in = gz->size();
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = out.size();
  EXPECT_EQ(inflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  inflateEnd(&zs);
  EXPECT_EQ(out, input);
}

TEST(GzipTest, RejectsLevelOutOfRange) {
  EXPECT_EQ(GzipCompress("x", 10).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(GzipCompress("x", -2).status().code(), Status::Code::kInvalidArgument);
}

TEST(GzipTest, DetectsZlibAndRawDeflateWrappers) {
  const std::string input = RandomText(3, 20000);
  auto z = GzipDecompress(DeflateWith(input, MAX_WBITS), input.size());
  ASSERT_OK(z);
  EXPECT_EQ(*z, input);
  auto raw = GzipDecompress(DeflateWith(input, -MAX_WBITS), input.size());
  ASSERT_OK(raw);
  EXPECT_EQ(*raw, input);
}

TEST(GzipTest, OutputExactlyAtLimitIsAccepted) {
  const std::string input(100000, 'a');
  auto gz = GzipCompress(input);
  ASSERT_OK(gz);
  auto back = GzipDecompress(*gz, input.size());
  ASSERT_OK(back);
  EXPECT_EQ(back->size(), input.size());
}

TEST(GzipTest, BombBeyondLimitIsResourceExhaustedNamingTheLimit) {
  const std::string input(10 * 1000 * 1000, '0');  // compresses ~1000:1
  auto gz = GzipCompress(input, 9);
  ASSERT_OK(gz);
  ASSERT_LT(gz->size(), 20000u);
  auto back = GzipDecompress(*gz, 1000000);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().code(), Status::Code::kResourceExhausted);
  EXPECT_THAT(back.status().message(), ::testing::HasSubstr("1000000"));
  // One byte under the real size is also too much.
  auto just_under = GzipDecompress(*gz, input.size() - 1);
  EXPECT_EQ(just_under.status().code(), Status::Code::kResourceExhausted);
}

TEST(GzipTest, TruncatedInputIsCorruption) {
  const std::string input = RandomText(11, 30000);
  auto gz = GzipCompress(input);
  ASSERT_OK(gz);
  for (size_t cut : {size_t{5}, size_t{11}, gz->size() / 2, gz->size() - 4, gz->size() - 1}) {
    auto back = GzipDecompress(std::string_view(*gz).substr(0, cut), 1 << 20);
    ASSERT_FALSE(back.ok()) << "cut at " << cut;
    EXPECT_EQ(back.status().code(), Status::Code::kCorruption) << back.status().ToString();
  }
}

TEST(GzipTest, GarbledInputIsCorruption) {
  const std::string input = RandomText(12, 30000);
  auto gz = GzipCompress(input);
  ASSERT_OK(gz);
  std::string bad = *gz;
  bad[bad.size() - 6] ^= 0x55;  // inside the CRC32 trailer
  auto crc = GzipDecompress(bad, 1 << 20);
  EXPECT_EQ(crc.status().code(), Status::Code::kCorruption) << crc.status().ToString();

  bad = *gz;
  bad[2] = 7;  // compression method other than deflate
  auto method = GzipDecompress(bad, 1 << 20);
  EXPECT_EQ(method.status().code(), Status::Code::kCorruption) << method.status().ToString();

  auto text = GzipDecompress("this is not compressed at all", 1 << 20);
  EXPECT_EQ(text.status().code(), Status::Code::kCorruption) << text.status().ToString();
}

// The ISIZE trailer only sizes the first output buffer: a trailer that lies (too small, too
// large, or zero) neither truncates nor over-reads, and zlib's own length check reports it.
TEST(GzipTest, LyingSizeTrailerIsCorruptionNotATruncatedBody) {
  const std::string input = RandomText(13, 200000);
  auto gz = GzipCompress(input);
  ASSERT_OK(gz);
  for (uint32_t lie : {0u, 10u, 199999u, 200001u, 0xffffffffu}) {
    std::string bad = *gz;
    for (int i = 0; i < 4; ++i) bad[bad.size() - 4 + i] = static_cast<char>((lie >> (8 * i)) & 0xff);
    auto back = GzipDecompress(bad, 1 << 20);
    ASSERT_FALSE(back.ok()) << "ISIZE " << lie;
    EXPECT_EQ(back.status().code(), Status::Code::kCorruption) << back.status().ToString();
  }
  // Two members: the last trailer counts only the second one; the output is still whole.
  auto tail = GzipCompress("tail");
  ASSERT_OK(tail);
  auto joined = GzipDecompress(*gz + *tail, 1 << 20);
  ASSERT_OK(joined);
  EXPECT_EQ(*joined, input + "tail");
}

// A compressed body is kept for as long as its snapshot is served: it must not hold on to a
// buffer sized for the uncompressed input.
TEST(GzipTest, CompressedOutputDoesNotKeepAnInputSizedBuffer) {
  std::string input;
  for (int i = 0; input.size() < (4 << 20); ++i) input += "metric{label=\"value\"} " + std::to_string(i % 7) + "\n";
  auto gz = GzipCompress(input, 1);
  ASSERT_OK(gz);
  EXPECT_LT(gz->size(), input.size() / 10);
  EXPECT_LT(gz->capacity(), gz->size() + gz->size() / 4 + 64);
  auto back = GzipDecompress(*gz, input.size());
  ASSERT_OK(back);
  EXPECT_EQ(*back, input);
}

TEST(GzipTest, ConcatenatedMembersAreJoined) {
  auto a = GzipCompress("hello ");
  auto b = GzipCompress("world");
  ASSERT_OK(a);
  ASSERT_OK(b);
  auto back = GzipDecompress(*a + *b, 100);
  ASSERT_OK(back);
  EXPECT_EQ(*back, "hello world");
}

TEST(GzipTest, TrailingGarbageIsCorruption) {
  auto a = GzipCompress("hello");
  ASSERT_OK(a);
  auto back = GzipDecompress(*a + "xyz", 100);
  EXPECT_EQ(back.status().code(), Status::Code::kCorruption);
}

// The streaming form hands over the same bytes in pieces of at most 256 KiB, for every
// wrapper and for concatenated members, fails as GzipDecompress does, and stops at the
// sink's error.
TEST(GzipTest, StreamHandsOverTheSameBytesInBoundedPiecesAndFailsTheSameWay) {
  const std::string text = RandomText(91, 3 << 20);
  auto gz = GzipCompress(text, 1);
  ASSERT_TRUE(gz.ok());
  const std::string members = *gz + *GzipCompress("tail\n");
  for (const std::string& in : {*gz, members, DeflateWith(text, MAX_WBITS), DeflateWith(text, -MAX_WBITS)}) {
    std::string out;
    size_t pieces = 0;
    ASSERT_TRUE(GzipDecompressStream(in, 64 << 20, [&](std::string_view p) {
      EXPECT_LE(p.size(), 256u << 10);
      EXPECT_FALSE(p.empty());
      out.append(p);
      ++pieces;
      return Status::OK();
    }).ok());
    EXPECT_EQ(out, *GzipDecompress(in, 64 << 20));
    EXPECT_GT(pieces, 10u);
  }
  // The limit: exactly at it passes, one byte under fails naming the limit, and nothing past
  // the limit is handed over.
  size_t seen = 0;
  auto count = [&](std::string_view p) {
    seen += p.size();
    return Status::OK();
  };
  EXPECT_TRUE(GzipDecompressStream(*gz, text.size(), count).ok());
  seen = 0;
  Status over = GzipDecompressStream(*gz, text.size() - 1, count);
  EXPECT_EQ(over.code(), Status::Code::kResourceExhausted);
  EXPECT_EQ(over.message(), GzipDecompress(*gz, text.size() - 1).status().message());
  EXPECT_LE(seen, text.size() - 1);
  // Broken input: the same error as GzipDecompress.
  std::string garbled = *gz;
  garbled[garbled.size() / 2] ^= 0x55;
  for (const std::string& in : {gz->substr(0, gz->size() / 2), garbled, *gz + "junk", std::string("x")}) {
    Status st = GzipDecompressStream(in, 64 << 20, [](std::string_view) { return Status::OK(); });
    auto whole = GzipDecompress(in, 64 << 20);
    ASSERT_FALSE(st.ok());
    ASSERT_FALSE(whole.ok());
    EXPECT_EQ(st.code(), whole.status().code());
    EXPECT_EQ(st.message(), whole.status().message());
  }
  // The sink's error stops it, as is.
  int calls = 0;
  Status stopped = GzipDecompressStream(*gz, 64 << 20, [&](std::string_view) {
    return ++calls == 2 ? Status::InvalidArgument("enough") : Status::OK();
  });
  EXPECT_EQ(stopped.message(), "enough");
  EXPECT_EQ(calls, 2);
}

TEST(GzipTest, EmptyInputIsInvalidArgument) {
  EXPECT_EQ(GzipDecompress("", 100).status().code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace sb
