// write_relabel_configs and external_labels, applied to a series' labels before it is sent,
// with Prometheus's semantics (model/relabel): each rule joins its source_labels' values
// with `separator`, matches the fully anchored `regex` against the result, and acts:
//
//   replace    on a match, sets target_label (expanded) to the expanded replacement;
//              an empty result removes target_label. No match: no change.
//   keep/drop  keeps or drops the series on a match (keep: drops on no match).
//   keepequal/dropequal  keeps/drops when the joined value equals target_label's value.
//   labelmap   for every label whose name matches, copies it to the expanded replacement.
//   labeldrop/labelkeep  removes the labels whose name matches / does not match.
//   lowercase/uppercase  sets target_label to the joined value in lower/upper case.
//   hashmod    sets target_label to (MD5 of the joined value, last 8 bytes) mod modulus.
//
// Replacement expansion is Go's regexp.Expand: $1, ${1}, $name, ${name}, $$.
//
// Thread-safety: a Relabeler is immutable after Make; Apply may run on many threads.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "config/config.h"
#include "storage/series.h"

namespace sb::remote_write {

class Relabeler {
 public:
  // Compiles the rules. Errors: InvalidArgument naming the rule index and the regex or
  // action that is not valid (the config loader has checked them already).
  static Result<std::shared_ptr<const Relabeler>> Make(
      const std::vector<config::RelabelConfig>& rules,
      const std::map<std::string, std::string>& external_labels);
  ~Relabeler();

  // Adds the external labels the series lacks, then applies the rules in order.
  // `labels` need not be sorted on input; on return it is sorted by name with no empty
  // values. Returns false when the series is dropped (by a rule, or because no __name__
  // is left).
  bool Apply(storage::Labels* labels) const;

  bool empty() const { return rules_.empty() && external_.empty(); }
  bool has_rules() const { return !rules_.empty(); }
  // The external labels, sorted by name, without empty values.
  const storage::Labels& external() const { return external_; }

 private:
  struct Rule;
  Relabeler() = default;
  std::vector<Rule> rules_;
  storage::Labels external_;
};

// Go regexp.Expand of `tmpl` with the groups of a match: $1, ${1}, $name, ${name}, $$.
// `groups[0]` is the whole match; `names` maps group names to their index. A reference to
// an unknown or out-of-range group expands to "".
std::string ExpandTemplate(const std::string& tmpl, const std::vector<std::string>& groups,
                           const std::map<std::string, int>& names);

}  // namespace sb::remote_write
