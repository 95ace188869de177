// The in-memory postings index: label pair -> sorted list of series ids, plus label
// matchers (=, !=, =~, !~) evaluated against it with Prometheus's semantics: regexes are
// fully anchored (RE2), and a matcher that matches the empty string also matches series
// that lack the label. Rebuilt from the `series` table at Store::Open.
//
// Thread-safety: none internally; the Store guards its index with a shared mutex.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "storage/series.h"

namespace re2 {
class RE2;
}

namespace sb::storage {

class Matcher {
 public:
  enum class Type { kEqual, kNotEqual, kRegexMatch, kRegexNoMatch };

  // Builds a matcher. Errors: InvalidArgument for a regex RE2 cannot compile (the message
  // names the pattern and RE2's reason).
  static Result<Matcher> Make(Type type, std::string name, std::string value);

  Type type() const { return type_; }
  const std::string& name() const { return name_; }
  const std::string& value() const { return value_; }
  // Whether a label value (empty = the label is absent) satisfies the matcher.
  bool Matches(const std::string& v) const;

 private:
  Matcher(Type type, std::string name, std::string value, std::shared_ptr<re2::RE2> re)
      : type_(type), name_(std::move(name)), value_(std::move(value)), re_(std::move(re)) {}
  Type type_;
  std::string name_;
  std::string value_;
  std::shared_ptr<re2::RE2> re_;  // Anchored "^(?:value)$"; shared so copies are cheap.
};

// A sorted list of series ids, delta-encoded: each id minus the one before it (the first
// minus 0) as a uvarint. The series of one label pair have close ids (a target's series
// are created together, in runs), so an entry takes ~1 byte instead of 8: at 100k series
// of ~6 labels, ~0.7 MB instead of ~7 MB of vectors.
class PostingList {
 public:
  // REQUIRES: id greater than every id added before.
  void Add(int64_t id);
  size_t size() const { return count_; }
  std::vector<int64_t> Decode() const;

 private:
  std::string bytes_;
  int64_t last_ = 0;
  size_t count_ = 0;
};

class PostingsIndex {
 public:
  // Adds series `id` with canonical `labels`. REQUIRES: id greater than every id added
  // before (keeps the lists sorted without sorting).
  void Add(int64_t id, const Labels& labels);

  // Sorted ids of the series matching all matchers (all series for no matchers).
  std::vector<int64_t> Select(const std::vector<Matcher>& matchers) const;

  // Sorted label names / values of one name in use by at least one series.
  std::vector<std::string> LabelNames() const;
  std::vector<std::string> LabelValues(const std::string& name) const;

  size_t num_series() const { return all_.size(); }

 private:
  std::vector<int64_t> MatchOne(const Matcher& m) const;

  PostingList all_;  // every id
  std::map<std::string, std::map<std::string, PostingList>> postings_;
};

}  // namespace sb::storage
