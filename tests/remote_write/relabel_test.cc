#include "remote_write/relabel.h"

#include <gtest/gtest.h>

#include "tests/testing/testing.h"

namespace sb::remote_write {
namespace {

config::RelabelConfig Rule(std::string action, std::vector<std::string> src = {}, std::string regex = "(.*)",
                           std::string target = "", std::string replacement = "$1") {
  config::RelabelConfig r;
  r.action = std::move(action);
  r.source_labels = std::move(src);
  r.regex = std::move(regex);
  r.target_label = std::move(target);
  r.replacement = std::move(replacement);
  return r;
}

storage::Labels L(std::initializer_list<std::pair<const char*, const char*>> kv) {
  storage::Labels out;
  for (auto& [k, v] : kv) out.push_back({k, v});
  return out;
}

std::string Apply(const std::vector<config::RelabelConfig>& rules, storage::Labels ls,
                  std::map<std::string, std::string> ext = {}) {
  auto r = Relabeler::Make(rules, ext);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!(*r)->Apply(&ls)) return "<dropped>";
  return storage::LabelsToString(ls);
}

TEST(RelabelTest, KeepDropsSeriesThatDoNotMatch) {
  std::vector<config::RelabelConfig> rules = {Rule("keep", {"__name__"}, "scout_.*")};
  EXPECT_EQ(Apply(rules, L({{"__name__", "scout_cves"}})), "scout_cves{}");
  EXPECT_EQ(Apply(rules, L({{"__name__", "other"}})), "<dropped>");
}

TEST(RelabelTest, DropRemovesMatchingSeriesAndRegexIsAnchored) {
  std::vector<config::RelabelConfig> rules = {Rule("drop", {"severity"}, "low")};
  EXPECT_EQ(Apply(rules, L({{"__name__", "a"}, {"severity", "low"}})), "<dropped>");
  EXPECT_EQ(Apply(rules, L({{"__name__", "a"}, {"severity", "lowest"}})), "a{severity=\"lowest\"}");
}

TEST(RelabelTest, ReplaceJoinsSourcesWithSeparatorAndExpandsGroups) {
  auto r = Rule("replace", {"job", "instance"}, "(.*);(.*):.*", "origin", "${1}@$2");
  EXPECT_EQ(Apply({r}, L({{"__name__", "m"}, {"job", "scout"}, {"instance", "host:443"}})),
            "m{instance=\"host:443\",job=\"scout\",origin=\"scout@host\"}");
}

TEST(RelabelTest, ReplaceWithDefaultsCopiesTheJoinedValue) {
  config::RelabelConfig r;  // action replace, regex (.*), replacement $1
  r.source_labels = {"env"};
  r.target_label = "environment";
  EXPECT_EQ(Apply({r}, L({{"__name__", "m"}, {"env", "prod"}})), "m{env=\"prod\",environment=\"prod\"}");
}

TEST(RelabelTest, ReplaceWithEmptyResultRemovesTheTargetLabel) {
  auto r = Rule("replace", {"missing"}, "(.*)", "team", "$1");
  EXPECT_EQ(Apply({r}, L({{"__name__", "m"}, {"team", "a"}})), "m{}");
}

TEST(RelabelTest, ReplaceThatDoesNotMatchChangesNothing) {
  auto r = Rule("replace", {"team"}, "b", "x", "y");
  EXPECT_EQ(Apply({r}, L({{"__name__", "m"}, {"team", "a"}})), "m{team=\"a\"}");
}

TEST(RelabelTest, LabelDropAndLabelKeepMatchNames) {
  EXPECT_EQ(Apply({Rule("labeldrop", {}, "tmp_.*")}, L({{"__name__", "m"}, {"tmp_a", "1"}, {"keep", "2"}})),
            "m{keep=\"2\"}");
  EXPECT_EQ(Apply({Rule("labelkeep", {}, "__name__|job")}, L({{"__name__", "m"}, {"job", "j"}, {"x", "1"}})),
            "m{job=\"j\"}");
}

TEST(RelabelTest, LabelKeepWithoutNameDropsTheSeries) {
  EXPECT_EQ(Apply({Rule("labelkeep", {}, "job")}, L({{"__name__", "m"}, {"job", "j"}})), "<dropped>");
}

TEST(RelabelTest, ExternalLabelsAreAddedOnlyWhenAbsent) {
  std::map<std::string, std::string> ext = {{"cluster", "eu1"}, {"job", "ignored"}};
  EXPECT_EQ(Apply({}, L({{"job", "scout"}, {"__name__", "m"}}), ext), "m{cluster=\"eu1\",job=\"scout\"}");
}

TEST(RelabelTest, RulesSeeExternalLabels) {
  std::map<std::string, std::string> ext = {{"__replica__", "r1"}};
  auto r = Rule("replace", {"__replica__"}, "r(.*)", "replica_no");
  EXPECT_EQ(Apply({r}, L({{"__name__", "m"}}), ext), "m{__replica__=\"r1\",replica_no=\"1\"}");
}

TEST(RelabelTest, OutputIsSortedWithoutEmptyValues) {
  storage::Labels ls = L({{"z", "1"}, {"__name__", "m"}, {"a", ""}, {"b", "2"}});
  auto r = Relabeler::Make({}, {});
  ASSERT_TRUE((*r)->Apply(&ls));
  ASSERT_EQ(ls.size(), 3u);
  EXPECT_EQ(ls[0].name, "__name__");
  EXPECT_EQ(ls[1].name, "b");
  EXPECT_EQ(ls[2].name, "z");
}

TEST(RelabelTest, HashmodLowercaseAndLabelmap) {
  config::RelabelConfig h = Rule("hashmod", {"instance"}, "(.*)", "shard");
  h.modulus = 1;
  EXPECT_EQ(Apply({h}, L({{"__name__", "m"}, {"instance", "x"}})), "m{instance=\"x\",shard=\"0\"}");
  EXPECT_EQ(Apply({Rule("lowercase", {"t"}, "(.*)", "t")}, L({{"__name__", "m"}, {"t", "AbC"}})), "m{t=\"abc\"}");
  EXPECT_EQ(Apply({Rule("labelmap", {}, "meta_(.+)", "", "$1")}, L({{"__name__", "m"}, {"meta_team", "a"}})),
            "m{meta_team=\"a\",team=\"a\"}");
}

TEST(RelabelTest, InvalidRegexIsAnErrorNamingTheRule) {
  auto r = Relabeler::Make({Rule("keep", {"a"}, "(")}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("write_relabel_configs[0]"), std::string::npos);
}

TEST(ExpandTemplateTest, FollowsGoExpand) {
  std::vector<std::string> g = {"all", "one", "two"};
  std::map<std::string, int> names = {{"n", 2}};
  EXPECT_EQ(ExpandTemplate("$1-${2}-$n-${n}-$$-$9", g, names), "one-two-two-two-$-");
  EXPECT_EQ(ExpandTemplate("$1x", g, names), "");  // "1x" is a (missing) group name, as in Go
  EXPECT_EQ(ExpandTemplate("${1}x", g, names), "onex");
}

}  // namespace
}  // namespace sb::remote_write
