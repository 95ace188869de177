#include "remote_write/series_cache.h"

#include <gtest/gtest.h>

#include "tests/testing/testing.h"

namespace sb::remote_write {
namespace {

storage::Labels Unprepare(const PreparedSeries& p) {
  storage::Labels out;
  EXPECT_TRUE(ForEachPreparedLabel(p.pb_labels, [&](std::string_view n, std::string_view v) {
    out.push_back({std::string(n), std::string(v)});
  }));
  return out;
}

std::shared_ptr<const Relabeler> Rules(const std::vector<config::RelabelConfig>& rules,
                                       const std::map<std::string, std::string>& external) {
  auto r = Relabeler::Make(rules, external);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return *r;
}

config::RelabelConfig Drop(const std::string& name_regex) {
  config::RelabelConfig drop;
  drop.source_labels = {"__name__"};
  drop.regex = name_regex;
  drop.action = "drop";
  return drop;
}

// Without rules nothing is prepared or kept: the series goes as its key (external labels are
// merged in by the encoder).
TEST(PreparedCacheTest, WithoutRulesTheSeriesIsSentAsItsKeyAndNothingIsKept) {
  auto rules = Rules({}, {{"cluster", "eu"}});
  PreparedCache cache(rules.get());
  EXPECT_TRUE(cache.direct());
  const std::string key = storage::EncodeLabels({{"__name__", "up"}, {"job", "j"}});
  SeriesRef ref;
  ASSERT_TRUE(cache.Get(key, &ref));
  EXPECT_EQ(ref.key.data(), key.data());
  EXPECT_EQ(ref.prepared, nullptr);
  EXPECT_EQ(cache.size(), 0u);
  PreparedCache none(nullptr);
  EXPECT_TRUE(none.direct());
}

TEST(PreparedCacheTest, WithRulesEachSeriesIsPreparedOnceWithExternalLabelsAndReused) {
  auto rules = Rules({Drop("go_.*")}, {{"cluster", "eu"}});
  PreparedCache cache(rules.get());
  EXPECT_FALSE(cache.direct());
  const std::string key = storage::EncodeLabels({{"__name__", "up"}, {"job", "j"}});
  SeriesRef ref;
  ASSERT_TRUE(cache.Get(key, &ref));
  const PreparedSeries* first = ref.prepared;
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(Unprepare(*first), (storage::Labels{{"__name__", "up"}, {"cluster", "eu"}, {"job", "j"}}));
  cache.Sweep();
  ASSERT_TRUE(cache.Get(key, &ref));
  EXPECT_EQ(ref.prepared, first);  // the same object, not prepared again
}

TEST(PreparedCacheTest, SeriesDroppedByTheRulesIsRefused) {
  auto rules = Rules({Drop("go_.*")}, {});
  PreparedCache cache(rules.get());
  SeriesRef ref;
  const std::string go = storage::EncodeLabels({{"__name__", "go_goroutines"}});
  const std::string up = storage::EncodeLabels({{"__name__", "up"}});
  EXPECT_FALSE(cache.Get(go, &ref));
  EXPECT_EQ(ref.prepared, nullptr);
  EXPECT_TRUE(cache.Get(up, &ref));
  EXPECT_NE(ref.prepared, nullptr);
}

// Series are keyed by the store's key view: the same view finds the entry; sweeping forgets
// what a round did not use.
TEST(PreparedCacheTest, SweepForgetsSeriesUnusedForARound) {
  auto rules = Rules({Drop("never")}, {});
  PreparedCache cache(rules.get());
  const std::string gone = storage::EncodeLabels({{"__name__", "gone"}});
  const std::string kept = storage::EncodeLabels({{"__name__", "kept"}});
  SeriesRef ref;
  ASSERT_TRUE(cache.Get(gone, &ref));
  ASSERT_TRUE(cache.Get(kept, &ref));
  const PreparedSeries* kept_form = ref.prepared;
  EXPECT_EQ(cache.size(), 2u);
  cache.Sweep();
  ASSERT_TRUE(cache.Get(kept, &ref));
  cache.Sweep();
  EXPECT_EQ(cache.size(), 1u);
  ASSERT_TRUE(cache.Get(kept, &ref));
  EXPECT_EQ(ref.prepared, kept_form);  // still the same object
  ASSERT_TRUE(cache.Get(gone, &ref));  // prepared anew
  EXPECT_EQ(Unprepare(*ref.prepared), (storage::Labels{{"__name__", "gone"}}));
  EXPECT_EQ(cache.size(), 2u);
}

}  // namespace
}  // namespace sb::remote_write
