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
  std::shared_ptr<const PreparedSeries> hold;
  ASSERT_TRUE(cache.Get(key, &ref, &hold));
  EXPECT_EQ(ref.key.data(), key.data());
  EXPECT_EQ(ref.prepared, nullptr);
  EXPECT_EQ(hold, nullptr);
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
  std::shared_ptr<const PreparedSeries> hold;
  ASSERT_TRUE(cache.Get(key, &ref, &hold));
  const PreparedSeries* first = ref.prepared;
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(hold.get(), first);
  EXPECT_EQ(Unprepare(*first), (storage::Labels{{"__name__", "up"}, {"cluster", "eu"}, {"job", "j"}}));
  cache.Sweep();
  ASSERT_TRUE(cache.Get(key, &ref, &hold));
  EXPECT_EQ(ref.prepared, first);  // the same object, not prepared again
}

TEST(PreparedCacheTest, SeriesDroppedByTheRulesIsRefused) {
  auto rules = Rules({Drop("go_.*")}, {});
  PreparedCache cache(rules.get());
  SeriesRef ref;
  std::shared_ptr<const PreparedSeries> hold;
  const std::string go = storage::EncodeLabels({{"__name__", "go_goroutines"}});
  const std::string up = storage::EncodeLabels({{"__name__", "up"}});
  EXPECT_FALSE(cache.Get(go, &ref, &hold));
  EXPECT_EQ(ref.prepared, nullptr);
  EXPECT_TRUE(cache.Get(up, &ref, &hold));
  EXPECT_NE(ref.prepared, nullptr);
}

// Series are keyed by the store's key view: the same view finds the entry; sweeping forgets
// what a round did not use, while a holder keeps its prepared form alive.
TEST(PreparedCacheTest, SweepForgetsSeriesUnusedForARoundAndHoldersKeepTheirs) {
  auto rules = Rules({Drop("never")}, {});
  PreparedCache cache(rules.get());
  const std::string gone = storage::EncodeLabels({{"__name__", "gone"}});
  const std::string kept = storage::EncodeLabels({{"__name__", "kept"}});
  SeriesRef ref;
  std::shared_ptr<const PreparedSeries> held_gone, hold;
  ASSERT_TRUE(cache.Get(gone, &ref, &held_gone));
  ASSERT_TRUE(cache.Get(kept, &ref, &hold));
  EXPECT_EQ(cache.size(), 2u);
  cache.Sweep();
  ASSERT_TRUE(cache.Get(kept, &ref, &hold));
  cache.Sweep();
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(Unprepare(*held_gone), (storage::Labels{{"__name__", "gone"}}));
  ASSERT_TRUE(cache.Get(gone, &ref, &hold));  // prepared anew
  EXPECT_NE(ref.prepared, held_gone.get());
}

}  // namespace
}  // namespace sb::remote_write
