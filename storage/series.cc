#include "storage/series.h"

#include <algorithm>
#include <utility>

namespace sb::storage {
namespace {

bool ValidName(std::string_view s, bool allow_colon) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                       (allow_colon && c == ':');
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) return false;
  }
  return true;
}

}  // namespace

Result<Labels> Canonicalize(Labels labels) {
  for (const Label& l : labels) {
    if (l.name.empty()) {
      return Status::InvalidArgument("empty label name in series " + LabelsToString(labels));
    }
    if (!ValidName(l.name, /*allow_colon=*/false)) {
      return Status::InvalidArgument("invalid label name \"" + l.name + "\" in series " +
                                     LabelsToString(labels));
    }
  }
  std::stable_sort(labels.begin(), labels.end(),
                   [](const Label& a, const Label& b) { return a.name < b.name; });
  for (size_t i = 1; i < labels.size(); ++i) {
    if (labels[i].name == labels[i - 1].name) {
      return Status::InvalidArgument("duplicate label name \"" + labels[i].name +
                                     "\" in series " + LabelsToString(labels));
    }
  }
  auto name = std::find_if(labels.begin(), labels.end(),
                           [](const Label& l) { return l.name == kMetricNameLabel; });
  if (name == labels.end() || name->value.empty()) {
    return Status::InvalidArgument("missing __name__ in series " + LabelsToString(labels));
  }
  if (!ValidName(name->value, /*allow_colon=*/true)) {
    return Status::InvalidArgument("invalid metric name \"" + name->value + "\"");
  }
  std::erase_if(labels, [](const Label& l) { return l.value.empty(); });
  return labels;
}

Status EncodeCanonical(const Labels& labels, std::string* out) {
  // Sorted pointers instead of a sorted copy; a thread's scratch vector is reused.
  thread_local std::vector<const Label*> sorted;
  sorted.clear();
  const Label* name = nullptr;
  bool ok = true;
  for (const Label& l : labels) {
    ok = ok && ValidName(l.name, /*allow_colon=*/false);
    sorted.push_back(&l);
  }
  if (ok) {
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const Label* a, const Label* b) { return a->name < b->name; });
    for (size_t i = 0; i < sorted.size() && ok; ++i) {
      if (i > 0 && sorted[i]->name == sorted[i - 1]->name) ok = false;
      if (sorted[i]->name == kMetricNameLabel) name = sorted[i];
    }
    ok = ok && name != nullptr && !name->value.empty() &&
         ValidName(name->value, /*allow_colon=*/true);
  }
  if (!ok) {
    Result<Labels> r = Canonicalize(labels);  // for its exact message
    if (!r.ok()) return r.status();
    *out = EncodeLabels(*r);
    return Status::OK();
  }
  out->clear();
  for (const Label* l : sorted) {
    if (l->value.empty()) continue;
    PutUvarint(out, l->name.size());
    out->append(l->name);
    PutUvarint(out, l->value.size());
    out->append(l->value);
  }
  return Status::OK();
}

void EncodeLabelViews(std::vector<LabelView>* labels, std::string* out) {
  // A stable insertion sort: label sets are short and usually nearly sorted, and
  // std::stable_sort allocates a temporary buffer on every call (one malloc per series).
  auto& v = *labels;
  for (size_t i = 1; i < v.size(); ++i) {
    LabelView x = v[i];
    size_t j = i;
    for (; j > 0 && x.first < v[j - 1].first; --j) v[j] = v[j - 1];
    v[j] = x;
  }
  size_t size = 0;
  for (const auto& [name, value] : *labels) size += name.size() + value.size() + 4;
  out->clear();
  out->reserve(size);
  for (const auto& [name, value] : *labels) {
    if (value.empty()) continue;
    PutUvarint(out, name.size());
    out->append(name);
    PutUvarint(out, value.size());
    out->append(value);
  }
}

bool EncodeCanonicalUnchecked(const Labels& labels, std::string* out) {
  thread_local std::vector<LabelView> views;
  views.clear();
  for (const Label& l : labels) {
    if (l.value.empty()) return false;
    views.emplace_back(l.name, l.value);
  }
  EncodeLabelViews(&views, out);
  return true;
}

Status CheckCanonicalKey(std::string_view key) {
  Result<Labels> labels = DecodeLabels(key);
  if (!labels.ok()) {
    return Status::InvalidArgument("series key does not decode: " + labels.status().message());
  }
  for (const Label& l : *labels) {
    if (l.value.empty()) {
      return Status::InvalidArgument("series key " + LabelsToString(*labels) +
                                     ": label \"" + l.name + "\" has an empty value");
    }
  }
  Result<Labels> canon = Canonicalize(*labels);
  if (!canon.ok()) return canon.status();
  if (EncodeLabels(*canon) != key) {
    return Status::InvalidArgument("series key " + LabelsToString(*labels) +
                                   " is not in canonical order");
  }
  return Status::OK();
}

void PutUvarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetUvarint(std::string_view in, size_t* pos, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift < 70 && *pos < in.size(); shift += 7) {
    const auto b = static_cast<uint8_t>(in[(*pos)++]);
    result |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

std::string EncodeLabels(const Labels& labels) {
  std::string out;
  for (const Label& l : labels) {
    PutUvarint(&out, l.name.size());
    out += l.name;
    PutUvarint(&out, l.value.size());
    out += l.value;
  }
  return out;
}

Result<Labels> DecodeLabels(std::string_view blob) {
  Labels out;
  size_t pos = 0;
  auto read = [&](std::string* s) {
    uint64_t n = 0;
    if (!GetUvarint(blob, &pos, &n) || n > blob.size() - pos) return false;
    s->assign(blob.substr(pos, n));
    pos += n;
    return true;
  };
  while (pos < blob.size()) {
    Label l;
    if (!read(&l.name) || !read(&l.value)) {
      return Status::Corruption("series labels: truncated at byte " + std::to_string(pos));
    }
    out.push_back(std::move(l));
  }
  return out;
}

std::string EncodeIds(const std::vector<int64_t>& sorted_ids) {
  std::string out;
  PutUvarint(&out, sorted_ids.size());
  int64_t prev = 0;
  for (int64_t id : sorted_ids) {
    PutUvarint(&out, static_cast<uint64_t>(id - prev));
    prev = id;
  }
  return out;
}

Result<std::vector<int64_t>> DecodeIds(std::string_view blob) {
  size_t pos = 0;
  uint64_t n = 0;
  if (!GetUvarint(blob, &pos, &n) || n > blob.size()) {
    return Status::Corruption("targets.last_series: bad count");
  }
  std::vector<int64_t> out;
  out.reserve(n);
  int64_t prev = 0;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t d = 0;
    if (!GetUvarint(blob, &pos, &d)) return Status::Corruption("targets.last_series: truncated");
    prev += static_cast<int64_t>(d);
    out.push_back(prev);
  }
  return out;
}

int64_t HashLabels(std::string_view encoded) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : encoded) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ULL;
  }
  return static_cast<int64_t>(h);
}

std::string LabelsToString(const Labels& labels) {
  std::string name;
  std::string rest;
  for (const Label& l : labels) {
    if (l.name == kMetricNameLabel) {
      name = l.value;
      continue;
    }
    rest += rest.empty() ? "" : ",";
    rest += l.name + "=\"";
    for (char c : l.value) {
      if (c == '\\') rest += "\\\\";
      else if (c == '"') rest += "\\\"";
      else if (c == '\n') rest += "\\n";
      else rest += c;
    }
    rest += '"';
  }
  return name + "{" + rest + "}";
}

}  // namespace sb::storage
