#include "bridge/http_client.h"

#include "common/strings.h"

#include <cctype>
#include <memory>

#include "bridge/proxy.h"
#include "common/duration.h"
#include "common/gzip.h"

namespace sb::bridge {
namespace {

enum class Phase { kResolve, kConnect, kProxy, kTlsHandshake, kWrite, kRead };

// Prefix of error messages: "<phase words> <host:port>: <what>".
const char* PhaseWords(Phase p) {
  switch (p) {
    case Phase::kResolve: return "resolve";
    case Phase::kConnect: return "connect to";
    case Phase::kProxy: return "proxy CONNECT to";
    case Phase::kTlsHandshake: return "tls handshake with";
    case Phase::kWrite: return "write request to";
    case Phase::kRead: return "read response from";
  }
  return "fetch";
}

std::string Lower(std::string_view s) { return AsciiLower(s); }
std::string_view Trim(std::string_view s) { return TrimOws(s); }

bool IsTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool HasControlBreak(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

// Checks everything that can be checked before any I/O. Messages never repeat the target,
// header values or the proxy URL.
Status Validate(const FetchRequest& r) {
  if (r.scheme != "http" && r.scheme != "https") {
    return Status::InvalidArgument("scheme must be http or https, got '" + r.scheme + "'");
  }
  if (r.host.empty()) return Status::InvalidArgument("empty host");
  for (char c : r.host) {
    if (std::iscntrl(static_cast<unsigned char>(c)) || std::isspace(static_cast<unsigned char>(c)) ||
        std::string_view("/?#@[]\\").find(c) != std::string_view::npos) {
      return Status::InvalidArgument("host contains an invalid character");
    }
  }
  const std::string authority = FormatAuthority(r.scheme, r.host, r.port, false);
  if (r.port == 0) return Status::InvalidArgument("port 0 is not valid for " + r.host);
  if (r.target.empty() || r.target.front() != '/' ||
      r.target.find_first_of(std::string_view(" \t\r\n\0", 5)) != std::string::npos) {
    return Status::InvalidArgument("request target for " + authority +
                                   " must start with '/' and contain no whitespace");
  }
  for (size_t i = 0; i < r.headers.size(); ++i) {
    const auto& [name, value] = r.headers[i];
    bool name_ok = !name.empty();
    for (char c : name) name_ok = name_ok && IsTokenChar(c);
    if (!name_ok) return Status::InvalidArgument("request header #" + std::to_string(i + 1) + " has an invalid name");
    if (HasControlBreak(value)) {
      return Status::InvalidArgument("value of request header '" + name + "' contains CR, LF or NUL");
    }
  }
  if (r.method.empty() || r.method.size() > 16) return Status::InvalidArgument("invalid request method");
  for (char c : r.method) {
    if (c < 'A' || c > 'Z') return Status::InvalidArgument("invalid request method");
  }
  if (r.timeout.count() <= 0) return Status::InvalidArgument("timeout must be > 0");
  if (r.max_body_bytes == 0) return Status::InvalidArgument("max_body_bytes must be > 0");
  return Status::OK();
}

// One fetch. Kept alive by the shared_ptr its pending operation holds; every handler runs
// on strand_, so the timer handler and the I/O handlers never race.
class Fetch : public std::enable_shared_from_this<Fetch> {
 public:
  Fetch(asio::io_context& ioc, FetchRequest req, FetchCallback done)
      : strand_(asio::make_strand(ioc)),
        resolver_(strand_),
        timer_(strand_),
        req_(std::move(req)),
        done_(std::move(done)),
        authority_(FormatAuthority(req_.scheme, req_.host, req_.port, false)) {}

  void Start() {
    asio::post(strand_, [self = shared_from_this()] { self->DoStart(); });
  }

 private:
  bool tls() const { return req_.scheme == "https"; }
  beast::tcp_stream& Tcp() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }

  // Calls f with the stream the HTTP exchange runs on: the TLS stream or the plain one.
  template <class F>
  void WithStream(F&& f) {
    if (tls_) f(*tls_); else f(*plain_);
  }

  void DoStart() {
    if (Status s = Validate(req_); !s.ok()) return Finish(std::move(s));
    if (!req_.proxy_url.empty()) {
      auto proxy = ParseProxyUrl(req_.proxy_url);
      if (!proxy.ok()) return Finish(proxy.status().Annotate("fetch " + authority_));
      proxy_ = std::move(proxy).value();
    }
    if (tls()) {
      auto ctx = MakeClientTlsContext(req_.tls);
      if (!ctx.ok()) return Finish(ctx.status().Annotate("fetch " + authority_));
      tls_ctx_ = std::move(ctx).value();
      tls_ = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(strand_, *tls_ctx_);
      if (Status s = ConfigureTlsConnection(tls_->native_handle(), req_.tls, req_.host); !s.ok()) {
        return Finish(s.Annotate("fetch " + authority_));
      }
    } else {
      plain_ = std::make_unique<beast::tcp_stream>(strand_);
    }
    BuildRequest();

    timer_.expires_after(req_.timeout);
    timer_.async_wait([self = shared_from_this()](error_code ec) { self->OnTimeout(ec); });

    phase_ = Phase::kResolve;
    const std::string& host = proxy_ ? proxy_->host : req_.host;
    const uint16_t port = proxy_ ? proxy_->port : req_.port;
    resolver_.async_resolve(host, std::to_string(port),
                            beast::bind_front_handler(&Fetch::OnResolve, shared_from_this()));
  }

  void BuildRequest() {
    request_.method_string(req_.method);
    request_.target(req_.target);
    request_.version(11);
    auto has = [&](std::string_view name) {
      for (const auto& h : req_.headers) if (beast::iequals(h.first, name)) return true;
      return false;
    };
    if (!has("Host")) request_.set(http::field::host, FormatAuthority(req_.scheme, req_.host, req_.port, true));
    if (!has("User-Agent")) request_.set(http::field::user_agent, kUserAgent);
    if (!has("Accept")) request_.set(http::field::accept, "*/*");
    if (!has("Accept-Encoding")) request_.set(http::field::accept_encoding, "gzip");
    // One request per connection: the bridge fetches each upstream rarely.
    if (!has("Connection")) request_.set(http::field::connection, "close");
    for (const auto& [name, value] : req_.headers) request_.insert(name, value);
    if (!req_.body.empty() || req_.method != "GET") {
      request_.body() = std::move(req_.body);
      request_.prepare_payload();  // Content-Length
    }
  }

  void OnTimeout(error_code ec) {
    if (ec || finished_) return;  // cancelled by Finish
    timed_out_ = true;
    resolver_.cancel();
    error_code ignored;
    Tcp().socket().close(ignored);  // the pending operation completes with an error
  }

  void OnResolve(error_code ec, tcp::resolver::results_type results) {
    if (ec) return Fail(ec);
    phase_ = Phase::kConnect;
    Tcp().async_connect(results, beast::bind_front_handler(&Fetch::OnConnect, shared_from_this()));
  }

  void OnConnect(error_code ec, const tcp::endpoint&) {
    if (ec) return Fail(ec);
    if (proxy_) return DoProxyConnect();
    if (tls_) return DoHandshake();
    DoWrite();
  }

  void DoProxyConnect() {
    phase_ = Phase::kProxy;
    const std::string target = FormatAuthority(req_.scheme, req_.host, req_.port, false);
    connect_request_ = {http::verb::connect, target, 11};
    connect_request_.set(http::field::host, target);
    connect_request_.set(http::field::user_agent, kUserAgent);
    if (!proxy_->authorization.empty()) {
      connect_request_.set(http::field::proxy_authorization, proxy_->authorization);
    }
    http::async_write(Tcp(), connect_request_,
                      beast::bind_front_handler(&Fetch::OnProxyWrite, shared_from_this()));
  }

  void OnProxyWrite(error_code ec, size_t) {
    if (ec) return Fail(ec);
    // Only the header: a 2xx answer to CONNECT has no body, the tunnel starts right after.
    proxy_parser_.emplace();
    proxy_parser_->header_limit(kMaxResponseHeaderBytes);
    http::async_read_header(Tcp(), buffer_, *proxy_parser_,
                            beast::bind_front_handler(&Fetch::OnProxyRead, shared_from_this()));
  }

  void OnProxyRead(error_code ec, size_t) {
    if (ec) return Fail(ec);
    const auto& res = proxy_parser_->get();
    if (res.result_int() / 100 != 2) {
      std::string reason(res.reason().substr(0, 80));
      for (char& c : reason) if (std::iscntrl(static_cast<unsigned char>(c))) c = ' ';
      return Finish(Status::Unavailable(
          "proxy " + FormatAuthority("http", proxy_->host, proxy_->port, false) +
          " refused CONNECT to " + authority_ + ": " + std::to_string(res.result_int()) +
          (reason.empty() ? "" : " " + reason)));
    }
    if (tls_) {
      if (buffer_.size() != 0) {
        return Finish(Status::Unavailable("proxy CONNECT to " + authority_ +
                                          ": proxy sent data before the TLS handshake"));
      }
      return DoHandshake();
    }
    DoWrite();  // plain http: bytes already buffered (none expected) stay in buffer_
  }

  void DoHandshake() {
    phase_ = Phase::kTlsHandshake;
    tls_->async_handshake(ssl::stream_base::client,
                          beast::bind_front_handler(&Fetch::OnHandshake, shared_from_this()));
  }

  void OnHandshake(error_code ec) {
    if (ec) return Fail(ec);
    DoWrite();
  }

  void DoWrite() {
    phase_ = Phase::kWrite;
    WithStream([&](auto& s) {
      http::async_write(s, request_, beast::bind_front_handler(&Fetch::OnWrite, shared_from_this()));
    });
  }

  void OnWrite(error_code ec, size_t) {
    if (ec) return Fail(ec);
    phase_ = Phase::kRead;
    parser_.emplace();
    parser_->header_limit(kMaxResponseHeaderBytes);
    parser_->body_limit(req_.max_body_bytes);  // on the wire; checked again after decoding
    WithStream([&](auto& s) {
      http::async_read_header(s, buffer_, *parser_,
                              beast::bind_front_handler(&Fetch::OnReadHeader, shared_from_this()));
    });
  }

  void OnReadHeader(error_code ec, size_t) {
    if (ec) return Fail(ec);
    status_ = parser_->get().result_int();
    if (parser_->is_done()) return OnReadBody({}, 0);
    WithStream([&](auto& s) {
      http::async_read(s, buffer_, *parser_,
                       beast::bind_front_handler(&Fetch::OnReadBody, shared_from_this()));
    });
  }

  void OnReadBody(error_code ec, size_t) {
    if (ec) return Fail(ec);
    http::response<http::string_body> res = parser_->release();
    FetchResponse out;
    out.status = res.result_int();
    for (const auto& field : res) {
      out.headers.emplace_back(Lower(field.name_string()), std::string(field.value()));
    }
    out.content_type = std::string(res[http::field::content_type]);
    out.body = std::move(res.body());
    out.wire_bytes = out.body.size();
    const std::string encoding = Lower(Trim(res[http::field::content_encoding]));
    const bool gzip_stream = out.body.size() >= 2 && static_cast<unsigned char>(out.body[0]) == 0x1f &&
                             static_cast<unsigned char>(out.body[1]) == 0x8b;
    if ((encoding == "gzip" || encoding == "x-gzip") && gzip_stream && req_.keep_gzip_encoded) {
      out.gzip_body = std::move(out.body);  // the caller decodes it
      out.body.clear();
    } else if (encoding == "gzip" || encoding == "x-gzip" || encoding == "deflate") {
      if (!out.body.empty()) {
        auto decoded = GzipDecompress(out.body, req_.max_body_bytes);
        if (!decoded.ok()) {
          const std::string prefix = "read response from " + authority_ + ": ";
          if (decoded.status().code() == Status::Code::kResourceExhausted) {
            return Finish(Status::ResourceExhausted(
                prefix + "decoded (" + encoding + ") body exceeds max_body_bytes=" +
                std::to_string(req_.max_body_bytes)));
          }
          return Finish(Status::Unavailable(prefix + "bad " + encoding + " body: " +
                                            decoded.status().message()));
        }
        if (gzip_stream) out.gzip_body = std::move(out.body);
        out.body = std::move(decoded).value();
      }
    } else if (!encoding.empty() && encoding != "identity") {
      return Finish(Status::Unimplemented("read response from " + authority_ +
                                          ": unsupported Content-Encoding '" + encoding + "'"));
    }
    Finish(Status::OK(), std::move(out));
  }

  // Maps an I/O error of the current phase to a Status and finishes.
  void Fail(error_code ec) {
    std::string where = std::string(PhaseWords(phase_)) + " ";
    if (proxy_ && (phase_ == Phase::kResolve || phase_ == Phase::kConnect)) {
      where += "proxy " + FormatAuthority("http", proxy_->host, proxy_->port, false) + " for ";
    }
    where += authority_ + ": ";
    if (timed_out_) {
      return Finish(Status::Unavailable(where + "timeout after " + FormatDuration(req_.timeout)));
    }
    if (ec == http::error::body_limit) {
      return Finish(Status::ResourceExhausted(
          where + "body exceeds max_body_bytes=" + std::to_string(req_.max_body_bytes)));
    }
    if (ec == http::error::header_limit) {
      return Finish(Status::ResourceExhausted(
          where + "headers exceed " + std::to_string(kMaxResponseHeaderBytes) + " bytes"));
    }
    if (phase_ == Phase::kTlsHandshake) {
      return Finish(Status::Unavailable(where + DescribeTlsError(ec, tls_->native_handle())));
    }
    if (ec == http::error::end_of_stream || ec == http::error::partial_message ||
        ec == ssl::error::stream_truncated) {
      return Finish(Status::Unavailable(where + "connection closed before the response was complete"));
    }
    if (ec.category() == asio::error::get_ssl_category()) {
      return Finish(Status::Unavailable(where + DescribeTlsError(ec, nullptr)));
    }
    if (ec.category() == http::make_error_code(http::error::bad_version).category()) {
      return Finish(Status::Unavailable(where + "malformed HTTP response (" + ec.message() + ")"));
    }
    Finish(Status::Unavailable(where + ec.message()));
  }

  void Finish(Status status, FetchResponse response = {}) {
    if (finished_) return;
    finished_ = true;
    timer_.cancel();
    resolver_.cancel();
    error_code ignored;
    if (plain_ || tls_) Tcp().socket().close(ignored);
    if (!status.ok()) response.status = status_;
    FetchCallback done = std::move(done_);
    done_ = nullptr;
    done(std::move(status), std::move(response));
  }

  asio::strand<asio::io_context::executor_type> strand_;
  tcp::resolver resolver_;
  asio::steady_timer timer_;
  FetchRequest req_;
  FetchCallback done_;
  const std::string authority_;  // "host:port" for messages
  std::optional<ProxyEndpoint> proxy_;
  std::shared_ptr<ssl::context> tls_ctx_;  // outlives tls_ (declared before it)
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls_;
  std::unique_ptr<beast::tcp_stream> plain_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::request<http::empty_body> connect_request_;
  std::optional<http::response_parser<http::empty_body>> proxy_parser_;
  std::optional<http::response_parser<http::string_body>> parser_;
  Phase phase_ = Phase::kResolve;
  unsigned status_ = 0;
  bool timed_out_ = false;
  bool finished_ = false;
};

}  // namespace

std::string FormatAuthority(std::string_view scheme, std::string_view host, uint16_t port,
                            bool omit_default_port) {
  std::string out;
  const bool v6 = host.find(':') != std::string_view::npos;
  if (v6) out += '[';
  out += host;
  if (v6) out += ']';
  const bool is_default = (scheme == "http" && port == 80) || (scheme == "https" && port == 443);
  if (!(omit_default_port && is_default)) {
    out += ':';
    out += std::to_string(port);
  }
  return out;
}

std::optional<std::string> FetchResponse::Header(std::string_view lower_name) const {
  std::optional<std::string> out;
  for (const auto& [name, value] : headers) {
    if (name != lower_name) continue;
    if (out) *out += ", " + value; else out = value;
  }
  return out;
}

void AsyncFetch(asio::io_context& ioc, FetchRequest req, FetchCallback done) {
  std::make_shared<Fetch>(ioc, std::move(req), std::move(done))->Start();
}

}  // namespace sb::bridge
