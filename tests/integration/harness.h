// Shared pieces of the loopback integration tests: an in-process Scout simulator and bridge,
// configs built from YAML text (through the real config parser), a keep-alive HTTP client,
// and polling with a bound.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "bridge/app.h"
#include "bridge/asio.h"
#include "tests/testing/testing.h"
#include "tools/scout_sim/simulator.h"

namespace sb::itest {

// Polls `pred` every 20 ms until it is true or `timeout` passes. Returns the last result.
inline bool WaitUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

inline std::unique_ptr<sim::ScoutSimulator> StartSimulator(std::map<std::string, std::string> org_tokens,
                                                           Duration window, bool cache_headers,
                                                           const std::string& tls_cert = "",
                                                           const std::string& tls_key = "",
                                                           int approx_series = 250) {
  sim::ScoutSimulator::Options o;
  for (auto& [org, token] : org_tokens) o.orgs[org] = sim::ScoutSimulator::OrgConfig{token, approx_series};
  o.window = window;
  o.cache_headers = cache_headers;
  o.tls_cert_file = tls_cert;
  o.tls_key_file = tls_key;
  auto s = std::make_unique<sim::ScoutSimulator>(o);
  Status st = s->Start();
  EXPECT_TRUE(st.ok()) << st.ToString();
  return s;
}

// The job block of Docker's sample project for `org`, pointed at the simulator. `extra` is
// appended inside the job (indented by 4 spaces per line by the caller).
inline std::string ScoutJobYaml(const std::string& org, int sim_port, const std::string& token_file,
                                const std::string& scheme = "http", const std::string& extra = "") {
  return "  - job_name: " + org + "\n" +
         "    metrics_path: /v1/exporter/org/" + org + "/metrics\n" +
         "    scheme: " + scheme + "\n" +
         "    static_configs:\n" +
         "      - targets:\n" +
         "          - 127.0.0.1:" + std::to_string(sim_port) + "\n" +
         "    authorization:\n" +
         "      type: Bearer\n" +
         "      credentials_file: " + token_file + "\n" + extra;
}

inline config::Config MustParse(const std::string& yaml) {
  auto cfg = config::ParseConfig(yaml, "test.yml");
  EXPECT_TRUE(cfg.ok()) << cfg.status().ToString() << "\n" << yaml;
  return cfg.ok() ? std::move(cfg).value() : config::Config{};
}

// Schedule knobs that make fault scenarios run in seconds.
inline bridge::ScheduleOptions FastTuning() {
  bridge::ScheduleOptions t;
  t.backoff_base = std::chrono::milliseconds(100);
  t.backoff_max = std::chrono::milliseconds(300);
  t.max_start_offset = std::chrono::milliseconds(100);
  return t;
}

inline std::unique_ptr<bridge::App> StartBridge(config::Config cfg, bridge::ScheduleOptions tuning = FastTuning(),
                                                std::string config_file = "", std::string storage_path = "") {
  bridge::AppOptions o;
  o.listen_address = "127.0.0.1:0";
  o.storage_path = storage_path;  // "" = no persistence
  if (config_file.empty()) o.config = std::move(cfg); else o.config_file = config_file;
  o.schedule_tuning = tuning;
  auto app = std::make_unique<bridge::App>(o);
  Status st = app->Start();
  EXPECT_TRUE(st.ok()) << st.ToString();
  return app;
}

inline bridge::TargetStatus StatusOf(bridge::App& app, const std::string& job) {
  for (auto& s : app.TargetStatuses()) if (s.job == job) return s;
  return {};
}

// A blocking keep-alive HTTP/1.1 client on one connection to 127.0.0.1:port.
class KeepAliveClient {
 public:
  explicit KeepAliveClient(int port) : socket_(ioc_) {
    bridge::error_code ec;
    socket_.connect({bridge::asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)}, ec);
    ok_ = !ec;
  }
  bool ok() const { return ok_; }
  // GET `target`; returns the status (or -1 on a connection error) and fills `body`.
  int Get(const std::string& target, std::string* body,
          const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    namespace http = bridge::http;
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, "127.0.0.1");
    for (auto& [k, v] : headers) req.set(k, v);
    bridge::error_code ec;
    http::write(socket_, req, ec);
    if (ec) return -1;
    http::response<http::string_body> res;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    http::read(socket_, buffer_, parser, ec);
    if (ec) return -1;
    res = parser.release();
    *body = std::move(res.body());
    return res.result_int();
  }

 private:
  bridge::asio::io_context ioc_;
  bridge::tcp::socket socket_;
  bridge::beast::flat_buffer buffer_;
  bool ok_ = false;
};

}  // namespace sb::itest
