#include "bridge/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace sb::bridge {

bool IsIpLiteral(std::string_view host) {
  error_code ec;
  asio::ip::make_address(std::string(host), ec);
  return !ec;
}

Result<std::shared_ptr<ssl::context>> MakeClientTlsContext(const TlsOptions& opts) {
  if (opts.cert_file.empty() != opts.key_file.empty()) {
    return Status::InvalidArgument("tls: cert_file and key_file must be given together");
  }
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  error_code ec;
  // TLS 1.0/1.1 are broken; Go (and so Prometheus) also defaults to 1.2 as the floor.
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression, ec);
  if (opts.insecure_skip_verify) {
    ctx->set_verify_mode(ssl::verify_none, ec);
  } else {
    ctx->set_verify_mode(ssl::verify_peer, ec);
    if (opts.ca_file.empty()) {
      ctx->set_default_verify_paths(ec);
      if (ec) return Status::InvalidArgument("tls: cannot load the system CA store: " + ec.message());
    } else {
      ctx->load_verify_file(opts.ca_file, ec);
      if (ec) {
        return Status::InvalidArgument("tls: cannot load ca_file '" + opts.ca_file + "': " +
                                       ec.message());
      }
    }
  }
  if (!opts.cert_file.empty()) {
    ctx->use_certificate_chain_file(opts.cert_file, ec);
    if (ec) {
      return Status::InvalidArgument("tls: cannot load cert_file '" + opts.cert_file + "': " +
                                     ec.message());
    }
    ctx->use_private_key_file(opts.key_file, ssl::context::pem, ec);
    if (ec) {
      return Status::InvalidArgument("tls: cannot load key_file '" + opts.key_file + "': " +
                                     ec.message());
    }
    if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
      return Status::InvalidArgument("tls: key_file '" + opts.key_file +
                                     "' does not match cert_file '" + opts.cert_file + "'");
    }
  }
  return ctx;
}

Status ConfigureTlsConnection(SSL* ssl, const TlsOptions& opts, std::string_view host) {
  const std::string name(opts.server_name.empty() ? host : std::string_view(opts.server_name));
  const bool is_ip = IsIpLiteral(name);
  if (!is_ip && SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) {
    return Status::InvalidArgument("tls: cannot use '" + name + "' as server name (SNI)");
  }
  if (opts.insecure_skip_verify) return Status::OK();
  // OpenSSL checks the name during chain verification, so a mismatch is reported through
  // SSL_get_verify_result with a precise reason (asio's host_name_verification callback
  // would only say "certificate verify failed").
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  int rc;
  if (is_ip) {
    rc = X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
  } else {
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    rc = X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
  }
  if (rc != 1) return Status::InvalidArgument("tls: cannot verify against name '" + name + "'");
  return Status::OK();
}

std::string DescribeTlsError(const error_code& ec, SSL* ssl) {
  std::string what;
  if (ec.category() == asio::error::get_ssl_category()) {
    // The plain reason; asio's message() would append "(SSL routines)".
    const char* reason = ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
    what = reason != nullptr ? reason : ec.message();
  } else if (ec == asio::ssl::error::stream_truncated) {
    what = "connection closed during the handshake";
  } else {
    what = ec.message();
  }
  if (ssl != nullptr) {
    const long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) {
      what += " (";
      what += X509_verify_cert_error_string(verify);
      what += ")";
    }
  }
  return what;
}

}  // namespace sb::bridge
