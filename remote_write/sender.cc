#include "remote_write/sender.h"

#include <boost/url/parse.hpp>

#include <fstream>
#include <sstream>
#include <thread>

#include "bridge/cache_headers.h"
#include "bridge/proxy.h"
#include "common/log.h"
#include "common/strings.h"

namespace sb::remote_write {
namespace {

Result<std::string> ReadSecretFile(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument("cannot read " + what + " file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string v = ss.str();
  while (!v.empty() && (v.back() == '\n' || v.back() == '\r' || v.back() == ' ')) v.pop_back();
  return v;
}

// The Authorization header value, read at request time (rotated files need no reload).
// Errors name the file, never its content.
Result<std::string> AuthHeader(const config::RemoteWriteConfig& cfg) {
  if (cfg.authorization) {
    std::string cred = cfg.authorization->credentials.Reveal();
    if (!cfg.authorization->credentials_file.empty()) {
      SB_ASSIGN_OR_RETURN(cred, ReadSecretFile(cfg.authorization->credentials_file, "credentials"));
    }
    return cfg.authorization->type + " " + cred;
  }
  if (cfg.basic_auth) {
    std::string user = cfg.basic_auth->username, pass = cfg.basic_auth->password.Reveal();
    if (!cfg.basic_auth->username_file.empty()) {
      SB_ASSIGN_OR_RETURN(user, ReadSecretFile(cfg.basic_auth->username_file, "username"));
    }
    if (!cfg.basic_auth->password_file.empty()) {
      SB_ASSIGN_OR_RETURN(pass, ReadSecretFile(cfg.basic_auth->password_file, "password"));
    }
    return "Basic " + bridge::Base64Encode(user + ":" + pass);
  }
  return std::string();
}

bool Split(const std::string& url, std::string* scheme, std::string* host, uint16_t* port, std::string* target) {
  auto u = boost::urls::parse_absolute_uri(url);
  if (!u) return false;
  *scheme = AsciiLower(u->scheme());
  if (*scheme != "http" && *scheme != "https") return false;
  *host = u->host_address();
  if (host->size() > 2 && host->front() == '[') *host = host->substr(1, host->size() - 2);
  if (host->empty()) return false;
  *port = u->has_port() ? static_cast<uint16_t>(u->port_number()) : (*scheme == "https" ? 443 : 80);
  *target = std::string(u->encoded_path());
  if (target->empty()) *target = "/";
  if (u->has_query()) *target += "?" + std::string(u->encoded_query());
  return *port != 0;
}

}  // namespace

Status Sender::Check(const config::RemoteWriteConfig& cfg) {
  std::string s, h, t;
  uint16_t p;
  if (!Split(cfg.url, &s, &h, &p, &t)) {
    return Status::InvalidArgument("remote_write \"" + cfg.name + "\": url is not a valid http(s) URL");
  }
  auto auth = AuthHeader(cfg);
  if (!auth.ok()) return auth.status().Annotate("remote_write \"" + cfg.name + "\"");
  return Status::OK();
}

struct Sender::Connection {
  explicit Connection(bridge::asio::io_context& ioc) : stream(ioc) {}
  bridge::beast::tcp_stream stream;
  bridge::beast::flat_buffer buffer;
};

Sender::Sender(const config::RemoteWriteConfig& cfg, const std::atomic<bool>* stop)
    : cfg_(cfg), stop_(stop), rng_(std::random_device{}()) {
  Split(cfg_.url, &scheme_, &host_, &port_, &target_);
}

Sender::~Sender() {
  conn_.reset();  // before ioc_
}

bool Sender::RunUntil(const bool* done) {
  ioc_.restart();
  while (!*done && !stop_->load()) ioc_.run_for(std::chrono::milliseconds(50));
  if (*done) return true;
  conn_.reset();  // cancels its operations
  ioc_.restart();
  ioc_.poll();  // let the cancelled handlers unwind
  return false;
}

bool Sender::AttemptKeepAlive(const bridge::FetchRequest& fr, Status* st, bridge::FetchResponse* resp) {
  namespace http = bridge::http;
  using bridge::error_code;
  http::request<http::string_body> req{http::verb::post, fr.target, 11};
  req.set(http::field::host, bridge::FormatAuthority(fr.scheme, fr.host, fr.port, true));
  req.set(http::field::accept, "*/*");
  for (const auto& [name, value] : fr.headers) {
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      *st = Status::InvalidArgument("value of request header '" + name + "' contains CR, LF or NUL");
      return true;
    }
    req.set(name, value);
  }
  req.keep_alive(true);
  req.body() = fr.body;
  req.prepare_payload();
  const std::string authority = bridge::FormatAuthority(fr.scheme, fr.host, fr.port, false);
  for (int round = 0; round < 2; ++round) {
    const bool reused = conn_ != nullptr;
    std::string phase = "write request to";
    error_code ec;
    bool done = false;
    http::response_parser<http::string_body> parser;
    parser.header_limit(bridge::kMaxResponseHeaderBytes);
    parser.body_limit(fr.max_body_bytes);
    auto read = [&] {
      phase = "read response from";
      http::async_read(conn_->stream, conn_->buffer, parser, [&](error_code e, size_t) {
        ec = e;
        done = true;
      });
    };
    auto write = [&] {
      phase = "write request to";
      http::async_write(conn_->stream, req, [&](error_code e, size_t) {
        if (e) {
          ec = e;
          done = true;
          return;
        }
        read();
      });
    };
    if (!conn_) {
      conn_ = std::make_unique<Connection>(ioc_);
      phase = "resolve";
      bridge::tcp::resolver resolver(ioc_);
      bridge::tcp::resolver::results_type results;
      bool resolved = false;
      resolver.async_resolve(fr.host, std::to_string(fr.port), [&](error_code e, bridge::tcp::resolver::results_type r) {
        ec = e;
        results = std::move(r);
        resolved = true;
      });
      // The resolver has no deadline of its own: bound it by remote_timeout here.
      const auto deadline = std::chrono::steady_clock::now() + fr.timeout;
      ioc_.restart();
      while (!resolved && !stop_->load() && std::chrono::steady_clock::now() < deadline) {
        ioc_.run_for(std::chrono::milliseconds(50));
      }
      if (!resolved) {
        resolver.cancel();
        bool stopped = stop_->load();
        if (!RunUntil(&resolved)) return false;  // the cancelled resolve completes
        if (stopped) {
          conn_.reset();
          return false;
        }
        ec = bridge::beast::error::timeout;
      }
      if (!ec) {
        phase = "connect to";
        conn_->stream.expires_after(fr.timeout);
        conn_->stream.async_connect(results, [&](error_code e, const bridge::tcp::endpoint&) {
          if (e) {
            ec = e;
            done = true;
            return;
          }
          write();
        });
      } else {
        done = true;
      }
    } else {
      conn_->stream.expires_after(fr.timeout);
      write();
    }
    if (!RunUntil(&done)) return false;
    if (!ec) {
      auto res = parser.release();
      resp->status = res.result_int();
      for (const auto& field : res) {
        resp->headers.emplace_back(AsciiLower(field.name_string()), std::string(field.value()));
      }
      resp->content_type = std::string(res[http::field::content_type]);
      resp->body = std::move(res.body());
      resp->wire_bytes = resp->body.size();
      if (!res.keep_alive()) conn_.reset();
      else conn_->stream.expires_never();
      *st = Status::OK();
      return true;
    }
    conn_.reset();
    // A kept-alive connection the receiver closed while idle: try once more on a new one.
    if (reused && round == 0 && !parser.got_some()) continue;
    if (ec == bridge::beast::error::timeout) {
      *st = Status::Unavailable(phase + " " + authority + ": timeout after " + std::to_string(fr.timeout.count()) + "ms");
    } else {
      *st = Status::Unavailable(phase + " " + authority + ": " + ec.message());
    }
    return true;
  }
  return true;  // not reached
}

bool Sender::Sleep(std::chrono::milliseconds d) {
  auto until = std::chrono::steady_clock::now() + d;
  while (!stop_->load()) {
    auto now = std::chrono::steady_clock::now();
    if (now >= until) return true;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(until - now, std::chrono::milliseconds(20)));
  }
  return false;
}

bool Sender::Attempt(const std::string& compressed, Protocol protocol, Status* st, bridge::FetchResponse* resp) {
  bridge::FetchRequest req;
  req.method = "POST";
  req.scheme = scheme_;
  req.host = host_;
  req.port = port_;
  req.target = target_;
  req.body = compressed;
  req.timeout = cfg_.remote_timeout;
  req.max_body_bytes = 1 << 20;  // receivers answer with short bodies
  req.proxy_url = bridge::ChooseProxy(cfg_.proxy_url, cfg_.no_proxy, cfg_.proxy_from_environment, scheme_, host_);
  req.tls.ca_file = cfg_.tls_config.ca_file;
  req.tls.cert_file = cfg_.tls_config.cert_file;
  req.tls.key_file = cfg_.tls_config.key_file;
  req.tls.server_name = cfg_.tls_config.server_name;
  req.tls.insecure_skip_verify = cfg_.tls_config.insecure_skip_verify;
  // Configured headers first; the loader refuses protocol-owned names, and the protocol's
  // own headers are set last here so that nothing can replace them.
  for (const auto& [k, v] : cfg_.headers) {
    std::string lower = AsciiLower(k);
    if (lower == "content-encoding" || lower == "content-type" || lower == "user-agent" ||
        lower.rfind("x-prometheus-remote-write-", 0) == 0 || lower == "authorization" || lower == "host" ||
        lower == "content-length") {
      continue;
    }
    req.headers.emplace_back(k, v);
  }
  auto auth = AuthHeader(cfg_);
  if (!auth.ok()) {
    *st = auth.status();
    return true;
  }
  if (!auth->empty()) req.headers.emplace_back("Authorization", std::move(auth).value());
  req.headers.emplace_back("Content-Encoding", "snappy");
  req.headers.emplace_back("Content-Type", std::string(protocol == Protocol::kV1 ? kContentTypeV1 : kContentTypeV2));
  req.headers.emplace_back("X-Prometheus-Remote-Write-Version",
                           std::string(protocol == Protocol::kV1 ? kVersionV1 : kVersionV2));
  req.headers.emplace_back("User-Agent", std::string(bridge::kUserAgent));
  req.headers.emplace_back("Accept-Encoding", "identity");

  if (req.scheme == "http" && req.proxy_url.empty()) return AttemptKeepAlive(req, st, resp);
  conn_.reset();  // e.g. proxy_from_environment now names a proxy
  bool done = false;
  ioc_.restart();
  bridge::AsyncFetch(ioc_, std::move(req), [&](Status s, bridge::FetchResponse r) {
    *st = std::move(s);
    *resp = std::move(r);
    done = true;
  });
  while (!done && !stop_->load()) ioc_.run_for(std::chrono::milliseconds(50));
  if (!done) {
    ioc_.stop();
    ioc_.restart();
    ioc_.poll();  // let the cancelled handlers unwind
    return false;
  }
  return true;
}

SendResult Sender::Send(const std::string& compressed, Protocol protocol, const AttemptObserver& observe) {
  SendResult out;
  auto backoff = std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.queue_config.min_backoff);
  const auto min_backoff = backoff;
  const auto max_backoff = std::max(min_backoff, std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.queue_config.max_backoff));
  while (true) {
    if (stop_->load()) {
      out.kind = SendResult::Kind::kStopped;
      return out;
    }
    Status st;
    bridge::FetchResponse resp;
    auto started = std::chrono::steady_clock::now();
    if (!Attempt(compressed, protocol, &st, &resp)) {
      out.kind = SendResult::Kind::kStopped;
      return out;
    }
    ++out.attempts;
    out.http_status = st.ok() ? resp.status : 0;
    if (observe) {
      observe(out.attempts, out.http_status,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    }
    std::chrono::milliseconds wait = backoff;
    if (st.ok()) {
      const unsigned code = resp.status;
      if (code >= 200 && code < 300) {
        if (auto w = resp.Header("x-prometheus-remote-write-samples-written")) {
          out.samples_written = std::strtoll(w->c_str(), nullptr, 10);
        }
        out.kind = SendResult::Kind::kOk;
        return out;
      }
      if (code == 415 && protocol == Protocol::kV2) {
        out.kind = SendResult::Kind::kUnsupported;
        return out;
      }
      bool retry = code >= 500 || (code == 429 && cfg_.queue_config.retry_on_http_429);
      if (!retry) {
        out.kind = SendResult::Kind::kDropped;
        std::string body = resp.body.substr(0, kMaxLoggedBody);
        out.error = "HTTP " + std::to_string(code) + ": " + body;
        LogError("remote write: receiver refused a batch; dropped",
                 {{"remote_name", cfg_.name}, {"url", bridge::FormatAuthority(scheme_, host_, port_, false) + target_},
                  {"status", std::to_string(code)}, {"body", body}});
        return out;
      }
      if (auto ra = resp.Header("retry-after")) {
        auto ms = bridge::ParseRetryAfterMs(*ra, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                      std::chrono::system_clock::now().time_since_epoch()).count());
        if (ms) wait = std::min<std::chrono::milliseconds>(std::max<std::chrono::milliseconds>(
                                                               std::chrono::milliseconds(*ms), wait), kMaxRetryAfter);
      }
      LogDebug("remote write: retrying", {{"remote_name", cfg_.name}, {"status", std::to_string(code)}});
    } else {
      if (st.code() == Status::Code::kInvalidArgument) {
        // A bad request or an unreadable credentials file: retrying cannot help soon, but
        // the file may appear; wait the longest backoff and try again.
        wait = max_backoff;
      }
      LogDebug("remote write: attempt failed", {{"remote_name", cfg_.name}, {"err", st.message()}});
    }
    // Full jitter above the floor.
    std::uniform_int_distribution<int64_t> dist(min_backoff.count(), std::max(min_backoff.count(), backoff.count()));
    std::chrono::milliseconds sleep(dist(rng_));
    if (wait > backoff) sleep = wait;  // Retry-After or a config error
    if (!Sleep(sleep)) {
      out.kind = SendResult::Kind::kStopped;
      return out;
    }
    backoff = std::min(max_backoff, backoff * 2);
  }
}

}  // namespace sb::remote_write
