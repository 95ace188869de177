// Reload keeps unchanged targets (snapshot and schedule), and secrets never leave: not in
// logs, errors, metrics, the targets page or the config dump.
#include <fcntl.h>
#include <unistd.h>

#include "common/log.h"
#include "tests/integration/harness.h"

namespace sb::itest {
namespace {

using namespace std::chrono_literals;
using bridge::TargetHealth;

std::string Post(int port, const std::string& path, int* code) {
  std::string body;
  *code = testing::HttpRequest(port, "POST", path, {}, "", &body);
  return body;
}

TEST(ReloadTest, UnchangedJobKeepsItsTargetAndChangedJobKeepsServing) {
  testing::TempDir dir;
  testing::WriteFile(dir.File("t"), "tok\n");
  auto sim = StartSimulator({{"acme", "tok"}, {"globex", "tok2"}}, 1h, false);
  testing::WriteFile(dir.File("t2"), "tok2\n");
  const std::string acme = ScoutJobYaml("acme", sim->port(), dir.File("t"));
  const std::string globex = ScoutJobYaml("globex", sim->port(), dir.File("t2"));
  testing::WriteFile(dir.File("bridge.yml"), "scrape_configs:\n" + acme + globex);
  auto app = StartBridge({}, FastTuning(), dir.File("bridge.yml"));
  const std::string instance = "127.0.0.1:" + std::to_string(sim->port());
  ASSERT_TRUE(WaitUntil([&] {
    return StatusOf(*app, "acme").health == TargetHealth::kUp && StatusOf(*app, "globex").health == TargetHealth::kUp;
  }, 10s));
  auto acme_before = app->FindTarget("acme", instance);
  auto globex_before = app->FindTarget("globex", instance);

  // globex's block changes (a new timeout); acme's does not.
  testing::WriteFile(dir.File("bridge.yml"), "scrape_configs:\n" + acme + globex + "    scrape_timeout: 5s\n");
  int code = 0;
  Post(app->port(), "/-/reload", &code);
  ASSERT_EQ(code, 200);
  EXPECT_EQ(app->FindTarget("acme", instance), acme_before);
  EXPECT_NE(app->FindTarget("globex", instance), globex_before);
  std::string body;
  // The replaced target inherited the snapshot and last success: it serves at once and
  // does not refetch before its refresh interval.
  EXPECT_EQ(testing::HttpRequest(app->port(), "GET", "/v1/exporter/org/globex/metrics", {}, "", &body), 200);
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(sim->RequestCount("acme"), 1u);
  EXPECT_EQ(sim->RequestCount("globex"), 1u);

  // A broken file is refused with its line; the running config stays.
  testing::WriteFile(dir.File("bridge.yml"), "scrape_configs:\n" + acme + "    bogus_key: 1\n");
  std::string err = Post(app->port(), "/-/reload", &code);
  EXPECT_EQ(code, 500);
  EXPECT_THAT(err, ::testing::HasSubstr("bridge.yml:11:5"));
  EXPECT_THAT(err, ::testing::HasSubstr("bogus_key"));
  EXPECT_EQ(testing::HttpRequest(app->port(), "GET", "/v1/exporter/org/globex/metrics", {}, "", &body), 200);

  // Removing a job removes its path.
  testing::WriteFile(dir.File("bridge.yml"), "scrape_configs:\n" + acme);
  Post(app->port(), "/-/reload", &code);
  ASSERT_EQ(code, 200);
  EXPECT_EQ(testing::HttpRequest(app->port(), "GET", "/v1/exporter/org/globex/metrics", {}, "", &body), 404);
  std::string metrics;
  testing::HttpRequest(app->port(), "GET", "/metrics", {}, "", &metrics);
  EXPECT_THAT(metrics, ::testing::HasSubstr("scout_bridge_config_reloads_total{result=\"failure\"} 1\n"));
}

TEST(SecretsTest, TokensNeverAppearInLogsErrorsMetricsOrDumps) {
  const std::string kGood = "dckr_pat_GOODSECRET0123456789";
  const std::string kBad = "dckr_pat_WRONGSECRET987654321";
  testing::TempDir dir;
  const std::string log_path = dir.File("bridge.log");
  int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(log_fd, 0);
  SetLogFd(log_fd);
  SetLogLevel(LogLevel::kDebug);

  testing::WriteFile(dir.File("bad"), kBad + "\n");
  auto sim = StartSimulator({{"acme", kGood}, {"globex", kBad + "x"}}, 1h, false);
  std::string yaml = "scrape_configs:\n" + ScoutJobYaml("acme", sim->port(), dir.File("bad")) +
                     "  - job_name: inline\n    metrics_path: /v1/exporter/org/acme/metrics\n"
                     "    static_configs: [{targets: ['127.0.0.1:" + std::to_string(sim->port()) + "']}]\n"
                     "    authorization: {credentials: " + kGood + "x}\n"
                     "    basic_auth_is_not_here: 1\n";
  // An unknown key next to a secret: the error names the key, not the secret.
  auto bad_cfg = config::ParseConfig(yaml, "bridge.yml");
  ASSERT_FALSE(bad_cfg.ok());
  EXPECT_THAT(bad_cfg.status().message(), ::testing::Not(::testing::HasSubstr(kGood)));
  yaml.resize(yaml.find("    basic_auth_is_not_here"));
  auto cfg = MustParse(yaml);
  EXPECT_THAT(config::DumpConfig(cfg), ::testing::Not(::testing::HasSubstr(kGood)));

  auto app = StartBridge(cfg);
  ASSERT_TRUE(WaitUntil([&] {
    return StatusOf(*app, "acme").health == TargetHealth::kAuthError &&
           StatusOf(*app, "inline").health == TargetHealth::kAuthError;
  }, 10s));
  std::string metrics, targets, scrape;
  testing::HttpRequest(app->port(), "GET", "/metrics", {}, "", &metrics);
  testing::HttpRequest(app->port(), "GET", "/api/v1/targets", {}, "", &targets);
  testing::HttpRequest(app->port(), "GET", "/v1/exporter/org/acme/metrics?job=acme", {}, "", &scrape);
  app->Stop();
  SetLogFd(2);
  close(log_fd);
  const std::string logs = testing::ReadFile(log_path);
  EXPECT_THAT(logs, ::testing::HasSubstr("upstream fetch failed"));  // the log was captured
  for (const std::string& secret : {kGood, kBad}) {
    for (const auto& [name, text] : {std::pair<std::string, std::string>{"logs", logs}, {"metrics", metrics},
                                     {"targets", targets}, {"scrape", scrape}}) {
      EXPECT_EQ(text.find(secret), std::string::npos) << secret << " leaked into " << name;
    }
  }
}

}  // namespace
}  // namespace sb::itest
