#include "bridge/http_server.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/testing/testing.h"

namespace sb::bridge {
namespace {

using StringResponse = http::response<http::string_body>;

// A blocking test client over one loopback connection. Every socket read is bounded by
// SO_RCVTIMEO so that a broken server fails the test instead of hanging it.
class Client {
 public:
  explicit Client(int port) : socket_(ioc_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), connect_ec_);
    timeval tv{10, 0};
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  bool connected() const { return !connect_ec_; }

  void Write(const std::string& bytes) {
    error_code ec;
    asio::write(socket_, asio::buffer(bytes), ec);
    ASSERT_FALSE(ec) << ec.message();
  }

  static std::string Get(const std::string& target, const std::string& extra = "") {
    return "GET " + target + " HTTP/1.1\r\nHost: t\r\n" + extra + "\r\n";
  }

  // Reads one response. `head`: the request was HEAD, expect no body.
  error_code Read(StringResponse* res, bool head = false) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    if (head) parser.skip(true);
    error_code ec;
    http::read(socket_, buffer_, parser, ec);
    if (!ec) *res = parser.release();
    return ec;
  }

  // Reads until the server closes; returns the error that ended the read (eof on a clean
  // close, connection_reset on an abortive one, would_block/try_again on our own timeout).
  error_code ReadUntilClosed() {
    char buf[4096];
    error_code ec;
    while (!ec) socket_.read_some(asio::buffer(buf), ec);
    return ec;
  }

 private:
  asio::io_context ioc_;
  tcp::socket socket_;
  error_code connect_ec_;
  beast::flat_buffer buffer_;
};

bool ClosedByServer(const error_code& ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == http::error::end_of_stream || ec == http::error::partial_message;
}

HttpServer::Handler EchoHandler() {
  return [](const Request& req) {
    return MakeTextResponse(req, http::status::ok, "you asked for " + std::string(req.target()));
  };
}

std::unique_ptr<HttpServer> StartServer(HttpServer::Options options,
                                        HttpServer::Handler handler = EchoHandler()) {
  auto server = std::make_unique<HttpServer>(std::move(options), std::move(handler));
  Status s = server->Start();
  EXPECT_TRUE(s.ok()) << s.ToString();
  return server;
}

TEST(HttpServerTest, ServesHandlerResponse) {
  auto server = StartServer({});
  ASSERT_GT(server->port(), 0);
  Client c(server->port());
  ASSERT_TRUE(c.connected());
  c.Write(Client::Get("/hello"));
  StringResponse res;
  ASSERT_FALSE(c.Read(&res));
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), "you asked for /hello\n");
  EXPECT_EQ(res[http::field::content_type], "text/plain; charset=utf-8");
  EXPECT_EQ(res[http::field::content_length], std::to_string(res.body().size()));
  EXPECT_NE(res.find(http::field::date), res.end());
  EXPECT_EQ(server->requests(), 1u);
}

TEST(HttpServerTest, SharedBodyIsServedFromTheSharedString) {
  auto body = std::make_shared<const std::string>("metric_a 1\nmetric_b 2\n");
  auto server = StartServer({}, [body](const Request& req) {
    return MakeResponse(req.version(), http::status::ok, "text/plain; version=0.0.4", body);
  });
  Client c(server->port());
  c.Write(Client::Get("/metrics"));
  StringResponse res;
  ASSERT_FALSE(c.Read(&res));
  EXPECT_EQ(res.body(), *body);
  EXPECT_EQ(res[http::field::content_type], "text/plain; version=0.0.4");
}

TEST(HttpServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  auto server = StartServer({});
  Client c(server->port());
  for (int i = 0; i < 50; ++i) {
    c.Write(Client::Get("/r" + std::to_string(i)));
    StringResponse res;
    ASSERT_FALSE(c.Read(&res)) << "request " << i;
    EXPECT_EQ(res.body(), "you asked for /r" + std::to_string(i) + "\n");
    EXPECT_TRUE(res.keep_alive());
  }
  EXPECT_EQ(server->accepted_connections(), 1u);
  EXPECT_EQ(server->requests(), 50u);
}

TEST(HttpServerTest, PipelinedRequestsAnswerInOrder) {
  auto server = StartServer({});
  Client c(server->port());
  c.Write(Client::Get("/a") + Client::Get("/b") + Client::Get("/c"));
  for (const char* t : {"/a", "/b", "/c"}) {
    StringResponse res;
    ASSERT_FALSE(c.Read(&res));
    EXPECT_EQ(res.body(), std::string("you asked for ") + t + "\n");
  }
}

TEST(HttpServerTest, PipelinedAsyncAnswersKeepRequestOrderWhenCompletedOutOfOrder) {
  // The first request is answered last (from another thread, after the others).
  std::vector<std::thread> threads;
  std::mutex mu;
  std::vector<Responder> held;
  HttpServer server({}, [&](const Request& req, Responder r) {
    Response res = MakeTextResponse(req, http::status::ok, std::string(req.target()));
    if (req.target() == "/slow") {
      std::lock_guard<std::mutex> lock(mu);
      held.push_back(r);
      threads.emplace_back([r, res]() mutable {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        r.Send(std::move(res));
      });
    } else {
      r.Send(std::move(res));
    }
  });
  ASSERT_OK(server.Start());
  Client c(server.port());
  c.Write(Client::Get("/slow") + Client::Get("/fast1") + Client::Get("/fast2"));
  for (const char* t : {"/slow", "/fast1", "/fast2"}) {
    StringResponse res;
    ASSERT_FALSE(c.Read(&res));
    EXPECT_EQ(res.body(), std::string(t) + "\n");
  }
  for (auto& t : threads) t.join();
  held.clear();
}

TEST(HttpServerTest, DroppedResponderAnswers500) {
  HttpServer server({}, [](const Request&, Responder) { /* never answers */ });
  ASSERT_OK(server.Start());
  Client c(server.port());
  c.Write(Client::Get("/x"));
  StringResponse res;
  ASSERT_FALSE(c.Read(&res));
  EXPECT_EQ(res.result(), http::status::internal_server_error);
}

TEST(HttpServerTest, OversizedHeaderIsRejected) {
  HttpServer::Options o;
  o.max_header_bytes = 1024;
  auto server = StartServer(o);
  Client c(server->port());
  c.Write(Client::Get("/", "X-Big: " + std::string(4096, 'a') + "\r\n"));
  StringResponse res;
  ASSERT_FALSE(c.Read(&res));
  EXPECT_EQ(res.result(), http::status::request_header_fields_too_large);
  EXPECT_FALSE(res.keep_alive());
  EXPECT_TRUE(ClosedByServer(c.ReadUntilClosed()));
}

TEST(HttpServerTest, OversizedBodyIsRejected) {
  HttpServer::Options o;
  o.max_body_bytes = 1000;
  auto server = StartServer(o);
  Client c(server->port());
  c.Write("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n" +
          std::string(5000, 'x'));
  StringResponse res;
  ASSERT_FALSE(c.Read(&res));
  EXPECT_EQ(res.result(), http::status::payload_too_large);
  EXPECT_TRUE(ClosedByServer(c.ReadUntilClosed()));
}

TEST(HttpServerTest, BodyWithinLimitReachesHandler) {
  HttpServer::Options o;
  o.max_body_bytes = 1000;
  auto server = StartServer(o, [](const Request& req) {
    return MakeTextResponse(req, http::status::ok, std::to_string(req.body().size()));
  });
  Client c(server->port());
  c.Write("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n" +
          std::string(1000, 'x'));
  StringResponse res;
  ASSERT_FALSE(c.Read(&res));
  EXPECT_EQ(res.body(), "1000\n");
}

TEST(HttpServerTest, MalformedRequestGets400AndClose) {
  auto server = StartServer({});
  Client c(server->port());
  c.Write("THIS IS NOT HTTP\r\n\r\n");
  StringResponse res;
  ASSERT_FALSE(c.Read(&res));
  EXPECT_EQ(res.result(), http::status::bad_request);
  EXPECT_TRUE(ClosedByServer(c.ReadUntilClosed()));
}

TEST(HttpServerTest, IdleConnectionIsClosedAfterTimeout) {
  HttpServer::Options o;
  o.idle_timeout = std::chrono::milliseconds(200);
  auto server = StartServer(o);
  Client c(server->port());
  c.Write(Client::Get("/"));
  StringResponse res;
  ASSERT_FALSE(c.Read(&res));
  // The client's own read bound is 10 s: a server that never closes fails with would_block.
  EXPECT_TRUE(ClosedByServer(c.ReadUntilClosed()));
}

TEST(HttpServerTest, SilentNewConnectionIsClosedAfterReadTimeout) {
  HttpServer::Options o;
  o.read_timeout = std::chrono::milliseconds(200);
  auto server = StartServer(o);
  Client c(server->port());
  c.Write("GET / HTTP/1.1\r\n");  // Headers never finish.
  EXPECT_TRUE(ClosedByServer(c.ReadUntilClosed()));
}

TEST(HttpServerTest, HeadHasNoBody) {
  auto server = StartServer({});
  Client c(server->port());
  // HEAD then GET on one connection: if HEAD wrote body bytes, the GET response would
  // be misparsed.
  c.Write("HEAD /x HTTP/1.1\r\nHost: t\r\n\r\n" + Client::Get("/x"));
  StringResponse head, get;
  ASSERT_FALSE(c.Read(&head, /*head=*/true));
  ASSERT_FALSE(c.Read(&get));
  EXPECT_EQ(head.result(), http::status::ok);
  EXPECT_TRUE(head.body().empty());
  EXPECT_EQ(head[http::field::content_length], std::to_string(get.body().size()));
  EXPECT_EQ(get.body(), "you asked for /x\n");
}

TEST(HttpServerTest, ConnectionCloseRequestClosesAfterResponse) {
  auto server = StartServer({});
  Client c(server->port());
  c.Write(Client::Get("/", "Connection: close\r\n"));
  StringResponse res;
  ASSERT_FALSE(c.Read(&res));
  EXPECT_FALSE(res.keep_alive());
  EXPECT_TRUE(ClosedByServer(c.ReadUntilClosed()));
}

TEST(HttpServerTest, HandlerConnectionCloseEndsPipelineAfterThatResponse) {
  auto server = StartServer({}, [](const Request& req) {
    Response res = MakeTextResponse(req, http::status::ok, std::string(req.target()));
    if (req.target() == "/last") res.set(http::field::connection, "close");
    return res;
  });
  Client c(server->port());
  c.Write(Client::Get("/first") + Client::Get("/last") + Client::Get("/never"));
  for (const char* t : {"/first", "/last"}) {
    StringResponse res;
    ASSERT_FALSE(c.Read(&res));
    EXPECT_EQ(res.body(), std::string(t) + "\n");
  }
  EXPECT_TRUE(ClosedByServer(c.ReadUntilClosed()));
}

TEST(HttpServerTest, Http10RequestWithoutKeepAliveIsClosed) {
  auto server = StartServer({});
  Client c(server->port());
  c.Write("GET /old HTTP/1.0\r\n\r\n");
  StringResponse res;
  ASSERT_FALSE(c.Read(&res));
  EXPECT_EQ(res.version(), 10u);
  EXPECT_EQ(res.body(), "you asked for /old\n");
  EXPECT_TRUE(ClosedByServer(c.ReadUntilClosed()));
}

TEST(HttpServerTest, ConnectionLimitIsEnforced) {
  HttpServer::Options o;
  o.max_connections = 2;
  auto server = StartServer(o);
  auto a = std::make_unique<Client>(server->port());
  Client b(server->port());
  for (Client* c : {a.get(), &b}) {  // A served request proves the session is registered.
    c->Write(Client::Get("/"));
    StringResponse res;
    ASSERT_FALSE(c->Read(&res));
  }
  Client third(server->port());
  EXPECT_TRUE(ClosedByServer(third.ReadUntilClosed()));
  EXPECT_EQ(server->rejected_connections(), 1u);
  EXPECT_EQ(server->open_connections(), 2u);

  a.reset();  // Frees a slot once the server notices the close.
  for (int i = 0; i < 1000 && server->open_connections() > 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Client fourth(server->port());
  fourth.Write(Client::Get("/again"));
  StringResponse res;
  ASSERT_FALSE(fourth.Read(&res));
  EXPECT_EQ(res.body(), "you asked for /again\n");
}

TEST(HttpServerTest, StopClosesOpenConnections) {
  auto server = StartServer({});
  Client c(server->port());
  c.Write(Client::Get("/"));
  StringResponse res;
  ASSERT_FALSE(c.Read(&res));
  server->Stop();
  EXPECT_TRUE(ClosedByServer(c.ReadUntilClosed()));
  EXPECT_EQ(server->open_connections(), 0u);
  Client late(server->port());
  EXPECT_FALSE(late.connected());
}

TEST(HttpServerTest, PacedResponseDeliversWholeBody) {
  std::string big(10000, 'z');
  HttpServer server({}, [&](const Request& req, Responder r) {
    Pacing p;
    p.delay_before_headers = std::chrono::milliseconds(20);
    p.chunk_bytes = 3000;
    p.delay_between_chunks = std::chrono::milliseconds(5);
    r.Send(MakeResponse(req.version(), http::status::ok, "text/plain",
                        std::make_shared<const std::string>(big)),
           p);
  });
  ASSERT_OK(server.Start());
  Client c(server.port());
  c.Write(Client::Get("/a") + Client::Get("/b"));
  for (int i = 0; i < 2; ++i) {
    StringResponse res;
    ASSERT_FALSE(c.Read(&res));
    EXPECT_EQ(res.body(), big);
  }
}

TEST(HttpServerTest, StartFailsWithAddressInMessageWhenPortIsTaken) {
  auto first = StartServer({});
  HttpServer::Options o;
  o.listen_address = "127.0.0.1:" + std::to_string(first->port());
  HttpServer second(o, EchoHandler());
  Status s = second.Start();
  EXPECT_EQ(s.code(), Status::Code::kIOError);
  EXPECT_THAT(s.message(), ::testing::HasSubstr(o.listen_address));
}

TEST(HttpServerTest, MalformedListenAddressIsInvalidArgument) {
  for (const char* addr : {"127.0.0.1", "127.0.0.1:99999", "::1:80", "host:port"}) {
    HttpServer::Options o;
    o.listen_address = addr;
    HttpServer server(o, EchoHandler());
    EXPECT_EQ(server.Start().code(), Status::Code::kInvalidArgument) << addr;
  }
}

TEST(HttpServerTest, TlsServesWithGeneratedCert) {
  testing::TempDir dir;
  std::string out;
  int rc = testing::RunCommand(
      {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
       "-nodes", "-keyout", dir.File("key.pem"), "-out", dir.File("cert.pem"), "-days", "2",
       "-subj", "/CN=localhost"},
      &out);
  ASSERT_EQ(rc, 0) << out;
  HttpServer::Options o;
  o.tls_cert_file = dir.File("cert.pem");
  o.tls_key_file = dir.File("key.pem");
  auto server = StartServer(o);

  asio::io_context ioc;
  ssl::context ctx(ssl::context::tls_client);
  error_code ec;
  ctx.load_verify_file(dir.File("cert.pem"), ec);
  ASSERT_FALSE(ec) << ec.message();
  ctx.set_verify_mode(ssl::verify_peer);
  ssl::stream<tcp::socket> stream(ioc, ctx);
  SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
  stream.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server->port()),
                              ec);
  ASSERT_FALSE(ec) << ec.message();
  timeval tv{10, 0};
  ::setsockopt(stream.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  stream.handshake(ssl::stream_base::client, ec);
  ASSERT_FALSE(ec) << ec.message();
  for (int i = 0; i < 2; ++i) {  // Keep-alive works over TLS too.
    Request req(http::verb::get, "/secure", 11);
    req.set(http::field::host, "localhost");
    http::write(stream, req, ec);
    ASSERT_FALSE(ec) << ec.message();
    beast::flat_buffer buf;
    StringResponse res;
    http::read(stream, buf, res, ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(res.body(), "you asked for /secure\n");
  }

  // A plain-HTTP client gets no HTTP answer from the TLS port.
  Client plain(server->port());
  plain.Write(Client::Get("/"));
  StringResponse res;
  EXPECT_TRUE(plain.Read(&res));
}

TEST(HttpServerTest, TlsStartFailsOnMissingCertificate) {
  HttpServer::Options o;
  o.tls_cert_file = "/nonexistent/cert.pem";
  o.tls_key_file = "/nonexistent/key.pem";
  HttpServer server(o, EchoHandler());
  Status s = server.Start();
  EXPECT_EQ(s.code(), Status::Code::kIOError);
  EXPECT_THAT(s.message(), ::testing::HasSubstr("/nonexistent/cert.pem"));
}

}  // namespace
}  // namespace sb::bridge
