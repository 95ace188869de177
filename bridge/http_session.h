// Internal to bridge/http_server.cc: the per-connection Session and the state it shares with
// the server. Not for use elsewhere.
//
// One template, Session<Stream>, serves both plain TCP and TLS connections; the two differ
// only in the handshake at the start and the shutdown at the end.
//
// Session life cycle (every step runs on the connection's strand):
//
//   [TLS handshake] -> DoRead -> OnRead -> Dispatch -> Complete -> TryWrite -> OnWrite -> ...
//
// Reading and writing run concurrently: after a request is read, the next read starts at
// once unless `max_pipelined` responses are pending, so pipelined requests are read ahead
// while earlier responses are being written. Responses sit in `queue_` in request order and
// are written strictly from its front; an async handler may fill its slot late, which holds
// back the slots behind it. A keep-alive read waits for the first byte with idle_timeout and
// then reads the whole request with read_timeout, so that a client that is slow inside a
// request is cut off sooner than one that is merely idle between requests.
//
// Thread-safety: a Session is used only on its strand, except Abort() (any thread).
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <array>
#include <cerrno>
#include <sys/sendfile.h>
#include <cstdio>
#include <type_traits>
#include <unordered_map>

#include "bridge/http_server.h"
#include "common/log.h"

namespace sb::bridge {
namespace detail {

// The current time as an IMF-fixdate (for the Date header), cached per second per thread.
std::string_view HttpDateNow();

inline bool StatusHasNoBody(unsigned status) {
  return status / 100 == 1 || status == 204 || status == 304;
}

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Closes the connection at once; may be called from any thread.
  virtual void Abort() = 0;
};

}  // namespace detail

struct HttpServer::Shared {
  Options options;
  Handler handler;             // Exactly one of handler and async_handler is set.
  AsyncHandler async_handler;
  FastPath fast_path;          // Optional; tried before the handler.
  std::optional<ssl::context> tls;

  std::atomic<uint64_t> open{0};
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> rejected{0};
  std::atomic<uint64_t> requests{0};

  std::mutex mu;
  std::condition_variable cv;  // Signalled when a session deregisters.
  bool stopping = false;         // Guarded by mu.
  bool acceptor_closed = false;  // Guarded by mu.
  uint64_t next_id = 0;          // Guarded by mu.
  std::unordered_map<uint64_t, std::weak_ptr<detail::SessionBase>> sessions;  // Guarded by mu.
};

namespace detail {

using Shared = HttpServer::Shared;
inline constexpr size_t kIdleReadBytes = 4096;
inline constexpr size_t kMaxLingerBytes = 256 * 1024;
inline constexpr std::chrono::seconds kLingerTimeout(2);

// ---------------------------------------------------------------------------------------
// Session

template <class Stream>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

 public:
  Session(std::shared_ptr<Shared> shared, tcp::socket&& socket) requires(!kTls)
      : shared_(std::move(shared)), stream_(std::move(socket)), timer_(stream_.get_executor()) {}
  Session(std::shared_ptr<Shared> shared, tcp::socket&& socket) requires(kTls)
      : shared_(std::move(shared)),
        stream_(std::move(socket), *shared_->tls),
        timer_(stream_.get_executor()) {}

  ~Session() override {
    {
      std::lock_guard<std::mutex> lock(shared_->mu);
      if (registered_) shared_->sessions.erase(id_);
      shared_->open.fetch_sub(1, std::memory_order_relaxed);
    }
    shared_->cv.notify_all();
  }

  // Registers the session and starts it. Returns false (and closes) if the server is stopping.
  bool Start() {
    {
      std::lock_guard<std::mutex> lock(shared_->mu);
      if (shared_->stopping) return false;
      id_ = shared_->next_id++;
      registered_ = true;
      shared_->sessions.emplace(id_, this->weak_from_this());
    }
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&Session::OnStart, this->shared_from_this()));
    return true;
  }

  void Abort() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] { self->Close(); });
  }

 private:
  // One request's response, in request order.
  struct Slot {
    uint64_t seq = 0;
    bool ready = false;       // The handler has answered.
    bool head = false;        // The request was HEAD: write no body.
    bool keep_alive = true;   // What the request asked for.
    bool close = false;       // Close the connection after writing this response.
    Response res;
    Pacing pacing;
    PreparedResponse prepared;  // Set instead of res when the fast path answered.
    char date_line[64];         // "Date: ...\r\n\r\n" for a prepared response
    size_t date_len = 0;
  };

  const HttpServer::Options& opts() const { return shared_->options; }
  tcp::socket& socket() { return beast::get_lowest_layer(stream_).socket(); }

  void OnStart() {
    if constexpr (kTls) {
      beast::get_lowest_layer(stream_).expires_after(opts().read_timeout);
      stream_.async_handshake(ssl::stream_base::server,
                              beast::bind_front_handler(&Session::OnHandshake,
                                                        this->shared_from_this()));
    } else {
      DoRead();
    }
  }

  void OnHandshake(error_code ec) {
    if (ec) return Close();
    DoRead();
  }

  // Starts reading the next request unless reading is paused or over.
  void DoRead() {
    if (closed_ || read_stopped_ || reading_ || queue_.size() >= opts().max_pipelined) return;
    reading_ = true;
    if (buffer_.size() == 0 && served_any_) {
      // Kept-alive and nothing buffered: wait for the next request's first bytes.
      beast::get_lowest_layer(stream_).expires_after(opts().idle_timeout);
      stream_.async_read_some(
          buffer_.prepare(kIdleReadBytes),
          beast::bind_front_handler(&Session::OnIdleRead, this->shared_from_this()));
      return;
    }
    DoReadRequest();
  }

  void OnIdleRead(error_code ec, size_t bytes) {
    buffer_.commit(bytes);
    if (shutting_down_) return OnReadWhileShuttingDown(ec);
    if (ec) {
      reading_ = false;
      return HandleReadError(ec == asio::error::eof ? http::error::end_of_stream : ec);
    }
    // Fast path: the bytes just read usually hold the whole request. Parse them here rather
    // than through another async_read, which would cost one more trip through the strand.
    NewParser();
    error_code parse_ec;
    while (buffer_.size() > 0 && !parser_->is_done()) {
      size_t used = parser_->put(buffer_.data(), parse_ec);
      buffer_.consume(used);
      if (parse_ec || used == 0) break;
    }
    if (parse_ec && parse_ec != http::error::need_more) {
      reading_ = false;
      return HandleReadError(parse_ec);
    }
    if (parser_->is_done()) return OnRead(error_code{}, 0);
    ContinueReadRequest();  // Partial request: read the rest under read_timeout.
  }

  void NewParser() {
    parser_.emplace();
    parser_->header_limit(opts().max_header_bytes);
    parser_->body_limit(opts().max_body_bytes);
  }

  void DoReadRequest() {
    NewParser();
    ContinueReadRequest();
  }

  void ContinueReadRequest() {
    beast::get_lowest_layer(stream_).expires_after(opts().read_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, this->shared_from_this()));
  }

  void OnRead(error_code ec, size_t) {
    if (shutting_down_) return OnReadWhileShuttingDown(ec);
    reading_ = false;
    if (ec) return HandleReadError(ec);
    served_any_ = true;
    Dispatch(parser_->release());
    DoRead();
  }

  void HandleReadError(error_code ec) {
    read_stopped_ = true;
    if (closed_ || ec == asio::error::operation_aborted) return;
    if (ec == http::error::end_of_stream) return MaybeFinish();  // Client closed cleanly.
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
      return QueueError(http::status::request_header_fields_too_large, "header too large");
    }
    if (ec == http::error::body_limit) {
      return QueueError(http::status::payload_too_large, "body too large");
    }
    if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
        ec != http::error::partial_message) {
      return QueueError(http::status::bad_request, "bad request: " + ec.message());
    }
    Close();  // Timeout, reset, truncated request, TLS failure: nothing useful to answer.
  }

  // Queues a final error response; the connection closes after it.
  void QueueError(http::status status, std::string text) {
    Slot& slot = queue_.emplace_back();
    slot.seq = next_seq_++;
    slot.keep_alive = false;
    Request fake;
    fake.version(11);
    Complete(slot.seq, MakeTextResponse(fake, status, std::move(text)), Pacing{});
  }

  void Dispatch(Request req) {
    shared_->requests.fetch_add(1, std::memory_order_relaxed);
    Slot& slot = queue_.emplace_back();
    slot.seq = next_seq_++;
    slot.head = req.method() == http::verb::head;
    slot.keep_alive = req.keep_alive();
    if (!slot.keep_alive) read_stopped_ = true;
    const uint64_t seq = slot.seq;
    if (shared_->fast_path && slot.keep_alive && req.method() == http::verb::get && req.version() == 11 &&
        shared_->fast_path(req, &slot.prepared)) {
      std::string_view date = HttpDateNow();
      int n = snprintf(slot.date_line, sizeof slot.date_line, "Date: %.*s\r\n\r\n",
                       static_cast<int>(date.size()), date.data());
      slot.date_len = n > 0 ? static_cast<size_t>(n) : 0;
      slot.ready = true;
      TryWrite();
      return;
    }
    if (shared_->handler) {
      Response res;
      try {
        res = shared_->handler(req);
      } catch (const std::exception& e) {
        LogError("http handler threw", {{"error", e.what()}, {"target", std::string(req.target())}});
        res = MakeTextResponse(req, http::status::internal_server_error, "internal error");
      }
      Complete(seq, std::move(res), Pacing{});
      return;
    }
    Responder responder([self = this->shared_from_this(), seq](Response res, Pacing pacing) {
      asio::post(self->stream_.get_executor(),
                 [self, seq, res = std::move(res), pacing]() mutable {
                   self->Complete(seq, std::move(res), pacing);
                 });
    });
    try {
      shared_->async_handler(req, responder);
    } catch (const std::exception& e) {
      LogError("http handler threw", {{"error", e.what()}, {"target", std::string(req.target())}});
      responder.Send(MakeTextResponse(req, http::status::internal_server_error, "internal error"));
    }
  }

  // Fills slot `seq` with the handler's response, normalized for the wire, and writes what
  // is ready at the front of the queue.
  void Complete(uint64_t seq, Response res, Pacing pacing) {
    if (closed_ || seq < first_seq_ || seq - first_seq_ >= queue_.size()) return;
    Slot& slot = queue_[seq - first_seq_];
    bool keep = slot.keep_alive;
    if (keep && res.find(http::field::connection) != res.end() &&
        http::token_list(res[http::field::connection]).exists("close")) {
      keep = false;
    }
    res.keep_alive(keep);
    if (StatusHasNoBody(res.result_int())) {
      res.body() = nullptr;
      res.erase(http::field::content_length);
    } else if (!res.has_content_length() && !res.chunked()) {
      res.content_length(SharedBody::size(res.body()));
    }
    if (slot.head) res.body() = nullptr;  // Content-Length still tells the GET size.
    if (res.find(http::field::date) == res.end()) res.set(http::field::date, HttpDateNow());
    slot.res = std::move(res);
    slot.pacing = pacing;
    slot.close = !keep;
    slot.ready = true;
    TryWrite();
  }

  void TryWrite() {
    if (closed_ || writing_ || queue_.empty() || !queue_.front().ready) return;
    writing_ = true;
    Slot& slot = queue_.front();
    if (slot.pacing.paced()) return StartPaced();
    beast::get_lowest_layer(stream_).expires_after(opts().write_timeout);
    if (slot.prepared.head && slot.prepared.file && !kTls) {
      // Head now; the body follows by sendfile(2) from the snapshot's memfd.
      std::array<asio::const_buffer, 2> head = {asio::buffer(*slot.prepared.head),
                                                asio::buffer(slot.date_line, slot.date_len)};
      asio::async_write(stream_, head,
                        beast::bind_front_handler(&Session::OnPreparedHeadWritten, this->shared_from_this()));
      return;
    }
    if (slot.prepared.head) {
      std::array<asio::const_buffer, 3> buffers = {
          asio::buffer(*slot.prepared.head), asio::buffer(slot.date_line, slot.date_len),
          slot.prepared.body ? asio::buffer(*slot.prepared.body) : asio::const_buffer()};
      asio::async_write(stream_, buffers,
                        beast::bind_front_handler(&Session::OnWrite, this->shared_from_this()));
      return;
    }
    http::async_write(stream_, slot.res,
                      beast::bind_front_handler(&Session::OnWrite, this->shared_from_this()));
  }

  void OnWrite(error_code ec, size_t) {
    writing_ = false;
    paced_.reset();
    if (ec) return Close();
    const bool close = queue_.front().close;
    queue_.pop_front();
    ++first_seq_;
    if (close) {
      read_stopped_ = true;
      return Shutdown();
    }
    TryWrite();
    DoRead();
    MaybeFinish();
  }

  // ---- Paced writes (test doubles): headers after a delay, then the body piece by piece.

  void OnPreparedHeadWritten(error_code ec, size_t) {
    if (ec) return OnWrite(ec, 0);
    sendfile_offset_ = 0;
    // The write timeout covers the whole body, as it does for an ordinary write.
    timer_.expires_after(opts().write_timeout);
    timer_.async_wait([self = this->shared_from_this()](error_code tec) {
      if (!tec) self->Close();
    });
    error_code ignored;
    socket().native_non_blocking(true, ignored);
    ContinueSendfile();
  }

  // Sends the rest of the prepared file body; on EAGAIN waits until the socket is writable.
  void ContinueSendfile() {
    if (closed_) return;
    const FileBody& file = *queue_.front().prepared.file;
    while (sendfile_offset_ < file.size()) {
      off_t offset = static_cast<off_t>(sendfile_offset_);
      ssize_t n = ::sendfile(socket().native_handle(), file.fd(), &offset, file.size() - sendfile_offset_);
      if (n > 0) {
        sendfile_offset_ += static_cast<uint64_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        socket().async_wait(tcp::socket::wait_write,
                            [self = this->shared_from_this()](error_code ec) {
                              if (ec || self->closed_) return self->OnWrite(ec ? ec : asio::error::operation_aborted, 0);
                              self->ContinueSendfile();
                            });
        return;
      }
      return OnWrite(error_code(n < 0 ? errno : EPIPE, boost::system::system_category()), 0);
    }
    timer_.cancel();
    OnWrite(error_code{}, 0);
  }

  void StartPaced() {
    Slot& slot = queue_.front();
    paced_.emplace(slot.res);
    paced_offset_ = 0;
    timer_.expires_after(slot.pacing.delay_before_headers);
    timer_.async_wait(beast::bind_front_handler(&Session::OnPacedHeaderDelay,
                                                this->shared_from_this()));
  }

  void OnPacedHeaderDelay(error_code ec) {
    if (ec || closed_) return Close();
    beast::get_lowest_layer(stream_).expires_after(opts().write_timeout);
    http::async_write_header(stream_, *paced_,
                             beast::bind_front_handler(&Session::OnPacedPiece,
                                                       this->shared_from_this()));
  }

  void OnPacedPiece(error_code ec, size_t) {
    if (ec || closed_) return Close();
    const Slot& slot = queue_.front();
    const auto& body = slot.res.body();
    const size_t size = body ? body->size() : 0;
    if (paced_offset_ >= size) return OnWrite(error_code{}, 0);
    timer_.expires_after(slot.pacing.delay_between_chunks);
    timer_.async_wait(beast::bind_front_handler(&Session::OnPacedChunkDelay,
                                                this->shared_from_this()));
  }

  void OnPacedChunkDelay(error_code ec) {
    if (ec || closed_) return Close();
    const Slot& slot = queue_.front();
    const std::string& body = *slot.res.body();
    size_t n = body.size() - paced_offset_;
    if (slot.pacing.chunk_bytes > 0) n = std::min(n, slot.pacing.chunk_bytes);
    asio::const_buffer piece(body.data() + paced_offset_, n);
    paced_offset_ += n;
    beast::get_lowest_layer(stream_).expires_after(opts().write_timeout);
    asio::async_write(stream_, piece,
                      beast::bind_front_handler(&Session::OnPacedPiece, this->shared_from_this()));
  }

  // ---- Closing

  // Closes once nothing is left to read or write.
  void MaybeFinish() {
    if (read_stopped_ && queue_.empty() && !writing_ && !reading_) Shutdown();
  }

  // Graceful close. Plain TCP: send FIN, then drain what the client still sends for a
  // moment (a "lingering close"), so that the client reads our last response instead of a
  // reset caused by its unread request bytes. TLS: close_notify, then close.
  void Shutdown() {
    if (closed_ || shutting_down_) return;
    shutting_down_ = true;
    if constexpr (kTls) {
      if (reading_) {  // TLS shutdown reads too: first cancel the pending read-ahead.
        error_code ignored;
        socket().cancel(ignored);
        return;
      }
      StartTlsShutdown();
    } else {
      error_code ignored;
      socket().shutdown(tcp::socket::shutdown_send, ignored);
      if (reading_) {
        // A read-ahead is pending under its own (long) timeout: cancel it; its handler
        // comes back through OnReadWhileShuttingDown and lingers.
        socket().cancel(ignored);
        return;
      }
      beast::get_lowest_layer(stream_).expires_after(kLingerTimeout);
      DoLinger();
    }
  }

  // A read that was pending when Shutdown() began has completed: whatever it read is
  // discarded (its request will not be answered).
  void OnReadWhileShuttingDown(error_code ec) {
    reading_ = false;
    if (closed_ || (ec && ec != asio::error::operation_aborted)) return Close();
    if constexpr (kTls) {
      StartTlsShutdown();
    } else {
      beast::get_lowest_layer(stream_).expires_after(kLingerTimeout);
      DoLinger();
    }
  }

  void StartTlsShutdown() {
    beast::get_lowest_layer(stream_).expires_after(kLingerTimeout);
    stream_.async_shutdown(
        beast::bind_front_handler(&Session::OnTlsShutdown, this->shared_from_this()));
  }

  void OnTlsShutdown(error_code) { Close(); }

  void DoLinger() {
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(kIdleReadBytes),
                            beast::bind_front_handler(&Session::OnLinger,
                                                      this->shared_from_this()));
  }

  void OnLinger(error_code ec, size_t bytes) {
    lingered_bytes_ += bytes;
    if (ec || closed_ || lingered_bytes_ > kMaxLingerBytes) return Close();
    DoLinger();
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    timer_.cancel();
    beast::get_lowest_layer(stream_).close();
  }

  std::shared_ptr<Shared> shared_;
  uint64_t id_ = 0;
  bool registered_ = false;
  Stream stream_;
  asio::steady_timer timer_;  // Pacing delays.
  beast::flat_buffer buffer_;  // Reused across requests of the connection.
  std::optional<http::request_parser<http::string_body>> parser_;
  std::deque<Slot> queue_;  // References stay valid across push_back/pop_front.
  uint64_t next_seq_ = 0;   // Sequence number of the next request.
  uint64_t first_seq_ = 0;  // Sequence number of queue_.front().
  std::optional<http::serializer<false, SharedBody>> paced_;
  size_t paced_offset_ = 0;
  uint64_t sendfile_offset_ = 0;  // bytes of the prepared file body already sent
  size_t lingered_bytes_ = 0;
  bool reading_ = false;
  bool writing_ = false;
  bool read_stopped_ = false;  // No more requests will be read.
  bool served_any_ = false;
  bool shutting_down_ = false;
  bool closed_ = false;
};


}  // namespace detail
}  // namespace sb::bridge
