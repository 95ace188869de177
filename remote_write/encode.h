// Remote-write payloads: building the protobuf request (1.0 prometheus.WriteRequest or 2.0
// io.prometheus.write.v2.Request) from series, compressing it with snappy (block format),
// and, for tests and tools, the inverse (decompress with a bound, decode).
//
// The input is taken as given: the caller (Endpoint) has already sorted labels, dropped
// empty ones, and ordered each series' samples by strictly increasing timestamp.
//
// Thread-safety: an Encoder reuses its protobuf messages between calls and is for one
// thread; the free functions are reentrant.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/exposition/model.h"
#include "common/status.h"
#include "storage/chunk/xor_chunk.h"
#include "storage/series.h"

namespace sb::remote_write {

// The two wire protocols. kV2's Content-Type carries "proto=io.prometheus.write.v2.Request".
enum class Protocol { kV1, kV2 };

inline constexpr std::string_view kContentTypeV1 = "application/x-protobuf";
inline constexpr std::string_view kContentTypeV2 = "application/x-protobuf;proto=io.prometheus.write.v2.Request";
inline constexpr std::string_view kVersionV1 = "0.1.0";
inline constexpr std::string_view kVersionV2 = "2.0.0";

// One series to send: labels (sorted, unique names, no empty values, __name__ included)
// and its samples in strictly increasing time order.
struct OutSeries {
  storage::Labels labels;
  std::vector<storage::Sample> samples;
};

// A series prepared once for sending (see series_cache.h): its final labels (relabelled,
// external labels added) already serialized as the `repeated Label labels = 1` fields of a
// 1.0 TimeSeries, and a hash of them that picks the shard. Immutable; shared between fetches.
struct PreparedSeries {
  std::string pb_labels;
  uint64_t shard_hash = 0;
};

// Builds the prepared form of `labels` (canonical: sorted, no empty values).
std::shared_ptr<const PreparedSeries> PrepareSeries(const storage::Labels& labels);

// Calls fn(name, value) for each label serialized in `pb_labels`, in order. Returns false
// (after calling fn for the labels before it) if the bytes are malformed.
bool ForEachPreparedLabel(std::string_view pb_labels,
                          const std::function<void(std::string_view name, std::string_view value)>& fn);

// A series as the batch encoders take it: either `prepared` (its final labels, relabelled
// and serialized once, see series_cache.h), or, with `prepared` null, the store's key of the
// series (storage::EncodeLabels of its canonical labels). Its final labels are then the key's
// labels plus the external labels it lacks (Prometheus's rule: the series' own label wins),
// serialized while the request is written, so nothing is kept per series. `key` outlives the
// batch (the store keeps every key while it is open).
struct SeriesRef {
  std::string_view key;
  const PreparedSeries* prepared = nullptr;
};

// The hash that picks a series' shard: the same for every batch of one series.
uint64_t ShardHash(const SeriesRef& series);

// Calls fn(name, value) for each final label of `series`, sorted by name. `external`: sorted
// by name, no empty values (Relabeler::external()). Returns false if the key or the prepared
// bytes are malformed (after calling fn for the labels before).
bool ForEachLabel(const SeriesRef& series, const storage::Labels& external,
                  const std::function<void(std::string_view name, std::string_view value)>& fn);

// One series' samples in a batch: `num_samples` samples from `samples`, strictly increasing
// in time. Points into memory the caller keeps alive while encoding.
struct BatchSeries {
  SeriesRef series;
  const storage::Sample* samples = nullptr;
  size_t num_samples = 0;
};

// Metadata of one metric family.
struct OutMetadata {
  std::string family;
  expo::MetricType type = expo::MetricType::kUnknown;
  std::string help;
  std::string unit;
  bool operator==(const OutMetadata&) const = default;
};

// The family a sample name belongs to in `by_family`: the name itself, or the name without
// one of the suffixes _total, _bucket, _count, _sum, _created, _info. nullptr if none.
const OutMetadata* FindFamily(const std::map<std::string, OutMetadata, std::less<>>& by_family,
                              std::string_view metric_name);

class Encoder {
 public:
  Encoder();
  ~Encoder();
  // Serializes a 1.0 WriteRequest with `series` and `metadata` (either may be empty).
  std::string EncodeV1(const std::vector<const OutSeries*>& series, const std::vector<OutMetadata>& metadata);
  // Serializes a 2.0 Request with `series`; each series carries the metadata of its family
  // from `metadata` when known. Symbols are interned; symbols[0] is "".
  std::string EncodeV2(const std::vector<const OutSeries*>& series,
                       const std::map<std::string, OutMetadata, std::less<>>& metadata);

  // The hot path: a 1.0 WriteRequest with `batch` (no metadata) written into *out (its
  // capacity is reused). Prepared labels are copied as they are; a store key is serialized
  // with `external` merged in (see SeriesRef). The bytes are exactly what libprotobuf writes
  // for the same request (encode_test checks this).
  static void EncodeBatchV1(const std::vector<BatchSeries>& batch, const storage::Labels& external,
                            std::string* out);
  // A 2.0 Request with `batch`, as EncodeV2 above, into *out.
  void EncodeBatchV2(const std::vector<BatchSeries>& batch, const storage::Labels& external,
                     const std::map<std::string, OutMetadata, std::less<>>& metadata, std::string* out);

 private:
  struct Messages;
  std::unique_ptr<Messages> m_;
};

// Snappy block compression (the remote-write Content-Encoding "snappy").
std::string Compress(std::string_view raw);
// The same into *out, reusing its capacity.
void Compress(std::string_view raw, std::string* out);

// Inverse of Compress. Errors: InvalidArgument if the data is not valid snappy, or
// ResourceExhausted if its declared uncompressed length exceeds max_bytes (checked before
// anything is allocated).
Result<std::string> Decompress(std::string_view compressed, size_t max_bytes);

// A decoded request, for tests and tools.
struct DecodedRequest {
  std::vector<OutSeries> series;
  std::vector<OutMetadata> metadata;  // v1: the metadata field; v2: one per series that has it,
                                      // family = the series' __name__
};

// Parses a serialized (uncompressed) request. Errors: InvalidArgument if it does not parse,
// or (v2) if a symbol reference is out of range or labels_refs has odd length.
Result<DecodedRequest> Decode(std::string_view raw, Protocol protocol);

}  // namespace sb::remote_write
