// The bridge applies --storage.retention.time to its store at start (and every 5 minutes)
// by the App's clock: a store with old and new data, opened by an App whose FakeClock says
// "now", loses the old chunks and keeps the new ones.
#include <chrono>

#include "common/clock.h"
#include "storage/store.h"
#include "tests/integration/harness.h"

namespace sb::itest {
namespace {

using namespace std::chrono_literals;

constexpr int64_t kDayMs = 24 * 3600 * 1000;

int64_t CountSamples(storage::Store* store) {
  int64_t n = 0;
  auto refs = store->Select({}, INT64_MIN, INT64_MAX);
  if (!refs.ok()) return -1;
  for (const auto& ref : *refs) {
    auto s = store->Samples(ref.id, INT64_MIN, INT64_MAX);
    if (!s.ok()) return -1;
    n += static_cast<int64_t>(s->size());
  }
  return n;
}

TEST(StorageRetentionTest, BridgeDropsChunksOlderThanRetentionTimeAtStart) {
  testing::TempDir dir;
  const int64_t now = 1'800'000'000'000;
  {
    storage::StoreOptions so;
    so.path = dir.File("bridge.db");
    so.chunk_max_samples = 24;
    auto store = storage::Store::Open(so);
    ASSERT_OK(store);
    // "old": 48 hourly samples 400 days ago (2 chunks); "new": 24 samples of the last day.
    std::vector<storage::Sample> old_samples, new_samples;
    for (int i = 0; i < 48; ++i) old_samples.push_back({now - 400 * kDayMs + i * 3'600'000, 1.0 * i});
    for (int i = 0; i < 24; ++i) new_samples.push_back({now - kDayMs + i * 3'600'000, 2.0 * i});
    ASSERT_OK((*store)->AppendSamples({{{{"__name__", "old"}}, old_samples},
                                       {{{"__name__", "new"}}, new_samples}}));
  }
  FakeClock clock(now);
  bridge::AppOptions o;
  o.listen_address = "127.0.0.1:0";
  o.storage_path = dir.path();
  o.config = config::Config{};
  o.clock = &clock;
  o.storage_retention_time = std::chrono::hours(24 * 365);
  bridge::App app(o);
  ASSERT_OK(app.Start());
  ASSERT_NE(app.store(), nullptr);
  EXPECT_TRUE(WaitUntil([&] { return CountSamples(app.store()) == 24; }, 10s))
      << CountSamples(app.store());
  auto refs = app.store()->Select({}, INT64_MIN, INT64_MAX);
  ASSERT_OK(refs);
  ASSERT_EQ(refs->size(), 1u);
  EXPECT_EQ(refs->front().labels.front().value, "new");
  app.Stop();
}

}  // namespace
}  // namespace sb::itest
