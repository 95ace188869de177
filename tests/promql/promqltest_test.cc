// Runs Prometheus v3.14.0's promqltest scripts through storage::Store and promql::Engine.
// Prints per file: passed / failed / skipped, every failure, and the total.
#include <algorithm>
#include <filesystem>
#include <iostream>

#include <gtest/gtest.h>

#include "tests/promql/promqltest_runner.h"
#include "tests/testing/testing.h"

namespace sb::promqltest {
namespace {

TEST(PromqlTestScripts, AtLeast500EvalsPassAndNoneCrash) {
  const std::string dir = SB_PROMQLTEST_DIR;
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".test") files.push_back(e.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty());
  testing::TempDir tmp;
  int passed = 0, failed = 0, skipped = 0;
  const bool verbose = std::getenv("PROMQLTEST_VERBOSE") != nullptr;
  for (const auto& f : files) {
    std::string reason = SkippedFileReason(f);
    if (!reason.empty()) {
      std::cout << f << ": skipped (" << reason << ")\n";
      continue;
    }
    RunnerOptions o;
    o.work_dir = tmp.path();
    auto r = RunScript(f, testing::ReadFile(dir + "/" + f), o);
    ASSERT_TRUE(r.ok()) << f << ": " << r.status().ToString();
    std::cout << f << ": passed " << r->passed << ", failed " << r->failed << ", skipped "
              << r->skipped << "\n";
    for (const auto& x : r->failures) std::cout << "  FAIL " << x << "\n";
    if (verbose) for (const auto& x : r->skip_reasons) std::cout << "  skip " << x << "\n";
    passed += r->passed;
    failed += r->failed;
    skipped += r->skipped;
  }
  std::cout << "TOTAL: passed " << passed << ", failed " << failed << ", skipped " << skipped
            << "\n";
  EXPECT_GE(passed, 500);
  // Every eval in scope passes today (735 of them): a failure is a regression.
  EXPECT_EQ(failed, 0);
}

}  // namespace
}  // namespace sb::promqltest
