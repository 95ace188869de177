// The real binary: `check config`, flags, JSON logs, SIGHUP reload and clean SIGTERM exit.
#include <signal.h>

#include <boost/json.hpp>
#include <sstream>

#include "tests/integration/harness.h"
#include "tests/testing/scout_sample_job.h"

namespace sb::itest {
namespace {

using namespace std::chrono_literals;

const std::string kBinary = std::string(SB_BINARY_DIR) + "/scout-bridge";
constexpr const char* kSeed = testing::kScoutSamplePrometheusYaml;

TEST(BinaryTest, CheckConfigAcceptsTheSeedAndNamesTheLineOfAnError) {
  testing::TempDir dir;
  std::string out;
  testing::WriteFile(dir.File("prometheus.yaml"), kSeed);
  ASSERT_EQ(testing::RunCommand({kBinary, "check", "config", dir.File("prometheus.yaml")}, &out), 0) << out;
  EXPECT_THAT(out, ::testing::HasSubstr("SUCCESS: 1 jobs, 1 targets"));
  testing::WriteFile(dir.File("bad.yml"),
                     "scrape_configs:\n  - job_name: x\n    static_configs: [{targets: [a:1]}]\n    refresh_interval: 5x\n");
  EXPECT_EQ(testing::RunCommand({kBinary, "check", "config", dir.File("bad.yml")}, &out), 1);
  EXPECT_THAT(out, ::testing::HasSubstr("bad.yml:4:23"));
  EXPECT_THAT(out, ::testing::HasSubstr("refresh_interval"));
  EXPECT_EQ(testing::RunCommand({kBinary, "--log.level=loud"}, &out), 2);
  EXPECT_THAT(out, ::testing::HasSubstr("--log.level"));
  EXPECT_EQ(testing::RunCommand({kBinary, "--no.such.flag=1"}, &out), 2);
  EXPECT_THAT(out, ::testing::HasSubstr("unknown flag --no.such.flag"));
}

TEST(BinaryTest, SighupReloadsAndSigtermExitsCleanlyWithJsonLogs) {
  testing::TempDir dir;
  testing::WriteFile(dir.File("t"), "tok\n");
  auto sim = StartSimulator({{"acme", "tok"}, {"globex", "tok"}}, 1h, false);
  testing::WriteFile(dir.File("bridge.yml"), "scrape_configs:\n" + ScoutJobYaml("acme", sim->port(), dir.File("t")));
  const int port = testing::PickFreePort();
  testing::Subprocess bridge({kBinary, "--config.file=" + dir.File("bridge.yml"),
                              "--web.listen-address=127.0.0.1:" + std::to_string(port), "--log.format=json",
                              "--storage.path=" + dir.File("data")},
                             dir.File("bridge.log"));
  ASSERT_TRUE(testing::WaitForPort(port, 10s)) << testing::ReadFile(dir.File("bridge.log"));
  auto targets = [&] {
    std::string body;
    if (testing::HttpRequest(port, "GET", "/api/v1/targets", {}, "", &body) != 200) return size_t{0};
    return boost::json::parse(body).at("data").at("activeTargets").as_array().size();
  };
  EXPECT_EQ(targets(), 1u);
  testing::WriteFile(dir.File("bridge.yml"), "scrape_configs:\n" + ScoutJobYaml("acme", sim->port(), dir.File("t")) +
                                                 ScoutJobYaml("globex", sim->port(), dir.File("t")));
  kill(bridge.pid(), SIGHUP);
  EXPECT_TRUE(WaitUntil([&] { return targets() == 2; }, 10s));
  int status = bridge.Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  std::istringstream logs(testing::ReadFile(dir.File("bridge.log")));
  std::string line;
  int lines = 0;
  while (std::getline(logs, line)) {
    boost::system::error_code ec;
    auto v = boost::json::parse(line, ec);
    ASSERT_FALSE(ec) << "not JSON: " << line;
    EXPECT_TRUE(v.as_object().contains("level")) << line;
    ++lines;
  }
  EXPECT_GE(lines, 3);  // listening, SIGHUP, reloaded, exiting
}

}  // namespace
}  // namespace sb::itest
