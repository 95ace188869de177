// Tests for the upstream client against servers local to this file: a blocking HTTP(S)
// server and a CONNECT proxy, each on 127.0.0.1:0 in a std::thread, writing raw bytes so
// that any framing (chunked, gzip, read-until-close) can be sent. Certificates are made
// with the openssl CLI in a temporary directory. Longer than 400 lines because the servers
// live here (the shared HTTP server is another module and must not be a dependency).
#include "bridge/http_client.h"

#include <sys/socket.h>
#include <zlib.h>

#include <atomic>
#include <future>
#include <mutex>
#include <thread>

#include "bridge/proxy.h"
#include "common/gzip.h"
#include "tests/testing/testing.h"

namespace sb::bridge {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;
using Request = http::request<http::string_body>;

std::string Response(unsigned status, const std::string& body,
                     const std::string& extra_headers = "Content-Type: text/plain\r\n") {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\n" + extra_headers +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Accepts connections one after another until destroyed. For each: optional TLS handshake,
// read one request, record it, write respond(request) verbatim, close.
class TestServer {
 public:
  using Responder = std::function<std::string(const Request&)>;
  explicit TestServer(Responder respond, ssl::context* tls = nullptr,
                      const std::string& address = "127.0.0.1")
      : respond_(std::move(respond)), tls_(tls), acceptor_(ioc_) {
    const tcp::endpoint ep(asio::ip::make_address(address), 0);
    acceptor_.open(ep.protocol());
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { Run(); });
  }
  ~TestServer() {
    stop_ = true;
    if (const int fd = active_fd_.load(); fd >= 0) ::shutdown(fd, SHUT_RDWR);
    error_code ec;
    tcp::socket wake(ioc_);
    wake.connect(acceptor_.local_endpoint(), ec);
    thread_.join();
  }
  uint16_t port() const { return port_; }
  std::vector<Request> requests() { std::lock_guard l(mu_); return requests_; }
  std::vector<std::string> sni() { std::lock_guard l(mu_); return sni_; }
  int handshake_failures() { std::lock_guard l(mu_); return handshake_failures_; }

 private:
  void Run() {
    while (true) {
      tcp::socket sock(ioc_);
      error_code ec;
      acceptor_.accept(sock, ec);
      if (stop_) return;
      if (ec) continue;
      active_fd_ = sock.native_handle();
      if (tls_ == nullptr) {
        Serve(sock);
      } else {
        ssl::stream<tcp::socket> s(std::move(sock), *tls_);
        s.handshake(ssl::stream_base::server, ec);
        if (ec) {
          std::lock_guard l(mu_);
          ++handshake_failures_;
        } else {
          const char* name = SSL_get_servername(s.native_handle(), TLSEXT_NAMETYPE_host_name);
          { std::lock_guard l(mu_); sni_.push_back(name ? name : ""); }
          Serve(s);
        }
      }
      active_fd_ = -1;
    }
  }
  template <class Stream>
  void Serve(Stream& s) {
    beast::flat_buffer buffer;
    Request req;
    error_code ec;
    http::read(s, buffer, req, ec);
    if (ec) return;
    { std::lock_guard l(mu_); requests_.push_back(req); }
    const std::string out = respond_(req);
    asio::write(s, asio::buffer(out), ec);
    beast::get_lowest_layer(s).shutdown(tcp::socket::shutdown_send, ec);
  }

  Responder respond_;
  ssl::context* tls_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> active_fd_{-1};
  std::mutex mu_;
  std::vector<Request> requests_;
  std::vector<std::string> sni_;
  int handshake_failures_ = 0;
  std::thread thread_;
};

// Accepts connections and holds them open without ever reading or writing: a server that
// "sleeps" forever. Connections are dropped when the server is destroyed.
class SilentServer {
 public:
  SilentServer() : acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] {
      while (true) {
        tcp::socket sock(ioc_);
        error_code ec;
        acceptor_.accept(sock, ec);
        if (stop_) return;
        held_.push_back(std::move(sock));
      }
    });
  }
  ~SilentServer() {
    stop_ = true;
    error_code ec;
    tcp::socket wake(ioc_);
    wake.connect(acceptor_.local_endpoint(), ec);
    thread_.join();
  }
  uint16_t port() const { return port_; }

 private:
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::vector<tcp::socket> held_;
  std::thread thread_;
};

// A CONNECT proxy: records each request head, answers `answer`, and on a 2xx pipes bytes
// between the client and the requested host:port until both sides are done.
class TestProxy {
 public:
  explicit TestProxy(std::string answer = "HTTP/1.1 200 Connection established\r\n\r\n")
      : answer_(std::move(answer)), acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { Run(); });
  }
  ~TestProxy() {
    stop_ = true;
    error_code ec;
    tcp::socket wake(ioc_);
    wake.connect(acceptor_.local_endpoint(), ec);
    thread_.join();
  }
  uint16_t port() const { return port_; }
  std::vector<std::string> heads() { std::lock_guard l(mu_); return heads_; }

 private:
  static void Pipe(tcp::socket& from, tcp::socket& to) {
    char buf[4096];
    error_code ec;
    while (true) {
      const size_t n = from.read_some(asio::buffer(buf), ec);
      if (ec) break;
      asio::write(to, asio::buffer(buf, n), ec);
      if (ec) break;
    }
    to.shutdown(tcp::socket::shutdown_send, ec);
  }
  void Run() {
    while (true) {
      tcp::socket client(ioc_);
      error_code ec;
      acceptor_.accept(client, ec);
      if (stop_) return;
      std::string data;
      const size_t head_len = asio::read_until(client, asio::dynamic_buffer(data), "\r\n\r\n", ec);
      if (ec) continue;
      const std::string head = data.substr(0, head_len);
      { std::lock_guard l(mu_); heads_.push_back(head); }
      if (answer_.find(" 200 ") == std::string::npos) {
        asio::write(client, asio::buffer(answer_), ec);
        continue;
      }
      // "CONNECT host:port HTTP/1.1"
      const std::string authority = head.substr(8, head.find(' ', 8) - 8);
      const size_t colon = authority.rfind(':');
      std::string host = authority.substr(0, colon);
      if (host.front() == '[') host = host.substr(1, host.size() - 2);
      tcp::socket upstream(ioc_);
      upstream.connect(tcp::endpoint(asio::ip::make_address(host),
                                     static_cast<uint16_t>(std::stoi(authority.substr(colon + 1)))), ec);
      if (ec) continue;
      asio::write(client, asio::buffer(answer_), ec);
      if (data.size() > head_len) asio::write(upstream, asio::buffer(data.substr(head_len)), ec);
      std::thread back([&] { Pipe(upstream, client); });
      Pipe(client, upstream);
      back.join();
    }
  }

  std::string answer_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::string> heads_;
  std::thread thread_;
};

struct Outcome {
  Status status;
  FetchResponse response;
};

// Runs one fetch on a fresh io_context on this thread, checking the completion contract:
// called exactly once, not inline, on the thread running the io_context.
Outcome RunFetch(FetchRequest req) {
  asio::io_context ioc;
  Outcome out;
  int calls = 0;
  std::thread::id where;
  AsyncFetch(ioc, std::move(req), [&](Status s, FetchResponse r) {
    ++calls;
    where = std::this_thread::get_id();
    out.status = std::move(s);
    out.response = std::move(r);
  });
  EXPECT_EQ(calls, 0) << "completion ran inside AsyncFetch";
  ioc.run();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(where, std::this_thread::get_id());
  return out;
}

FetchRequest Plain(uint16_t port, std::string target = "/metrics") {
  FetchRequest req;
  req.scheme = "http";
  req.host = "127.0.0.1";
  req.port = port;
  req.target = std::move(target);
  req.timeout = 10s;
  req.max_body_bytes = 1 << 20;
  return req;
}

std::string Gzip(const std::string& s) {
  auto z = GzipCompress(s);
  EXPECT_TRUE(z.ok());
  return z.ok() ? *z : "";
}

TEST(HttpClientTest, FetchesPlainBody) {
  TestServer server([](const Request&) {
    return Response(200, "up 1\n", "Content-Type: text/plain; version=0.0.4\r\nCache-Control: max-age=60\r\n"
                                   "Cache-Control: public\r\n");
  });
  Outcome out = RunFetch(Plain(server.port()));
  ASSERT_OK(out.status);
  EXPECT_EQ(out.response.status, 200u);
  EXPECT_EQ(out.response.body, "up 1\n");
  EXPECT_EQ(out.response.wire_bytes, 5u);
  EXPECT_EQ(out.response.content_type, "text/plain; version=0.0.4");
  EXPECT_EQ(out.response.Header("cache-control"), "max-age=60, public");
  EXPECT_EQ(out.response.Header("content-length"), "5");
  EXPECT_EQ(out.response.Header("x-missing"), std::nullopt);
}

TEST(HttpClientTest, ServerErrorIsAResponseNotAStatusError) {
  TestServer server([](const Request&) { return Response(503, "busy", "Retry-After: 120\r\n"); });
  Outcome out = RunFetch(Plain(server.port()));
  ASSERT_OK(out.status);
  EXPECT_EQ(out.response.status, 503u);
  EXPECT_EQ(out.response.body, "busy");
  EXPECT_EQ(out.response.Header("retry-after"), "120");
}

TEST(HttpClientTest, DecodesGzipBody) {
  const std::string text = "# TYPE up gauge\nup 1\n";
  const std::string gz = Gzip(text);
  TestServer server([&](const Request&) { return Response(200, gz, "Content-Encoding: gzip\r\n"); });
  Outcome out = RunFetch(Plain(server.port()));
  ASSERT_OK(out.status);
  EXPECT_EQ(out.response.body, text);
  EXPECT_EQ(out.response.wire_bytes, gz.size());
  EXPECT_EQ(out.response.gzip_body, gz);  // kept as received, for the snapshot and the store
}

// A zlib (RFC 1950) stream, as servers send for "Content-Encoding: deflate".
std::string ZlibCompress(const std::string& text) {
  uLongf n = compressBound(text.size());
  std::string z(n, '\0');
  compress2(reinterpret_cast<Bytef*>(z.data()), &n, reinterpret_cast<const Bytef*>(text.data()), text.size(), 6);
  z.resize(n);
  return z;
}

// Only a real gzip stream is kept as gzip_body: a zlib stream sent as "deflate" is decoded
// but not kept, and an identity body has none.
TEST(HttpClientTest, KeepsOnlyGzipStreamsAsReceived) {
  const std::string text = "# TYPE up gauge\nup 1\n";
  TestServer server([&](const Request& r) {
    if (r.target() == "/deflate") return Response(200, ZlibCompress(text), "Content-Encoding: deflate\r\n");
    return Response(200, text, "");
  });
  Outcome deflated = RunFetch(Plain(server.port(), "/deflate"));
  ASSERT_OK(deflated.status);
  EXPECT_EQ(deflated.response.body, text);
  EXPECT_TRUE(deflated.response.gzip_body.empty());
  Outcome plain = RunFetch(Plain(server.port(), "/plain"));
  ASSERT_OK(plain.status);
  EXPECT_EQ(plain.response.body, text);
  EXPECT_TRUE(plain.response.gzip_body.empty());
}

// keep_gzip_encoded: a gzip stream is handed over as received, not decoded (the caller
// decodes it as it parses); other encodings are still decoded.
TEST(HttpClientTest, KeepGzipEncodedLeavesTheGzipBodyForTheCaller) {
  const std::string text = "# TYPE up gauge\nup 1\n";
  const std::string gz = Gzip(text);
  TestServer server([&](const Request& r) {
    if (r.target() == "/deflate") return Response(200, ZlibCompress(text), "Content-Encoding: deflate\r\n");
    return Response(200, gz, "Content-Encoding: gzip\r\n");
  });
  FetchRequest req = Plain(server.port());
  req.keep_gzip_encoded = true;
  Outcome out = RunFetch(req);
  ASSERT_OK(out.status);
  EXPECT_TRUE(out.response.body.empty());
  EXPECT_EQ(out.response.gzip_body, gz);
  FetchRequest deflate = Plain(server.port(), "/deflate");
  deflate.keep_gzip_encoded = true;
  Outcome d = RunFetch(deflate);
  ASSERT_OK(d.status);
  EXPECT_EQ(d.response.body, text);
}

TEST(HttpClientTest, DecodesChunkedBody) {
  const std::string gz = Gzip("hello world");
  TestServer server([&](const Request& r) {
    if (r.target() == "/plain") {
      return std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    }
    char size[16];
    std::snprintf(size, sizeof size, "%zx", gz.size() - 3);
    return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n" +
           std::string(size) + "\r\n" + gz.substr(0, gz.size() - 3) + "\r\n3\r\n" +
           gz.substr(gz.size() - 3) + "\r\n0\r\n\r\n";
  });
  Outcome plain = RunFetch(Plain(server.port(), "/plain"));
  ASSERT_OK(plain.status);
  EXPECT_EQ(plain.response.body, "hello world");
  Outcome gzipped = RunFetch(Plain(server.port(), "/gzip"));
  ASSERT_OK(gzipped.status);
  EXPECT_EQ(gzipped.response.body, "hello world");
}

TEST(HttpClientTest, UnknownOrCorruptEncodingFails) {
  TestServer server([](const Request& r) {
    if (r.target() == "/br") return Response(200, "xyz", "Content-Encoding: br\r\n");
    return Response(200, "\x1f\x8b not really gzip", "Content-Encoding: gzip\r\n");
  });
  Outcome out = RunFetch(Plain(server.port(), "/br"));
  EXPECT_EQ(out.status.code(), Status::Code::kUnimplemented) << out.status.ToString();
  EXPECT_THAT(out.status.message(), HasSubstr("unsupported Content-Encoding 'br'"));
  out = RunFetch(Plain(server.port(), "/corrupt"));
  EXPECT_EQ(out.status.code(), Status::Code::kUnavailable) << out.status.ToString();
  EXPECT_THAT(out.status.message(), HasSubstr("bad gzip body"));
  EXPECT_EQ(out.response.status, 200u);
}

TEST(HttpClientTest, ConcurrentFetchesOnAThreadPoolEachCompleteOnce) {
  TestServer server([](const Request& r) { return Response(200, std::string(r.target())); });
  SilentServer silent;
  asio::io_context ioc;
  constexpr int kFetches = 12;
  std::mutex mu;
  std::vector<int> calls(kFetches, 0);
  std::vector<Outcome> outcomes(kFetches);
  for (int i = 0; i < kFetches; ++i) {
    FetchRequest req = Plain(i % 3 == 0 ? silent.port() : server.port(), "/n" + std::to_string(i));
    if (i % 3 == 0) req.timeout = 200ms;
    AsyncFetch(ioc, req, [&, i](Status s, FetchResponse r) {
      std::lock_guard l(mu);
      ++calls[i];
      outcomes[i] = {std::move(s), std::move(r)};
    });
  }
  std::thread other([&] { ioc.run(); });
  ioc.run();
  other.join();
  for (int i = 0; i < kFetches; ++i) {
    EXPECT_EQ(calls[i], 1) << i;
    if (i % 3 == 0) {
      EXPECT_THAT(outcomes[i].status.message(), HasSubstr("timeout after 200ms")) << i;
    } else {
      EXPECT_OK(outcomes[i].status);
      EXPECT_EQ(outcomes[i].response.body, "/n" + std::to_string(i));
    }
  }
}

TEST(HttpClientTest, ReadsBodyDelimitedByClose) {
  TestServer server([](const Request&) { return std::string("HTTP/1.1 200 OK\r\n\r\nuntil close"); });
  Outcome out = RunFetch(Plain(server.port()));
  ASSERT_OK(out.status);
  EXPECT_EQ(out.response.body, "until close");
}

TEST(HttpClientTest, EnforcesBodyLimit) {
  const std::string big(5000, 'x');
  const std::string bomb = Gzip(std::string(8 << 20, '\0'));  // 8 MiB of zeros, ~8 KiB gzip
  ASSERT_LT(bomb.size(), 100000u);
  TestServer server([&](const Request& r) {
    if (r.target() == "/length") return Response(200, big);
    if (r.target() == "/chunked") {
      return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1388\r\n" + big + "\r\n0\r\n\r\n";
    }
    return Response(200, bomb, "Content-Encoding: gzip\r\n");
  });
  for (const std::string target : {"/length", "/chunked"}) {
    FetchRequest req = Plain(server.port(), target);
    req.max_body_bytes = 4096;
    Outcome out = RunFetch(req);
    EXPECT_EQ(out.status.code(), Status::Code::kResourceExhausted) << out.status.ToString();
    EXPECT_THAT(out.status.message(), HasSubstr("max_body_bytes=4096"));
    EXPECT_THAT(out.status.message(), HasSubstr("127.0.0.1:" + std::to_string(server.port())));
  }
  FetchRequest req = Plain(server.port(), "/bomb");
  req.max_body_bytes = 1 << 20;
  Outcome out = RunFetch(req);
  EXPECT_EQ(out.status.code(), Status::Code::kResourceExhausted) << out.status.ToString();
  EXPECT_THAT(out.status.message(), HasSubstr("decoded (gzip) body exceeds max_body_bytes=1048576"));
  EXPECT_EQ(out.response.status, 200u);
}

TEST(HttpClientTest, TimesOutOnSlowServer) {
  SilentServer server;
  FetchRequest req = Plain(server.port());
  req.timeout = 300ms;
  Outcome out = RunFetch(req);
  EXPECT_EQ(out.status.code(), Status::Code::kUnavailable);
  EXPECT_THAT(out.status.message(),
              HasSubstr("read response from 127.0.0.1:" + std::to_string(server.port()) +
                        ": timeout after 300ms"));
  // The same server never answers a TLS ClientHello either.
  req.scheme = "https";
  req.tls.insecure_skip_verify = true;
  out = RunFetch(req);
  EXPECT_EQ(out.status.code(), Status::Code::kUnavailable);
  EXPECT_THAT(out.status.message(), HasSubstr("tls handshake with 127.0.0.1:"));
  EXPECT_THAT(out.status.message(), HasSubstr("timeout after 300ms"));
}

TEST(HttpClientTest, ConnectionRefusedIsUnavailable) {
  const int port = sb::testing::PickFreePort();
  Outcome out = RunFetch(Plain(static_cast<uint16_t>(port)));
  EXPECT_EQ(out.status.code(), Status::Code::kUnavailable);
  EXPECT_THAT(out.status.message(), HasSubstr("connect to 127.0.0.1:" + std::to_string(port) + ": "));
  EXPECT_THAT(out.status.message(), HasSubstr("refused"));
}

TEST(HttpClientTest, BadRequestIsInvalidArgument) {
  auto check = [](FetchRequest req) {
    Outcome out = RunFetch(std::move(req));
    EXPECT_EQ(out.status.code(), Status::Code::kInvalidArgument) << out.status.ToString();
  };
  FetchRequest req = Plain(80);
  req.scheme = "ftp";
  check(req);
  req = Plain(80);
  req.host = "";
  check(req);
  req = Plain(0);
  check(req);
  req = Plain(80, "metrics");
  check(req);
  req = Plain(80);
  req.headers = {{"X-Evil", "a\r\nInjected: 1"}};
  check(req);
  req = Plain(80);
  req.proxy_url = "socks5://127.0.0.1:1080";
  check(req);
  req = Plain(80);
  req.scheme = "https";
  req.tls.ca_file = "/nonexistent/ca.pem";
  check(req);
}

TEST(HttpClientTest, PassesHeadersAndHost) {
  TestServer server([](const Request&) { return Response(200, "ok"); });
  FetchRequest req = Plain(server.port(), "/v1/exporter/org/acme/metrics?x=1");
  req.headers = {{"Authorization", "Bearer abc"}, {"Accept", std::string(kPrometheusAccept)}};
  ASSERT_OK(RunFetch(req).status);
  ASSERT_EQ(server.requests().size(), 1u);
  const Request r = server.requests()[0];
  EXPECT_EQ(r.method(), http::verb::get);
  EXPECT_EQ(r.version(), 11u);
  EXPECT_EQ(r.target(), "/v1/exporter/org/acme/metrics?x=1");
  EXPECT_EQ(r[http::field::host], "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(r[http::field::authorization], "Bearer abc");
  EXPECT_EQ(r[http::field::accept], kPrometheusAccept);
  EXPECT_EQ(r[http::field::accept_encoding], "gzip");
  EXPECT_EQ(r[http::field::user_agent], kUserAgent);
  EXPECT_EQ(r.count(http::field::accept), 1u);  // the caller's replaced the default

  req.headers = {{"User-Agent", "custom/1"}};
  ASSERT_OK(RunFetch(req).status);
  EXPECT_EQ(server.requests()[1][http::field::user_agent], "custom/1");
  EXPECT_EQ(server.requests()[1][http::field::accept], "*/*");
}

TEST(HttpClientTest, Ipv6LiteralHostIsBracketed) {
  std::unique_ptr<TestServer> server;
  try {
    server = std::make_unique<TestServer>([](const Request&) { return Response(200, "v6"); },
                                          nullptr, "::1");
  } catch (const std::exception&) {
    GTEST_SKIP() << "no IPv6 loopback";
  }
  FetchRequest req = Plain(server->port());
  req.host = "::1";
  Outcome out = RunFetch(req);
  ASSERT_OK(out.status);
  EXPECT_EQ(out.response.body, "v6");
  EXPECT_EQ(server->requests()[0][http::field::host], "[::1]:" + std::to_string(server->port()));
  EXPECT_EQ(FormatAuthority("https", "::1", 443, true), "[::1]");
  EXPECT_EQ(FormatAuthority("http", "example.com", 80, false), "example.com:80");
}

// A CA, a server certificate for 127.0.0.1 / localhost, and a client certificate, all
// signed by the CA; made once for the suite.
class HttpClientTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new sb::testing::TempDir();
    ASSERT_FALSE(sb::testing::FindExecutable("openssl").empty()) << "openssl CLI needed";
    const auto d = [](const std::string& f) { return dir_->File(f); };
    auto run = [](std::vector<std::string> argv) {
      std::string output;
      ASSERT_EQ(sb::testing::RunCommand(argv, &output), 0) << output;
    };
    const std::vector<std::string> ec_key = {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};
    auto with = [](std::vector<std::string> a, const std::vector<std::string>& b) {
      a.insert(a.end(), b.begin(), b.end());
      return a;
    };
    run(with({"openssl", "req", "-x509", "-days", "2", "-subj", "/CN=sb test ca", "-keyout", d("ca.key"),
              "-out", d("ca.crt"), "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign"}, ec_key));
    sb::testing::WriteFile(d("server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                                            "extendedKeyUsage=serverAuth\n");
    sb::testing::WriteFile(d("client.ext"), "extendedKeyUsage=clientAuth\n");
    for (const std::string name : {"server", "client"}) {
      run(with({"openssl", "req", "-subj", "/CN=" + name, "-keyout", d(name + ".key"), "-out",
                d(name + ".csr")}, ec_key));
      run({"openssl", "x509", "-req", "-in", d(name + ".csr"), "-CA", d("ca.crt"), "-CAkey",
           d("ca.key"), "-CAcreateserial", "-days", "2", "-extfile", d(name + ".ext"), "-out",
           d(name + ".crt")});
    }
    // The server sends its chain including the CA, as many real servers do.
    sb::testing::WriteFile(d("chain.crt"), sb::testing::ReadFile(d("server.crt")) +
                                               sb::testing::ReadFile(d("ca.crt")));
  }
  static void TearDownTestSuite() { delete dir_; }

  void SetUp() override {
    server_ctx_.use_certificate_chain_file(dir_->File("chain.crt"));
    server_ctx_.use_private_key_file(dir_->File("server.key"), ssl::context::pem);
  }
  FetchRequest Tls(uint16_t port) {
    FetchRequest req = Plain(port);
    req.scheme = "https";
    return req;
  }
  static std::string Ca() { return dir_->File("ca.crt"); }

  static sb::testing::TempDir* dir_;
  ssl::context server_ctx_{ssl::context::tls_server};
};
sb::testing::TempDir* HttpClientTlsTest::dir_ = nullptr;

TEST_F(HttpClientTlsTest, TlsWithCaFileSucceeds) {
  TestServer server([](const Request&) { return Response(200, "secure"); }, &server_ctx_);
  FetchRequest req = Tls(server.port());
  req.tls.ca_file = Ca();
  Outcome out = RunFetch(req);
  ASSERT_OK(out.status);
  EXPECT_EQ(out.response.body, "secure");
  req.tls.server_name = "localhost";  // DNS SAN, sent as SNI
  ASSERT_OK(RunFetch(req).status);
  // No SNI for an IP literal; the server name when one is given.
  EXPECT_EQ(server.sni(), (std::vector<std::string>{"", "localhost"}));
}

TEST_F(HttpClientTlsTest, TlsWithoutCaFailsWithCertificateError) {
  TestServer server([](const Request&) { return Response(200, "secure"); }, &server_ctx_);
  Outcome out = RunFetch(Tls(server.port()));
  EXPECT_EQ(out.status.code(), Status::Code::kUnavailable);
  EXPECT_THAT(out.status.message(),
              HasSubstr("tls handshake with 127.0.0.1:" + std::to_string(server.port()) +
                        ": certificate verify failed (self-signed certificate in certificate chain)"));
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(HttpClientTlsTest, TlsInsecureSkipVerifySucceeds) {
  TestServer server([](const Request&) { return Response(200, "secure"); }, &server_ctx_);
  FetchRequest req = Tls(server.port());
  req.tls.insecure_skip_verify = true;
  req.tls.server_name = "wrong.example";
  Outcome out = RunFetch(req);
  ASSERT_OK(out.status);
  EXPECT_EQ(out.response.body, "secure");
}

TEST_F(HttpClientTlsTest, TlsServerNameMismatchFails) {
  TestServer server([](const Request&) { return Response(200, "secure"); }, &server_ctx_);
  FetchRequest req = Tls(server.port());
  req.tls.ca_file = Ca();
  req.tls.server_name = "wrong.example";
  Outcome out = RunFetch(req);
  EXPECT_EQ(out.status.code(), Status::Code::kUnavailable);
  EXPECT_THAT(out.status.message(), HasSubstr("certificate verify failed (hostname mismatch)"));
  req.tls.server_name = "127.0.0.2";  // an IP literal is checked against the IP SANs
  out = RunFetch(req);
  EXPECT_THAT(out.status.message(), HasSubstr("certificate verify failed (IP address mismatch)"));
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(HttpClientTlsTest, TlsClientCertificateIsPresented) {
  server_ctx_.load_verify_file(Ca());
  server_ctx_.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  TestServer server([](const Request&) { return Response(200, "mtls"); }, &server_ctx_);
  FetchRequest req = Tls(server.port());
  req.tls.ca_file = Ca();
  EXPECT_EQ(RunFetch(req).status.code(), Status::Code::kUnavailable);
  req.tls.cert_file = dir_->File("client.crt");
  req.tls.key_file = dir_->File("client.key");
  Outcome out = RunFetch(req);
  ASSERT_OK(out.status);
  EXPECT_EQ(out.response.body, "mtls");
}

TEST_F(HttpClientTlsTest, ProxyConnectTunnelsTls) {
  TestServer server([](const Request&) { return Response(200, "tunnelled tls"); }, &server_ctx_);
  TestProxy proxy;
  FetchRequest req = Tls(server.port());
  req.tls.ca_file = Ca();
  req.proxy_url = "http://127.0.0.1:" + std::to_string(proxy.port());
  Outcome out = RunFetch(req);
  ASSERT_OK(out.status);
  EXPECT_EQ(out.response.body, "tunnelled tls");
  ASSERT_EQ(proxy.heads().size(), 1u);
  EXPECT_THAT(proxy.heads()[0], HasSubstr("CONNECT 127.0.0.1:" + std::to_string(server.port()) + " HTTP/1.1\r\n"));
}

TEST(HttpClientTest, ProxyConnectTunnelsRequest) {
  TestServer server([](const Request&) { return Response(200, "tunnelled"); });
  TestProxy proxy;
  FetchRequest req = Plain(server.port(), "/secret/path");
  req.proxy_url = "http://127.0.0.1:" + std::to_string(proxy.port()) + "/";
  Outcome out = RunFetch(req);
  ASSERT_OK(out.status);
  EXPECT_EQ(out.response.body, "tunnelled");
  ASSERT_EQ(proxy.heads().size(), 1u);
  const std::string authority = "127.0.0.1:" + std::to_string(server.port());
  EXPECT_THAT(proxy.heads()[0], ::testing::StartsWith("CONNECT " + authority + " HTTP/1.1\r\n"));
  EXPECT_THAT(proxy.heads()[0], HasSubstr("Host: " + authority + "\r\n"));
  EXPECT_THAT(proxy.heads()[0], Not(HasSubstr("Proxy-Authorization")));
  EXPECT_THAT(proxy.heads()[0], Not(HasSubstr("/secret/path")));
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].target(), "/secret/path");
}

TEST(HttpClientTest, ProxyAuthIsSent) {
  TestServer server([](const Request&) { return Response(200, "ok"); });
  TestProxy proxy;
  FetchRequest req = Plain(server.port());
  req.proxy_url = "http://alice:p%40ss@127.0.0.1:" + std::to_string(proxy.port());
  ASSERT_OK(RunFetch(req).status);
  ASSERT_EQ(proxy.heads().size(), 1u);
  EXPECT_THAT(proxy.heads()[0], HasSubstr("Proxy-Authorization: Basic YWxpY2U6cEBzcw==\r\n"));
  // Never forwarded to the origin.
  EXPECT_EQ(server.requests()[0].count(http::field::proxy_authorization), 0u);
}

TEST(HttpClientTest, ProxyRefusalIsAClearError) {
  TestProxy proxy("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n");
  FetchRequest req = Plain(8080);
  req.proxy_url = "http://bob:hunter2@127.0.0.1:" + std::to_string(proxy.port());
  Outcome out = RunFetch(req);
  EXPECT_EQ(out.status.code(), Status::Code::kUnavailable);
  EXPECT_EQ(out.status.message(), "proxy 127.0.0.1:" + std::to_string(proxy.port()) +
                                      " refused CONNECT to 127.0.0.1:8080: 407 Proxy Authentication Required");
}

TEST(HttpClientTest, ParsesProxyUrls) {
  auto ep = ParseProxyUrl("http://[::1]:3128");
  ASSERT_OK(ep);
  EXPECT_EQ(ep->host, "::1");
  EXPECT_EQ(ep->port, 3128);
  EXPECT_EQ(ep->authorization, "");
  ep = ParseProxyUrl("http://proxy.corp");
  ASSERT_OK(ep);
  EXPECT_EQ(ep->port, 80);
  ep = ParseProxyUrl("http://u@proxy.corp:8080");
  ASSERT_OK(ep);
  EXPECT_EQ(ep->authorization, "Basic " + Base64Encode("u:"));
  EXPECT_EQ(Base64Encode("u:"), "dTo=");
  for (const char* bad : {"https://p:1", "proxy:3128", "http://:3128", "http://p:0", "http://p/x"}) {
    EXPECT_EQ(ParseProxyUrl(bad).status().code(), Status::Code::kInvalidArgument) << bad;
  }
}

TEST(HttpClientTest, ErrorMessagesNeverContainToken) {
  const std::string token = "tok-3f9a-SECRET";
  const std::string password = "pw-SECRET-77";
  SilentServer silent;
  TestServer big([](const Request&) { return Response(200, std::string(10000, 'x')); });
  TestProxy refusing("HTTP/1.1 407 Nope\r\n\r\n");
  std::vector<FetchRequest> cases;
  auto add = [&](FetchRequest req) {
    req.headers.push_back({"Authorization", "Bearer " + token});
    cases.push_back(std::move(req));
  };
  add(Plain(static_cast<uint16_t>(sb::testing::PickFreePort()), "/m?token=" + token));
  FetchRequest slow = Plain(silent.port(), "/m?token=" + token);
  slow.timeout = 300ms;
  add(slow);
  FetchRequest limited = Plain(big.port(), "/m?token=" + token);
  limited.max_body_bytes = 100;
  add(limited);
  FetchRequest proxied = Plain(big.port());
  proxied.proxy_url = "http://user:" + password + "@127.0.0.1:" + std::to_string(refusing.port());
  add(proxied);
  FetchRequest bad_proxy = Plain(big.port());
  bad_proxy.proxy_url = "ftp://user:" + password + "@127.0.0.1:1";
  add(bad_proxy);
  FetchRequest bad_header = Plain(big.port());
  bad_header.headers = {{"X-Api-Key", token + "\r\n"}};
  add(bad_header);
  FetchRequest bad_target = Plain(big.port(), "/m?token=" + token + " x");
  add(bad_target);
  for (FetchRequest& req : cases) {
    Outcome out = RunFetch(req);
    ASSERT_FALSE(out.status.ok());
    EXPECT_THAT(out.status.ToString(), Not(HasSubstr(token)));
    EXPECT_THAT(out.status.ToString(), Not(HasSubstr(password)));
    EXPECT_THAT(out.status.ToString(), Not(HasSubstr("SECRET")));
  }
}

}  // namespace
}  // namespace sb::bridge
