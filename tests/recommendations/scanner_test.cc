// The scanner end to end over a directory: graph (against Cartography's own integration
// test for fixture 01), clean-up, incremental rescans, failures, restart, metrics, export
// and the API answer.
#include "recommendations/scanner.h"

#include <filesystem>
#include <set>

#include "common/clock.h"
#include "recommendations/api.h"
#include "recommendations/directory_source.h"
#include "recommendations/export.h"
#include "tests/testing/testing.h"

namespace sb::recommendations {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

const std::string kFixtures = std::string(SB_SOURCE_DIR) + "/tests/recommendations/fixtures";

std::string Fixture(const std::string& prefix) {
  for (const auto& e : fs::directory_iterator(kFixtures)) {
    if (e.path().filename().string().rfind(prefix, 0) == 0) return testing::ReadFile(e.path().string());
  }
  ADD_FAILURE() << prefix;
  return "";
}

std::vector<std::string> StringsOf(const json::value& v) {
  std::vector<std::string> out;
  for (const auto& s : v.as_array()) out.emplace_back(s.as_string());
  return out;
}

class ScannerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(reports_.path());
    Open();
  }
  void Open() {
    scanner_.reset();
    auto s = Scanner::Open({db_.File("bridge.db"), &clock_});
    ASSERT_OK(s);
    scanner_ = std::move(s).value();
  }
  ScanSummary Scan() {
    clock_.Advance(std::chrono::seconds(60));
    return scanner_->Scan({&source_});
  }
  Graph LoadGraph() {
    auto g = scanner_->graph_store().LoadGraph();
    EXPECT_TRUE(g.ok()) << g.status().ToString();
    return g.ok() ? *g : Graph{};
  }
  static std::vector<const GraphNode*> Nodes(const Graph& g, const std::string& label) {
    std::vector<const GraphNode*> out;
    for (const auto& n : g.nodes) {
      if (n.label == label) out.push_back(&n);
    }
    return out;
  }
  static std::vector<const GraphEdge*> Edges(const Graph& g, const std::string& type) {
    std::vector<const GraphEdge*> out;
    for (const auto& e : g.edges) {
      if (e.type == type) out.push_back(&e);
    }
    return out;
  }

  FakeClock clock_{1'700'000'000'000};
  testing::TempDir db_;
  testing::TempDir reports_;
  DirectorySource source_{DirectorySourceOptions{reports_.path()}};
  std::unique_ptr<Scanner> scanner_;
};

TEST_F(ScannerTest, Fixture01GraphEqualsCartographysIntegrationTest) {
  testing::WriteFile(reports_.File("ecr-image.txt"), Fixture("01_"));
  ScanSummary s = Scan();
  ASSERT_TRUE(s.ok()) << s.ToString();
  Graph g = LoadGraph();

  auto pis = Nodes(g, kPublicImageLabel);
  ASSERT_EQ(pis.size(), 1u);
  EXPECT_EQ(pis[0]->id, "node:25-alpine");
  EXPECT_EQ(pis[0]->properties.at("name"), "node");
  EXPECT_EQ(pis[0]->properties.at("tag"), "25-alpine");
  EXPECT_THAT(StringsOf(pis[0]->properties.at("alternative_tags")),
              ElementsAre("25-alpine3.23", "alpine", "alpine3.23", "current-alpine", "current-alpine3.23"));

  auto tags = Nodes(g, kPublicImageTagLabel);
  std::set<std::string> ids;
  for (auto* n : tags) {
    ids.insert(n->id);
    EXPECT_EQ(n->properties.at("name"), "node");
    EXPECT_FALSE(n->properties.contains("digest"));  // Cartography: no tag node has a digest
    if (n->id == "node:25-alpine") {
      EXPECT_THAT(StringsOf(n->properties.at("alternative_tags")),
                  ElementsAre("25-alpine3.23", "alpine", "alpine3.23", "current-alpine", "current-alpine3.23",
                              "25.8.1-alpine", "25.8.1-alpine3.23", "25.8-alpine", "25.8-alpine3.23"));
    }
    if (n->id == "node:slim") {
      EXPECT_THAT(StringsOf(n->properties.at("alternative_tags")),
                  ElementsAre("25.8.1-slim", "25.8-slim", "current-slim", "25-slim", "bookworm-slim",
                              "25-bookworm-slim", "25.8-bookworm-slim", "25.8.1-bookworm-slim", "current-bookworm-slim"));
      EXPECT_EQ(n->properties.at("is_slim"), true);
    }
  }
  EXPECT_THAT(ids, UnorderedElementsAre("node:25-alpine", "node:current-alpine", "node:current-alpine3.23", "node:slim"));

  auto built_from = Edges(g, "BUILT_FROM");
  ASSERT_EQ(built_from.size(), 1u);
  EXPECT_EQ(built_from[0]->src_id, "node:25-alpine");
  EXPECT_EQ(built_from[0]->dst_id, "node:25-alpine");

  auto updates = Edges(g, "SHOULD_UPDATE_TO");
  ASSERT_EQ(updates.size(), 4u);
  for (auto* e : updates) {
    EXPECT_EQ(e->src_id, "node:25-alpine");
    const json::object& p = e->properties;
    if (e->dst_id == "node:25-alpine") {
      EXPECT_THAT(StringsOf(p.at("benefits")),
                  ElementsAre("Same OS detected", "Minor runtime version update", "Newer image for same tag",
                              "Image contains 9 fewer packages", "Tag was pushed more recently",
                              "Image has similar size", "Image introduces no new vulnerability but removes 2"));
      EXPECT_TRUE(p.at("fix_critical").is_null());
      EXPECT_EQ(p.at("fix_high"), 2);
      EXPECT_TRUE(p.at("fix_medium").is_null());
      EXPECT_TRUE(p.at("fix_low").is_null());
    }
    if (e->dst_id == "node:slim") {
      EXPECT_THAT(StringsOf(p.at("benefits")),
                  ElementsAre("Tag is preferred tag", "Tag was pushed more recently", "Tag is using slim variant",
                              "slim was pulled 17K times last month"));
      EXPECT_TRUE(p.at("fix_critical").is_null());
      EXPECT_EQ(p.at("fix_high"), 2);
      EXPECT_EQ(p.at("fix_medium"), 1);
      EXPECT_TRUE(p.at("fix_low").is_null());
    }
  }
  auto built_on = Edges(g, "BUILT_ON");
  ASSERT_EQ(built_on.size(), 1u);
  EXPECT_EQ(built_on[0]->src_label, "Image");
  EXPECT_EQ(built_on[0]->src_id, "ecr000000000000");
  EXPECT_EQ(built_on[0]->dst_id, "node:25-alpine");
}

TEST_F(ScannerTest, RemovedReportIsCleanedUpAtTheNextScan) {
  testing::WriteFile(reports_.File("a.txt"), Fixture("01_"));
  testing::WriteFile(reports_.File("b.txt"), Fixture("13_"));
  ASSERT_TRUE(Scan().ok());
  EXPECT_EQ(Nodes(LoadGraph(), kPublicImageLabel).size(), 2u);
  fs::remove(reports_.File("a.txt"));
  ScanSummary s = Scan();
  EXPECT_EQ(s.sources[0].removed, 1u);
  Graph g = LoadGraph();
  auto pis = Nodes(g, kPublicImageLabel);
  ASSERT_EQ(pis.size(), 1u);
  EXPECT_EQ(pis[0]->id, "alpine:3");
  for (const auto& n : g.nodes) EXPECT_EQ(n.id.rfind("node:", 0), std::string::npos) << n.id;
  for (const auto& e : g.edges) EXPECT_NE(e.src_id, "ecr000000000000");
  EXPECT_EQ(scanner_->View()->reports.size(), 1u);
  fs::remove(reports_.File("b.txt"));
  Scan();
  g = LoadGraph();
  EXPECT_TRUE(g.nodes.empty());
  EXPECT_TRUE(g.edges.empty());
  auto files = scanner_->graph_store().LoadFiles();
  ASSERT_OK(files);
  EXPECT_TRUE(files->empty());
}

TEST_F(ScannerTest, UnchangedFilesAreNotReparsedAndChangedOnesAre) {
  testing::WriteFile(reports_.File("a.txt"), Fixture("01_"));
  testing::WriteFile(reports_.File("b.txt"), Fixture("02_"));
  ScanSummary first = Scan();
  EXPECT_EQ(first.sources[0].parsed, 2u);
  int64_t first_seen = LoadGraph().nodes.front().firstseen_ms;
  ScanSummary second = Scan();
  EXPECT_EQ(second.sources[0].parsed, 0u);
  EXPECT_EQ(second.sources[0].unchanged, 2u);
  EXPECT_FALSE(second.changed);
  testing::WriteFile(reports_.File("b.txt"), Fixture("03_"));  // node:22 -> node:22-slim
  ScanSummary third = Scan();
  EXPECT_EQ(third.sources[0].parsed, 1u);
  EXPECT_EQ(third.sources[0].unchanged, 1u);
  EXPECT_TRUE(third.changed);
  Graph g = LoadGraph();
  std::set<std::string> pis;
  for (auto* n : Nodes(g, kPublicImageLabel)) pis.insert(n->id);
  EXPECT_THAT(pis, UnorderedElementsAre("node:25-alpine", "node:22-slim"));
  // A node that stayed keeps firstseen; lastupdated moves to the scan that rewrote it.
  for (const auto& n : g.nodes) {
    if (n.id == "node:25-alpine" && n.label == kPublicImageLabel) {
      EXPECT_EQ(n.firstseen_ms, first_seen);
      EXPECT_GT(n.lastupdated_ms, first_seen);
    }
  }
}

TEST_F(ScannerTest, OneBadFileNeverStopsTheOthers) {
  std::string text = Fixture("01_");
  testing::WriteFile(reports_.File("good.txt"), text);
  testing::WriteFile(reports_.File("cut.txt"), text.substr(0, text.find("Image details:")));
  testing::WriteFile(reports_.File("README.md"), "# reports live here\n");
  testing::WriteFile(reports_.File("blob.bin"), std::string("\0\1\2\3", 4));
  ScanSummary s = Scan();
  ASSERT_EQ(s.sources.size(), 1u);
  EXPECT_EQ(s.sources[0].parsed, 1u);
  EXPECT_EQ(s.sources[0].failed, 1u);
  EXPECT_EQ(s.sources[0].skipped, 2u);
  EXPECT_EQ(Nodes(LoadGraph(), kPublicImageLabel).size(), 1u);
  // Bad files are not re-read until they change.
  ScanSummary again = Scan();
  EXPECT_EQ(again.sources[0].unchanged, 4u);
}

// A source whose listing can be made to fail.
class FlakySource : public ReportSource {
 public:
  explicit FlakySource(ReportSource* inner) : inner_(inner) {}
  std::string Describe() const override { return inner_->Describe(); }
  Result<std::vector<ReportObject>> List() override {
    if (fail) return Status::PermissionDenied(Describe() + ": AccessDenied: Access Denied");
    return inner_->List();
  }
  Result<std::string> Read(const ReportObject& o) override { return inner_->Read(o); }
  bool fail = false;

 private:
  ReportSource* inner_;
};

TEST_F(ScannerTest, FailingSourceKeepsTheLastGoodGraph) {
  testing::WriteFile(reports_.File("a.txt"), Fixture("01_"));
  FlakySource flaky(&source_);
  ASSERT_TRUE(scanner_->Scan({&flaky}).ok());
  size_t nodes = LoadGraph().nodes.size();
  ASSERT_GT(nodes, 0u);
  flaky.fail = true;
  fs::remove(reports_.File("a.txt"));
  ScanSummary s = scanner_->Scan({&flaky});
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.sources[0].status.message(), HasSubstr("AccessDenied"));
  EXPECT_EQ(LoadGraph().nodes.size(), nodes);
  EXPECT_EQ(scanner_->View()->reports.size(), 1u);
  EXPECT_THAT(scanner_->View()->metrics_text,
              HasSubstr("scout_bridge_recommendations_source_up{source=\"" + reports_.path() + "\"} 0\n"));
  EXPECT_THAT(scanner_->View()->metrics_text, HasSubstr("scout_image_base_info{"));  // still served
}

TEST_F(ScannerTest, RestartServesTheStoredReportsBeforeAnyScan) {
  testing::WriteFile(reports_.File("a.txt"), Fixture("01_"));
  ASSERT_TRUE(Scan().ok());
  Open();
  auto view = scanner_->View();
  ASSERT_EQ(view->reports.size(), 1u);
  EXPECT_EQ(view->reports[0].report->base.Reference(), "node:25-alpine");
  EXPECT_THAT(view->metrics_text, HasSubstr("scout_image_base_info"));
  ScanSummary s = Scan();  // nothing changed on disk: nothing re-read
  EXPECT_EQ(s.sources[0].parsed, 0u);
  EXPECT_EQ(s.sources[0].unchanged, 1u);
}

TEST_F(ScannerTest, MetricsDescribeEveryTarget) {
  testing::WriteFile(reports_.File("a.txt"), Fixture("01_"));
  testing::WriteFile(reports_.File("b.txt"), Fixture("14_"));
  ASSERT_TRUE(Scan().ok());
  const std::string& m = scanner_->View()->metrics_text;
  EXPECT_THAT(m, HasSubstr("# TYPE scout_image_base_info gauge\n"));
  EXPECT_THAT(m, HasSubstr("scout_image_base_info{image=\"registry.example.test/example/app:1.2.3\",digest=\"ecr000000000000\",base_image=\"node\",base_tag=\"25-alpine\"} 1\n"));
  EXPECT_THAT(m, HasSubstr("scout_image_base_vulnerabilities{image=\"registry.example.test/example/app:1.2.3\",digest=\"ecr000000000000\",severity=\"high\"} 6\n"));
  EXPECT_THAT(m, HasSubstr("scout_image_recommended_update_info{image=\"registry.example.test/example/app:1.2.3\",digest=\"ecr000000000000\",recommended_tag=\"slim\",kind=\"change\"} 1\n"));
  EXPECT_THAT(m, HasSubstr("scout_image_recommended_update_info{image=\"registry.example.test/example/app:1.2.3\",digest=\"ecr000000000000\",recommended_tag=\"25-alpine\",kind=\"refresh\"} 1\n"));
  EXPECT_THAT(m, HasSubstr("scout_image_recommended_update_fixes{image=\"registry.example.test/example/app:1.2.3\",digest=\"ecr000000000000\",recommended_tag=\"slim\",severity=\"medium\"} 1\n"));
  EXPECT_THAT(m, HasSubstr("scout_image_recommended_update_fixes{image=\"registry.example.test/example/app:1.2.3\",digest=\"ecr000000000000\",recommended_tag=\"slim\",severity=\"low\"} 0\n"));
  EXPECT_THAT(m, HasSubstr("scout_image_base_up_to_date{image=\"registry.example.test/example/app:1.2.3\",digest=\"ecr000000000000\"} 0\n"));
  EXPECT_THAT(m, HasSubstr("scout_image_base_up_to_date{image=\"shotaohtsuka/scout-demo:Refresh\",digest=\"85cf97873335\"} 1\n"));
  // Scan health, after the report metrics.
  const std::string src = reports_.path();
  EXPECT_THAT(m, HasSubstr("scout_bridge_recommendations_source_up{source=\"" + src + "\"} 1\n"));
  EXPECT_THAT(m, HasSubstr("scout_bridge_recommendations_files{source=\"" + src + "\",outcome=\"report\"} 2\n"));
  EXPECT_THAT(m, HasSubstr("scout_bridge_recommendations_files{source=\"" + src + "\",outcome=\"skipped\"} 0\n"));
  EXPECT_THAT(m, HasSubstr("scout_bridge_recommendations_last_scan_timestamp_seconds 1.70000006e+09\n"));
}

TEST_F(ScannerTest, CypherExportMergesCartographyLabelsAndMatchesImagesByDigestPrefix) {
  testing::WriteFile(reports_.File("a.txt"), Fixture("01_"));
  ASSERT_TRUE(Scan().ok());
  std::string cypher = ExportCypher(LoadGraph());
  EXPECT_THAT(cypher, HasSubstr("MERGE (n:DockerScoutPublicImage {id: 'node:25-alpine'}) ON CREATE SET n.firstseen = "));
  EXPECT_THAT(cypher, HasSubstr("MERGE (n:DockerScoutPublicImageTag {id: 'node:slim'})"));
  EXPECT_THAT(cypher, HasSubstr("n.alternative_tags = ['25-alpine3.23', 'alpine', 'alpine3.23', 'current-alpine', 'current-alpine3.23']"));
  EXPECT_THAT(cypher, HasSubstr("MATCH (a:Image) WHERE a._ont_digest IS NOT NULL AND replace(a._ont_digest, 'sha256:', '') STARTS WITH 'ecr000000000000' MATCH (b:DockerScoutPublicImage {id: 'node:25-alpine'}) MERGE (a)-[r:BUILT_ON]->(b)"));
  EXPECT_THAT(cypher, HasSubstr("MERGE (a)-[r:SHOULD_UPDATE_TO]->(b)"));
  EXPECT_THAT(cypher, HasSubstr("r.fix_high = 2, r.fix_medium = 1"));
  EXPECT_EQ(cypher.find("fix_critical"), std::string::npos);  // nulls are not SET
  EXPECT_EQ(CypherString("it's a \\ test"), "'it\\'s a \\\\ test'");
  auto parsed = json::parse(ExportJson(LoadGraph()));
  EXPECT_EQ(parsed.at("nodes").as_array().size(), 5u);
  EXPECT_EQ(parsed.at("relationships").as_array().size(), 6u);
}

TEST_F(ScannerTest, ApiFiltersByImageAndBase) {
  testing::WriteFile(reports_.File("a.txt"), Fixture("01_"));
  testing::WriteFile(reports_.File("b.txt"), Fixture("13_"));
  testing::WriteFile(reports_.File("c.txt"), Fixture("17_"));
  ASSERT_TRUE(Scan().ok());
  auto view = scanner_->View();
  auto count = [&](std::string_view q) {
    ApiAnswer a = RecommendationsApi(view.get(), q);
    EXPECT_EQ(a.http_status, 200) << a.body;
    return json::parse(a.body).at("data").at("targets").as_array().size();
  };
  EXPECT_EQ(count(""), 3u);
  EXPECT_EQ(count("base=node"), 2u);
  EXPECT_EQ(count("base=node:22-alpine"), 1u);
  EXPECT_EQ(count("image=shotaohtsuka/scout-demo"), 1u);
  EXPECT_EQ(count("image=shotaohtsuka/scout-demo:v1&base=alpine:3"), 1u);
  EXPECT_EQ(count("image=shotaohtsuka/scout-demo:v1&base=node"), 0u);
  ApiAnswer one = RecommendationsApi(view.get(), "image=lab8%3Aclassic");
  auto target = json::parse(one.body).at("data").at("targets").at(0);
  EXPECT_EQ(target.at("base").at("tag"), "22-alpine");
  EXPECT_EQ(target.at("recommendations").at(0).at("tag"), "slim");
  ApiAnswer bad = RecommendationsApi(view.get(), "imgae=x");
  EXPECT_EQ(bad.http_status, 400);
  EXPECT_THAT(bad.body, HasSubstr("unknown parameter \\\"imgae\\\""));
  EXPECT_EQ(RecommendationsApi(nullptr, "").http_status, 200);
}

}  // namespace
}  // namespace sb::recommendations
