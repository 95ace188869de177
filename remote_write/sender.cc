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

Sender::Sender(const config::RemoteWriteConfig& cfg, const std::atomic<bool>* stop)
    : cfg_(cfg), stop_(stop), rng_(std::random_device{}()) {
  Split(cfg_.url, &scheme_, &host_, &port_, &target_);
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
