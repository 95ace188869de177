// `scout-bridge tsdb import` against promtool: the same OpenMetrics file goes through
// `promtool tsdb create-blocks-from openmetrics` and through our import, and the two
// dumps (`promtool tsdb dump` and `scout-bridge tsdb dump`, same line format) must agree
// sample for sample. Also: importing twice adds nothing, and bad input writes nothing.
#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "tests/testing/testing.h"

namespace sb::itest {
namespace {

using ::testing::HasSubstr;

const std::string kBinary = std::string(SB_BINARY_DIR) + "/scout-bridge";

// 30 series (3 orgs x 10 images), 500 hourly samples each, ~5% of values changing, a
// few fractional-second timestamps, one series that ends in NaN.
std::string Generate() {
  std::ostringstream out;
  out << "# HELP scout_vulns Vulnerabilities by severity.\n# TYPE scout_vulns gauge\n";
  uint64_t rng = 42;
  auto next = [&rng] {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return rng >> 33;
  };
  for (int org = 0; org < 3; ++org) {
    for (int img = 0; img < 10; ++img) {
      double v = static_cast<double>(next() % 300) / 4;
      for (int i = 0; i < 500; ++i) {
        if (next() % 20 == 0) v += 0.25 * static_cast<double>(next() % 9) - 1;
        out << "scout_vulns{org=\"org" << org << "\",image=\"img-" << img << "\"} ";
        if (org == 2 && img == 9 && i == 499) out << "NaN";
        else out << v;
        out << " " << 1700000000 + i * 3600 << (i % 7 == 3 ? ".125" : "") << "\n";
      }
    }
  }
  out << "# EOF\n";
  return out.str();
}

std::vector<std::string> SortedLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    if (!l.empty()) lines.push_back(l);
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

TEST(TsdbImportTest, DumpAgreesWithPromtoolBackfillAndSecondImportAddsNothing) {
  const std::string promtool = testing::FindExecutable("promtool");
  ASSERT_FALSE(promtool.empty()) << "promtool not installed: run scripts/install-deps.sh";
  testing::TempDir dir;
  const std::string file = dir.File("in.om");
  testing::WriteFile(file, Generate());

  std::string out;
  // 500 hours: without a longer block duration promtool writes one 2h block per sample.
  ASSERT_EQ(testing::RunCommand({promtool, "tsdb", "create-blocks-from", "openmetrics",
                                 "--max-block-duration=1000h", file, dir.File("prom")}, &out),
            0) << out;
  // promtool's dump opens the directory as a TSDB, which needs a (here empty) WAL.
  std::filesystem::create_directories(dir.File("prom") + "/wal");
  std::string prom_dump;
  ASSERT_EQ(testing::RunCommand({promtool, "tsdb", "dump", dir.File("prom")}, &prom_dump), 0);

  const std::string store = "--storage.path=" + dir.File("ours");
  ASSERT_EQ(testing::RunCommand({kBinary, "tsdb", "import", "--format=openmetrics", file, store},
                                &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("Series: 30 (30 new)"));
  EXPECT_THAT(out, HasSubstr("Samples added: 15000\n"));
  std::string our_dump;
  ASSERT_EQ(testing::RunCommand({kBinary, "tsdb", "dump", store}, &our_dump), 0);

  const std::vector<std::string> want = SortedLines(prom_dump);
  const std::vector<std::string> got = SortedLines(our_dump);
  ASSERT_EQ(want.size(), 15000u) << prom_dump.substr(0, 500);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(got[i], want[i]) << "line " << i;

  ASSERT_EQ(testing::RunCommand({kBinary, "tsdb", "import", "--format", "openmetrics", file,
                                 store}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("Series: 30 (0 new)"));
  EXPECT_THAT(out, HasSubstr("Samples added: 0\n"));
  EXPECT_THAT(out, HasSubstr("Samples skipped (already stored): 15000"));
  std::string again;
  ASSERT_EQ(testing::RunCommand({kBinary, "tsdb", "dump", store}, &again), 0);
  EXPECT_EQ(again, our_dump);
}

TEST(TsdbImportTest, BadInputIsAnErrorWithFileLineAndColumnAndWritesNothing) {
  testing::TempDir dir;
  const std::string file = dir.File("bad.om");
  testing::WriteFile(file, "a 1 1\na 2 2\na{x=\"y} 3 3\n# EOF\n");
  std::string out;
  EXPECT_EQ(testing::RunCommand({kBinary, "tsdb", "import", "--format=openmetrics", file,
                                 "--storage.path=" + dir.File("ours")}, &out), 1);
  EXPECT_THAT(out, HasSubstr(file + ":3:"));
  EXPECT_FALSE(std::filesystem::exists(dir.File("ours")));
  // Usage errors exit 2.
  EXPECT_EQ(testing::RunCommand({kBinary, "tsdb", "import", file}, &out), 2);
  EXPECT_THAT(out, HasSubstr("--format=openmetrics"));
  EXPECT_EQ(testing::RunCommand({kBinary, "tsdb", "import", "--format=json", file}, &out), 2);
}

}  // namespace
}  // namespace sb::itest
