// HttpServer implementation: response helpers, Responder, address parsing, the acceptor
// and Stop(). The per-connection state machine is in bridge/http_session.h.
#include "bridge/http_server.h"

#include "common/http_date.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

#include <charconv>
#include <cstdio>
#include <ctime>

#include "bridge/http_session.h"
#include "common/log.h"

namespace sb::bridge {

using detail::Session;
using detail::SessionBase;

// ---------------------------------------------------------------------------------------
// Response helpers

namespace detail {

std::string_view HttpDateNow() {
  thread_local std::time_t cached = -1;
  thread_local std::string formatted;
  std::time_t now = std::time(nullptr);
  if (now != cached) {
    formatted = FormatHttpDate(static_cast<int64_t>(now) * 1000);
    cached = now;
  }
  return formatted;
}

}  // namespace detail

Response MakeResponse(unsigned version, http::status status, std::string content_type,
                      std::shared_ptr<const std::string> body) {
  Response res(status, version);
  if (!content_type.empty()) res.set(http::field::content_type, std::move(content_type));
  res.body() = std::move(body);
  res.content_length(SharedBody::size(res.body()));
  return res;
}

Response MakeTextResponse(const Request& req, http::status status, std::string text) {
  if (!text.empty() && text.back() != '\n') text.push_back('\n');
  return MakeResponse(req.version(), status, "text/plain; charset=utf-8",
                      std::make_shared<const std::string>(std::move(text)));
}

// ---------------------------------------------------------------------------------------
// Responder

struct Responder::State {
  explicit State(SendFn fn) : send(std::move(fn)) {}
  ~State() {
    if (!sent.exchange(true)) {
      Response res = MakeResponse(11, http::status::internal_server_error,
                                  "text/plain; charset=utf-8",
                                  std::make_shared<const std::string>("request dropped\n"));
      send(std::move(res), Pacing{});
    }
  }
  SendFn send;
  std::atomic<bool> sent{false};
};

Responder::Responder(SendFn send) : state_(std::make_shared<State>(std::move(send))) {}

void Responder::Send(Response response, Pacing pacing) const {
  if (state_->sent.exchange(true)) return;  // Second call: ignored.
  state_->send(std::move(response), pacing);
}

namespace {

// Splits "host:port", "[v6]:port" or ":port". Returns false on a malformed address.
bool SplitHostPort(const std::string& address, std::string* host, uint16_t* port) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) return false;
  std::string h = address.substr(0, colon);
  std::string p = address.substr(colon + 1);
  if (!h.empty() && h.front() == '[') {
    if (h.size() < 2 || h.back() != ']') return false;
    h = h.substr(1, h.size() - 2);
  } else if (h.find(':') != std::string::npos) {
    return false;  // Bare IPv6 needs brackets.
  }
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (p.empty() || ec != std::errc() || ptr != p.data() + p.size() || value > 65535) return false;
  *host = h;
  *port = static_cast<uint16_t>(value);
  return true;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// HttpServer

HttpServer::HttpServer(Options options, Handler handler)
    : shared_(std::make_shared<Shared>()),
      acceptor_strand_(asio::make_strand(io_context_)),
      acceptor_(acceptor_strand_),
      accept_retry_timer_(acceptor_strand_) {
  shared_->options = std::move(options);
  shared_->handler = std::move(handler);
}

HttpServer::HttpServer(Options options, AsyncHandler handler)
    : shared_(std::make_shared<Shared>()),
      acceptor_strand_(asio::make_strand(io_context_)),
      acceptor_(acceptor_strand_),
      accept_retry_timer_(acceptor_strand_) {
  shared_->options = std::move(options);
  shared_->async_handler = std::move(handler);
}

HttpServer::~HttpServer() { Stop(); }

std::shared_ptr<const FileBody> FileBody::Create(std::string_view data) {
  int fd = memfd_create("scout-bridge-body", MFD_CLOEXEC);
  if (fd < 0) return nullptr;
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return nullptr;
    }
    done += static_cast<size_t>(n);
  }
  return std::shared_ptr<const FileBody>(new FileBody(fd, data.size()));
}

FileBody::~FileBody() { ::close(fd_); }

void HttpServer::SetFastPath(FastPath fast_path) { shared_->fast_path = std::move(fast_path); }

uint64_t HttpServer::open_connections() const { return shared_->open.load(); }
uint64_t HttpServer::accepted_connections() const { return shared_->accepted.load(); }
uint64_t HttpServer::rejected_connections() const { return shared_->rejected.load(); }
uint64_t HttpServer::requests() const { return shared_->requests.load(); }

Status HttpServer::Start() {
  const Options& o = shared_->options;
  if (started_) return Status::InvalidArgument("HttpServer::Start called twice");
  if (!shared_->handler && !shared_->async_handler) {
    return Status::InvalidArgument("HttpServer: no handler");
  }
  if (o.threads < 1) return Status::InvalidArgument("HttpServer: threads must be >= 1");
  if (o.max_pipelined < 1) return Status::InvalidArgument("HttpServer: max_pipelined must be >= 1");
  if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
    return Status::InvalidArgument("HttpServer: tls_cert_file and tls_key_file go together");
  }
  if (!o.tls_cert_file.empty()) {
    shared_->tls.emplace(ssl::context::tls_server);
    shared_->tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                              ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                              ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    error_code ec;
    shared_->tls->use_certificate_chain_file(o.tls_cert_file, ec);
    if (ec) return Status::IOError("loading TLS certificate " + o.tls_cert_file + ": " + ec.message());
    shared_->tls->use_private_key_file(o.tls_key_file, ssl::context::pem, ec);
    if (ec) return Status::IOError("loading TLS key " + o.tls_key_file + ": " + ec.message());
  }

  std::string host;
  uint16_t port = 0;
  if (!SplitHostPort(o.listen_address, &host, &port)) {
    return Status::InvalidArgument("bad listen address \"" + o.listen_address +
                                   "\" (want host:port, [v6]:port or :port)");
  }
  error_code ec;
  tcp::endpoint endpoint;
  if (host.empty()) {
    endpoint = tcp::endpoint(tcp::v6(), port);
  } else {
    tcp::resolver resolver(io_context_);
    auto results = resolver.resolve(host, std::to_string(port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec || results.empty()) {
      return Status::IOError("listen on " + o.listen_address + ": cannot resolve \"" + host +
                             "\": " + ec.message());
    }
    endpoint = results.begin()->endpoint();
  }
  const std::string where = "listen on " + o.listen_address + ": ";
  acceptor_.open(endpoint.protocol(), ec);
  if (ec && host.empty()) {  // No IPv6 on this host: all IPv4 interfaces instead.
    endpoint = tcp::endpoint(tcp::v4(), port);
    ec.clear();
    acceptor_.open(endpoint.protocol(), ec);
  }
  if (ec) return Status::IOError(where + "open: " + ec.message());
  if (host.empty() && endpoint.protocol() == tcp::v6()) {
    acceptor_.set_option(asio::ip::v6_only(false), ec);  // Best effort: dual stack.
  }
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  acceptor_.bind(endpoint, ec);
  if (ec) return Status::IOError(where + "bind: " + ec.message());
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::IOError(where + "listen: " + ec.message());
  port_ = acceptor_.local_endpoint(ec).port();

  started_ = true;
  work_.emplace(io_context_.get_executor());
  for (int i = 1; i < o.threads; ++i) {
    extra_contexts_.push_back(std::make_unique<asio::io_context>(1));
    extra_work_.push_back(asio::make_work_guard(*extra_contexts_.back()));
  }
  asio::post(acceptor_strand_, [this] { DoAccept(); });
  threads_.reserve(o.threads);
  threads_.emplace_back([this] { io_context_.run(); });
  for (auto& ctx : extra_contexts_) threads_.emplace_back([c = ctx.get()] { c->run(); });
  return Status::OK();
}

void HttpServer::DoAccept() {
  const size_t n = extra_contexts_.size() + 1;
  asio::io_context& ctx = next_context_ == 0 ? io_context_ : *extra_contexts_[next_context_ - 1];
  next_context_ = (next_context_ + 1) % n;
  acceptor_.async_accept(asio::make_strand(ctx),
                         [this](error_code ec, tcp::socket socket) {
                           OnAccept(ec, std::move(socket));
                         });
}

void HttpServer::OnAccept(error_code ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec) {
    if (ec == asio::error::connection_aborted) return DoAccept();
    // Out of descriptors or memory: retrying at once would spin. Back off briefly.
    LogWarn("accept failed", {{"error", ec.message()}});
    accept_retry_timer_.expires_after(std::chrono::milliseconds(100));
    accept_retry_timer_.async_wait([this](error_code wait_ec) {
      if (!wait_ec && acceptor_.is_open()) DoAccept();
    });
    return;
  }
  shared_->accepted.fetch_add(1, std::memory_order_relaxed);
  if (shared_->open.load() >= shared_->options.max_connections) {
    shared_->rejected.fetch_add(1, std::memory_order_relaxed);
    error_code ignored;
    socket.close(ignored);
    return DoAccept();
  }
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  shared_->open.fetch_add(1, std::memory_order_relaxed);  // The session's destructor undoes it.
  if (shared_->tls) {
    std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(shared_, std::move(socket))
        ->Start();
  } else {
    std::make_shared<Session<beast::tcp_stream>>(shared_, std::move(socket))->Start();
  }
  DoAccept();
}

void HttpServer::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (!started_) return;
  std::vector<std::shared_ptr<SessionBase>> live;
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->stopping = true;
    for (auto& [id, weak] : shared_->sessions) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  asio::post(acceptor_strand_, [this] {
    error_code ignored;
    acceptor_.close(ignored);
    accept_retry_timer_.cancel();
    {
      std::lock_guard<std::mutex> lock(shared_->mu);
      shared_->acceptor_closed = true;
    }
    shared_->cv.notify_all();
  });
  for (auto& s : live) s->Abort();
  live.clear();  // Our references must not keep the sessions alive.
  {
    // Sessions end as soon as their aborted operations complete. A session whose async
    // handler still holds its Responder lives on; we give up on it after a bound.
    std::unique_lock<std::mutex> lock(shared_->mu);
    shared_->cv.wait_for(lock, std::chrono::seconds(5),
                         [this] { return shared_->sessions.empty() && shared_->acceptor_closed; });
  }
  work_.reset();
  extra_work_.clear();
  io_context_.stop();
  for (auto& ctx : extra_contexts_) ctx->stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

}  // namespace sb::bridge
