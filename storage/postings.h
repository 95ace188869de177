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

  std::vector<int64_t> all_;  // every id, sorted
  std::map<std::string, std::map<std::string, std::vector<int64_t>>> postings_;
};

}  // namespace sb::storage
