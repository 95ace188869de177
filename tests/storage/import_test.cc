// Tests of the OpenMetrics backfill (storage/import.{h,cc}).
#include "storage/import.h"

#include <bit>
#include <cmath>
#include <string>
#include <vector>

#include "tests/storage/store_testing.h"
#include "tests/testing/testing.h"

namespace sb::storage {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr const char* kFile =
    "# HELP scout_vulns Vulnerabilities.\n"
    "# TYPE scout_vulns gauge\n"
    "scout_vulns{org=\"acme\",severity=\"high\"} 12 1700000000\n"
    "scout_vulns{severity=\"low\",org=\"acme\"} 3 1700000000.25\n"
    "scout_vulns{org=\"acme\",severity=\"high\"} 13 1700003600\n"
    "# TYPE builds counter\n"
    "builds_total 7 1700000000.001\n"
    "scout_vulns{org=\"acme\",severity=\"low\"} NaN 1700003600.5\n"
    "# EOF\n";

TEST(ImportParseTest, GroupsSamplesBySeriesInFirstAppearanceOrder) {
  Result<std::vector<SeriesSamples>> r = ParseOpenMetricsForImport(kFile);
  ASSERT_OK(r);
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ(LabelsToString((*r)[0].labels), "scout_vulns{org=\"acme\",severity=\"high\"}");
  ASSERT_EQ((*r)[0].samples.size(), 2u);
  EXPECT_EQ((*r)[0].samples[0].timestamp_ms, 1700000000000);
  EXPECT_EQ((*r)[0].samples[1].timestamp_ms, 1700003600000);
  EXPECT_EQ((*r)[0].samples[1].value, 13);
  // Label order in the file does not matter: one series.
  EXPECT_EQ(LabelsToString((*r)[1].labels), "scout_vulns{org=\"acme\",severity=\"low\"}");
  ASSERT_EQ((*r)[1].samples.size(), 2u);
  EXPECT_EQ((*r)[1].samples[0].timestamp_ms, 1700000000250);  // seconds -> ms
  EXPECT_EQ((*r)[1].samples[1].timestamp_ms, 1700003600500);
  EXPECT_TRUE(std::isnan((*r)[1].samples[1].value));
  EXPECT_EQ(LabelsToString((*r)[2].labels), "builds_total{}");
  EXPECT_EQ((*r)[2].samples[0].timestamp_ms, 1700000000001);
}

TEST(ImportParseTest, MissingEofIsAnErrorWithItsLine) {
  Result<std::vector<SeriesSamples>> r = ParseOpenMetricsForImport("a 1 1\nb 2 1\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), StartsWith("3:1: "));
  EXPECT_THAT(r.status().message(), HasSubstr("# EOF"));
}

TEST(ImportParseTest, MalformedLineNamesLineAndColumn) {
  Result<std::vector<SeriesSamples>> r =
      ParseOpenMetricsForImport("# TYPE a gauge\na 1 1\na{x=1} 2 2\n# EOF\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), StartsWith("3:"));
}

TEST(ImportParseTest, SampleWithoutTimestampNamesLineAndColumn) {
  Result<std::vector<SeriesSamples>> r =
      ParseOpenMetricsForImport("a 1 100\n\n  b{k=\"v\"} 2   \n# EOF\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(r.status().message(), StartsWith("3:13: "));
  EXPECT_THAT(r.status().message(), HasSubstr("b{k=\"v\"} has no timestamp"));
}

TEST(ImportParseTest, OutOfOrderSampleNamesBothLines) {
  Result<std::vector<SeriesSamples>> r =
      ParseOpenMetricsForImport("a 1 100\nb 1 50\na 2 100\n# EOF\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), StartsWith("3:1: "));
  EXPECT_THAT(r.status().message(), HasSubstr("(line 1)"));
  EXPECT_THAT(r.status().message(), HasSubstr("100000 ms"));
}

TEST(ImportParseTest, TooManySamplesIsRefused) {
  ImportLimits limits;
  limits.max_samples = 2;
  Result<std::vector<SeriesSamples>> r =
      ParseOpenMetricsForImport("a 1 1\na 2 2\na 3 3\n# EOF\n", limits);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), StartsWith("3:"));
}

TEST(ImportTest, ImportingTheSameFileTwiceAddsNothing) {
  testing::TempDir dir;
  auto store = OpenOrDie(TestStoreOptions(dir));
  Result<ImportStats> first = ImportOpenMetrics(*store, kFile);
  ASSERT_OK(first);
  EXPECT_EQ(first->series_created, 3);
  EXPECT_EQ(first->samples_added, 5);
  Result<ImportStats> second = ImportOpenMetrics(*store, kFile);
  ASSERT_OK(second);
  EXPECT_EQ(second->series_created, 0);
  EXPECT_EQ(second->samples_added, 0);
  EXPECT_EQ(second->samples_skipped, 5);
  Result<std::vector<SeriesRef>> refs = store->Select({}, INT64_MIN, INT64_MAX);
  ASSERT_OK(refs);
  ASSERT_EQ(refs->size(), 3u);
  size_t total = 0;
  for (const SeriesRef& ref : *refs) total += store->Samples(ref.id, INT64_MIN, INT64_MAX)->size();
  EXPECT_EQ(total, 5u);
}

TEST(ImportTest, BadInputWritesNothing) {
  testing::TempDir dir;
  auto store = OpenOrDie(TestStoreOptions(dir));
  // The error is on the last line: nothing before it may be written either.
  Result<ImportStats> r = ImportOpenMetrics(*store, "a 1 1\nb 1 1\nc 1\n# EOF\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), StartsWith("3:"));
  EXPECT_TRUE(store->LabelNames().empty());
  Result<std::vector<SeriesRef>> refs = store->Select({}, INT64_MIN, INT64_MAX);
  ASSERT_OK(refs);
  EXPECT_TRUE(refs->empty());
}

TEST(ImportTest, NanValueIsStoredAsNan) {
  testing::TempDir dir;
  auto store = OpenOrDie(TestStoreOptions(dir));
  // OpenMetrics text cannot carry a NaN payload: "NaN" parses to the canonical quiet NaN,
  // and that is what is stored.
  ASSERT_OK(ImportOpenMetrics(*store, "a NaN 1\n# EOF\n"));
  Result<std::vector<SeriesRef>> refs = store->Select({}, INT64_MIN, INT64_MAX);
  ASSERT_OK(refs);
  ASSERT_EQ(refs->size(), 1u);
  Result<std::vector<Sample>> got = store->Samples((*refs)[0].id, INT64_MIN, INT64_MAX);
  ASSERT_OK(got);
  ASSERT_EQ(got->size(), 1u);
  EXPECT_TRUE(std::isnan((*got)[0].value));
  EXPECT_NE(std::bit_cast<uint64_t>((*got)[0].value), kStaleMarkerBits);
}

}  // namespace
}  // namespace sb::storage
