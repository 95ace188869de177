// Label sets of stored series: validation, the canonical form (sorted by name, __name__
// included, empty values dropped), its byte encoding in the `series` table, its hash, and
// a human-readable rendering for error messages. Format: docs/format/schema.md.
//
// Thread-safety: free functions and values; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace sb::storage {

inline constexpr std::string_view kMetricNameLabel = "__name__";

struct Label {
  std::string name;
  std::string value;
  bool operator==(const Label&) const = default;
};
// A label set. Canonical when sorted by name, names unique, no empty values.
using Labels = std::vector<Label>;

// Returns the canonical form of `labels`: labels with an empty value dropped (Prometheus
// treats them as absent), sorted by name.
// Errors (InvalidArgument, naming the label and the series): an empty name, a name that is
// not [a-zA-Z_][a-zA-Z0-9_]*, a duplicate name, a missing or empty __name__, or a
// __name__ value that is not [a-zA-Z_:][a-zA-Z0-9_:]*.
Result<Labels> Canonicalize(Labels labels);

// Encodes canonical labels as uvarint-length-prefixed name/value pairs.
std::string EncodeLabels(const Labels& labels);

// EncodeLabels(Canonicalize(labels)) into *out (replacing its contents), without copying
// the label set: the hot path of a fetch. Errors: exactly Canonicalize's.
Status EncodeCanonical(const Labels& labels, std::string* out);

// A label as two views (name, value), for encoding a label set without copying it.
using LabelView = std::pair<std::string_view, std::string_view>;

// Sorts `labels` by name (stably) and writes their canonical encoding into *out (replacing
// its contents), as EncodeLabels writes canonical labels, leaving out empty values. Does
// not validate names or look for repeated ones.
void EncodeLabelViews(std::vector<LabelView>* labels, std::string* out);

// The canonical encoding of `labels` into *out, WITHOUT validating names: for comparing
// against keys of series already known (a match means the label set is that valid
// series'). Returns false, with *out unspecified, if a label has an empty value (whose
// name EncodeCanonical would still check, but which the encoding leaves out).
bool EncodeCanonicalUnchecked(const Labels& labels, std::string* out);

// Checks that `key` is a canonical key: it decodes, and its labels pass Canonicalize and
// encode back to the same bytes (sorted, no empty value). Errors: InvalidArgument with
// Canonicalize's message (naming the label), or "series key ... is not in canonical
// order"; Corruption-style decoding errors as InvalidArgument.
Status CheckCanonicalKey(std::string_view key);
// Inverse of EncodeLabels. Errors: Corruption on a truncated or malformed blob.
Result<Labels> DecodeLabels(std::string_view blob);

// FNV-1a 64 of the encoded form, as stored in series.labels_hash.
int64_t HashLabels(std::string_view encoded);

// Renders `name{a="b",c="d"}` (values escaped as in the text exposition format), for
// messages and tests.
std::string LabelsToString(const Labels& labels);

// A sorted list of series ids as uvarint(count) then uvarint deltas (targets.last_series).
std::string EncodeIds(const std::vector<int64_t>& sorted_ids);
// Inverse of EncodeIds. Errors: Corruption on a truncated blob.
Result<std::vector<int64_t>> DecodeIds(std::string_view blob);

// Unsigned LEB128 helpers shared by the store's blobs.
void PutUvarint(std::string* out, uint64_t v);
// Reads one uvarint at *pos, advancing it. Returns false if truncated or over 10 bytes.
bool GetUvarint(std::string_view in, size_t* pos, uint64_t* v);

}  // namespace sb::storage
