// The real upstream is HTTPS: the simulator serves TLS with a CA generated here; the bridge
// must verify it with tls_config.ca_file, refuse it without, accept it with
// insecure_skip_verify, and reach it through an HTTP CONNECT proxy run by the test.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <thread>

#include "tests/integration/harness.h"

namespace sb::itest {
namespace {

using namespace std::chrono_literals;
using bridge::TargetHealth;

// Generates a CA and a server certificate for 127.0.0.1 / localhost with the openssl CLI.
void MakeCertificates(const testing::TempDir& dir) {
  std::string out;
  auto run = [&](const std::string& cmd) { ASSERT_EQ(testing::RunCommand({"sh", "-c", cmd}, &out), 0) << cmd << "\n" << out; };
  const std::string d = dir.path();
  run("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=scout-bridge-test-ca -keyout " + d + "/ca.key -out " + d + "/ca.pem");
  run("openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout " + d + "/server.key -out " + d + "/server.csr");
  testing::WriteFile(d + "/ext.cnf", "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  run("openssl x509 -req -in " + d + "/server.csr -CA " + d + "/ca.pem -CAkey " + d + "/ca.key -CAcreateserial -days 2 -extfile " +
      d + "/ext.cnf -out " + d + "/server.pem");
}

// A minimal HTTP CONNECT proxy on 127.0.0.1:0 that records the CONNECT lines it served.
class ConnectProxy {
 public:
  ConnectProxy() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(listen_fd_, 16);
    socklen_t len = sizeof a;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Run(); });
  }
  ~ConnectProxy() {
    stop_ = true;
    shutdown(listen_fd_, SHUT_RDWR);
    close(listen_fd_);
    thread_.join();
    for (auto& t : tunnels_) t.join();
  }
  int port() const { return port_; }
  std::vector<std::string> lines() {
    std::lock_guard<std::mutex> l(mu_);
    return lines_;
  }

 private:
  void Run() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      int c = accept(listen_fd_, nullptr, nullptr);
      if (c < 0) continue;
      tunnels_.emplace_back([this, c] { Tunnel(c); });
    }
  }
  void Tunnel(int c) {
    std::string head;
    char buf[16384];
    while (head.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = recv(c, buf, sizeof buf, 0);
      if (n <= 0) { close(c); return; }
      head.append(buf, n);
    }
    std::string first = head.substr(0, head.find("\r\n"));
    { std::lock_guard<std::mutex> l(mu_); lines_.push_back(first); }
    // "CONNECT host:port HTTP/1.1"
    std::string authority = first.substr(8, first.rfind(' ') - 8);
    int port = std::stoi(authority.substr(authority.rfind(':') + 1));
    int u = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // the test proxy only ever dials loopback
    a.sin_port = htons(static_cast<uint16_t>(port));
    if (first.rfind("CONNECT ", 0) != 0 || connect(u, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      const char* bad = "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n";
      send(c, bad, strlen(bad), MSG_NOSIGNAL);
      close(c);
      close(u);
      return;
    }
    const char* ok = "HTTP/1.1 200 Connection established\r\n\r\n";
    send(c, ok, strlen(ok), MSG_NOSIGNAL);
    std::string rest = head.substr(head.find("\r\n\r\n") + 4);
    if (!rest.empty()) send(u, rest.data(), rest.size(), MSG_NOSIGNAL);
    pollfd fds[2] = {{c, POLLIN, 0}, {u, POLLIN, 0}};
    for (int idle = 0; !stop_ && idle < 100;) {
      int r = poll(fds, 2, 100);
      if (r == 0) { ++idle; continue; }
      idle = 0;
      bool done = false;
      for (int i = 0; i < 2; ++i) {
        if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
          ssize_t n = recv(fds[i].fd, buf, sizeof buf, 0);
          if (n <= 0) { done = true; break; }
          send(fds[1 - i].fd, buf, n, MSG_NOSIGNAL);
        }
      }
      if (done) break;
    }
    close(c);
    close(u);
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<std::thread> tunnels_;
  std::mutex mu_;
  std::vector<std::string> lines_;
};

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MakeCertificates(dir_);
    testing::WriteFile(dir_.File("t"), "tok\n");
    sim_ = StartSimulator({{"acme", "tok"}}, 1h, false, dir_.File("server.pem"), dir_.File("server.key"));
  }
  std::unique_ptr<bridge::App> Bridge(const std::string& extra) {
    return StartBridge(MustParse("scrape_configs:\n" + ScoutJobYaml("acme", sim_->port(), dir_.File("t"), "https", extra)));
  }
  testing::TempDir dir_;
  std::unique_ptr<sim::ScoutSimulator> sim_;
};

TEST_F(TlsTest, CaFileVerifiesTheUpstream) {
  auto app = Bridge("    tls_config:\n      ca_file: " + dir_.File("ca.pem") + "\n");
  ASSERT_TRUE(WaitUntil([&] { return StatusOf(*app, "acme").health == TargetHealth::kUp; }, 15s))
      << StatusOf(*app, "acme").last_error;
  std::string body;
  EXPECT_EQ(testing::HttpRequest(app->port(), "GET", "/v1/exporter/org/acme/metrics", {}, "", &body), 200);
  EXPECT_EQ(body, sim_->ExpectedBody("acme"));
}

TEST_F(TlsTest, UnknownCaIsRefusedWithACertificateError) {
  auto app = Bridge("");
  ASSERT_TRUE(WaitUntil([&] { return StatusOf(*app, "acme").health == TargetHealth::kDown; }, 15s));
  EXPECT_THAT(StatusOf(*app, "acme").last_error, ::testing::HasSubstr("certificate verify failed"));
  EXPECT_EQ(sim_->RequestCount("acme"), 0u);  // no request was sent over the unverified channel
}

TEST_F(TlsTest, InsecureSkipVerifyAccepts) {
  auto app = Bridge("    tls_config:\n      insecure_skip_verify: true\n");
  ASSERT_TRUE(WaitUntil([&] { return StatusOf(*app, "acme").health == TargetHealth::kUp; }, 15s))
      << StatusOf(*app, "acme").last_error;
}

TEST_F(TlsTest, ProxyUrlTunnelsThroughConnect) {
  ConnectProxy proxy;
  auto app = Bridge("    proxy_url: http://127.0.0.1:" + std::to_string(proxy.port()) + "\n" +
                    "    tls_config:\n      ca_file: " + dir_.File("ca.pem") + "\n");
  ASSERT_TRUE(WaitUntil([&] { return StatusOf(*app, "acme").health == TargetHealth::kUp; }, 15s))
      << StatusOf(*app, "acme").last_error;
  auto lines = proxy.lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "CONNECT 127.0.0.1:" + std::to_string(sim_->port()) + " HTTP/1.1");
  EXPECT_EQ(sim_->RequestCount("acme"), 1u);
}

}  // namespace
}  // namespace sb::itest
