#include "remote_write/encode.h"

#include <snappy.h>

#include <cstring>
#include <unordered_map>

#include "remote_write/proto/remote.pb.h"
#include "remote_write/proto/write_v2.pb.h"

namespace sb::remote_write {

struct Encoder::Messages {
  prometheus::WriteRequest v1;
  io::prometheus::write::v2::Request v2;
};

namespace {

// expo::MetricType and both protocols' enums share their numbering (unknown = 0 ...
// stateset = 7); this table makes that explicit.
int TypeNumber(expo::MetricType t) {
  switch (t) {
    case expo::MetricType::kUnknown: return 0;
    case expo::MetricType::kCounter: return 1;
    case expo::MetricType::kGauge: return 2;
    case expo::MetricType::kHistogram: return 3;
    case expo::MetricType::kGaugeHistogram: return 4;
    case expo::MetricType::kSummary: return 5;
    case expo::MetricType::kInfo: return 6;
    case expo::MetricType::kStateSet: return 7;
  }
  return 0;
}

expo::MetricType TypeFromNumber(int n) {
  static const expo::MetricType kTypes[] = {
      expo::MetricType::kUnknown, expo::MetricType::kCounter, expo::MetricType::kGauge,
      expo::MetricType::kHistogram, expo::MetricType::kGaugeHistogram, expo::MetricType::kSummary,
      expo::MetricType::kInfo, expo::MetricType::kStateSet};
  return n >= 0 && n < 8 ? kTypes[n] : expo::MetricType::kUnknown;
}

// Protobuf wire format, for the hand-written 1.0 path: varints and the size of a Sample
// message as proto3 writes it (zero-valued fields omitted: value with all bits 0, timestamp 0).
size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

char* PutVarint(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

uint64_t DoubleBits(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return bits;
}

size_t SampleSize(const storage::Sample& s) {
  size_t n = 0;
  if (DoubleBits(s.value) != 0) n += 9;
  if (s.timestamp_ms != 0) n += 1 + VarintSize(static_cast<uint64_t>(s.timestamp_ms));
  return n;
}

// The next label of a store key (storage::EncodeLabels: uvarint length + bytes, name then
// value). Lengths under 128 (nearly all) are one byte.
inline bool NextKeyLabel(std::string_view key, size_t* pos, std::string_view* name, std::string_view* value) {
  auto field = [&](std::string_view* out) {
    if (*pos >= key.size()) return false;
    uint64_t n = static_cast<unsigned char>(key[*pos]);
    if (n < 0x80) {
      ++*pos;
    } else if (!storage::GetUvarint(key, pos, &n)) {
      return false;
    }
    if (n > key.size() - *pos) return false;
    *out = key.substr(*pos, n);
    *pos += n;
    return true;
  };
  return field(name) && field(value);
}

// Calls fn(name, value) for the labels of store key `key` merged with `external` (both sorted
// by name; a name in both keeps the key's value). False if the key is malformed.
template <typename Fn>
bool ForEachKeyLabel(std::string_view key, const storage::Labels& external, Fn&& fn) {
  size_t pos = 0, e = 0;
  std::string_view name, value;
  while (pos < key.size()) {
    if (!NextKeyLabel(key, &pos, &name, &value)) return false;
    for (; e < external.size() && external[e].name < name; ++e) fn(external[e].name, external[e].value);
    if (e < external.size() && external[e].name == name) ++e;
    fn(name, value);
  }
  for (; e < external.size(); ++e) fn(external[e].name, external[e].value);
  return true;
}

// A Label message (name = 1, value = 2; empty strings omitted, as proto3 does) and the
// `repeated Label labels = 1` field around it.
inline size_t LabelSize(std::string_view n, std::string_view v) {
  return (n.empty() ? 0 : 1 + VarintSize(n.size()) + n.size()) + (v.empty() ? 0 : 1 + VarintSize(v.size()) + v.size());
}
inline size_t LabelFieldSize(std::string_view n, std::string_view v) {
  const size_t inner = LabelSize(n, v);
  return 1 + VarintSize(inner) + inner;
}
inline char* PutLabelField(char* p, std::string_view n, std::string_view v) {
  *p++ = '\x0a';
  p = PutVarint(p, LabelSize(n, v));
  if (!n.empty()) {
    *p++ = '\x0a';
    p = PutVarint(p, n.size());
    std::memcpy(p, n.data(), n.size());
    p += n.size();
  }
  if (!v.empty()) {
    *p++ = '\x12';
    p = PutVarint(p, v.size());
    std::memcpy(p, v.data(), v.size());
    p += v.size();
  }
  return p;
}

// The serialized size of a series' labels field(s).
size_t LabelsSize(const SeriesRef& s, const storage::Labels& external) {
  if (s.prepared != nullptr) return s.prepared->pb_labels.size();
  size_t n = 0;
  ForEachKeyLabel(s.key, external, [&](std::string_view a, std::string_view b) { n += LabelFieldSize(a, b); });
  return n;
}

}  // namespace

std::shared_ptr<const PreparedSeries> PrepareSeries(const storage::Labels& labels) {
  auto p = std::make_shared<PreparedSeries>();
  // Serialized by libprotobuf from the .proto's TimeSeries, once per series (not on the hot
  // path): a TimeSeries holding only labels is exactly its `repeated Label labels = 1`
  // fields, which EncodeBatchV1 then copies into every request for this series.
  prometheus::TimeSeries ts;
  // The shard hash: FNV-1a over name, 0xff, value, 0xff, ... (stable across restarts).
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&](const std::string& s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;
  };
  for (const auto& l : labels) {
    auto* pl = ts.add_labels();
    pl->set_name(l.name);
    pl->set_value(l.value);
    mix(l.name);
    mix(l.value);
  }
  ts.SerializeToString(&p->pb_labels);
  p->shard_hash = h;
  return p;
}

uint64_t ShardHash(const SeriesRef& s) {
  return s.prepared != nullptr ? s.prepared->shard_hash : std::hash<std::string_view>{}(s.key);
}

bool ForEachLabel(const SeriesRef& s, const storage::Labels& external,
                  const std::function<void(std::string_view, std::string_view)>& fn) {
  if (s.prepared != nullptr) return ForEachPreparedLabel(s.prepared->pb_labels, fn);
  return ForEachKeyLabel(s.key, external, fn);
}

bool ForEachPreparedLabel(std::string_view pb, const std::function<void(std::string_view, std::string_view)>& fn) {
  size_t pos = 0;
  auto varint = [&](std::string_view in, size_t* at, uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64 && *at < in.size(); shift += 7) {
      unsigned char c = static_cast<unsigned char>(in[(*at)++]);
      *v |= static_cast<uint64_t>(c & 0x7f) << shift;
      if (!(c & 0x80)) return true;
    }
    return false;
  };
  while (pos < pb.size()) {
    uint64_t len;
    if (pb[pos++] != '\x0a' || !varint(pb, &pos, &len) || len > pb.size() - pos) return false;
    std::string_view label = pb.substr(pos, len);
    pos += len;
    std::string_view name, value;
    size_t at = 0;
    while (at < label.size()) {
      char tag = label[at++];
      uint64_t n;
      if (!varint(label, &at, &n) || n > label.size() - at) return false;
      if (tag == '\x0a') name = label.substr(at, n);
      else if (tag == '\x12') value = label.substr(at, n);
      else return false;
      at += n;
    }
    fn(name, value);
  }
  return true;
}

const OutMetadata* FindFamily(const std::map<std::string, OutMetadata, std::less<>>& by_family,
                              std::string_view name) {
  auto it = by_family.find(name);
  if (it != by_family.end()) return &it->second;
  for (std::string_view suffix : {"_total", "_bucket", "_count", "_sum", "_created", "_info"}) {
    if (name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix) {
      it = by_family.find(name.substr(0, name.size() - suffix.size()));
      if (it != by_family.end()) return &it->second;
    }
  }
  return nullptr;
}

Encoder::Encoder() : m_(std::make_unique<Messages>()) {}
Encoder::~Encoder() = default;

std::string Encoder::EncodeV1(const std::vector<const OutSeries*>& series, const std::vector<OutMetadata>& metadata) {
  auto& req = m_->v1;
  req.Clear();  // keeps the allocated sub-messages for reuse
  for (const OutSeries* s : series) {
    auto* ts = req.add_timeseries();
    for (const auto& l : s->labels) {
      auto* pl = ts->add_labels();
      pl->set_name(l.name);
      pl->set_value(l.value);
    }
    for (const auto& smp : s->samples) {
      auto* ps = ts->add_samples();
      ps->set_value(smp.value);
      ps->set_timestamp(smp.timestamp_ms);
    }
  }
  for (const auto& md : metadata) {
    auto* pm = req.add_metadata();
    pm->set_type(static_cast<prometheus::MetricMetadata::MetricType>(TypeNumber(md.type)));
    pm->set_metric_family_name(md.family);
    pm->set_help(md.help);
    pm->set_unit(md.unit);
  }
  return req.SerializeAsString();
}

std::string Encoder::EncodeV2(const std::vector<const OutSeries*>& series,
                              const std::map<std::string, OutMetadata, std::less<>>& metadata) {
  auto& req = m_->v2;
  req.Clear();
  std::unordered_map<std::string_view, uint32_t> refs;
  auto ref = [&](const std::string& s) -> uint32_t {
    auto [it, inserted] = refs.try_emplace(s, static_cast<uint32_t>(req.symbols_size()));
    if (inserted) req.add_symbols(s);
    return it->second;
  };
  static const std::string kEmpty;
  ref(kEmpty);  // symbols[0] is always ""
  for (const OutSeries* s : series) {
    auto* ts = req.add_timeseries();
    std::string_view name;
    for (const auto& l : s->labels) {
      ts->add_labels_refs(ref(l.name));
      ts->add_labels_refs(ref(l.value));
      if (l.name == storage::kMetricNameLabel) name = l.value;
    }
    for (const auto& smp : s->samples) {
      auto* ps = ts->add_samples();
      ps->set_value(smp.value);
      ps->set_timestamp(smp.timestamp_ms);
    }
    if (const OutMetadata* md = FindFamily(metadata, name)) {
      auto* pm = ts->mutable_metadata();
      pm->set_type(static_cast<io::prometheus::write::v2::Metadata::MetricType>(TypeNumber(md->type)));
      if (!md->help.empty()) pm->set_help_ref(ref(md->help));
      if (!md->unit.empty()) pm->set_unit_ref(ref(md->unit));
    }
  }
  return req.SerializeAsString();
}

void Encoder::EncodeBatchV1(const std::vector<BatchSeries>& batch, const storage::Labels& external,
                            std::string* out) {
  // WriteRequest.timeseries = 1: per series, tag + length + labels + samples (field 2). The
  // sizes of a series' labels are computed in the first pass and kept for the second.
  thread_local std::vector<uint32_t> label_sizes;
  label_sizes.resize(batch.size());
  size_t total = 0;
  for (size_t k = 0; k < batch.size(); ++k) {
    const BatchSeries& b = batch[k];
    size_t body = label_sizes[k] = static_cast<uint32_t>(LabelsSize(b.series, external));
    for (size_t i = 0; i < b.num_samples; ++i) {
      size_t ss = SampleSize(b.samples[i]);
      body += 1 + VarintSize(ss) + ss;
    }
    total += 1 + VarintSize(body) + body;
  }
  out->resize(total);
  char* p = out->data();
  for (size_t k = 0; k < batch.size(); ++k) {
    const BatchSeries& b = batch[k];
    size_t body = label_sizes[k];
    for (size_t i = 0; i < b.num_samples; ++i) {
      size_t ss = SampleSize(b.samples[i]);
      body += 1 + VarintSize(ss) + ss;
    }
    *p++ = '\x0a';
    p = PutVarint(p, body);
    if (b.series.prepared != nullptr) {
      const std::string& pb = b.series.prepared->pb_labels;
      std::memcpy(p, pb.data(), pb.size());
      p += pb.size();
    } else {
      ForEachKeyLabel(b.series.key, external, [&](std::string_view n, std::string_view v) { p = PutLabelField(p, n, v); });
    }
    for (size_t i = 0; i < b.num_samples; ++i) {
      const storage::Sample& s = b.samples[i];
      *p++ = '\x12';
      p = PutVarint(p, SampleSize(s));
      uint64_t bits = DoubleBits(s.value);
      if (bits != 0) {
        *p++ = '\x09';  // Sample.value, fixed64 little-endian
        for (int j = 0; j < 8; ++j) *p++ = static_cast<char>(bits >> (8 * j));
      }
      if (s.timestamp_ms != 0) {
        *p++ = '\x10';  // Sample.timestamp, varint
        p = PutVarint(p, static_cast<uint64_t>(s.timestamp_ms));
      }
    }
  }
}

void Encoder::EncodeBatchV2(const std::vector<BatchSeries>& batch, const storage::Labels& external,
                            const std::map<std::string, OutMetadata, std::less<>>& metadata, std::string* out) {
  auto& req = m_->v2;
  req.Clear();
  std::unordered_map<std::string_view, uint32_t> refs;
  auto ref = [&](std::string_view s) -> uint32_t {
    auto [it, inserted] = refs.try_emplace(s, static_cast<uint32_t>(req.symbols_size()));
    if (inserted) req.add_symbols(std::string(s));
    return it->second;
  };
  ref("");  // symbols[0] is always ""
  for (const auto& b : batch) {
    auto* ts = req.add_timeseries();
    std::string_view name;
    ForEachLabel(b.series, external, [&](std::string_view n, std::string_view v) {
      ts->add_labels_refs(ref(n));
      ts->add_labels_refs(ref(v));
      if (n == storage::kMetricNameLabel) name = v;
    });
    for (size_t i = 0; i < b.num_samples; ++i) {
      auto* ps = ts->add_samples();
      ps->set_value(b.samples[i].value);
      ps->set_timestamp(b.samples[i].timestamp_ms);
    }
    if (const OutMetadata* md = FindFamily(metadata, name)) {
      auto* pm = ts->mutable_metadata();
      pm->set_type(static_cast<io::prometheus::write::v2::Metadata::MetricType>(TypeNumber(md->type)));
      if (!md->help.empty()) pm->set_help_ref(ref(md->help));
      if (!md->unit.empty()) pm->set_unit_ref(ref(md->unit));
    }
  }
  out->clear();
  req.SerializeToString(out);
}

void Compress(std::string_view raw, std::string* out) {
  out->resize(snappy::MaxCompressedLength(raw.size()));
  size_t n = 0;
  snappy::RawCompress(raw.data(), raw.size(), out->data(), &n);
  out->resize(n);
}

std::string Compress(std::string_view raw) {
  std::string out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

Result<std::string> Decompress(std::string_view compressed, size_t max_bytes) {
  size_t len = 0;
  if (!snappy::GetUncompressedLength(compressed.data(), compressed.size(), &len)) {
    return Status::InvalidArgument("snappy: invalid block header");
  }
  if (len > max_bytes) {
    return Status::ResourceExhausted("snappy: decoded length " + std::to_string(len) + " exceeds the limit of " +
                                     std::to_string(max_bytes) + " bytes");
  }
  std::string out;
  if (!snappy::Uncompress(compressed.data(), compressed.size(), &out)) {
    return Status::InvalidArgument("snappy: corrupt block");
  }
  return out;
}

Result<DecodedRequest> Decode(std::string_view raw, Protocol protocol) {
  DecodedRequest out;
  if (protocol == Protocol::kV1) {
    prometheus::WriteRequest req;
    if (!req.ParseFromArray(raw.data(), static_cast<int>(raw.size()))) {
      return Status::InvalidArgument("not a prometheus.WriteRequest");
    }
    for (const auto& ts : req.timeseries()) {
      OutSeries s;
      for (const auto& l : ts.labels()) s.labels.push_back({l.name(), l.value()});
      for (const auto& p : ts.samples()) s.samples.push_back({p.timestamp(), p.value()});
      out.series.push_back(std::move(s));
    }
    for (const auto& m : req.metadata()) {
      out.metadata.push_back({m.metric_family_name(), TypeFromNumber(m.type()), m.help(), m.unit()});
    }
    return out;
  }
  io::prometheus::write::v2::Request req;
  if (!req.ParseFromArray(raw.data(), static_cast<int>(raw.size()))) {
    return Status::InvalidArgument("not an io.prometheus.write.v2.Request");
  }
  const int nsym = req.symbols_size();
  auto sym = [&](uint32_t r, std::string* s) {
    if (static_cast<int>(r) >= nsym) return false;
    *s = req.symbols(static_cast<int>(r));
    return true;
  };
  for (int i = 0; i < req.timeseries_size(); ++i) {
    const auto& ts = req.timeseries(i);
    if (ts.labels_refs_size() % 2 != 0) {
      return Status::InvalidArgument("timeseries " + std::to_string(i) + ": labels_refs has odd length");
    }
    OutSeries s;
    for (int j = 0; j < ts.labels_refs_size(); j += 2) {
      storage::Label l;
      if (!sym(ts.labels_refs(j), &l.name) || !sym(ts.labels_refs(j + 1), &l.value)) {
        return Status::InvalidArgument("timeseries " + std::to_string(i) + ": symbol reference out of range");
      }
      s.labels.push_back(std::move(l));
    }
    for (const auto& p : ts.samples()) s.samples.push_back({p.timestamp(), p.value()});
    if (ts.has_metadata()) {
      OutMetadata md;
      for (const auto& l : s.labels) if (l.name == storage::kMetricNameLabel) md.family = l.value;
      md.type = TypeFromNumber(ts.metadata().type());
      if (!sym(ts.metadata().help_ref(), &md.help) || !sym(ts.metadata().unit_ref(), &md.unit)) {
        return Status::InvalidArgument("timeseries " + std::to_string(i) + ": metadata reference out of range");
      }
      out.metadata.push_back(std::move(md));
    }
    out.series.push_back(std::move(s));
  }
  return out;
}

}  // namespace sb::remote_write
