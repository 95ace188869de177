// HttpServer: an asynchronous HTTP/1.1 server (plain or HTTPS) on Boost.Beast. It knows
// nothing of Scout: it accepts connections, parses requests with strict limits, calls one
// handler per request and writes the responses in order.
//
// Threads and ownership. The server owns one io_context, run by `threads` threads, and one
// acceptor. Each connection is a session object kept alive by its pending operation, with
// its own strand: all of a connection's steps run serialized on that strand, while different
// connections run in parallel. The application may put its own timers on io_context().
//
// Handlers. A Handler is called on an I/O thread, on the connection's strand, and MUST NOT
// BLOCK (no disk, no SQLite, no upstream request, no sleeping): a blocked handler stalls
// every connection that thread serves. Work that may block goes through an AsyncHandler,
// which hands the request off and answers later, from any thread, through a Responder.
//
// Per connection: keep-alive; pipelining (up to `max_pipelined` requests are read ahead
// and their responses are written strictly in request order); HEAD answered without body;
// 400 for malformed requests, 431 for oversized headers, 413 for oversized bodies, each
// followed by a close; idle, read and write timeouts close the connection.
//
// Thread-safety: Start() and Stop() from one controlling thread (never from a handler);
// port(), the counters and io_context() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bridge/asio.h"
#include "bridge/shared_body.h"
#include "common/status.h"

namespace sb::bridge {

using Request = http::request<http::string_body>;
using Response = http::response<SharedBody>;

// Returns a response with the given status, Content-Type and body, and Content-Length set.
// `version` is the request's (11 or 10). A null body is an empty body.
Response MakeResponse(unsigned version, http::status status, std::string content_type,
                      std::shared_ptr<const std::string> body);

// A text/plain; charset=utf-8 response to `req` (for errors and small answers).
Response MakeTextResponse(const Request& req, http::status status, std::string text);

// A response whose status line and headers were serialized ahead of time (all but Date and
// the blank line that ends the head). Writing one is a single gathered write of
// [head, "Date: ...\r\n\r\n", body]: no header objects, no serializer, no copies. For
// answers that are the same for many requests, such as a scrape body of a snapshot.
// A body also held in an in-memory file (memfd), so that plain-TCP connections can send it
// with sendfile(2): the kernel builds packets from the file's pages, with no copy from user
// memory. Worth it for large bodies (a 100k-series Scout org is ~11 MB plain, ~0.5 MB gzip).
// Owns the descriptor. Immutable.
class FileBody {
 public:
  // Copies `data` into a new memfd. Returns null if the system cannot (the caller then simply
  // serves from memory).
  static std::shared_ptr<const FileBody> Create(std::string_view data);
  ~FileBody();
  FileBody(const FileBody&) = delete;
  FileBody& operator=(const FileBody&) = delete;
  int fd() const { return fd_; }
  uint64_t size() const { return size_; }

 private:
  FileBody(int fd, uint64_t size) : fd_(fd), size_(size) {}
  int fd_;
  uint64_t size_;
};

struct PreparedResponse {
  std::shared_ptr<const std::string> head;  // "HTTP/1.1 200 OK\r\n" + headers, each ending CRLF
  std::shared_ptr<const std::string> body;  // must match the Content-Length in head
  // Optional: the same bytes as `body` in a file; plain-TCP sessions then use sendfile(2).
  std::shared_ptr<const FileBody> file;
};

// How a response's bytes go on the wire. The default writes everything at once, which is
// what every real endpoint wants. Pacing exists for test doubles (the Scout simulator's
// "slow upstream" fault): it waits on an asio timer, never blocking an I/O thread.
struct Pacing {
  // Wait this long before writing the status line and headers.
  std::chrono::milliseconds delay_before_headers{0};
  // When > 0, the body is written in pieces of this many bytes ...
  size_t chunk_bytes = 0;
  // ... with this wait before each piece.
  std::chrono::milliseconds delay_between_chunks{0};

  bool paced() const { return delay_before_headers.count() > 0 || chunk_bytes > 0; }
};

// The answer channel of an AsyncHandler for one request. Copyable; Send() may be called from
// any thread, once. If every copy is destroyed without Send(), the client gets a 500, so a
// lost request cannot hang a connection. Sending after the connection closed is a no-op.
// A Responder keeps its connection's session alive: REQUIRES: every copy is released before
// the HttpServer is destroyed (Stop() waits a few seconds for that, then gives up).
class Responder {
 public:
  using SendFn = std::function<void(Response, Pacing)>;
  explicit Responder(SendFn send);
  void Send(Response response, Pacing pacing = {}) const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

class HttpServer {
 public:
  // Synchronous handler: runs on an I/O thread and must not block. The hot path.
  using Handler = std::function<Response(const Request&)>;
  // Optional fast path, tried first for HTTP/1.1 keep-alive GET requests: returns true and
  // fills `out` to answer with a PreparedResponse, or false to fall through to the handler.
  // Same rules as Handler: I/O thread, must not block.
  using FastPath = std::function<bool(const Request&, PreparedResponse* out)>;
  // Asynchronous handler: must not block either, but may answer later through the Responder.
  // `req` is valid only during the call; copy what is needed.
  using AsyncHandler = std::function<void(const Request& req, Responder responder)>;

  struct Options {
    // "host:port" to listen on. "127.0.0.1:0" picks a free port (see port());
    // "[::1]:9090" is IPv6; ":9090" (empty host) listens on all interfaces (IPv6 socket
    // accepting IPv4 too where the system allows it, else 0.0.0.0).
    std::string listen_address = "127.0.0.1:0";
    // Number of I/O threads, each running its own io_context; connections are spread over
    // them round-robin. Default 2. More threads than cores buys nothing; 1 gives fully
    // serialized handlers.
    int threads = 2;
    // Maximum number of open connections. Beyond it, new connections are accepted and
    // closed at once (the client sees a reset or EOF straight away instead of waiting in the
    // listen backlog). Default 1024.
    size_t max_connections = 1024;
    // Maximum size of a request's start line plus headers; larger ones get 431. Default 8 KiB.
    uint32_t max_header_bytes = 8 * 1024;
    // Maximum size of a request body; larger ones get 413. Default 1 MiB.
    uint64_t max_body_bytes = 1024 * 1024;
    // How long a kept-alive connection may sit idle between requests before it is closed.
    // Default 60s.
    std::chrono::milliseconds idle_timeout = std::chrono::seconds(60);
    // Time allowed to receive a whole request (headers and body) once its first byte has
    // arrived, and for the first request of a connection (and the TLS handshake) from accept
    // on. Guards against slow clients holding connections. Default 10s.
    std::chrono::milliseconds read_timeout = std::chrono::seconds(10);
    // Time allowed for writing one response (or one paced piece of it). Default 30s.
    std::chrono::milliseconds write_timeout = std::chrono::seconds(30);
    // Maximum number of requests of one connection read ahead of their responses (HTTP/1.1
    // pipelining). Reading pauses while that many responses are pending. Default 16; >= 1.
    size_t max_pipelined = 16;
    // PEM files of the certificate chain and the private key. When both are set the server
    // speaks HTTPS only (TLS 1.2+). Both empty: plain HTTP. One without the other: Start()
    // fails.
    std::string tls_cert_file;
    std::string tls_key_file;
  };

  HttpServer(Options options, Handler handler);
  HttpServer(Options options, AsyncHandler handler);
  // Stops the server (see Stop()).
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Installs the fast path. REQUIRES: called before Start().
  void SetFastPath(FastPath fast_path);

  // Loads TLS material if configured, binds, listens and starts the threads.
  // Errors: InvalidArgument for a malformed address or option; IOError naming the address
  // when binding fails (port in use, permission) or a TLS file cannot be loaded.
  // REQUIRES: called once.
  Status Start();

  // The bound port (the real one when listening on port 0). 0 before a successful Start().
  int port() const { return port_.load(); }

  // Closes the acceptor and every open connection (in-flight responses are abandoned), waits
  // up to a few seconds for the sessions to finish, then stops the io_context and joins the
  // threads. Handlers of the application still queued on io_context() are not run.
  // Idempotent. REQUIRES: not called from an I/O thread.
  void Stop();

  // The io_context served by the I/O threads, for the application's timers and strands.
  asio::io_context& io_context() { return io_context_; }

  // Self-metrics, readable from any thread. All are monotonic counters except
  // open_connections(), a gauge.
  uint64_t open_connections() const;      // Sessions alive now (TLS handshakes included).
  uint64_t accepted_connections() const;  // Every accept(), rejected ones included.
  uint64_t rejected_connections() const;  // Closed at once because of max_connections.
  uint64_t requests() const;              // Requests parsed and handed to the handler.

  struct Shared;  // State shared with sessions; outlives the server while sessions exist.

 private:
  void DoAccept();
  void OnAccept(error_code ec, tcp::socket socket);

  // Declared first so that it is destroyed last: the I/O objects below belong to it.
  // One io_context per I/O thread ("io_context per core"): a connection lives on one context,
  // run by one thread, so its steps never wake another thread. io_context_ is the first of
  // them, also carries the application's timers, and runs the acceptor; the others serve
  // connections only. Concurrency hint 1: each context is run by exactly one thread (other
  // threads may still post to it safely).
  asio::io_context io_context_{1};
  std::vector<std::unique_ptr<asio::io_context>> extra_contexts_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> extra_work_;
  size_t next_context_ = 0;  // round-robin choice for the next connection; acceptor strand only
  std::shared_ptr<Shared> shared_;
  asio::strand<asio::io_context::executor_type> acceptor_strand_;
  tcp::acceptor acceptor_;                 // Touched only on acceptor_strand_ once started.
  asio::steady_timer accept_retry_timer_;  // Backs off accept() after EMFILE and the like.
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::atomic<int> port_{0};
  std::vector<std::thread> threads_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace sb::bridge
