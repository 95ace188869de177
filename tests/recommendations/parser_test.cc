#include "recommendations/parser.h"

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "recommendations/report_json.h"
#include "tests/testing/testing.h"

namespace sb::recommendations {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kFixtures = std::string(SB_SOURCE_DIR) + "/tests/recommendations/fixtures";
const std::string kGolden = std::string(SB_SOURCE_DIR) + "/tests/recommendations/golden";

std::string FixturePath(const std::string& prefix) {
  for (const auto& e : fs::directory_iterator(kFixtures)) {
    std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) == 0 && e.path().extension() == ".txt") return e.path().string();
  }
  ADD_FAILURE() << "no fixture " << prefix;
  return "";
}

Report ParseFixture(const std::string& prefix) {
  std::string path = FixturePath(prefix);
  auto r = ParseReport(testing::ReadFile(path), path);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : Report{};
}

const Recommendation* Find(const Report& report, const std::string& tag) {
  for (const auto& r : report.recommendations) {
    if (r.tag == tag) return &r;
  }
  return nullptr;
}

// Every fixture against its golden JSON. SB_UPDATE_GOLDEN=1 rewrites the files (then read
// the diff by hand against the text before committing).
TEST(ParserGoldenTest, AllEighteenFixturesMatchTheirGoldenJson) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(kFixtures)) {
    if (e.path().extension() == ".txt") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_EQ(files.size(), 18u);
  bool update = std::getenv("SB_UPDATE_GOLDEN") != nullptr;
  for (const auto& f : files) {
    std::string nn = f.filename().string().substr(0, 2);
    auto r = ParseReport(testing::ReadFile(f.string()), f.filename().string());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    std::string got = PrettyJson(ReportToJson(*r));
    std::string golden_path = kGolden + "/" + nn + ".json";
    if (update) {
      testing::WriteFile(golden_path, got);
      continue;
    }
    ASSERT_TRUE(fs::exists(golden_path)) << golden_path;
    EXPECT_EQ(got, testing::ReadFile(golden_path)) << "fixture " << f.filename();
  }
}

TEST(ParserTest, CartographyFixtureFieldsMatchCartographysTest) {
  Report r = ParseFixture("01_");
  EXPECT_EQ(r.layout, Layout::kCurrent);
  EXPECT_EQ(r.target_image, "registry.example.test/example/app:1.2.3");
  EXPECT_EQ(r.target_digest, "ecr000000000000");
  EXPECT_EQ(r.base.Reference(), "node:25-alpine");
  EXPECT_THAT(r.base.supported_tags,
              ElementsAre("25-alpine3.23", "alpine", "alpine3.23", "current-alpine", "current-alpine3.23"));
  EXPECT_EQ(r.base.vulnerabilities[Severity::kHigh], 6);
  ASSERT_EQ(r.recommendations.size(), 4u);
  const Recommendation* refresh = Find(r, "25-alpine");
  ASSERT_NE(refresh, nullptr);
  EXPECT_EQ(refresh->kind, RecommendationKind::kRefresh);
  EXPECT_THAT(refresh->benefits,
              ElementsAre("Same OS detected", "Minor runtime version update", "Newer image for same tag",
                          "Image contains 9 fewer packages", "Tag was pushed more recently",
                          "Image has similar size", "Image introduces no new vulnerability but removes 2"));
  EXPECT_EQ(refresh->deltas[Severity::kHigh], -2);
  EXPECT_EQ(FixesOf(r.base, *refresh).high, 2);
  EXPECT_FALSE(FixesOf(r.base, *refresh).medium.has_value());
  const Recommendation* slim = Find(r, "slim");
  ASSERT_NE(slim, nullptr);
  EXPECT_THAT(slim->alternative_tags,
              ElementsAre("25.8.1-slim", "25.8-slim", "current-slim", "25-slim", "bookworm-slim",
                          "25-bookworm-slim", "25.8-bookworm-slim", "25.8.1-bookworm-slim", "current-bookworm-slim"));
  EXPECT_EQ(slim->deltas[Severity::kHigh], -2);
  EXPECT_EQ(slim->deltas[Severity::kMedium], -1);
  EXPECT_EQ(slim->deltas[Severity::kLow], 9);
  EXPECT_EQ(FixesOf(r.base, *slim).high, 2);
  EXPECT_EQ(FixesOf(r.base, *slim).medium, 1);
  EXPECT_FALSE(FixesOf(r.base, *slim).low.has_value());
  EXPECT_EQ(slim->details.size, "79 MB");
  EXPECT_EQ(slim->details.runtime, "22");
}

TEST(ParserTest, UnknownSeverityColumnIsReadAndPlacedByPosition) {
  Report r = ParseFixture("02_");
  EXPECT_EQ(r.base.vulnerabilities[Severity::kUnknown], 4);
  const Recommendation* rec = Find(r, "22-slim");
  ASSERT_NE(rec, nullptr);
  EXPECT_EQ(rec->deltas[Severity::kHigh], -3);
  EXPECT_EQ(rec->deltas[Severity::kMedium], -5);
  EXPECT_EQ(rec->deltas[Severity::kLow], -106);
  EXPECT_EQ(rec->deltas[Severity::kUnknown], -4);
  EXPECT_TRUE(r.base_up_to_date);
}

TEST(ParserTest, EmptyTargetNameKeepsTheDigest) {
  Report r = ParseFixture("07_");
  EXPECT_EQ(r.target_image, "");
  EXPECT_EQ(r.target_digest, "5f6e30543929");
  EXPECT_EQ(r.base.vulnerabilities[Severity::kUnknown], 10);
}

TEST(ParserTest, WrappedSupportedTagsWithoutBackticksAreJoined) {
  Report r = ParseFixture("08_");
  EXPECT_THAT(r.base.supported_tags,
              ElementsAre("18-alpine3.21", "18.20-alpine", "18.20-alpine3.21", "18.20.7-alpine",
                          "18.20.7-alpine3.21", "hydrogen-alpine", "hydrogen-alpine3.21"));
  Report r11 = ParseFixture("11_");
  EXPECT_THAT(r11.base.supported_tags, ElementsAre("3.11-alpine3.21", "3.11.12-alpine", "3.11.12-alpine3.21"));
}

TEST(ParserTest, BlankLinesBetweenRowsAndSlimVAreRead) {
  Report r = ParseFixture("09_");
  EXPECT_TRUE(r.base.details.slim);
  EXPECT_EQ(r.recommendations.size(), 4u);
  const Recommendation* rec = Find(r, "stable-slim");
  ASSERT_NE(rec, nullptr);
  EXPECT_EQ(rec->deltas[Severity::kLow], -4);
  EXPECT_THAT(rec->alternative_tags, ElementsAre("stable-20250908-slim"));
}

TEST(ParserTest, UnknownBaseWithEmptyFieldsSwallowsNothing) {
  Report r = ParseFixture("10_");
  EXPECT_EQ(r.base.name, "");
  EXPECT_EQ(r.base.tag, "1.28-alpine-slim");
  EXPECT_EQ(r.base.digest, "");
  EXPECT_FALSE(r.base.vulnerabilities.known);
  EXPECT_EQ(r.base.size, "0 B");
  EXPECT_EQ(r.base.packages, 0);
  EXPECT_TRUE(r.no_tag_recommendations);
  EXPECT_TRUE(r.recommendations.empty());
}

TEST(ParserTest, GarbledRedrawIsDeduplicated) {
  Report r = ParseFixture("12_");
  const Recommendation* rec = Find(r, "3.12-alpine");
  ASSERT_NE(rec, nullptr);
  EXPECT_EQ(rec->benefits.size(), 5u);
  EXPECT_THAT(rec->alternative_tags, ElementsAre("3.12.10-alpine", "3.12.10-alpine3.21", "3.12-alpine3.21"));
  EXPECT_EQ(rec->details.runtime, "3.12.10");
}

TEST(ParserTest, DecLineDrawingLettersAreUnderstood) {
  Report r = ParseFixture("13_");
  EXPECT_EQ(r.target_image, "shotaohtsuka/scout-demo:v1");
  EXPECT_EQ(r.base.Reference(), "alpine:3");
  EXPECT_EQ(r.base.vulnerabilities[Severity::kHigh], 16);
  EXPECT_THAT(r.base.supported_tags, ElementsAre("latest"));
  ASSERT_EQ(r.recommendations.size(), 4u);
  const Recommendation& refresh = r.recommendations[0];
  EXPECT_EQ(refresh.tag, "3");
  EXPECT_THAT(refresh.alternative_tags, ElementsAre("3.19.1", "3.19", "latest"));
  EXPECT_EQ(refresh.deltas[Severity::kCritical], -2);
  EXPECT_EQ(refresh.deltas[Severity::kHigh], -16);
  EXPECT_EQ(refresh.deltas[Severity::kMedium], -7);
  EXPECT_EQ(refresh.deltas[Severity::kLow], 0);
  EXPECT_EQ(refresh.deltas[Severity::kUnknown], -1);
  EXPECT_EQ(refresh.details.os, "3.19.1");
}

TEST(ParserTest, MissingTargetAndLegacyLayoutsAreRecognised) {
  EXPECT_EQ(ParseFixture("15_").layout, Layout::kNoTarget);
  Report r16 = ParseFixture("16_");
  EXPECT_EQ(r16.layout, Layout::kLegacy);
  EXPECT_EQ(r16.target_image, "test:latest");
  // The slim row's "+17" wrapped onto a line of its own; it is placed by value.
  const Recommendation* slim = Find(r16, "slim");
  ASSERT_NE(slim, nullptr);
  EXPECT_EQ(slim->deltas[Severity::kLow], 17);
  Report r18 = ParseFixture("18_");
  EXPECT_EQ(r18.base.tag, "18-alpine");
  EXPECT_EQ(r18.base.name_field, "hydrogen-alpine3.18");
}

TEST(ParserTest, CrlfLineEndsParseLikeLf) {
  std::string text = testing::ReadFile(FixturePath("01_"));
  std::string crlf;
  for (char c : text) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  auto a = ParseReport(text, "a");
  auto b = ParseReport(crlf, "b");
  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_EQ(PrettyJson(ReportToJson(*a)), PrettyJson(ReportToJson(*b)));
}

// Ugly inputs: a clear error, never a crash.
TEST(ParserUglyInputTest, EmptyInputIsNotAReport) {
  auto r = ParseReport("", "empty.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("empty.txt: not a recommendations report: empty"));
}

TEST(ParserUglyInputTest, BinaryInputIsNotAReport) {
  std::string bin("\x7f" "ELF\x02\x01\x01\0\0\0", 10);
  auto r = ParseReport(bin, "a.out");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("binary"));
}

TEST(ParserUglyInputTest, PlainTextWithoutBaseLineIsNotAReport) {
  auto r = ParseReport("# notes\nnothing to see here\n", "README.md");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("no 'Base image is' line"));
}

TEST(ParserUglyInputTest, HeaderWithoutBaseLineIsAnErrorWithItsLine) {
  auto r = ParseReport("\n\n## Recommended fixes\n\nsomething else\n", "x.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("x.txt:3:"));
}

TEST(ParserUglyInputTest, InvalidUtf8IsAnErrorWithLineAndColumn) {
  std::string text = testing::ReadFile(FixturePath("01_"));
  size_t line3 = text.find('\n', text.find('\n') + 1) + 1;  // start of line 3
  text.insert(line3 + 2, "\xC3\x28");
  auto r = ParseReport(text, "bad.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("bad.txt:3:3: invalid UTF-8"));
}

TEST(ParserUglyInputTest, HugeInputIsRefusedBeforeParsing) {
  std::string huge(kMaxReportBytes + 1, 'a');
  auto r = ParseReport(huge, "huge.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kResourceExhausted);
  EXPECT_THAT(r.status().message(), HasSubstr("huge.txt"));
}

TEST(ParserUglyInputTest, TruncatedMidRowIsAnErrorNamingTheLine) {
  std::string text = testing::ReadFile(FixturePath("01_"));
  // Cut inside the row "  • 25.8.1-alpine   │ • Newer image..." (line 29), after its first cell.
  size_t at = text.find("25.8.1-alpine          ");
  ASSERT_NE(at, std::string::npos);
  text.resize(at + 30);
  auto r = ParseReport(text, "cut.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("cut.txt:29: table row has 2 columns"));
}

TEST(ParserUglyInputTest, TruncatedBetweenRowsIsAnErrorNamingTheRecommendation) {
  std::string text = testing::ReadFile(FixturePath("01_"));
  size_t at = text.find("Image details:", text.find("current-alpine "));
  ASSERT_NE(at, std::string::npos);
  text.resize(text.rfind('\n', at) + 1);  // the whole rows before "Image details:"
  auto r = ParseReport(text, "cut.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("recommendation 'current-alpine' ends before"));
}

TEST(ParserUglyInputTest, EveryPrefixOfEveryFixtureGivesAResultOrAnError) {
  // Cut each fixture at many byte offsets (including mid-UTF-8): never a crash.
  for (const auto& e : fs::directory_iterator(kFixtures)) {
    if (e.path().extension() != ".txt") continue;
    std::string text = testing::ReadFile(e.path().string());
    for (size_t n = 0; n < text.size(); n += 97) {
      auto r = ParseReport(std::string_view(text).substr(0, n), "prefix");
      if (!r.ok()) {
        EXPECT_FALSE(r.status().message().empty());
      }
    }
  }
}

TEST(ParserUglyInputTest, SeededMutationsOfEveryFixtureGiveAResultOrAnError) {
  // Bytes that matter to the parser: separators (as UTF-8 pieces), digits, signs, letters
  // of the severity columns, DEC letters, newlines, CR, NUL-free garbage.
  static const std::string kAlphabet[] = {"\xe2\x94\x82", "\xe2\x80\xa2", "\xe2\x94\x80", "x", "q", "n", "~",
                                          "\n", "\r", " ", "-", "+", "7", "C", "H", "?", ":", "`", ",", "\xe2",
                                          "\x94", "Benefits:", "Image details:", "Base image is  ",
                                          "Change base image", "Refresh base image"};
  std::mt19937 rng(20261122);
  size_t ok = 0, errors = 0;
  for (const auto& e : fs::directory_iterator(kFixtures)) {
    if (e.path().extension() != ".txt") continue;
    const std::string text = testing::ReadFile(e.path().string());
    for (int round = 0; round < 150; ++round) {
      std::string m = text;
      int edits = 1 + static_cast<int>(rng() % 8);
      for (int k = 0; k < edits && !m.empty(); ++k) {
        size_t at = rng() % m.size();
        const std::string& piece = kAlphabet[rng() % std::size(kAlphabet)];
        switch (rng() % 3) {
          case 0: m.insert(at, piece); break;
          case 1: m.erase(at, 1 + rng() % 40); break;
          default: m.replace(at, std::min(piece.size(), m.size() - at), piece); break;
        }
      }
      auto r = ParseReport(m, "mutant");
      if (r.ok()) {
        ++ok;
        (void)PrettyJson(ReportToJson(*r));  // and the result serializes
      } else {
        ++errors;
        EXPECT_THAT(r.status().message(), HasSubstr("mutant"));
      }
    }
  }
  // Both outcomes occur: the mutations are neither all harmless nor all fatal.
  EXPECT_GT(ok, 100u);
  EXPECT_GT(errors, 100u);
}

}  // namespace
}  // namespace sb::recommendations
