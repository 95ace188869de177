// Tests of the fetch hot path (storage/store_append.cc) and EncodeCanonical.

#include <bit>
#include <string>
#include <vector>

#include "common/gzip.h"
#include "storage/series.h"
#include "storage/store.h"
#include "tests/storage/store_testing.h"
#include "tests/storage/xor_chunk_data.h"
#include "tests/testing/testing.h"

namespace sb::storage {
namespace {

using ::testing::HasSubstr;
using testdata::kHourMs;
using testdata::kStartMs;

std::vector<Sample> All(Store* store) {
  std::vector<Sample> out;
  auto refs = store->Select({}, INT64_MIN, INT64_MAX);
  EXPECT_TRUE(refs.ok());
  for (const SeriesRef& r : *refs) {
    auto s = store->Samples(r.id, INT64_MIN, INT64_MAX);
    EXPECT_TRUE(s.ok());
    out.insert(out.end(), s->begin(), s->end());
  }
  return out;
}

TEST(StoreAppendTest, FailedFetchLeavesNoSampleBehindInMemoryOrOnDisk) {
  testing::TempDir dir;
  const StoreOptions o = TestStoreOptions(dir);
  auto store = Store::Open(o);
  ASSERT_OK(store);
  const Labels a = {{"__name__", "a"}};
  ASSERT_OK((*store)->AppendFetch("t", kStartMs, {{a, 1}}, "b1"));
  // Make the target upsert fail: the head_log row and the fetch log's open chunk were
  // already written when it does, so everything must be rolled back and forgotten.
  RawExec(o.path, "CREATE TRIGGER no_targets BEFORE UPDATE ON targets "
                  "BEGIN SELECT RAISE(ABORT, 'injected failure'); END;");
  Status s = (*store)->AppendFetch("t", kStartMs + kHourMs, {{a, 2}}, "b2");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("injected failure"));
  std::vector<Sample> got = All(store->get());
  ASSERT_EQ(got.size(), 1u);
  RawExec(o.path, "DROP TRIGGER no_targets");
  // The failed time is free again, and the next fetch continues from the committed state.
  ASSERT_OK((*store)->AppendFetch("t", kStartMs + kHourMs, {{a, 3}}, "b3"));
  got = All(store->get());
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].value, 1);
  EXPECT_EQ(got[1].value, 3);
  auto log = (*store)->FetchLog("t", INT64_MIN, INT64_MAX);
  ASSERT_OK(log);
  EXPECT_EQ(log->size(), 2u);
  auto latest = (*store)->Latest("t");
  ASSERT_OK(latest);
  EXPECT_EQ((*latest)->body, "b3");
}

TEST(StoreAppendTest, LargeBodyIsStoredCompressedAndReadBackExactly) {
  testing::TempDir dir;
  const StoreOptions o = TestStoreOptions(dir);
  auto store = Store::Open(o);
  ASSERT_OK(store);
  std::string body;
  for (int i = 0; i < 40000; ++i) body += "metric{i=\"" + std::to_string(i) + "\"} 1\n";
  ASSERT_GT(body.size(), 512u << 10);  // large enough for the helper-thread path
  ASSERT_OK((*store)->AppendFetch("t", kStartMs, {{{{"__name__", "m"}}, 1}}, body));
  auto latest = (*store)->Latest("t");
  ASSERT_OK(latest);
  EXPECT_EQ((*latest)->body, body);
}

TEST(EncodeCanonicalTest, MatchesCanonicalizeThenEncodeLabels) {
  const std::vector<Labels> cases = {
      {{"__name__", "up"}},
      {{"z", "1"}, {"__name__", "x"}, {"a", "2"}, {"empty", ""}},
      {{"job", "j"}, {"instance", "i:1"}, {"__name__", "ns:metric_total"}, {"b", "\n\"\\"}},
  };
  for (const Labels& l : cases) {
    std::string got;
    ASSERT_OK(EncodeCanonical(l, &got));
    EXPECT_EQ(got, EncodeLabels(Canonicalize(l).value()));
  }
  const std::vector<Labels> bad = {
      {{"a", "1"}},                                // no __name__
      {{"__name__", "x"}, {"a", "1"}, {"a", "2"}},  // duplicate
      {{"__name__", "x"}, {"1a", "1"}},             // bad name
      {{"__name__", "x"}, {"", "1"}},               // empty name
      {{"__name__", "a-b"}},                        // bad metric name
  };
  for (const Labels& l : bad) {
    std::string got;
    Status s = EncodeCanonical(l, &got);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.message(), Canonicalize(l).status().message());
  }
}

// Keys written by hand, as uvarint-prefixed name/value pairs.
std::string Key(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::string out;
  for (const auto& [n, v] : pairs) {
    PutUvarint(&out, n.size());
    out += n;
    PutUvarint(&out, v.size());
    out += v;
  }
  return out;
}

SeriesSample KeyedSample(const std::string& key, double v) {
  SeriesSample s;
  s.key = key;
  s.value = v;
  return s;
}

TEST(StoreAppendTest, SamplesGivenByCanonicalKeyAreTheSameSeriesAsByLabels) {
  testing::TempDir dir;
  StoreOptions o = TestStoreOptions(dir);
  auto store = OpenOrDie(o);
  const std::string a = Key({{"__name__", "vulns"}, {"org", "acme"}});
  const std::string b = Key({{"__name__", "vulns"}, {"org", "beta"}});
  ASSERT_OK(store->AppendFetch("t", kStartMs, {KeyedSample(a, 1), KeyedSample(b, 2)}, ""));
  // Same order: the fast path; then labels for one of them, in another order.
  ASSERT_OK(store->AppendFetch("t", kStartMs + kHourMs, {KeyedSample(a, 3), KeyedSample(b, 4)}, ""));
  SeriesSample by_labels{{{"org", "beta"}, {"__name__", "vulns"}}, 6};
  ASSERT_OK(store->AppendFetch("t", kStartMs + 2 * kHourMs, {by_labels, KeyedSample(a, 5)}, ""));
  auto refs = store->Select({}, INT64_MIN, INT64_MAX);
  ASSERT_OK(refs);
  ASSERT_EQ(refs->size(), 2u);
  EXPECT_EQ((*refs)[1].labels, (Labels{{"__name__", "vulns"}, {"org", "beta"}}));
  auto samples = store->Samples((*refs)[1].id, INT64_MIN, INT64_MAX);
  ASSERT_OK(samples);
  std::vector<double> values;
  for (const Sample& smp : *samples) values.push_back(smp.value);
  EXPECT_EQ(values, (std::vector<double>{2, 4, 6}));
}

// The commit listener gets, per sample, the store's own copy of its series key: the same
// bytes as the canonical key, whether the sample came by key or by labels, in the fast path
// and not, and still valid (same address, same bytes) after later fetches and a flush. The
// series that vanished follow, with stale markers, and the previous fetch time is known
// across a reopen.
TEST(StoreAppendTest, CommitListenerGetsTheStoresOwnStableKeysAndTheStaleSeries) {
  testing::TempDir dir;
  struct Seen {
    int64_t t, prev;
    std::vector<std::string_view> keys;
    std::vector<uint64_t> value_bits;
    size_t num_given;
  };
  std::vector<Seen> seen;
  auto listen = [&](const Store::CommittedFetch& c) {
    EXPECT_EQ(c.target_key, "t");
    ASSERT_EQ(c.keys.size(), c.values.size());
    std::vector<uint64_t> bits;
    for (double v : c.values) bits.push_back(std::bit_cast<uint64_t>(v));
    seen.push_back(Seen{c.fetch_time_ms, c.previous_fetch_ms, c.keys, bits, c.num_given});
  };
  const std::string a = Key({{"__name__", "vulns"}, {"org", "acme"}});
  const std::string b = Key({{"__name__", "vulns"}, {"org", "beta"}});
  const std::string c = Key({{"__name__", "vulns"}, {"org", "core"}});
  const uint64_t one = std::bit_cast<uint64_t>(1.0), two = std::bit_cast<uint64_t>(2.0);
  {
    auto store = OpenOrDie(TestStoreOptions(dir));
    store->SetCommitListener(listen);
    ASSERT_OK(store->AppendFetch("t", kStartMs, {KeyedSample(a, 1), KeyedSample(b, 2)}, ""));
    ASSERT_OK(store->AppendFetch("t", kStartMs + kHourMs, {KeyedSample(a, 1), KeyedSample(b, 2)}, ""));  // fast path
    SeriesSample by_labels{{{"org", "beta"}, {"__name__", "vulns"}}, 2};
    ASSERT_OK(store->AppendFetch("t", kStartMs + 2 * kHourMs, {by_labels, KeyedSample(a, 1)}, ""));  // reordered
    ASSERT_OK(store->AppendFetch("t", kStartMs + 3 * kHourMs, {KeyedSample(a, 1)}, ""));  // b vanished
    ASSERT_OK(store->Flush());
    ASSERT_EQ(seen.size(), 4u);
    EXPECT_EQ(seen[0].keys, (std::vector<std::string_view>{a, b}));
    EXPECT_EQ(seen[0].prev, -1);
    EXPECT_EQ(seen[1].keys, (std::vector<std::string_view>{a, b}));
    EXPECT_EQ(seen[1].prev, kStartMs);
    EXPECT_EQ(seen[2].keys, (std::vector<std::string_view>{b, a}));
    EXPECT_EQ(seen[2].value_bits, (std::vector<uint64_t>{two, one}));
    EXPECT_EQ(seen[3].keys, (std::vector<std::string_view>{a, b}));
    EXPECT_EQ(seen[3].num_given, 1u);
    EXPECT_EQ(seen[3].value_bits, (std::vector<uint64_t>{one, kStaleMarkerBits}));
    // One copy per series, kept by the store: every fetch saw the same bytes at one address.
    EXPECT_EQ(seen[0].keys[0].data(), seen[1].keys[0].data());
    EXPECT_EQ(seen[0].keys[0].data(), seen[2].keys[1].data());
    EXPECT_EQ(seen[0].keys[1].data(), seen[2].keys[0].data());
    EXPECT_EQ(seen[0].keys[1].data(), seen[3].keys[1].data());
    EXPECT_NE(seen[0].keys[0].data(), a.data());
    // SeriesKeyOf gives the same view.
    auto refs = store->Select({}, kStartMs, kStartMs);
    ASSERT_TRUE(refs.ok());
    ASSERT_EQ(refs->size(), 2u);
    for (const auto& r : *refs) {
      auto k = store->SeriesKeyOf(r.id);
      ASSERT_TRUE(k.has_value());
      EXPECT_TRUE(k->data() == seen[0].keys[0].data() || k->data() == seen[0].keys[1].data());
    }
    EXPECT_FALSE(store->SeriesKeyOf(12345).has_value());
    store->SetCommitListener(nullptr);
  }
  // After a reopen the first fetch still knows the previous one, and its stale markers come
  // from what the store recorded: a vanished again (c is new).
  seen.clear();
  auto store = OpenOrDie(TestStoreOptions(dir));
  store->SetCommitListener(listen);
  ASSERT_OK(store->AppendFetch("t", kStartMs + 4 * kHourMs, {KeyedSample(c, 2)}, ""));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].prev, kStartMs + 3 * kHourMs);
  EXPECT_EQ(seen[0].keys, (std::vector<std::string_view>{c, a}));
  EXPECT_EQ(seen[0].num_given, 1u);
  EXPECT_EQ(seen[0].value_bits, (std::vector<uint64_t>{two, kStaleMarkerBits}));
  store->SetCommitListener(nullptr);
}

// A producer that finds a sample's key equal to one of LastFetchKeys passes that view
// instead of a copy: same series, same samples, in order or not. A view that is not the
// store's is checked like any key.
TEST(StoreAppendTest, SamplesMayCarryTheStoresOwnKeysOfTheLastFetch) {
  testing::TempDir dir;
  auto store = OpenOrDie(TestStoreOptions(dir));
  const std::string a = Key({{"__name__", "vulns"}, {"org", "acme"}});
  const std::string b = Key({{"__name__", "vulns"}, {"org", "beta"}});
  EXPECT_TRUE(store->LastFetchKeys("t").empty());
  ASSERT_OK(store->AppendFetch("t", kStartMs, {KeyedSample(a, 1), KeyedSample(b, 2)}, ""));
  const std::vector<std::string_view> known = store->LastFetchKeys("t");
  ASSERT_EQ(known, (std::vector<std::string_view>{a, b}));
  EXPECT_NE(known[0].data(), a.data());  // the store's own copy
  auto stored = [](std::string_view k, double v) {
    SeriesSample s;
    s.stored_key = k;
    s.value = v;
    return s;
  };
  ASSERT_OK(store->AppendFetch("t", kStartMs + kHourMs, {stored(known[0], 3), stored(known[1], 4)}, ""));
  ASSERT_OK(store->AppendFetch("t", kStartMs + 2 * kHourMs, {stored(known[1], 6), stored(known[0], 5)}, ""));
  std::vector<double> values;
  for (const Sample& x : All(store.get())) values.push_back(x.value);
  EXPECT_EQ(values, (std::vector<double>{1, 3, 5, 2, 4, 6}));
  EXPECT_EQ(store->LastFetchKeys("t"), (std::vector<std::string_view>{b, a}));
  // A view of bytes that are not a canonical key is refused, and nothing is written.
  const std::string bad = Key({{"__name__", "vulns"}, {"org", "acme"}}).substr(0, 5);
  Status st = store->AppendFetch("t", kStartMs + 3 * kHourMs, {stored(bad, 7)}, "");
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(All(store.get()).size(), 6u);
}

// The releasing form empties the key of each series the fetch creates, once the store holds
// its own copy; known series keep theirs, the samples are stored as by AppendFetchGzipBody,
// and a refused fetch releases nothing.
TEST(StoreAppendTest, ReleasingKeysEmptiesOnlyTheNewSeriesKeysOfACommittedFetch) {
  testing::TempDir dir;
  auto store = OpenOrDie(TestStoreOptions(dir));
  const std::string a = Key({{"__name__", "vulns"}, {"org", "acme"}});
  const std::string b = Key({{"__name__", "vulns"}, {"org", "beta"}});
  const std::string gz = GzipCompress("body").value();
  ASSERT_OK(store->AppendFetchGzipBody("t", kStartMs, {KeyedSample(a, 1)}, gz));
  std::vector<SeriesSample> samples = {KeyedSample(a, 2), KeyedSample(b, 3)};
  ASSERT_OK(store->AppendFetchGzipBodyAndReleaseKeys("t", kStartMs + kHourMs, &samples, gz));
  EXPECT_EQ(samples[0].key, a);  // known: kept
  EXPECT_TRUE(samples[1].key.empty());  // new: released
  EXPECT_EQ(samples[1].value, 3);
  std::vector<double> values;
  for (const Sample& x : All(store.get())) values.push_back(x.value);
  EXPECT_EQ(values, (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(store->LastFetchKeys("t"), (std::vector<std::string_view>{a, b}));
  // Refused (a series twice): nothing released.
  const std::string c = Key({{"__name__", "vulns"}, {"org", "core"}});
  std::vector<SeriesSample> twice = {KeyedSample(c, 4), KeyedSample(c, 5)};
  EXPECT_FALSE(store->AppendFetchGzipBodyAndReleaseKeys("t", kStartMs + 2 * kHourMs, &twice, gz).ok());
  EXPECT_EQ(twice[0].key, c);
  EXPECT_EQ(twice[1].key, c);
}

TEST(StoreAppendTest, ABadKeyIsRefusedWithItsReasonAndNothingIsWritten) {
  testing::TempDir dir;
  StoreOptions o = TestStoreOptions(dir);
  auto store = OpenOrDie(o);
  const std::string good = Key({{"__name__", "vulns"}, {"org", "acme"}});
  ASSERT_OK(store->AppendFetch("t", kStartMs, {KeyedSample(good, 1)}, "b0"));
  const std::pair<std::string, std::string> cases[] = {
      {Key({{"org", "acme"}, {"__name__", "vulns"}}), "not in canonical order"},
      {Key({{"__name__", "vulns"}, {"1org", "acme"}}), "1org"},
      {Key({{"__name__", "vulns"}, {"org", "a"}, {"org", "b"}}), "org"},
      {Key({{"__name__", "vulns"}, {"org", ""}}), "has an empty value"},
      {Key({{"org", "acme"}}), "__name__"},
      {std::string("\x05ab"), "does not decode"},
  };
  int64_t t = kStartMs;
  for (const auto& [key, reason] : cases) {
    t += kHourMs;
    Status s = store->AppendFetch("t", t, {KeyedSample(good, 2), KeyedSample(key, 3)}, "bad");
    ASSERT_FALSE(s.ok()) << reason;
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
    EXPECT_THAT(s.message(), HasSubstr(reason));
  }
  // Only the first fetch is there.
  EXPECT_EQ(All(store.get()).size(), 1u);
  auto latest = store->Latest("t");
  ASSERT_OK(latest);
  EXPECT_EQ((*latest)->body, "b0");
}

}  // namespace
}  // namespace sb::storage
