#include "storage/postings.h"

#include <re2/re2.h>

#include <algorithm>
#include <iterator>
#include <utility>

namespace sb::storage {

Result<Matcher> Matcher::Make(Type type, std::string name, std::string value) {
  std::shared_ptr<re2::RE2> re;
  if (type == Type::kRegexMatch || type == Type::kRegexNoMatch) {
    re2::RE2::Options opts;
    opts.set_log_errors(false);
    opts.set_dot_nl(true);  // Prometheus: "." matches newlines too.
    re = std::make_shared<re2::RE2>("^(?:" + value + ")$", opts);
    if (!re->ok()) {
      return Status::InvalidArgument("bad regex \"" + value + "\" for label " + name + ": " +
                                     re->error());
    }
  }
  return Matcher(type, std::move(name), std::move(value), std::move(re));
}

bool Matcher::Matches(const std::string& v) const {
  switch (type_) {
    case Type::kEqual: return v == value_;
    case Type::kNotEqual: return v != value_;
    case Type::kRegexMatch: return re2::RE2::FullMatch(v, *re_);
    case Type::kRegexNoMatch: return !re2::RE2::FullMatch(v, *re_);
  }
  return false;
}

void PostingList::Add(int64_t id) {
  // Modulo 2^64, so any increasing int64 sequence round-trips.
  uint64_t delta = static_cast<uint64_t>(id) - static_cast<uint64_t>(last_);
  while (delta >= 0x80) {
    bytes_.push_back(static_cast<char>((delta & 0x7f) | 0x80));
    delta >>= 7;
  }
  bytes_.push_back(static_cast<char>(delta));
  last_ = id;
  ++count_;
}

std::vector<int64_t> PostingList::Decode() const {
  std::vector<int64_t> out;
  out.reserve(count_);
  uint64_t id = 0;
  const auto* p = reinterpret_cast<const uint8_t*>(bytes_.data());
  const auto* end = p + bytes_.size();
  while (p < end) {
    uint64_t delta = 0;
    int shift = 0;
    for (;;) {  // written by Add: every uvarint is complete
      const uint8_t b = *p++;
      delta |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (b < 0x80) break;
      shift += 7;
    }
    id += delta;
    out.push_back(static_cast<int64_t>(id));
  }
  return out;
}

void PostingsIndex::Add(int64_t id, const Labels& labels) {
  all_.Add(id);
  for (const Label& l : labels) postings_[l.name][l.value].Add(id);
}

namespace {

std::vector<int64_t> Union(const std::vector<const PostingList*>& lists) {
  std::vector<int64_t> out;
  for (const auto* l : lists) {
    const std::vector<int64_t> ids = l->Decode();
    std::vector<int64_t> merged;
    merged.reserve(out.size() + ids.size());
    std::set_union(out.begin(), out.end(), ids.begin(), ids.end(), std::back_inserter(merged));
    out.swap(merged);
  }
  return out;
}

}  // namespace

std::vector<int64_t> PostingsIndex::MatchOne(const Matcher& m) const {
  auto it = postings_.find(m.name());
  if (m.type() == Matcher::Type::kEqual && !m.value().empty()) {
    if (it == postings_.end()) return {};
    auto v = it->second.find(m.value());
    return v == it->second.end() ? std::vector<int64_t>{} : v->second.Decode();
  }
  if (!m.Matches("")) {
    // Only series that have the label with a matching value.
    std::vector<const PostingList*> lists;
    if (it != postings_.end()) {
      for (const auto& [value, ids] : it->second) {
        if (m.Matches(value)) lists.push_back(&ids);
      }
    }
    return Union(lists);
  }
  // The matcher matches "absent": all series minus those with a non-matching value.
  std::vector<const PostingList*> excluded;
  if (it != postings_.end()) {
    for (const auto& [value, ids] : it->second) {
      if (!m.Matches(value)) excluded.push_back(&ids);
    }
  }
  const std::vector<int64_t> minus = Union(excluded);
  const std::vector<int64_t> all = all_.Decode();
  std::vector<int64_t> out;
  std::set_difference(all.begin(), all.end(), minus.begin(), minus.end(),
                      std::back_inserter(out));
  return out;
}

std::vector<int64_t> PostingsIndex::Select(const std::vector<Matcher>& matchers) const {
  if (matchers.empty()) return all_.Decode();
  // Every list holds only ids of all_: the first matcher's ids need no intersection.
  std::vector<int64_t> out = MatchOne(matchers[0]);
  for (size_t i = 1; i < matchers.size() && !out.empty(); ++i) {
    const std::vector<int64_t> ids = MatchOne(matchers[i]);
    std::vector<int64_t> next;
    std::set_intersection(out.begin(), out.end(), ids.begin(), ids.end(),
                          std::back_inserter(next));
    out.swap(next);
  }
  return out;
}

std::vector<std::string> PostingsIndex::LabelNames() const {
  std::vector<std::string> out;
  for (const auto& [name, values] : postings_) out.push_back(name);
  return out;
}

std::vector<std::string> PostingsIndex::LabelValues(const std::string& name) const {
  std::vector<std::string> out;
  auto it = postings_.find(name);
  if (it == postings_.end()) return out;
  for (const auto& [value, ids] : it->second) out.push_back(value);
  return out;
}

}  // namespace sb::storage
