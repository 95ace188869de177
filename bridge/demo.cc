#include "bridge/demo.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "common/duration.h"
#include "tools/scout_sim/simulator.h"

namespace sb::bridge {

struct DemoState {
  std::unique_ptr<sim::ScoutSimulator> simulator;
  std::vector<std::string> orgs;
  std::string data_dir;
};

namespace {

std::string RandomToken() {
  std::random_device rd;
  std::mt19937_64 rng(rd());
  static const char* kHex = "0123456789abcdef";
  std::string t = "dckr_pat_demo_";
  for (int i = 0; i < 24; ++i) t += kHex[rng() % 16];
  return t;
}

Status WriteTokenFile(const std::string& path, const std::string& token) {
  std::ofstream f(path, std::ios::trunc);
  if (!f) return Status::IOError("cannot write " + path);
  f << token << "\n";
  f.close();
  chmod(path.c_str(), 0600);
  return Status::OK();
}

}  // namespace

Result<std::shared_ptr<DemoState>> StartDemo(const DemoOptions& options, AppOptions* app) {
  auto window = ParseDuration(options.window);
  if (!window.ok()) return window.status().Annotate("--demo.window");
  if (window->count() < 1000) return Status::InvalidArgument("--demo.window must be at least 1s");

  auto state = std::make_shared<DemoState>();
  state->orgs = {"acme", "globex"};
  state->data_dir = app->storage_path.empty() ? "data" : app->storage_path;
  while (state->data_dir.size() > 1 && state->data_dir.back() == '/') state->data_dir.pop_back();
  std::error_code ec;
  std::filesystem::create_directories(state->data_dir + "/demo", ec);
  if (ec) return Status::IOError("cannot create " + state->data_dir + "/demo: " + ec.message());

  sim::ScoutSimulator::Options so;
  so.listen_address = "127.0.0.1:0";
  so.window = *window;
  so.cache_headers = true;
  std::map<std::string, std::string> tokens;
  for (const auto& org : state->orgs) {
    tokens[org] = RandomToken();
    so.orgs[org] = sim::ScoutSimulator::OrgConfig{tokens[org], 250};
  }
  state->simulator = std::make_unique<sim::ScoutSimulator>(so);
  SB_RETURN_IF_ERROR(state->simulator->Start());

  config::Config cfg;
  for (const auto& org : state->orgs) {
    std::string token_file = std::filesystem::absolute(state->data_dir + "/demo/" + org + ".token").string();
    SB_RETURN_IF_ERROR(WriteTokenFile(token_file, tokens[org]));
    // The job block a Scout user pastes, with the simulator as the target.
    config::ScrapeConfig job;
    job.job_name = org;
    job.metrics_path = "/v1/exporter/org/" + org + "/metrics";
    job.scheme = "http";
    job.static_configs.push_back({{"127.0.0.1:" + std::to_string(state->simulator->port())}, {}});
    config::Authorization auth;
    auth.type = "Bearer";
    auth.credentials_file = token_file;
    job.authorization = auth;
    job.refresh_interval = *window;
    job.respect_cache_headers = true;
    job.max_requests_per_hour = 6 + 3600'000 / window->count();
    job.body_size_limit_bytes = config::kDefaultBodySizeLimitBytes;
    job.scrape_interval = *window;
    job.scrape_timeout = std::chrono::seconds(10);
    cfg.scrape_configs.push_back(job);
  }
  app->config = cfg;
  return state;
}

void PrintDemoUrls(const DemoState& state, int bridge_port, std::ostream& out) {
  std::string base = "http://127.0.0.1:" + std::to_string(bridge_port);
  out << "\nscout-bridge demo is running (simulated Scout API on 127.0.0.1:" << state.simulator->port()
      << ", tokens under " << state.data_dir << "/demo/).\n\nOpen:\n";
  for (const auto& org : state.orgs) out << "  " << base << "/v1/exporter/org/" << org << "/metrics\n";
  out << "  " << base << "/api/v1/targets\n  " << base << "/metrics\n  " << base << "/\n\n"
      << "Point a Prometheus at it: job_name acme, metrics_path /v1/exporter/org/acme/metrics, "
         "targets [127.0.0.1:" << bridge_port << "].\nCtrl-C stops.\n"
      << std::flush;
}

}  // namespace sb::bridge
