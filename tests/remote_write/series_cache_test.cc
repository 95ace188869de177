#include "remote_write/series_cache.h"

#include <gtest/gtest.h>

#include "tests/testing/testing.h"

namespace sb::remote_write {
namespace {

std::shared_ptr<const SeriesKey> Key(const storage::Labels& ls) { return MakeSeriesKey(storage::EncodeLabels(ls)); }

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

TEST(PreparedCacheTest, PreparesEachSeriesOnceWithExternalLabelsAndReusesIt) {
  auto rules = Rules({}, {{"cluster", "eu"}});
  PreparedCache cache(rules.get());
  auto key = Key({{"__name__", "up"}, {"job", "j"}});
  const PreparedSeries* first = cache.Get(key).get();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(Unprepare(*first), (storage::Labels{{"__name__", "up"}, {"cluster", "eu"}, {"job", "j"}}));
  cache.Sweep();
  EXPECT_EQ(cache.Get(key).get(), first);  // the same object, not prepared again
}

TEST(PreparedCacheTest, TwoEndpointsWithDifferentRulesEachGetTheirOwnForm) {
  auto eu = Rules({}, {{"cluster", "eu"}});
  auto us = Rules({}, {{"cluster", "us"}});
  PreparedCache a(eu.get()), b(us.get());
  auto key = Key({{"__name__", "up"}});
  ASSERT_NE(a.Get(key), nullptr);  // a keeps it in the key's own slot
  ASSERT_NE(b.Get(key), nullptr);  // b in its map
  EXPECT_EQ(Unprepare(*a.Get(key))[1].value, "eu");
  EXPECT_EQ(Unprepare(*b.Get(key))[1].value, "us");
  EXPECT_EQ(a.size(), 0u);
  EXPECT_EQ(b.size(), 1u);
}

TEST(PreparedCacheTest, SeriesDroppedByTheRulesIsNull) {
  config::RelabelConfig drop;
  drop.source_labels = {"__name__"};
  drop.regex = "go_.*";
  drop.action = "drop";
  auto rules = Rules({drop}, {});
  PreparedCache cache(rules.get());
  EXPECT_EQ(cache.Get(Key({{"__name__", "go_goroutines"}})), nullptr);
  EXPECT_NE(cache.Get(Key({{"__name__", "up"}})), nullptr);
}

TEST(PreparedCacheTest, SweepForgetsSeriesUnusedForTwoRounds) {
  auto rules = Rules({}, {});
  PreparedCache owner(rules.get()), cache(rules.get());
  auto gone = Key({{"__name__", "gone"}});
  auto kept = Key({{"__name__", "kept"}});
  (void)owner.Get(gone);  // so that `cache` keeps both in its map
  (void)owner.Get(kept);
  (void)cache.Get(gone);
  (void)cache.Get(kept);
  cache.Sweep();
  (void)cache.Get(kept);
  cache.Sweep();
  EXPECT_EQ(cache.size(), 1u);
  // Interning the labels of a series in the map gives back its key.
  EXPECT_EQ(cache.Intern({{"__name__", "kept"}}), kept);
  EXPECT_NE(cache.Intern({{"__name__", "gone"}}), gone);
}

}  // namespace
}  // namespace sb::remote_write
